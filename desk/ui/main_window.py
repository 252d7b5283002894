"""The main window: matters, documents, asking with streamed answers, citations that open pages."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QKeySequence, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from desk.config.paths import SAMPLES_DIR, data_dir
from desk.config.settings import Settings, load_settings, save_settings
from desk.core.errors import DeskError
from desk.core.progress import CancelToken, Progress
from desk.core.types import Answer
from desk.index.matter import Matter, delete_matter, list_matters, open_matter, rename_matter
from desk.ingest.importer import ImportJob, ImportSummary, opening_texts, remove_documents
from desk.llm.runtime import LlamaRuntime, prepare_runtime
from desk.llm.store import ModelStore
from desk.rag.assistant import UNVERIFIED_DRAFT, AnswerJob, Assistant
from desk.rag.citations import MARK
from desk.rag.memo import memo_markdown
from desk.ui.viewer import SourceViewer
from desk.ui.workers import Worker, Workers

log = logging.getLogger("desk")


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or load_settings()
        self.workers = Workers()
        self.matter: Matter | None = None
        self.runtime: LlamaRuntime | None = None
        self.conversation_id: int | None = None
        self.turns: list[tuple[str, dict[str, Any]]] = []  # (question, answer JSON)
        self.streaming = ""
        self.ask_worker: Worker | None = None
        self.import_worker: Worker | None = None
        self._reading: Progress | None = None  # the running import's reading progress
        self.viewer: SourceViewer | None = None
        self._reload_pending = False
        self.panel: Any = None  # the optimization panel, made on first use
        self.setWindowTitle("Desk")
        self.setAcceptDrops(True)
        self._build()
        self._restore_window()
        self.refresh_matters()
        last = self.settings.last_matter
        if last in list_matters():
            self.select_matter(last)
        elif list_matters():
            self.select_matter(list_matters()[0])
        self._update_pages()

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.import_action = QAction("&Import…", self, shortcut=QKeySequence("Ctrl+O"))
        self.import_action.triggered.connect(self.choose_files)
        export_md = QAction("Export memo as &Markdown…", self)
        export_md.triggered.connect(lambda: self.export_memo("md"))
        export_pdf = QAction("Export memo as &PDF…", self)
        export_pdf.triggered.connect(lambda: self.export_memo("pdf"))
        quit_action = QAction("&Quit", self, shortcut=QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(self.close)
        for action in (self.import_action, export_md, export_pdf, quit_action):
            file_menu.addAction(action)
        matter_menu = self.menuBar().addMenu("&Matter")
        for text, slot in (("&New…", self.new_matter), ("&Rename…", self.rename_current),
                           ("&Delete…", self.delete_current)):
            action = QAction(text, self)
            action.triggered.connect(slot)
            matter_menu.addAction(action)
        model_menu = self.menuBar().addMenu("M&odel")
        self.optimize_action = QAction("&Optimization panel…", self)
        self.optimize_action.triggered.connect(self.open_optimization_panel)
        model_menu.addAction(self.optimize_action)
        find = QAction("Find", self, shortcut=QKeySequence(QKeySequence.StandardKey.Find))
        find.triggered.connect(self._focus_question)
        self.addAction(find)

        # Left: matters and documents
        self.matters = QListWidget()
        self.matters.setObjectName("matters")
        self.matters.currentTextChanged.connect(self._matter_clicked)
        new_button = QPushButton("New matter")
        new_button.clicked.connect(self.new_matter)
        self.documents = QTableWidget(0, 3)
        self.documents.setObjectName("documents")
        self.documents.setHorizontalHeaderLabels(["Document", "Pages", "Status"])
        header = self.documents.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.documents.setWordWrap(False)
        self.documents.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.documents.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.documents.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.documents.verticalHeader().hide()
        self.remove_button = QPushButton("Remove document")
        self.remove_button.clicked.connect(self.remove_selected)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(QLabel("<b>Matters</b>"))
        left_layout.addWidget(self.matters, 1)
        left_layout.addWidget(new_button)
        left_layout.addWidget(QLabel("<b>Documents</b> (drop PDFs or folders here)"))
        left_layout.addWidget(self.documents, 3)
        left_layout.addWidget(self.remove_button)

        # Centre: conversation
        self.conversations = QComboBox()
        self.conversations.setObjectName("conversations")
        self.conversations.activated.connect(self._conversation_chosen)
        new_conversation = QPushButton("New conversation")
        new_conversation.clicked.connect(self.new_conversation)
        top = QHBoxLayout()
        top.addWidget(self.conversations, 1)
        top.addWidget(new_conversation)
        self.answer_view = QTextBrowser()
        self.answer_view.setObjectName("answer")
        self.answer_view.setOpenLinks(False)
        self.answer_view.anchorClicked.connect(self._link_clicked)
        self.answer_view.highlighted.connect(self._link_hovered)
        self.question = QLineEdit()
        self.question.setObjectName("question")
        self.question.setPlaceholderText("Ask about this matter (Enter)…")
        self.question.returnPressed.connect(self.ask)
        self.ask_button = QPushButton("Ask")
        self.ask_button.clicked.connect(self.ask)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop_answer)
        ask_row = QHBoxLayout()
        ask_row.addWidget(self.question, 1)
        ask_row.addWidget(self.ask_button)
        ask_row.addWidget(self.stop_button)
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.addLayout(top)
        centre_layout.addWidget(self.answer_view, 1)
        centre_layout.addLayout(ask_row)

        # Right: evidence
        self.evidence = QListWidget()
        self.evidence.setObjectName("evidence")
        self.evidence.setWordWrap(True)
        self.evidence.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.evidence.setAlternatingRowColors(True)
        self.evidence.setSpacing(3)
        self.evidence.itemActivated.connect(self._evidence_activated)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(QLabel("<b>Evidence</b>"))
        right_layout.addWidget(self.evidence)

        self.splitter = QSplitter()
        for widget in (left, centre, right):
            self.splitter.addWidget(widget)
        self.splitter.setSizes([300, 620, 300])

        # First run: a welcome instead of the work area
        welcome = QWidget()
        welcome_layout = QVBoxLayout(welcome)
        welcome_layout.addStretch(1)
        welcome_text = QLabel("<h2>Welcome to Desk</h2><p>Drop the PDFs of a matter onto this window, "
                      "or start with three sample contracts. Everything stays on this "
                      "computer.</p>")
        welcome_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        welcome_text.setWordWrap(True)
        self.sample_button = QPushButton("Open the sample matter")
        self.sample_button.clicked.connect(self.open_sample)
        new_first = QPushButton("Create an empty matter…")
        new_first.clicked.connect(self.new_matter)
        welcome_layout.addWidget(welcome_text)
        welcome_layout.addWidget(self.sample_button, 0, Qt.AlignmentFlag.AlignCenter)
        welcome_layout.addWidget(new_first, 0, Qt.AlignmentFlag.AlignCenter)
        welcome_layout.addStretch(2)
        self.pages = QStackedWidget()
        self.pages.addWidget(welcome)
        self.pages.addWidget(self.splitter)
        self.setCentralWidget(self.pages)

        # Status bar: import progress with cancel, model status
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        self.progress_label = QLabel()
        self.cancel_import = QPushButton("Cancel")
        self.cancel_import.hide()
        self.cancel_import.clicked.connect(self._cancel_import)
        self.model_label = QLabel()
        self.model_label.setObjectName("model_status")
        bar = self.statusBar()
        bar.addWidget(self.progress_label, 1)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_import)
        bar.addPermanentWidget(self.model_label)
        self._update_model_label()
        self.setTabOrder(self.question, self.ask_button)
        self.setTabOrder(self.ask_button, self.answer_view)
        self.setTabOrder(self.answer_view, self.evidence)

    def _focus_question(self) -> None:
        self.question.setFocus()
        self.question.selectAll()

    def _update_pages(self) -> None:
        self.pages.setCurrentIndex(1 if list_matters() else 0)

    # -- window state -----------------------------------------------------------------------
    def _window_state(self) -> QSettings:
        return QSettings(str(data_dir() / "window.ini"), QSettings.Format.IniFormat)

    def _restore_window(self) -> None:
        state = self._window_state()
        geometry = state.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        splitter = state.value("splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        state = self._window_state()
        state.setValue("geometry", self.saveGeometry())
        state.setValue("splitter", self.splitter.saveState())
        state.sync()
        self.workers.shutdown()
        if self.viewer is not None:
            self.viewer.close()
        if self.matter is not None:
            self.matter.close()
            self.matter = None
        super().closeEvent(event)

    # -- messages ---------------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        log.warning("shown to user: %s", message)
        box = QMessageBox(QMessageBox.Icon.Warning, "Desk", message, parent=self)
        box.setObjectName("error_box")
        box.open()

    # -- matters ----------------------------------------------------------------------------
    def refresh_matters(self) -> None:
        current = self.matter.name if self.matter else None
        self.matters.blockSignals(True)
        self.matters.clear()
        for name in list_matters():
            self.matters.addItem(name)
            if name == current:
                self.matters.setCurrentRow(self.matters.count() - 1)
        self.matters.blockSignals(False)

    def _matter_clicked(self, name: str) -> None:
        if not name or (self.matter is not None and name == self.matter.name):
            return
        if self.ask_worker is not None:
            self.refresh_matters()  # keep the selection on the matter being answered from
            self.show_error("An answer is still being written. Stop it or wait, then switch.")
            return
        self.select_matter(name)

    def select_matter(self, name: str, create: bool = False) -> None:
        if self.matter is not None:
            self.matter.close()
            self.matter = None
        try:
            self.matter = open_matter(name, self.settings, create=create)
        except DeskError as exc:
            self.show_error(str(exc))
            return
        self.settings.last_matter = name
        save_settings(self.settings)
        self.refresh_matters()
        self.refresh_documents()
        self.refresh_conversations()
        self._update_pages()
        self.setWindowTitle(f"Desk: {name}")

    def new_matter(self) -> None:
        name, ok = QInputDialog.getText(self, "New matter", "Name of the matter:")
        if ok and name.strip():
            self.select_matter(name.strip(), create=True)

    def rename_current(self) -> None:
        if self.matter is None:
            return
        name, ok = QInputDialog.getText(self, "Rename matter", "New name:",
                                        text=self.matter.name)
        if not ok or not name.strip() or name.strip() == self.matter.name:
            return
        old = self.matter.name
        self.matter.close()
        self.matter = None
        try:
            rename_matter(old, name.strip())
        except DeskError as exc:
            self.show_error(str(exc))
            name = old
        self.select_matter(name.strip())

    def delete_current(self) -> None:
        if self.matter is None:
            return
        name = self.matter.name
        answer = QMessageBox.question(
            self, "Delete matter", f"Delete the matter “{name}” with its index and "
            "conversations? The PDF files themselves are not touched.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.matter.close()
        self.matter = None
        delete_matter(name)
        self.refresh_matters()
        remaining = list_matters()
        if remaining:
            self.select_matter(remaining[0])
        else:
            self.documents.setRowCount(0)
            self.answer_view.clear()
        self._update_pages()

    def open_sample(self) -> None:
        self.select_matter("Sample", create=True)
        self.import_paths([SAMPLES_DIR])

    # -- documents --------------------------------------------------------------------------
    def refresh_documents(self) -> None:
        self.documents.setRowCount(0)
        if self.matter is None:
            return
        catalog = self.matter.catalog
        # (name, pages, short status, full status, path)
        rows: list[tuple[str, str, str, str, str]] = []
        for doc in catalog.documents():
            status, detail = "indexed", "Indexed"
            if doc.pages_needing_ocr:
                status = f"{doc.pages_needing_ocr} p. need OCR"
                detail = f"Indexed; {doc.pages_needing_ocr} page(s) have no text (needs OCR)"
            rows.append((doc.file_name, str(doc.page_count), status, detail, doc.path))
        pending = catalog.count_pending()
        for path, error in catalog.problems():
            rows.append((Path(path).name, "", "failed", f"Failed: {error}", path))
        self.documents.setRowCount(len(rows))
        for r, (name, pages, status, detail, path) in enumerate(rows):
            for c, value in enumerate((name, pages, status)):
                item = QTableWidgetItem(value)
                item.setToolTip(f"{path}\n{detail}")
                item.setData(Qt.ItemDataRole.UserRole, path)
                if status == "failed":
                    item.setForeground(Qt.GlobalColor.darkRed)
                self.documents.setItem(r, c, item)
        if pending:
            self.progress_label.setText(f"{pending} passages await semantic indexing; "
                                        "keyword search already works.")

    def remove_selected(self) -> None:
        if self.matter is None:
            return
        rows = sorted({i.row() for i in self.documents.selectedItems()})
        table = self.documents
        names = [table.item(r, 0).data(Qt.ItemDataRole.UserRole)  # type: ignore[union-attr]
                 for r in rows if table.item(r, 2).text() != "failed"]  # type: ignore[union-attr]
        if not names:
            return
        answer = QMessageBox.question(self, "Remove documents",
                                      f"Remove {len(names)} document(s) from this matter?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        name = self.matter.name
        settings = self.settings

        def job(cancel: CancelToken) -> Iterator[Progress]:
            matter = open_matter(name, settings)
            try:
                remove_documents(matter, names)
            finally:
                matter.close()
            yield Progress("remove", 1, 1, "Removed")

        worker = self.workers.write(job)
        worker.signals.sig_error.connect(self.show_error)
        worker.signals.sig_finished.connect(self._reload_matter)

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Import PDFs", "", "PDF files (*.pdf *.PDF)")
        if files:
            self.import_paths([Path(f) for f in files])

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.import_paths(paths)

    def import_paths(self, paths: list[Path]) -> None:
        if self.matter is None:
            self.select_matter("Untitled matter", create=True)
        assert self.matter is not None
        name = self.matter.name
        settings = self.settings

        def job(cancel: CancelToken) -> Generator[Progress, None, ImportSummary]:
            matter = open_matter(name, settings)  # the writer's own connection and vectors
            try:
                importer = ImportJob(matter, paths, settings.chunking.size,
                                     settings.chunking.overlap, cancel)
                yield from importer.run()
                return importer.summary
            finally:
                matter.close()

        self.progress.setValue(0)
        self.progress.show()
        self.cancel_import.show()
        worker = self.workers.write(job)
        self.import_worker = worker
        self._reading = None
        worker.signals.sig_item.connect(self._import_progress)
        worker.signals.sig_done.connect(self._import_done)
        worker.signals.sig_error.connect(self.show_error)
        worker.signals.sig_finished.connect(self._import_finished)

    def _import_progress(self, progress: Progress) -> None:
        if progress.stage == "extract":
            self._reading = progress
        reading = self._reading
        if progress.stage == "embed" and reading and reading.done < reading.total:
            # Embedding runs while later files are still read: the bar follows the reading.
            self.progress_label.setText(f"Reading: {reading.done}/{reading.total}; "
                                        f"{progress.done} passages in the semantic index")
            return
        self.progress.setMaximum(max(progress.total, 1))
        self.progress.setValue(progress.done)
        eta = progress.eta_seconds()
        stage = {"extract": "Reading", "embed": "Semantic index"}.get(progress.stage,
                                                                      progress.stage)
        eta_text = f", about {int(eta) + 1} s left" if eta is not None else ""
        self.progress_label.setText(f"{stage}: {progress.done}/{progress.total}{eta_text}")
        if progress.stage == "extract":
            self._reload_documents_soon()

    def _reload_documents_soon(self) -> None:
        QTimer.singleShot(0, self.refresh_documents)

    def _import_done(self, summary: ImportSummary) -> None:
        text = (f"Imported {summary.added} new, {summary.replaced} changed, {summary.skipped} "
                f"unchanged; {len(summary.failed)} failed ({summary.pages} pages, "
                f"{summary.chunks} passages, {summary.seconds:.0f} s).")
        self.progress_label.setText(text)
        if summary.failed:
            details = "\n".join(f"• {f['file']}: {f['error']}" for f in summary.failed)
            self.show_error(f"Some files could not be imported:\n{details}")

    def _import_finished(self) -> None:
        self.progress.hide()
        self.cancel_import.hide()
        self.import_worker = None
        self._reload_matter()

    def _cancel_import(self) -> None:
        if self.import_worker is not None:
            self.import_worker.cancel.cancel()

    def _reload_matter(self) -> None:
        """Reopen the matter after a write so searches see the new vectors."""
        if self.ask_worker is not None:
            self._reload_pending = True  # the answer in progress still reads this matter
            return
        self._reload_pending = False
        if self.matter is not None:
            conversation = self.conversation_id
            self.select_matter(self.matter.name)
            if conversation is not None:
                self.show_conversation(conversation)

    # -- conversations ----------------------------------------------------------------------
    def refresh_conversations(self) -> None:
        self.conversations.clear()
        self.conversation_id = None
        self.turns = []
        self.evidence.clear()
        if self.matter is None:
            return
        items = self.matter.catalog.conversations()
        for cid, title, _ in items:
            self.conversations.addItem(title, cid)
        if items:
            self.conversations.setCurrentIndex(len(items) - 1)
            self.show_conversation(items[-1][0])
        else:
            self.render_turns()

    def _conversation_chosen(self, index: int) -> None:
        cid = self.conversations.itemData(index)
        if cid is not None:
            self.show_conversation(int(cid))

    def show_conversation(self, cid: int) -> None:
        if self.matter is None:
            return
        self.conversation_id = cid
        self.turns = [(q, json.loads(a)) for q, a in self.matter.catalog.turns(cid)]
        index = self.conversations.findData(cid)
        if index >= 0:
            self.conversations.setCurrentIndex(index)
        self.render_turns()

    def new_conversation(self) -> None:
        self.conversation_id = None
        self.turns = []
        self.evidence.clear()
        self.render_turns()
        self.question.setFocus()

    # -- asking -----------------------------------------------------------------------------
    def ask(self) -> None:
        question = self.question.text().strip()
        if not question or self.matter is None or self.ask_worker is not None:
            return
        if self.conversation_id is None:
            self.conversation_id = self.matter.catalog.new_conversation(question[:80])
            self.conversations.addItem(question[:80], self.conversation_id)
            self.conversations.setCurrentIndex(self.conversations.count() - 1)
        self.question.clear()
        self.turns.append((question, {"answer": "", "found": True, "citations": [],
                                      "pending": True}))
        self.streaming = ""
        self.render_turns()
        matter, settings, conversation = self.matter, self.settings, self.conversation_id

        def job(cancel: CancelToken) -> Generator[Any, None, Answer]:
            runtime = yield from self._ensure_runtime(cancel)
            assistant = Assistant(matter, runtime, settings)
            prepared = assistant.prepare(question, conversation)
            yield prepared
            yield from assistant.stream(prepared, cancel)
            assert prepared.answer is not None
            assistant.remember(conversation, question, prepared.answer)
            return prepared.answer

        self.ask_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        worker = self.workers.read(job)
        self.ask_worker = worker
        worker.signals.sig_item.connect(self._answer_item)
        worker.signals.sig_done.connect(self._answer_done)
        worker.signals.sig_error.connect(self._answer_failed)
        worker.signals.sig_finished.connect(self._answer_finished)

    def _ensure_runtime(self, cancel: CancelToken
                        ) -> Generator[Progress, None, LlamaRuntime]:
        """The answering model, prepared and loaded on first use (in a worker)."""
        self.runtime = yield from prepare_runtime(self.settings.llm.model, self.settings.llm,
                                                  cancel)
        return self.runtime

    def _answer_item(self, item: Any) -> None:
        if isinstance(item, Progress):
            self.progress_label.setText(item.message or f"{item.stage} {item.done}/{item.total}")
            if item.stage == "model" and item.total > 1:
                self.progress_label.setText(f"Preparing the model: {item.fraction:.0%}")
            self._update_model_label()
        elif isinstance(item, AnswerJob):
            self._show_evidence(item)
            self.progress_label.setText("Thinking…")
        elif isinstance(item, str):
            self.streaming += item
            question, _ = self.turns[-1]
            self.turns[-1] = (question, {"answer": self.streaming, "found": True,
                                         "citations": [], "pending": True})
            self.render_turns()

    def _show_evidence(self, job: AnswerJob) -> None:
        self.evidence.clear()
        for passage in job.passages:
            text = " ".join(passage.text.split())
            item = QListWidgetItem(f"[{passage.n}] {passage.file}, {passage.pages_label}\n"
                                   f"{text[:220]}…")
            item.setData(Qt.ItemDataRole.UserRole, (passage.file, passage.page_start,
                                                    text[:120]))
            item.setToolTip(text)
            self.evidence.addItem(item)
        self._update_model_label()

    def _answer_done(self, answer: Answer) -> None:
        question, _ = self.turns[-1]
        data = answer.to_json()
        data["reasons"] = {str(c.n): c.reason for c in answer.citations if not c.verified}
        data["unsupported"] = answer.unsupported_sentences
        self.turns[-1] = (question, data)
        t = answer.timings
        self.progress_label.setText(
            f"Answered: first token {t.get('ttft_ms', 0) / 1000:.1f} s, "
            f"{t.get('gen_tokens_per_s', 0):.1f} tokens/s, {t.get('prompt_tokens', 0)} prompt "
            "tokens.")
        self.render_turns()

    def _answer_failed(self, message: str) -> None:
        if self.turns and self.turns[-1][1].get("pending"):
            self.turns.pop()
            self.render_turns()
        self.show_error(message)

    def _answer_finished(self) -> None:
        self.ask_worker = None
        self.ask_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.question.setFocus()
        if self._reload_pending:
            self._reload_matter()

    def stop_answer(self) -> None:
        if self.ask_worker is not None:
            self.ask_worker.cancel.cancel()

    # -- rendering --------------------------------------------------------------------------
    def render_turns(self) -> None:
        parts = ["<style>a.ok{color:#1a7f37;text-decoration:none;font-weight:bold}"
                 "a.bad{color:#b42318;text-decoration:underline dotted}"
                 ".q{font-weight:bold;margin-top:12px}.nf{color:#6e6e6e;font-style:italic}"
                 ".src{color:#555;font-size:small}</style>"]
        if not self.turns:
            parts.append("<p class='nf'>Ask a question about the documents of this matter. "
                         "Every answer cites document and page; click a citation to open the "
                         "page.</p>")
        for index, (question, answer) in enumerate(self.turns):
            parts.append(f"<p class='q'>Q: {html.escape(question)}</p>")
            parts.append(self._answer_html(index, answer))
        self.answer_view.setHtml("".join(parts))
        self.answer_view.verticalScrollBar().setValue(
            self.answer_view.verticalScrollBar().maximum())

    def _answer_html(self, index: int, answer: dict[str, Any]) -> str:
        if answer.get("pending"):
            return f"<p>{html.escape(answer['answer']) or '…'}</p>"
        not_found = "<p class='nf'>Not found in the documents of this matter.</p>"
        draft = answer["answer"].split(UNVERIFIED_DRAFT, 1)
        if not answer["found"] and len(draft) == 1:
            return not_found
        if not answer["found"]:
            # The model's draft, none of it verifiable: shown below the verdict, marked.
            answer = {**answer, "answer": draft[1].strip()}
            return (f"{not_found}<p class='nf'>{html.escape(UNVERIFIED_DRAFT)}</p>"
                    f"<blockquote style='color:#667085'>{self._cited_html(index, answer)}"
                    "</blockquote>")
        return self._cited_html(index, answer)

    def _cited_html(self, index: int, answer: dict[str, Any]) -> str:
        by_n = {c["n"]: c for c in answer["citations"]}
        reasons = answer.get("reasons", {})

        def link(match: Any) -> str:
            out = []
            for number in (int(x) for x in match.group(1).replace(";", ",").split(",")):
                c = by_n.get(number)
                if c is None:
                    out.append(f"[{number}]")
                    continue
                css = "ok" if c["verified"] else "bad"
                out.append(f"<a class='{css}' href='cite:{index}:{number}'>[{number}]</a>")
            return "".join(out)

        text = MARK.sub(link, html.escape(answer["answer"]).replace("\n", "<br>"))
        sources = "".join(
            f"<br>[{c['n']}] {html.escape(c['file'])}, p. {c['page']}"
            + (" <span style='color:#1a7f37'>✓ verified</span>" if c["verified"] else
               f" <span style='color:#b42318'>(unverified: "
               f"{html.escape(reasons.get(str(c['n']), 'not found in the source'))})</span>")
            for c in answer["citations"])
        return f"<p>{text}</p><p class='src'>{sources}</p>"

    def _citation(self, url: QUrl) -> dict[str, Any] | None:
        if url.scheme() != "cite":
            return None
        _, turn, number = url.toString().split(":")
        answer = self.turns[int(turn)][1]
        citation = next((c for c in answer["citations"] if c["n"] == int(number)), None)
        if citation is not None:
            citation = {**citation, "reason": answer.get("reasons", {}).get(number, "")}
        return citation

    def _link_hovered(self, url: QUrl) -> None:
        citation = self._citation(url) if url.isValid() and url.toString() else None
        if citation is None:
            QToolTip.hideText()
            return
        state = ("Verified: the quote is on this page." if citation["verified"] else
                 f"Not verified: {citation['reason'] or 'the source does not support it'}.")
        QToolTip.showText(self.cursor().pos(), f"{citation['file']}, page {citation['page']}\n"
                          f"{state}")

    def _link_clicked(self, url: QUrl) -> None:
        citation = self._citation(url)
        if citation is not None:
            self.open_source(citation["file"], citation["page"], citation["quote"])

    def _evidence_activated(self, item: QListWidgetItem) -> None:
        file, page, _ = item.data(Qt.ItemDataRole.UserRole)
        self.open_source(file, page, "")

    def open_source(self, file: str, page: int, quote: str) -> None:
        if self.matter is None:
            return
        docs = self.matter.catalog.find_documents(file)
        if not docs:
            self.show_error(f"{file} is no longer in this matter.")
            return
        if self.viewer is None:
            self.viewer = SourceViewer(self)
        try:
            self.viewer.open_source(Path(docs[0].path), self.matter.catalog, docs[0].id, page,
                                    quote)
        except DeskError as exc:
            self.show_error(str(exc))
            return
        self.viewer.show()
        self.viewer.raise_()

    # -- model ------------------------------------------------------------------------------
    def _update_model_label(self) -> None:
        name = self.settings.llm.model
        try:
            entry = ModelStore().get(name)
            precision = entry.precision
        except DeskError:
            precision = "?"
        state = f"{self.runtime.device}, loaded" if self.runtime else "CPU, loads on first question"
        self.model_label.setText(f"Model: {name} · {precision} · {state}")

    def open_optimization_panel(self) -> None:
        from desk.ui.optimization import OptimizationPanel

        if self.panel is None:
            self.panel = OptimizationPanel(self.settings, self.workers, self, self._bench_texts)
            self.panel.sig_model_applied.connect(self.reload_model)
        self.panel.refresh()
        self.panel.show()
        self.panel.raise_()

    def _bench_texts(self) -> list[str]:
        """Quality is measured on the open matter's own text (the bundled samples otherwise)."""
        return opening_texts(self.matter)

    def reload_model(self, name: str) -> None:
        """Load the newly chosen model in the background; the app stays usable meanwhile."""
        self.model_label.setText(f"Model: {name} · loading…")

        def job(cancel: CancelToken) -> Generator[Progress, None, LlamaRuntime]:
            return (yield from prepare_runtime(name, self.settings.llm, cancel))

        worker = self.workers.read(job)
        worker.signals.sig_done.connect(self._model_loaded)
        worker.signals.sig_error.connect(self.show_error)

    def _model_loaded(self, runtime: LlamaRuntime) -> None:
        self.runtime = runtime
        self._update_model_label()

    # -- memo -------------------------------------------------------------------------------
    def export_memo(self, kind: str) -> None:
        if self.matter is None or self.conversation_id is None:
            self.show_error("Open a conversation first, then export it.")
            return
        title = self.conversations.currentText() or "Conversation"
        markdown = memo_markdown(self.matter.name, title,
                                 self.matter.catalog.turns(self.conversation_id))
        suffix = "Markdown (*.md)" if kind == "md" else "PDF (*.pdf)"
        path, _ = QFileDialog.getSaveFileName(self, "Export research memo",
                                              f"{title[:40]}.{kind}", suffix)
        if path:
            write_memo(Path(path), markdown)


def write_memo(path: Path, markdown: str) -> None:
    """Markdown as is, or laid out as a PDF through Qt's rich text engine."""
    if path.suffix.lower() == ".pdf":
        document = QTextDocument()
        document.setMarkdown(markdown)
        writer = QPdfWriter(str(path))
        writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        writer.setResolution(96)
        document.setPageSize(writer.pageLayout().paintRectPixels(96).size().toSizeF())
        document.print_(writer)
    else:
        path.write_text(markdown, encoding="utf-8")
