"""Scanned pages are recognised at import (real Tesseract) and then behave like text pages:
found by keyword and by meaning, highlighted on their word boxes, resumable when cut short."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest

from desk.config.settings import load_settings
from desk.core.errors import Cancelled
from desk.core.progress import CancelToken
from desk.core.types import OCR_DONE, TEXT_LAYER
from desk.index.matter import open_matter
from desk.index.retriever import Retriever
from desk.ingest.importer import ImportJob
from desk.ingest.ocr import TesseractOcr, check_models
from desk.ingest.pdf import read_pdf, text_layer_usable
from desk.rag.highlight import quote_boxes
from tests.pdfs import CONTRACT_PAGES, make_image_pdf, make_pdf

TERMINATION, GOVERNING_LAW = CONTRACT_PAGES[1], CONTRACT_PAGES[2]
PAYMENT = ("7. Payment. Customer shall pay each invoice within thirty (30) days of receipt. "
           "Late amounts bear interest at one percent (1%) per month.")


@pytest.fixture
def matter():
    m = open_matter("Scans")
    yield m
    m.close()


def import_files(matter, paths, cancel=None, ocr=True):
    settings = load_settings()
    job = ImportJob(matter, paths, settings.chunking.size, settings.chunking.overlap,
                    cancel=cancel, ocr=ocr)
    stages = [p.stage for p in job.run()]
    return job.summary, stages


def flat(text: str) -> str:
    return " ".join(text.split())


def test_a_scanned_page_is_found_by_keyword_and_meaning_and_its_quote_is_highlighted(
        tmp_path: Path, matter):
    pdf = make_image_pdf(tmp_path / "Signed MSA (scan).pdf", [TERMINATION])
    summary, stages = import_files(matter, [pdf])
    assert summary.added == 1 and summary.failed == []
    assert stages.count("ocr") == 2  # its start, then the one page
    assert summary.to_json()["ocr"][0]["file"] == "Signed MSA (scan).pdf"
    assert summary.to_json()["ocr"][0]["pages"] == 1
    assert summary.to_json()["ocr"][0]["confidence"] > 85

    doc = matter.catalog.documents()[0]
    assert (doc.ocr_pages, doc.ocr_pending, doc.pages_needing_ocr) == (1, 0, 0)
    page = matter.catalog.page(doc.id, 1)
    assert page.source == OCR_DONE
    assert "ninety (90) days prior written notice" in flat(page.text)
    assert matter.vectors.count == matter.catalog.counts()["chunks"] > 0

    keyword = Retriever(matter, mode="lexical").search("ninety days prior written notice", k=1)
    dense = Retriever(matter, mode="dense").search(
        "How much warning must a party give before ending the contract for convenience?", k=1)
    assert [h.page_start for h in keyword] == [1] and [h.page_start for h in dense] == [1]

    boxes = quote_boxes(page, "may terminate this Agreement for convenience")
    truth = pymupdf.open()
    truth_page = truth.new_page(width=612, height=792)
    truth_page.insert_textbox(pymupdf.Rect(72, 72, 540, 740), TERMINATION, fontsize=11)
    expected = truth_page.search_for("terminate")[0]
    assert len(boxes) == 6
    # "may terminate ...": the second word's box is the glyphs' inside the font's line box
    x0, y0, x1, y1 = boxes[1]
    assert abs(x0 - expected.x0) < 3 and abs(x1 - expected.x1) < 3
    assert expected.y0 - 1 < y0 < y1 < expected.y1 + 1


def test_a_page_fed_in_sideways_and_jpeg_compressed_is_read_upright(tmp_path: Path, matter):
    pdf = make_image_pdf(tmp_path / "sideways.pdf", [GOVERNING_LAW], rotate=90,
                         encoding="jpeg")
    import_files(matter, [pdf])
    doc = matter.catalog.documents()[0]
    page = matter.catalog.page(doc.id, 1)
    assert "governed by the laws of the State of Delaware" in flat(page.text)
    boxes = quote_boxes(page, "State of Delaware")
    # turned a quarter counter-clockwise, the text runs up the page: the words stack in one
    # column, bottom to top, and the long ones are taller than wide
    assert len(boxes) == 3
    assert max(b[0] for b in boxes) - min(b[0] for b in boxes) < 2
    assert boxes[0][1] > boxes[1][1] > boxes[2][1]
    assert all((b[3] - b[1]) > 2 * (b[2] - b[0]) for b in (boxes[0], boxes[2]))


def test_a_fax_compressed_scan_is_read(tmp_path: Path, matter):
    """CCITT Group 4, what office scanners and fax servers write for black-and-white pages."""
    pdf = make_image_pdf(tmp_path / "fax.pdf", [TERMINATION], encoding="ccitt")
    with pymupdf.open(pdf) as doc:
        assert "/CCITTFaxDecode" in doc.xref_object(doc[0].get_images()[0][0])
    import_files(matter, [pdf])
    page = matter.catalog.page(matter.catalog.documents()[0].id, 1)
    assert "ninety (90) days prior written notice" in flat(page.text)


def test_a_mixed_document_keeps_its_text_layer_and_recognises_only_its_scans(
        tmp_path: Path, matter):
    pdf = make_image_pdf(tmp_path / "mixed.pdf", [None, TERMINATION])
    content = read_pdf(pdf)
    assert [p.source for p in content.pages] == [TEXT_LAYER, "none"]
    summary, _ = import_files(matter, [pdf])
    assert summary.to_json()["ocr"][0]["pages"] == 1
    doc = matter.catalog.documents()[0]
    assert matter.catalog.page(doc.id, 1).source == TEXT_LAYER
    assert matter.catalog.page(doc.id, 2).source == OCR_DONE
    hits = Retriever(matter, mode="lexical").search("ninety days prior written notice", k=1)
    assert [(h.file, h.page_start) for h in hits] == [("mixed.pdf", 2)]


def test_text_pages_are_searchable_before_ocr_and_a_cancelled_ocr_resumes(tmp_path: Path,
                                                                          matter):
    pdf = make_image_pdf(tmp_path / "exhibits.pdf", [None, TERMINATION, GOVERNING_LAW,
                                                     PAYMENT])
    cancel = CancelToken()
    settings = load_settings()
    job = ImportJob(matter, [pdf], settings.chunking.size, settings.chunking.overlap,
                    cancel=cancel)
    seen = []
    with pytest.raises(Cancelled):
        for progress in job.run():
            if progress.stage == "ocr":
                seen.append(progress.done)
                if progress.done == 0:
                    # OCR has not begun: the text page is already searchable both ways
                    assert matter.catalog.count_pending() == 0
                    assert [h.page_start for h in Retriever(matter, mode="dense").search(
                        "Who are the parties to the master services agreement?", k=1)] == [1]
                if progress.done == 1:
                    cancel.cancel()
    assert seen == [0, 1]
    doc = matter.catalog.documents()[0]
    assert (doc.ocr_pages, doc.ocr_pending) == (1, 2)
    assert [n for _, n in matter.catalog.pending_ocr_pages()] == [3, 4]

    # the next import, even of nothing new, finishes the waiting pages
    summary, stages = import_files(matter, [pdf])
    assert summary.skipped == 1 and summary.ocr_pages == 2
    doc = matter.catalog.documents()[0]
    assert (doc.ocr_pages, doc.ocr_pending) == (3, 0)
    pages_of_chunks = sorted(c.page_start for c in matter.catalog.chunks(
        matter.catalog.chunk_ids()).values())
    assert sorted(set(pages_of_chunks)) == [1, 2, 3, 4]
    assert len(pages_of_chunks) == len(set(pages_of_chunks))  # page 2 was not stored twice
    assert matter.vectors.count == len(pages_of_chunks)
    # each document's keyword search still sees only its own passages
    make_pdf(tmp_path / "other.pdf", ["Any notice shall be given ninety (90) days prior."])
    import_files(matter, [tmp_path / "other.pdf"])
    hits = Retriever(matter, mode="lexical").search("ninety days prior", k=5,
                                                   document="exhibits.pdf")
    assert {h.file for h in hits} == {"exhibits.pdf"}


def test_no_ocr_keeps_scans_as_needing_ocr(tmp_path: Path, matter):
    scan = make_image_pdf(tmp_path / "scan only.pdf", [TERMINATION])
    mixed = make_image_pdf(tmp_path / "mixed.pdf", [None, TERMINATION])
    summary, stages = import_files(matter, [scan, mixed], ocr=False)
    assert "ocr" not in stages
    assert [f["file"] for f in summary.failed] == ["scan only.pdf"]
    assert "needs OCR" in summary.failed[0]["error"]
    assert summary.pages_needing_ocr == [{"file": "mixed.pdf", "pages": [2],
                                          "error": "no text (needs OCR)"}]
    doc = matter.catalog.documents()[0]
    assert (doc.pages_needing_ocr, doc.ocr_pending, doc.ocr_pages) == (1, 0, 0)
    assert matter.catalog.pending_ocr_pages() == []


def test_a_stamp_on_a_scan_or_a_garbled_text_layer_does_not_count_as_text(tmp_path: Path,
                                                                          matter):
    pdf = make_image_pdf(tmp_path / "stamped.pdf", [TERMINATION])
    doc = pymupdf.open(pdf)
    doc[0].insert_text((400, 40), "RECEIVED Jan 5 2021", fontsize=9)  # a stamp's text layer
    doc.saveIncr()
    assert read_pdf(pdf).pages[0].source == "none"
    # glyphs without a Unicode mapping come out as U+FFFD: not text either
    assert not text_layer_usable(doc[0], "\ufffd\ufffd\ufffd \ufffd\ufffd" * 20 + "Section 1")
    assert text_layer_usable(doc[0], TERMINATION)
    doc.close()
    import_files(matter, [pdf])
    page = matter.catalog.page(matter.catalog.documents()[0].id, 1)
    assert "Termination for Convenience" in flat(page.text)


def test_a_damaged_model_file_is_refused_by_name(tmp_path: Path):
    folder = tmp_path / "tessdata"
    folder.mkdir()
    (folder / "eng.traineddata").write_bytes(b"not a model")
    (folder / "osd.traineddata").write_bytes(b"not a model")
    with pytest.raises(Exception, match="eng.traineddata is damaged"):
        TesseractOcr(folder)
    assert check_models().name == "tessdata"


KILL_SCRIPT = """
import sys
from pathlib import Path
from desk.config.settings import load_settings
from desk.index.matter import open_matter
from desk.ingest.importer import ImportJob
settings = load_settings()
matter = open_matter("Scans")
job = ImportJob(matter, [Path(sys.argv[1])], settings.chunking.size, settings.chunking.overlap)
for progress in job.run():
    if progress.stage == "ocr" and progress.done >= 1:
        print("OCR", progress.done, flush=True)
