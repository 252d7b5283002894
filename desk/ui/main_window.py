"""The main window: composes the parts (matters and documents on the left, the conversation in
the centre, the evidence on the right, import progress and model status below), owns the open
matter, the menus and the window's geometry."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desk.config.paths import SAMPLES_DIR, data_dir
from desk.config.settings import Settings, load_settings, save_settings
from desk.core.errors import DeskError, IndexMismatch
from desk.index.matter import Matter, list_matters, open_matter
from desk.ingest.importer import opening_texts
from desk.rag.service import release_services
from desk.ui.answer_html import Turn
from desk.ui.authorities import AuthoritiesTab
from desk.ui.conversation import ConversationPanel
from desk.ui.documents import DocumentRow, DocumentsPanel, remove_job, rows_job
from desk.ui.evidence import EvidencePanel, SourceNavigator
from desk.ui.imports import ImportOperation
from desk.ui.matters import MattersSidebar, WelcomePage
from desk.ui.memo import export_memo
from desk.ui.model_status import ModelLoader, ModelStatus
from desk.ui.review import ReviewTab
from desk.ui.viewer import SourceViewer
from desk.ui.watch import WatchController
from desk.ui.workers import Worker, Workers

log = logging.getLogger("desk")


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None,
                 model_loader: ModelLoader | None = None) -> None:
        super().__init__()
        self.settings = settings or load_settings()
        self.workers = Workers()
        self.matter: Matter | None = None
        self.panel: Any = None  # the optimization panel, made on first use
        self._reload_pending = False
        self._rebuilding: str | None = None  # the matter whose index is being rebuilt
        self._documents_reader: Worker | None = None  # the table's rows being read
        self.setWindowTitle("Desk")
        self.setAcceptDrops(True)
        self.models = ModelStatus(self.settings, self.workers, model_loader, self.show_error)
        self._build()
        self._restore_window()
        self.sidebar.refresh()
        last, names = self.settings.last_matter, list_matters()
        if last in names:
            self.select_matter(last)
        elif names:
            self.select_matter(names[0])
        self._update_pages()
        problem = getattr(self.settings, "load_problem", "")
        if problem:
            self.show_error(problem)

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self._build_menus()
        self.sidebar = MattersSidebar(self, self)
        self.documents_panel = DocumentsPanel(self)
        self.documents_panel.sig_remove.connect(self.remove_documents)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        for widget, stretch in self.sidebar.widgets() + self.documents_panel.widgets():
            left_layout.addWidget(widget, stretch)

        self.conversation = ConversationPanel(self)
        self.conversation.sig_finished.connect(self._answer_finished)
        centre = QWidget()
        QVBoxLayout(centre).addWidget(self.conversation)
        self.evidence_panel = EvidencePanel()
        right = QWidget()
        QVBoxLayout(right).addWidget(self.evidence_panel)
        self.conversation.sig_passages.connect(self.evidence_panel.show_passages)
        self.navigator = SourceNavigator(self, lambda: self.matter, self.show_error)
        self.navigator.follow(self.conversation.answer_view, lambda: self.conversation.turns)
        self.evidence_panel.sig_open.connect(self.navigator.open_source)
        self.review = ReviewTab(self)
        self.review.sig_open.connect(self.navigator.open_source)
        self.authorities = AuthoritiesTab()
        self.authorities.sig_open.connect(self.navigator.open_source)

        # Tabs beside the matters: "Ask" (the conversation and its evidence), "Review"
        self.ask_splitter = QSplitter()
        for widget in (centre, right):
            self.ask_splitter.addWidget(widget)
        self.ask_splitter.setSizes([620, 300])
        self.tabs = QTabWidget()
        self.tabs.setObjectName("tabs")
        self.tabs.addTab(self.ask_splitter, "Ask")
        self.tabs.addTab(self.review, "Review")
        self.tabs.addTab(self.authorities, "Authorities")
        self.splitter = QSplitter()
        for widget in (left, self.tabs):
            self.splitter.addWidget(widget)
        self.splitter.setSizes([300, 920])
        self.welcome = WelcomePage()
        self.welcome.sample_button.clicked.connect(self.open_sample)
        self.welcome.new_button.clicked.connect(self.sidebar.new_matter)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(self.splitter)
        self.setCentralWidget(self.pages)

        # Status bar: what is happening, import progress with cancel, the model's status
        self.progress_label = QLabel()
        bar = self.statusBar()
        bar.addWidget(self.progress_label, 1)
        self.imports = ImportOperation(self.workers, bar, self.progress_label, self.show_error)
        self.imports.sig_documents_changed.connect(self.refresh_documents_while_importing)
        self.imports.sig_finished.connect(self._reload_matter)
        self.imports.sig_text_ready.connect(self._reload_matter)
        # after _reload_matter, so that it reports on the reopened matter
        self.watch = WatchController(self, self.imports)
        bar.addPermanentWidget(self.models.label)
        self.setTabOrder(self.conversation.answer_view, self.evidence_panel.list)

    def _build_menus(self) -> None:
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
        for text, slot in (("&New…", lambda: self.sidebar.new_matter()),
                           ("&Rename…", lambda: self.sidebar.rename_current()),
                           ("&Delete…", lambda: self.sidebar.delete_current())):
            action = QAction(text, self)
            action.triggered.connect(slot)
            matter_menu.addAction(action)
        self.watch_action = QAction("&Watch folders…", self)
        self.watch_action.triggered.connect(lambda: self.watch.open_dialog())
        matter_menu.addAction(self.watch_action)
        model_menu = self.menuBar().addMenu("M&odel")
        self.optimize_action = QAction("&Optimization panel…", self)
        self.optimize_action.triggered.connect(self.open_optimization_panel)
        model_menu.addAction(self.optimize_action)
        find = QAction("Find", self, shortcut=QKeySequence(QKeySequence.StandardKey.Find))
        find.triggered.connect(self._focus_question)
        self.addAction(find)

    def _focus_question(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.question.setFocus()
        self.question.selectAll()

    def _update_pages(self) -> None:
        self.pages.setCurrentIndex(1 if list_matters() else 0)

    # -- the parts, by the names other code uses --------------------------------------------
    @property
    def import_worker(self) -> Worker | None:
        return self.imports.worker

    @property
    def ask_worker(self) -> Worker | None:
        return self.conversation.worker

    @property
    def turns(self) -> list[Turn]:
        return self.conversation.turns

    @property
    def conversation_id(self) -> int | None:
        return self.conversation.conversation_id

    @property
    def streaming(self) -> str:
        return self.conversation.streaming

    @property
    def question(self) -> QLineEdit:
        return self.conversation.question

    @property
    def ask_button(self) -> QPushButton:
        return self.conversation.ask_button

    @property
    def stop_button(self) -> QPushButton:
        return self.conversation.stop_button

    @property
    def answer_view(self) -> QTextBrowser:
        return self.conversation.answer_view

    @property
    def documents(self) -> QTableView:
        return self.documents_panel.table

    @property
    def evidence(self) -> QListWidget:
        return self.evidence_panel.list

    @property
    def viewer(self) -> SourceViewer | None:
        return self.navigator.viewer

    @property
    def model_label(self) -> QLabel:
        return self.models.label

    def ask(self) -> None:
        self.conversation.ask()

    def stop_answer(self) -> None:
        self.conversation.stop()

    def new_conversation(self) -> None:
        self.conversation.new_conversation()

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
        self.watch.stop()
        stopped = self.workers.shutdown()
        self.navigator.close()
        if not stopped:  # a worker still uses the matter: leave it to the process's exit
            log.warning("background work did not stop in time; the matter is left open")
        elif self.matter is not None:
            release_services()
            self.matter.close()
            self.matter = None
        super().closeEvent(event)

    def show_error(self, message: str) -> None:
        log.warning("shown to user: %s", message)
        box = QMessageBox(QMessageBox.Icon.Warning, "Desk", message, parent=self)
        box.setObjectName("error_box")
        box.open()

    # -- the open matter --------------------------------------------------------------------
    def select_matter(self, name: str, create: bool = False, resume: bool = True) -> None:
        """Open a matter; OCR that an earlier session left unfinished (closed, cancelled or
        killed) starts again unless this is a reopening after a write."""
        self.close_matter()
        try:
            self.matter = open_matter(name, self.settings, create=create)
        except IndexMismatch as exc:
            self.offer_rebuild(name, str(exc))
            return
        except DeskError as exc:
            self.show_error(str(exc))
            return
        self.settings.last_matter = name
        save_settings(self.settings)
        self.sidebar.refresh()
        self.refresh_documents()
        self.conversation.show_matter(self.matter)
        self.review.show_matter(self.matter)
        self.authorities.show_matter(self.matter)
        self._update_pages()
        self.setWindowTitle(f"Desk: {name}")
        self.watch.start(name)
        waiting = len(self.matter.catalog.pending_ocr_pages())
        to_cite = len(self.matter.catalog.documents_to_cite())
        if resume and (waiting or to_cite) and self.import_worker is None:
            self.imports.start(name, self.settings, [])  # an import of nothing does just that
            self.progress_label.setText(
                f"Resuming OCR of {waiting} scanned page(s)…" if waiting else
                f"Finding the citations of {to_cite} document(s) an older Desk imported…")

    def offer_rebuild(self, name: str, problem: str) -> None:
        """A matter indexed with other settings (or an older embedder) cannot be searched as
        it is; its text is kept, so the index can be rebuilt from it here, without the CLI."""
        text = problem.split(" Rebuild it with")[0]
        answer = QMessageBox.question(self, "Rebuild the index?",
                                      f"{text}\n\nRebuild its index now? The documents' text "
                                      "is kept; only the passages are embedded again.")
        if answer != QMessageBox.StandardButton.Yes or self.import_worker is not None:
            return
        self.imports.start_rebuild(name, self.settings)
        self._rebuilding = name

    def close_matter(self) -> None:
        self.watch.stop()
        if self.matter is not None:
            release_services()
            self.matter.close()
            self.matter = None
        self.documents_panel.show_catalog(None)
        self.conversation.show_matter(None)
        self.review.show_matter(None)
        self.authorities.show_matter(None)
        self.setWindowTitle("Desk")
        self._update_pages()

    def busy(self, changing: bool = False) -> str:
        """Why the open matter cannot be closed now, or renamed and deleted (`changing`)."""
        if self.ask_worker is not None:
            return "An answer is still being written."
        if changing and self.import_worker is not None:
            return "Documents are being imported."
        if changing and self.watch.working:
            return "The watched folders are being checked."
        if changing and self.review.worker is not None:
            return ("Briefs are being written." if self.review.running_kind == "brief"
                    else "A review is running.")
        return ""

    def open_sample(self) -> None:
        self.select_matter("Sample", create=True)
        self.import_paths([SAMPLES_DIR])

    def refresh_documents_while_importing(self) -> None:
        """The table during an import: read off the GUI thread, one read at a time."""
        if self.matter is None or self._documents_reader is not None:
            return
        name = self.matter.name

        def show(rows: list[DocumentRow]) -> None:
            if self.matter is not None and self.matter.name == name:
                self.documents_panel.model.set_rows(rows)

        def finished() -> None:
            self._documents_reader = None

        self._documents_reader = self.workers.read(rows_job(name), on_item=show,
                                                   on_finished=finished)

    def refresh_documents(self) -> None:
        if self.matter is None:
            return
        self.documents_panel.show_catalog(self.matter.catalog)
        pending = self.matter.catalog.count_pending()
        if pending:
            self.progress_label.setText(f"{pending} passages await semantic indexing; "
                                        "keyword search already works.")

    def _reload_matter(self) -> None:
        """Reopen the matter after a write so searches see the new vectors (or open the one
        just rebuilt)."""
        if self._rebuilding is not None:
            name, self._rebuilding = self._rebuilding, None
            self.select_matter(name, resume=False)
            return
        if self.ask_worker is not None:
            self._reload_pending = True  # the answer in progress still reads this matter
            return
        self._reload_pending = False
        if self.matter is not None:
            conversation = self.conversation_id
            self.select_matter(self.matter.name, resume=False)
            if conversation is not None:
                self.conversation.show_conversation(conversation)

    def _answer_finished(self) -> None:
        if self._reload_pending:
            self._reload_matter()

    # -- importing and removing -------------------------------------------------------------
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
        self.imports.start(self.matter.name, self.settings, paths)

    def remove_documents(self, paths: list[str]) -> None:
        if self.matter is None:
            return
        self.workers.write(remove_job(self.matter.name, self.settings, paths),
                           on_error=self.show_error, on_finished=self._reload_matter)

    # -- model and memo ---------------------------------------------------------------------
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

    def reload_model(self) -> None:
        self.models.reload()

    def export_memo(self, kind: str) -> None:
        if self.matter is None or self.conversation_id is None:
            self.show_error("Open a conversation first, then export it.")
            return
        title = self.conversation.conversations.currentText() or "Conversation"
        export_memo(self, self.matter, self.conversation_id, title, kind)
