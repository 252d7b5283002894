"""The conversation: its turns, the question box, and asking through the answering service on
the reader pool (ask, stream, stop). A worker gets copies and references captured here; what it
produces (the loaded model, the evidence, text, the answer) comes back as yields and signals.
The lawyer's feedback on a stored answer (👍 / 👎, Correct…) is a one-row write, made here."""

from __future__ import annotations

import html
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desk.config.settings import Settings
from desk.core.errors import DeskError
from desk.core.progress import CancelToken, Progress
from desk.core.types import Answer, Document
from desk.index.matter import Matter
from desk.llm.model import AnswerModel
from desk.rag.feedback import Feedback, feedback_for, record_feedback
from desk.rag.service import AnswerJob, answering_service
from desk.rag.turns import answer_record
from desk.review.questions import answer_question
from desk.ui.answer_html import Turn, feedback_link, render_conversation
from desk.ui.host import ModelJobHost
from desk.ui.model_status import LoadedModel, ModelLoader, load_job
from desk.ui.server import confirm_server
from desk.ui.workers import Worker


def ask_job(matter: Matter, settings: Settings, model: AnswerModel | None, loader: ModelLoader,
            question: str, conversation_id: int
            ) -> Callable[[CancelToken], Generator[Any, None, Answer]]:
    """Load the model if none is loaded (yielding it for the window to keep), then answer.
    `settings` is the window's object on purpose: the service is kept per (matter, model,
    settings), so the prompt's fixed start is evaluated once per model load."""
    load = load_job(loader, settings)

    def job(cancel: CancelToken) -> Generator[Any, None, Answer]:
        active = model
        if active is None:
            loaded = yield from load(cancel)
            yield loaded
            active = loaded.model
        service = answering_service(matter, active, settings)
        return (yield from answer_question(service, question, conversation_id, cancel=cancel))

    return job