"""


def test_a_kill_during_ocr_resumes_where_it_stopped(tmp_path: Path, matter, desk_home):
    pdf = make_image_pdf(tmp_path / "long scan.pdf",
                         [TERMINATION, GOVERNING_LAW, PAYMENT] * 3)
    matter.close()
    env = {**os.environ, "DESK_HOME": str(desk_home)}
    child = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(pdf)], env=env,
                             stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("OCR 1")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    reopened = open_matter("Scans")
    try:
        assert reopened.catalog.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        doc = reopened.catalog.documents()[0]
        assert 1 <= doc.ocr_pages < 9 and doc.ocr_pages + doc.ocr_pending == 9
        done_before = doc.ocr_pages
        summary, _ = import_files(reopened, [pdf])
        assert summary.ocr_pages == 9 - done_before
        doc = reopened.catalog.documents()[0]
        assert (doc.ocr_pages, doc.ocr_pending) == (9, 0)
        assert reopened.vectors.count == reopened.catalog.counts()["chunks"]
        assert json.loads(json.dumps(summary.to_json()))["ocr"][0]["pages"] == 9 - done_before
    finally:
        reopened.close()


def test_a_blank_scan_is_read_as_empty_not_failed_nor_flagged(tmp_path: Path, matter):
    pdf = make_image_pdf(tmp_path / "with blank.pdf", [TERMINATION, ""])
    summary, _ = import_files(matter, [pdf])
    assert summary.pages_needing_ocr == []
    assert summary.to_json()["ocr"][0]["pages"] == 2
    assert summary.to_json()["ocr"][0]["low_confidence_pages"] == []
    doc = matter.catalog.documents()[0]
    blank = matter.catalog.page(doc.id, 2)
    assert (blank.source, blank.text, blank.confidence) == (OCR_DONE, "", None)
    assert (doc.ocr_pages, doc.low_confidence_pages, doc.pages_needing_ocr) == (2, 0, 0)
