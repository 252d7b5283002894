"""Feedback in the real window, offscreen: ask with the fake model, rate the answer, correct it
in the dialog, and find exactly that in the matter's catalog (and on screen after a reload)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl

from desk.config.settings import load_settings
from desk.rag.feedback import Feedback, feedback_for
from desk.ui.answer_html import feedback_link, render_conversation
from desk.ui.main_window import MainWindow
from tests.fakes import FakeModel, fake_loader
from tests.pdfs import CONTRACT_PAGES, make_pdf

NOTICE = "Termination for Convenience: how many days of prior written notice are required?"
CORRECT = "ninety (90) days prior written notice"
COLUMNS = "turn_id, rating, correct_answer, file, page, not_in_documents"


@pytest.fixture
def window(qtbot, tmp_path: Path):
    settings = load_settings()
    settings.llm.evidence_tokens = 700
    settings.llm.max_answer_tokens = 64
    win = MainWindow(settings, model_loader=fake_loader(FakeModel()))
    qtbot.addWidget(win)
    win.show()
    win.import_paths([make_pdf(tmp_path / "docs" / "MSA.pdf", CONTRACT_PAGES)])
    qtbot.waitUntil(lambda: win.import_worker is None, timeout=120_000)
    yield win
    win.close()
    assert not win.workers.running
    assert all(pool.activeThreadCount() == 0 for pool in win.workers.pools())


def rows(window: MainWindow) -> list[tuple]:
    assert window.matter is not None
    return window.matter.catalog.db.execute(
        f"SELECT {COLUMNS} FROM feedback ORDER BY turn_id").fetchall()


def test_thumbs_down_then_a_correction_is_stored_and_shown(qtbot, window):
    window.question.setText(NOTICE)
    qtbot.keyClick(window.question, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.ask_worker is None, timeout=300_000)
    assert window.matter is not None and window.conversation_id is not None
    catalog, conversation = window.matter.catalog, window.conversation_id
    [(turn_id, question, _)] = catalog.turn_rows(conversation)
    assert question == NOTICE and window.turns[0][1]["found"] is True
    assert window.conversation.turn_ids == [turn_id]
    html = window.answer_view.toHtml()
    for action in ("up", "down", "correct"):
        assert f"feedback:0:{action}" in html
    assert "recorded" not in window.answer_view.toPlainText()

    window.answer_view.anchorClicked.emit(QUrl("feedback:0:down"))
    assert rows(window) == [(turn_id, -1, None, None, None, 0)]
    assert window.answer_view.toPlainText().endswith("👍 👎 Correct… · 👎 recorded")
    assert window.viewer is None  # a feedback link opens no source

    window.answer_view.anchorClicked.emit(QUrl("feedback:0:correct"))
    dialog = window.conversation.correction
    assert dialog is not None and dialog.isVisible()
    assert dialog.answer_edit.toPlainText() == ""
    assert [dialog.document.itemText(i) for i in range(dialog.document.count())] == [
        "(no page given)", "MSA.pdf"]
    assert not dialog.page.isEnabled()
    dialog.answer_edit.setPlainText(CORRECT)
    dialog.document.setCurrentIndex(dialog.document.findText("MSA.pdf"))
    assert dialog.page.isEnabled() and dialog.page.maximum() == 3
    dialog.page.setValue(2)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    assert window.conversation.correction is None and not dialog.isVisible()
    assert rows(window) == [(turn_id, -1, CORRECT, "MSA.pdf", 2, 0)]
    assert feedback_for(catalog, conversation) == {
        turn_id: Feedback(turn_id, -1, CORRECT, "MSA.pdf", 2, False)}
    shown = f"👍 👎 Correct… · 👎 recorded: correct answer “{CORRECT}” (MSA.pdf, p. 2)"
    assert window.answer_view.toPlainText().endswith(shown)

    # Shown again from the catalog; the dialog opens with what was recorded.
    window.conversation.show_conversation(conversation)
    assert window.answer_view.toPlainText().endswith(shown)
    window.answer_view.anchorClicked.emit(QUrl("feedback:0:correct"))
    again = window.conversation.correction
    assert again is not None and again is not dialog
    assert again.values() == (CORRECT, "MSA.pdf", 2, False)
    again.absent.setChecked(True)
    assert not again.page.isEnabled()
    assert again.values() == (CORRECT, "MSA.pdf", None, True)
    again.reject()
    assert window.conversation.correction is None
    assert rows(window) == [(turn_id, -1, CORRECT, "MSA.pdf", 2, 0)]

    # A new rating keeps the correction.
    window.answer_view.anchorClicked.emit(QUrl("feedback:0:up"))
    assert rows(window) == [(turn_id, 1, CORRECT, "MSA.pdf", 2, 0)]
    assert window.answer_view.toPlainText().endswith(
        f"👍 👎 Correct… · 👍 recorded: correct answer “{CORRECT}” (MSA.pdf, p. 2)")


def test_a_correction_the_matter_refuses_keeps_the_dialog_open_with_the_reason(
        qtbot, window):
    window.question.setText(NOTICE)
    window.ask()
    qtbot.waitUntil(lambda: window.ask_worker is None, timeout=300_000)
    assert window.matter is not None
    window.answer_view.anchorClicked.emit(QUrl("feedback:0:correct"))
    dialog = window.conversation.correction
    assert dialog is not None
    dialog.document.setCurrentIndex(1)
    dialog.page.setValue(3)
    # The document is removed while the dialog is open.
    catalog = window.matter.catalog
    with catalog.transaction() as db:
        catalog.delete_document(db, catalog.documents()[0].id)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and window.conversation.correction is dialog
    assert dialog.problem.text() == "'MSA.pdf' is not a document of this matter."
    assert not dialog.problem.isHidden()
    assert window.conversation_id is not None
    assert feedback_for(catalog, window.conversation_id) == {} and rows(window) == []
    dialog.reject()


def test_feedback_links_are_on_stored_finished_answers_only():
    found = {"answer": "Ninety days.", "found": True, "citations": []}
    pending = {"answer": "Nin", "found": True, "citations": [], "pending": True}
    turns = [("Q1", found), ("Q2", found), ("Q3", pending)]
    rated = Feedback(7, -1, "<90> days", "MSA.pdf", 2)
    html = render_conversation(turns, {0: rated, 2: None})
    assert html.count("feedback:0:") == 3 and "feedback:1:" not in html
    assert "feedback:2:" not in html  # still being written
    assert "· 👎 recorded: correct answer “&lt;90&gt; days” (MSA.pdf, p. 2)</p>" in html
    assert render_conversation(turns) == render_conversation(turns, {})
    assert "feedback:" not in render_conversation(turns)
    absent = Feedback(7, -1, "Not found", "MSA.pdf", None, True)
    assert render_conversation(turns, {0: absent}).count(
        "· 👎 recorded: not in the documents (MSA.pdf)</p>") == 1
    assert [feedback_link(link) for link in ("feedback:3:up", "feedback:0:correct",
                                             "feedback:1:sideways", "cite:0:1")] == [
        (3, "up"), (0, "correct"), None, None]
