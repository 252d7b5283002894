"""The conversation: its turns, the question box, and asking through the answering service on
the reader pool (ask, stream, stop). A worker gets copies and references captured here; what it
produces (the loaded model, the evidence, text, the answer) comes back as yields and signals."""

from __future__ import annotations

import copy
from collections.abc import Callable, Generator
from typing import Any, Protocol

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desk.config.settings import Settings
from desk.core.progress import CancelToken, Progress
from desk.core.types import Answer
from desk.index.matter import Matter
from desk.llm.model import AnswerModel
from desk.rag.service import AnswerJob, answering_service
from desk.rag.turns import load_turns
from desk.ui.answer_html import Turn, render_conversation
from desk.ui.model_status import LoadedModel, ModelLoader, ModelStatus, load_job
from desk.ui.workers import Worker, Workers


class AskHost(Protocol):
    """What asking needs of the window."""

    @property
    def matter(self) -> Matter | None: ...

    settings: Settings
    workers: Workers
    models: ModelStatus
    progress_label: QLabel

    def show_error(self, message: str) -> None: ...


def ask_job(matter: Matter, settings: Settings, model: AnswerModel | None, loader: ModelLoader,
            question: str, conversation_id: int
            ) -> Callable[[CancelToken], Generator[Any, None, Answer]]:
    """Load the model if none is loaded (yielding it for the window to keep), then answer.
    `settings` is the window's object on purpose: the service is kept per (matter, model,
    settings), so the prompt's fixed start is evaluated once per model load."""
    name, llm = settings.llm.model, copy.deepcopy(settings.llm)

    def job(cancel: CancelToken) -> Generator[Any, None, Answer]:
        active = model
        if active is None:
            loaded = yield from load_job(loader, name, llm)(cancel)
            yield loaded
            active = loaded.model
        service = answering_service(matter, active, settings)
        return (yield from service.answer(question, conversation_id, cancel=cancel))

    return job


class ConversationPanel(QWidget):
    sig_passages = Signal(list)  # the evidence of the answer being written; [] clears it
    sig_finished = Signal()  # an answer ended: done, failed or stopped

    def __init__(self, host: AskHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.conversation_id: int | None = None
        self.turns: list[Turn] = []  # (question, answer JSON)
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
        self._show_turns(None, [])
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
        self._show_turns(cid, load_turns(matter.catalog, cid))
        index = self.conversations.findData(cid)
        if index >= 0:
            self.conversations.setCurrentIndex(index)

    def new_conversation(self) -> None:
        self._show_turns(None, [])
        self.question.setFocus()

    def _show_turns(self, cid: int | None, turns: list[Turn]) -> None:
        self.conversation_id = cid
        self.turns = turns
        self.sig_passages.emit([])
        self.render_turns()

    def render_turns(self) -> None:
        self.answer_view.setHtml(render_conversation(self.turns))
        bar = self.answer_view.verticalScrollBar()
        bar.setValue(bar.maximum())

    # -- asking ---------------------------------------------------------------------------
    def ask(self) -> None:
        question = self.question.text().strip()
        matter = self.host.matter
        if not question or matter is None or self.worker is not None:
            return
        if self.conversation_id is None:
            self.conversation_id = matter.catalog.new_conversation(question[:80])
            self.conversations.addItem(question[:80], self.conversation_id)
            self.conversations.setCurrentIndex(self.conversations.count() - 1)
        self.question.clear()
        self.streaming = ""
        self.turns.append((question, self._pending()))
        self.render_turns()
        models = self.host.models
        job = ask_job(matter, self.host.settings, models.current(), models.loader, question,
                      self.conversation_id)
        self._set_answering(True)
        worker = self.host.workers.read(job)
        self.worker = worker
        worker.signals.sig_item.connect(self._item)
        worker.signals.sig_done.connect(self._done)
        worker.signals.sig_error.connect(self._failed)
        worker.signals.sig_finished.connect(self._finished)

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
        t = answer.timings
        self.host.progress_label.setText(
            f"Answered: first token {t.get('ttft_ms', 0) / 1000:.1f} s, "
            f"{t.get('gen_tokens_per_s', 0):.1f} tokens/s, {t.get('prompt_tokens', 0)} prompt "
            "tokens.")
        self.render_turns()

    def _failed(self, message: str) -> None:
        if self.turns and self.turns[-1][1].get("pending"):
            self.turns.pop()
            self.render_turns()
        self.host.show_error(message)

    def _finished(self) -> None:
        self.worker = None
        self._set_answering(False)
        self.question.setFocus()
        self.sig_finished.emit()
