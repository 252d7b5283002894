from pathlib import Path

import pytest

from desk.core.errors import BadDocument
from desk.ingest.pdf import read_pdf
from tests.pdfs import CONTRACT_PAGES, make_encrypted_pdf, make_pdf, make_scanned_pdf


def test_text_and_word_boxes_line_up(tmp_path: Path):
    content = read_pdf(make_pdf(tmp_path / "Supply Agreement (Final), v2.PDF", CONTRACT_PAGES))
    assert [p.number for p in content.pages] == [1, 2, 3]
    page = content.pages[1]
    assert "ninety (90) days prior written notice" in " ".join(page.text.split())
    for word in page.words:
        assert page.text[word.start:word.end].strip() == page.text[word.start:word.end]
        assert word.x1 > word.x0 and word.y1 > word.y0


@pytest.mark.parametrize("make, problem", [
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_bytes(b"PK\x03\x04 word document body"), "not a PDF"),
    (lambda p: p.write_text("just some notes, not a pdf"), "not a PDF"),
    (lambda p: p.write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50), "damaged"),
    (make_encrypted_pdf, "password"),
])
def test_bad_files_say_which_file_and_what_is_wrong(tmp_path: Path, make, problem):
    path = tmp_path / "Bad, File (copy).pdf"
    make(path)
    with pytest.raises(BadDocument) as info:
        read_pdf(path)
    assert problem in str(info.value)
    assert "Bad, File (copy).pdf" in str(info.value)


def test_scanned_page_is_reported_as_needing_ocr(tmp_path: Path):
    content = read_pdf(make_scanned_pdf(tmp_path / "scan.pdf", with_text_page=True))
    assert content.pages_needing_ocr == [2]
    assert "indemnification" in content.pages[0].text