class CorrectionDialog(QDialog):
    """The correct answer to one question: its text, and the document and page it is on (or
    that the documents do not answer it). `submit` stores it and returns "" or a problem,
    which is shown here without closing."""

    def __init__(self, question: str, documents: list[Document], current: Feedback | None,
                 submit: Callable[[CorrectionDialog], str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("correction")
        self.setWindowTitle("Correct the answer")
        self.submit = submit
        asked = QLabel(f"<b>Q:</b> {html.escape(question)}")
        asked.setWordWrap(True)
        self.answer_edit = QPlainTextEdit()
        self.answer_edit.setObjectName("correct_answer")
        self.answer_edit.setPlaceholderText("The correct answer (optional when a page is given)")
        self.absent = QCheckBox("The documents do not answer this question")
        self.document = QComboBox()
        self.document.setObjectName("correct_document")
        self.document.addItem("(no page given)", 0)
        for doc in documents:
            self.document.addItem(doc.file_name, doc.page_count)
        self.page = QSpinBox()
        self.page.setObjectName("correct_page")
        self.page.setRange(1, 1)
        self.problem = QLabel()
        self.problem.setObjectName("correction_problem")
        self.problem.setStyleSheet("color:#b42318")
        self.problem.setWordWrap(True)
        self.problem.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        form = QFormLayout()
        form.addRow("Correct answer:", self.answer_edit)
        form.addRow("", self.absent)
        form.addRow("Document:", self.document)
        form.addRow("Page:", self.page)
        layout = QVBoxLayout(self)
        layout.addWidget(asked)
        layout.addLayout(form)
        layout.addWidget(QLabel("<small>With the page, this answer becomes a regression test "
                                "(<code>desk feedback export</code>).</small>"))
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.document.currentIndexChanged.connect(self._update_page)
        self.absent.toggled.connect(self._update_page)
        if current is not None:
            self.answer_edit.setPlainText(current.correct_answer or "")
            self.absent.setChecked(current.not_in_documents)
            if current.file is not None:
                self.document.setCurrentIndex(max(self.document.findText(current.file), 0))
        self._update_page()
        if current is not None and current.page is not None:
            self.page.setValue(current.page)

    def _update_page(self) -> None:
        pages = int(self.document.currentData() or 0)
        self.page.setMaximum(max(pages, 1))
        self.page.setEnabled(pages > 0 and not self.absent.isChecked())

    def values(self) -> tuple[str | None, str | None, int | None, bool]:
        """(correct answer, file, page, not in the documents) as entered."""
        text = self.answer_edit.toPlainText().strip() or None
        file = self.document.currentText() if self.document.currentIndex() > 0 else None
        absent = self.absent.isChecked()
        page = self.page.value() if file is not None and not absent else None
        return text, file, page, absent

    def accept(self) -> None:
        problem = self.submit(self)
        if problem:
            self.problem.setText(problem)
            self.problem.show()
            return
        super().accept()


class ConversationPanel(QWidget):
    sig_passages = Signal(list)  # the evidence of the answer being written; [] clears it
    sig_finished = Signal()  # an answer ended: done, failed or stopped

    def __init__(self, host: ModelJobHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.conversation_id: int | None = None
        self.turns: list[Turn] = []  # (question, answer JSON)
        self.turn_ids: list[int | None] = []  # beside turns: the stored turn's id, or None
        self.feedback: dict[int, Feedback] = {}  # by turn id
        self.correction: CorrectionDialog | None = None
        self.streaming = ""
        self.worker: Worker | None = None

        self.conversations = QComboBox()
        self.conversations.setObjectName("conversations")
        self.conversations.activated.connect(self._chosen)
        self.new_button = QPushButton("New conversation")
        self.new_button.clicked.connect(self.new_conversation)
        top = QHBoxLayout()
        top.addWidget(self.conversations, 1)
        top.addWidget(self.new_button)
        self.answer_view = QTextBrowser()
        self.answer_view.setObjectName("answer")
        self.answer_view.setOpenLinks(False)
        self.answer_view.anchorClicked.connect(self._link_clicked)
        self.question = QLineEdit()
        self.question.setObjectName("question")
        self.question.setPlaceholderText("Ask about this matter (Enter)…")
        self.question.returnPressed.connect(self.ask)
        self.ask_button = QPushButton("Ask")
        self.ask_button.clicked.connect(self.ask)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        ask_row = QHBoxLayout()
        ask_row.addWidget(self.question, 1)
        ask_row.addWidget(self.ask_button)
        ask_row.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.answer_view, 1)
        layout.addLayout(ask_row)
        self.setTabOrder(self.question, self.ask_button)
        self.setTabOrder(self.ask_button, self.answer_view)

    # -- conversations --------------------------------------------------------------------
    def show_matter(self, matter: Matter | None) -> None:
        """The matter's conversations, the latest shown."""
        self.conversations.clear()
        self._show_turns(None, [], [], {})
        if matter is None:
            return
        items = matter.catalog.conversations()
        for cid, title, _ in items:
            self.conversations.addItem(title, cid)
        if items:
            self.show_conversation(items[-1][0])

    def _chosen(self, index: int) -> None:
        cid = self.conversations.itemData(index)
        if cid is not None:
            self.show_conversation(int(cid))

    def show_conversation(self, cid: int) -> None:
        matter = self.host.matter
        if matter is None:
            return
        rows = matter.catalog.turn_rows(cid)
        self._show_turns(cid, [(question, answer_record(stored)) for _, question, stored in rows],
                         [turn_id for turn_id, _, _ in rows], feedback_for(matter.catalog, cid))
        index = self.conversations.findData(cid)
        if index >= 0:
            self.conversations.setCurrentIndex(index)

    def new_conversation(self) -> None:
        self._show_turns(None, [], [], {})
        self.question.setFocus()

    def _show_turns(self, cid: int | None, turns: list[Turn], ids: list[int | None],
                    feedback: dict[int, Feedback]) -> None:
        if self.correction is not None:
            self.correction.reject()  # its answer is no longer shown
        self.conversation_id = cid
        self.turns = turns
        self.turn_ids = ids
        self.feedback = feedback
        self.sig_passages.emit([])
        self.render_turns()

    def render_turns(self, keep_scroll: bool = False) -> None:
        controls = {index: self.feedback.get(turn_id)
                    for index, turn_id in enumerate(self.turn_ids) if turn_id is not None}
        bar = self.answer_view.verticalScrollBar()
        where = bar.value()
        self.answer_view.setHtml(render_conversation(self.turns, controls))
        bar.setValue(where if keep_scroll else bar.maximum())

    # -- asking ---------------------------------------------------------------------------
    def ask(self) -> None:
        question = self.question.text().strip()
        matter = self.host.matter
        if not question or matter is None or self.worker is not None:
            return
        if not confirm_server(self, self.host.settings):
            return  # the lawyer declined to send it: the question stays in the box
        if self.conversation_id is None:
            self.conversation_id = matter.catalog.new_conversation(question[:80])
            self.conversations.addItem(question[:80], self.conversation_id)
            self.conversations.setCurrentIndex(self.conversations.count() - 1)
        self.question.clear()
        self.streaming = ""
        self.turns.append((question, self._pending()))
        self.turn_ids.append(None)
        self.render_turns()
        models = self.host.models
        job = ask_job(matter, self.host.settings, models.current(), models.loader, question,
                      self.conversation_id)
        self._set_answering(True)
        self.worker = self.host.workers.read(job, on_item=self._item, on_done=self._done,
                                             on_error=self._failed, on_finished=self._finished)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel.cancel()

    def _set_answering(self, answering: bool) -> None:
        self.ask_button.setEnabled(not answering)
        self.stop_button.setEnabled(answering)
        # the answer being written belongs to this conversation: no switching meanwhile
        self.conversations.setEnabled(not answering)
        self.new_button.setEnabled(not answering)

    def _pending(self) -> dict[str, Any]:
        return {"answer": self.streaming, "found": True, "citations": [], "pending": True}

    def _item(self, item: Any) -> None:
        status = self.host.progress_label
        if isinstance(item, Progress):
            status.setText(item.message or f"{item.stage} {item.done}/{item.total}")
            if item.stage == "model" and item.total > 1:
                status.setText(f"Preparing the model: {item.fraction:.0%}")
        elif isinstance(item, LoadedModel):
            self.host.models.set_loaded(item)
        elif isinstance(item, AnswerJob):
            self.sig_passages.emit(item.passages)
            status.setText("Thinking…")
        elif isinstance(item, str):
            self.streaming += item
            self.turns[-1] = (self.turns[-1][0], self._pending())
            self.render_turns()

    def _done(self, answer: Answer) -> None:
        self.turns[-1] = (self.turns[-1][0], answer.to_json())
        self.turn_ids[-1] = self._stored_id(self.turns[-1][0])
        t = answer.timings
        self.host.progress_label.setText(
            f"Answered: first token {t.get('ttft_ms', 0) / 1000:.1f} s, "
            f"{t.get('gen_tokens_per_s', 0):.1f} tokens/s, {t.get('prompt_tokens', 0)} prompt "
            "tokens.")
        self.render_turns()

    def _failed(self, message: str) -> None:
        """The question stays in the conversation, its answer said to have failed (and why);
        the question goes back into the box, to ask again. Nothing is stored for it."""
        if self.turns and self.turns[-1][1].get("pending"):
            question = self.turns[-1][0]
            self.turns[-1] = (question, {"failed": message, "answer": self.streaming,
                                         "found": False, "citations": []})
            self.render_turns()
            if not self.question.text():
                self.question.setText(question)
        self.host.show_error(message)

    def _finished(self) -> None:
        self.worker = None
        self._set_answering(False)
        self.question.setFocus()
        self.sig_finished.emit()

    # -- feedback -------------------------------------------------------------------------
    def _stored_id(self, question: str) -> int | None:
        """The id the service gave the answer just finished: the conversation's last turn
        (the conversation cannot change while an answer is written)."""
        matter = self.host.matter
        if matter is None or self.conversation_id is None:
            return None
        rows = matter.catalog.turn_rows(self.conversation_id)
        return rows[-1][0] if rows and rows[-1][1] == question else None

    def _link_clicked(self, url: QUrl) -> None:
        link = feedback_link(url.toString())
        if link is None or link[0] >= len(self.turn_ids):
            return
        index, action = link
        turn_id = self.turn_ids[index]
        if turn_id is None:
            return
        if action == "correct":
            self.correct(index)
            return
        current = self.feedback.get(turn_id)
        rating = 1 if action == "up" else -1
        # A new rating keeps the correction given before.
        problem = self._record(turn_id, rating, *(
            (current.correct_answer, current.file, current.page, current.not_in_documents)
            if current is not None else (None, None, None, False)))
        if problem:
            self.host.show_error(problem)

    def correct(self, index: int) -> None:
        """Open the correction dialog for the answer at `index` (of `turns`)."""
        matter = self.host.matter
        turn_id = self.turn_ids[index]
        if matter is None or turn_id is None:
            return
        if self.correction is not None:
            self.correction.reject()
        current = self.feedback.get(turn_id)

        def submit(dialog: CorrectionDialog) -> str:
            # A correction says the answer was wrong, unless it was rated good before.
            rating = current.rating if current is not None else -1
            return self._record(turn_id, rating, *dialog.values())

        dialog = CorrectionDialog(self.turns[index][0], matter.catalog.documents(), current,
                                  submit, self)
        dialog.finished.connect(lambda _: self._correction_closed(dialog))
        self.correction = dialog
        dialog.open()

    def _correction_closed(self, dialog: CorrectionDialog) -> None:
        if self.correction is dialog:
            self.correction = None
        dialog.deleteLater()

    def _record(self, turn_id: int, rating: int, correct_answer: str | None, file: str | None,
                page: int | None, not_in_documents: bool) -> str:
        """Store the feedback (a one-row write) and show it; return "" or the problem."""
        matter = self.host.matter
        if matter is None:
            return "No matter is open."
        try:
            stored = record_feedback(matter.catalog, turn_id, rating, correct_answer, file,
                                     page, not_in_documents)
        except DeskError as exc:
            return str(exc)
        self.feedback[turn_id] = stored
        self.render_turns(keep_scroll=True)
        return ""
