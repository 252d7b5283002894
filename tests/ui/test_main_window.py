"""The real window, offscreen: drop PDFs, ask with SmolLM2, open a citation, cancel, restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from desk.config.settings import load_settings
from desk.ui.main_window import MainWindow, write_memo
from tests.pdfs import CONTRACT_PAGES, make_pdf

SMOL = "smollm2-135m-instruct-q4_1"


def _settings(max_tokens: int = 64):
    settings = load_settings()
    settings.llm.model = SMOL
    settings.llm.n_ctx = 2048
    settings.llm.evidence_tokens = 700
    settings.llm.max_answer_tokens = max_tokens
    return settings


@pytest.fixture
def window(qtbot):
    win = MainWindow(_settings())
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    assert not win.workers.running
    assert win.workers.writer.activeThreadCount() == 0
    assert win.workers.reader.activeThreadCount() == 0


def drop(window: MainWindow, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def import_and_wait(qtbot, window: MainWindow, paths: list[Path]) -> None:
    drop(window, paths)
    assert window.import_worker is not None
    qtbot.waitUntil(lambda: window.import_worker is None, timeout=120_000)


def ask_and_wait(qtbot, window: MainWindow, question: str) -> dict:
    window.question.setText(question)
    qtbot.keyClick(window.question, Qt.Key.Key_Return)
    assert window.ask_worker is not None
    qtbot.waitUntil(lambda: window.ask_worker is None, timeout=300_000)
    return window.turns[-1][1]


def _row_statuses(window: MainWindow) -> dict[str, str]:
    table = window.documents
    return {table.item(r, 0).text(): table.item(r, 2).text() for r in range(table.rowCount())}


def test_welcome_then_drop_imports_and_bad_files_show_their_error(qtbot, window, tmp_path):
    assert window.pages.currentIndex() == 0  # first run: welcome
    folder = tmp_path / "inbox"
    make_pdf(folder / "MSA, Acme (final).PDF", CONTRACT_PAGES)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    import_and_wait(qtbot, window, [folder])
    assert window.pages.currentIndex() == 1
    statuses = _row_statuses(window)
    assert statuses["MSA, Acme (final).PDF"] == "indexed"
    assert statuses["broken.pdf"] == "failed"
    box = window.findChild(QMessageBox, "error_box")
    assert box is not None and "broken.pdf" in box.text()
    box.close()


def test_ask_streams_an_answer_with_citations_that_open_the_page(qtbot, window, tmp_path):
    folder = tmp_path / "docs"
    make_pdf(folder / "MSA.pdf", CONTRACT_PAGES)
    import_and_wait(qtbot, window, [folder])
    streamed: list[object] = []
    window.answer_view.textChanged.connect(lambda: streamed.append(1))
    answer = ask_and_wait(qtbot, window, "Termination for Convenience: how many days of "
                          "prior written notice are required?")
    assert len(streamed) > 3  # the view was updated while tokens arrived
    assert window.evidence.count() >= 1
    assert "loaded" in window.model_label.text() and "Q4_1" in window.model_label.text()
    assert answer["found"] in (True, False) and "pending" not in answer
    html_text = window.answer_view.toHtml()
    for citation in answer["citations"]:
        assert f"cite:{len(window.turns) - 1}:{citation['n']}" in html_text
    # Open a page from a citation when the small model gave one, else from the evidence list.
    if answer["citations"]:
        citation = answer["citations"][0]
        window.answer_view.anchorClicked.emit(
            QUrl(f"cite:{len(window.turns) - 1}:{citation['n']}"))
        expected_page = citation["page"]
    else:
        item = window.evidence.item(0)
        window.evidence.itemActivated.emit(item)
        expected_page = item.data(Qt.ItemDataRole.UserRole)[1]
    viewer = window.viewer
    assert viewer is not None and viewer.isVisible()
    assert viewer.page_number == expected_page
    assert viewer.image.pixmap() is not None and not viewer.image.pixmap().isNull()


def test_citation_link_highlights_the_quote_on_its_page(qtbot, window, tmp_path):
    make_pdf(tmp_path / "d" / "MSA.pdf", CONTRACT_PAGES)
    import_and_wait(qtbot, window, [tmp_path / "d"])
    window.turns = [("Q", {"answer": "Notice is \"ninety (90) days prior written notice\" [1].",
                           "found": True, "citations": [
                               {"n": 1, "file": "MSA.pdf", "page": 2, "verified": True,
                                "quote": "ninety (90) days prior written notice"}]})]
    window.render_turns()
    window.answer_view.anchorClicked.emit(QUrl("cite:0:1"))
    assert window.viewer.page_number == 2
    assert len(window.viewer.highlights) == 6
    window.viewer.show_page(1)
    assert window.viewer.highlights == []


def test_unverifiable_draft_is_shown_under_not_found_and_marked(window):
    from desk.rag.assistant import NOT_FOUND_TEXT, UNVERIFIED_DRAFT

    draft = 'Notice is "forty-five (45) weeks" [1].'
    window.turns = [
        ("Q1", {"answer": f"{NOT_FOUND_TEXT} {UNVERIFIED_DRAFT}\n\n{draft}", "found": False,
                "citations": [{"n": 1, "file": "MSA.pdf", "page": 2, "verified": False,
                               "quote": "forty-five (45) weeks"}],
                "reasons": {"1": "the quoted words do not occur in source [1]"}}),
        ("Q2", {"answer": NOT_FOUND_TEXT, "found": False, "citations": []})]
    window.render_turns()
    text = window.answer_view.toPlainText()
    assert text.count("Not found in the documents of this matter.") == 2
    assert "forty-five (45) weeks" in text and "unverified: the quoted words" in text
    assert "cite:0:1" in window.answer_view.toHtml()


def test_stop_cancels_generation(qtbot, tmp_path):
    win = MainWindow(_settings(max_tokens=400))
    qtbot.addWidget(win)
    make_pdf(tmp_path / "d" / "MSA.pdf", CONTRACT_PAGES)
    import_and_wait(qtbot, win, [tmp_path / "d"])
    win.question.setText("Summarise every clause of this agreement in detail.")
    win.ask()
    qtbot.waitUntil(lambda: len(win.streaming) > 0, timeout=120_000)
    qtbot.mouseClick(win.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.ask_worker is None, timeout=60_000)
    assert win.ask_button.isEnabled() and not win.stop_button.isEnabled()
    win.close()


def test_history_survives_restart_and_exports_a_memo(qtbot, tmp_path):
    win = MainWindow(_settings(max_tokens=24))
    qtbot.addWidget(win)
    make_pdf(tmp_path / "d" / "MSA.pdf", CONTRACT_PAGES)
    import_and_wait(qtbot, win, [tmp_path / "d"])
    ask_and_wait(qtbot, win, "Which law governs the agreement?")
    win.close()

    again = MainWindow(_settings())
    qtbot.addWidget(again)
    assert again.matter is not None and again.matter.name == "Untitled matter"
    assert [q for q, _ in again.turns] == ["Which law governs the agreement?"]
    assert "Which law governs" in again.answer_view.toPlainText()
    from desk.rag.memo import memo_markdown

    markdown = memo_markdown(again.matter.name, "Governing law",
                             again.matter.catalog.turns(again.conversation_id))
    assert "## 1. Which law governs the agreement?" in markdown
    write_memo(tmp_path / "memo.md", markdown)
    write_memo(tmp_path / "memo.pdf", markdown)
    assert (tmp_path / "memo.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "memo.md").read_text().startswith("# Research memo")
    again.close()


def test_closing_during_an_import_shuts_down_cleanly(qtbot, tmp_path):
    win = MainWindow(_settings())
    qtbot.addWidget(win)
    for i in range(6):
        make_pdf(tmp_path / "many" / f"doc {i}.pdf", CONTRACT_PAGES * 3)
    drop(win, [tmp_path / "many"])
    win.close()
    assert not win.workers.running
    QApplication.processEvents()
