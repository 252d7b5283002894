"""Import into a real matter: idempotence, replacement, removal, bad files, fingerprints."""

from pathlib import Path

import pytest

from desk.config.settings import load_settings, save_settings
from desk.core.errors import IndexMismatch
from desk.index.matter import open_matter
from desk.ingest.importer import ImportJob, remove_documents
from tests.pdfs import CONTRACT_PAGES, make_encrypted_pdf, make_pdf, make_scanned_pdf


def run_import(matter, paths, ocr=True):
    settings = load_settings()
    job = ImportJob(matter, paths, settings.chunking.size, settings.chunking.overlap, ocr=ocr)
    stages = [p.stage for p in job.run()]
    return job.summary, stages


@pytest.fixture
def matter():
    m = open_matter("Smith v. Jones")
    yield m
    m.close()


def test_import_reimport_change_and_remove(tmp_path: Path, matter):
    pdf = make_pdf(tmp_path / "docs" / "MSA, Acme (signed).PDF", CONTRACT_PAGES)
    summary, stages = run_import(matter, [tmp_path / "docs"])
    assert (summary.added, summary.skipped, summary.failed) == (1, 0, [])
    assert summary.pages == 3 and summary.chunks >= 1
    assert "extract" in stages and "embed" in stages
    counts = matter.catalog.counts()
    assert counts["pending"] == 0 and matter.vectors.count == counts["chunks"]

    summary, _ = run_import(matter, [pdf])
    assert (summary.added, summary.skipped) == (0, 1)

    make_pdf(pdf, CONTRACT_PAGES[:2] + ["18. Governing Law. New York law governs."])
    summary, _ = run_import(matter, [pdf])
    assert summary.replaced == 1
    assert len(matter.catalog.documents()) == 1
    assert matter.vectors.count == matter.catalog.counts()["chunks"]
    texts = " ".join(c.text for c in matter.catalog.chunks(matter.catalog.chunk_ids()).values())
    assert "New York" in texts and "Delaware" not in texts

    assert remove_documents(matter, ["MSA, Acme (signed).PDF"]) == ["MSA, Acme (signed).PDF"]
    assert matter.catalog.counts()["chunks"] == 0 and matter.vectors.count == 0


def test_bad_files_are_reported_and_the_rest_imports(tmp_path: Path, matter):
    folder = tmp_path / "inbox"
    make_pdf(folder / "good.pdf", CONTRACT_PAGES)
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "memo.PDF").write_bytes(b"PK\x03\x04 docx")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<>> garbage")
    make_encrypted_pdf(folder / "locked.pdf")
    make_scanned_pdf(folder / "scan only.pdf")
    make_scanned_pdf(folder / "mixed.pdf", with_text_page=True)
    # without OCR (--no-ocr), as before it: scans are reported, not read (test_ocr.py reads them)
    summary, _ = run_import(matter, [folder, tmp_path / "missing.pdf"], ocr=False)
    failed = {f["file"]: f["error"] for f in summary.failed}
    assert summary.added == 2
    assert set(failed) == {"empty.pdf", "memo.PDF", "broken.pdf", "locked.pdf",
                           "scan only.pdf", str(tmp_path / "missing.pdf")}
    assert "needs OCR" in failed["scan only.pdf"]
    assert summary.pages_needing_ocr == [{"file": "mixed.pdf", "pages": [2],
                                          "error": "no text (needs OCR)"}]
    docs = {d.file_name: d for d in matter.catalog.documents()}
    assert docs["mixed.pdf"].pages_needing_ocr == 1
    assert len(matter.catalog.problems()) == 5  # missing paths are not files of the matter
    assert matter.catalog.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_changed_chunking_is_refused_not_mixed(tmp_path: Path, matter):
    run_import(matter, [make_pdf(tmp_path / "a.pdf", CONTRACT_PAGES)])
    matter.close()
    settings = load_settings()
    settings.chunking.size = 900
    save_settings(settings)
    with pytest.raises(IndexMismatch, match="rebuild"):
        open_matter("Smith v. Jones")
