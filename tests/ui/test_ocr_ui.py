"""OCR in the window: it does not block (text pages answer questions while scans are read), it
shows its own progress, a cancel leaves the pages waiting, and opening the matter resumes them."""

from __future__ import annotations

import re
import threading

import pytest

from desk.config.settings import load_settings
from desk.core.errors import Cancelled
from desk.core.progress import CancelToken
from desk.index.matter import open_matter
from desk.ingest import importer
from desk.ingest.importer import ImportJob
from desk.ingest.ocr import get_ocr
from tests.fakes import FakeModel, quote_first_source
from tests.pdfs import CONTRACT_PAGES, make_image_pdf
from tests.ui.test_main_window import ask_and_wait, drop, make_window  # noqa: F401 (fixture)


class GatedOcr:
    """The real engine, held until the test opens the gate: OCR is still running, for sure,
    while the test looks at the window."""

    def __init__(self) -> None:
        self.engine = get_ocr()
        self.gate = threading.Event()
        self.entered = threading.Event()  # the first page is being read

    def recognise(self, image, number):
        self.entered.set()
        assert self.gate.wait(120)
        return self.engine.recognise(image, number)


@pytest.fixture
def gated(monkeypatch) -> GatedOcr:
    engine = GatedOcr()
    monkeypatch.setattr(importer, "get_ocr", lambda: engine)
    yield engine
    engine.gate.set()


def statuses(window) -> dict[str, str]:
    model = window.documents.model()
    return {model.index(r, 0).data(): model.index(r, 2).data() for r in range(model.rowCount())}


def test_questions_are_answered_from_the_text_pages_while_the_scans_are_read(
        qtbot, make_window, tmp_path, gated):  # noqa: F811 (fixture)
    window = make_window(FakeModel(reply=quote_first_source))
    pdf = make_image_pdf(tmp_path / "docs" / "MSA scan.pdf",
                         [None, CONTRACT_PAGES[1], CONTRACT_PAGES[2]])
    drop(window, [pdf])
    qtbot.waitUntil(lambda: window.progress_label.text().startswith(
        "OCR of scanned pages: 0/2"), timeout=120_000)
    qtbot.waitUntil(lambda: statuses(window) == {"MSA scan.pdf": "OCR waiting: 2 p."})
    # the window reopened the matter when OCR began: the text page is in the semantic index
    qtbot.waitUntil(lambda: window.matter is not None and window.matter.vectors.count > 0)
    answer = ask_and_wait(qtbot, window, "Who are the parties to the services agreement?")
    assert answer["found"] is True
    assert [(c["file"], c["page"]) for c in answer["citations"]] == [("MSA scan.pdf", 1)]
    assert window.import_worker is not None  # OCR is still held

    gated.gate.set()
    qtbot.waitUntil(lambda: window.import_worker is None, timeout=120_000)
    assert statuses(window) == {"MSA scan.pdf": "OCR 2 p."}
    assert re.fullmatch(r"Imported 1 new, 0 changed, 0 unchanged; 0 failed \(3 pages, 2 read "
                        r"by OCR, \d+ passages, \d+ s\)\.", window.progress_label.text())
    doc = window.matter.catalog.documents()[0]
    assert (doc.ocr_pages, doc.ocr_pending) == (2, 0)
    assert window.matter.vectors.count == window.matter.catalog.counts()["chunks"]


def test_a_cancelled_ocr_waits_and_opening_the_matter_resumes_it(
        qtbot, make_window, tmp_path, gated):  # noqa: F811 (fixture)
    window = make_window()
    pdf = make_image_pdf(tmp_path / "docs" / "exhibits.pdf", [CONTRACT_PAGES[1],
                                                              CONTRACT_PAGES[2]])
    drop(window, [pdf])
    qtbot.waitUntil(gated.entered.is_set, timeout=120_000)
    window.imports.cancel_button.click()  # while page 1 is read: it is kept, page 2 is not read
    gated.gate.set()
    qtbot.waitUntil(lambda: window.import_worker is None, timeout=120_000)
    # the reopening after the cancelled import does not start OCR again by itself
    assert window.import_worker is None
    assert statuses(window) == {"exhibits.pdf": "OCR waiting: 1 p."}

    name = window.matter.name
    window.close_matter()
    window.select_matter(name)
    assert window.import_worker is not None  # resumed on opening
    qtbot.waitUntil(lambda: window.import_worker is None, timeout=120_000)
    assert statuses(window) == {"exhibits.pdf": "OCR 2 p."}


def test_ocr_left_by_a_cut_short_import_resumes_when_the_window_opens_the_matter(
        qtbot, make_window, tmp_path):  # noqa: F811
    pdf = make_image_pdf(tmp_path / "signed.pdf", [CONTRACT_PAGES[1], CONTRACT_PAGES[2]])
    matter = open_matter("Signed copies")
    settings = load_settings()
    cancel = CancelToken()
    job = ImportJob(matter, [pdf], settings.chunking.size, settings.chunking.overlap, cancel)
    with pytest.raises(Cancelled):
        for progress in job.run():
            if progress.stage == "ocr":
                cancel.cancel()
    assert len(matter.catalog.pending_ocr_pages()) == 2
    matter.close()

    window = make_window()
    window.select_matter("Signed copies")
    assert window.progress_label.text() == "Resuming OCR of 2 scanned page(s)…"
    qtbot.waitUntil(lambda: window.import_worker is None, timeout=120_000)
    assert statuses(window) == {"signed.pdf": "OCR 2 p."}
