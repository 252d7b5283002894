"""Watched folders in the window: a timer polls the open matter's folders off the GUI thread,
imports what is new or changed through the window's import operation, and says in the status
bar what happened; a small dialog adds and removes the folders. Off until a folder is added."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk.core.errors import DeskError
from desk.core.progress import CancelToken, Progress
from desk.index.catalog import Catalog
from desk.index.matter import open_catalog
from desk.ingest.watch import (
    WatchScan,
    WatchSummary,
    add_folder,
    remove_folder,
    scan,
    settle,
    watched_folders,
)
from desk.ui.imports import ImportOperation
from desk.ui.workers import Worker

if TYPE_CHECKING:
    from desk.ui.main_window import MainWindow

log = logging.getLogger("desk")

POLL_SECONDS = 5  # how often the watched folders are looked at
PAUSED_TEXT = " Watching is paused; open Matter ▸ Watch folders… to resume."


def scan_job(matter_name: str) -> Callable[[CancelToken], Generator[Progress, None, WatchScan]]:
    """One poll on the reader pool, on its own catalog connection."""

    def job(cancel: CancelToken) -> Generator[Progress, None, WatchScan]:
        with open_catalog(matter_name) as catalog:
            found = scan(catalog, watched_folders(catalog))
        yield from ()
        return found

    return job


class WatchController(QObject):
    """Polls while a matter with watched folders is open; never while something writes to
    the matter (an import, a removal) or while its own scan or import runs."""

    sig_reported = Signal(object)  # the WatchSummary just shown in the status bar

    def __init__(self, window: MainWindow, imports: ImportOperation) -> None:
        super().__init__(window)
        self.window = window
        self.imports = imports
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_SECONDS * 1000)
        self.timer.timeout.connect(self.poll)
        self.matter_name: str | None = None
        self.scan_worker: Worker | None = None
        self.importing: tuple[str, WatchScan] | None = None  # the import this poll started
        self.paused_matter: str | None = None  # after an import that stopped short
        self.dialog: WatchFoldersDialog | None = None
        self._unavailable: list[str] = []
        # connected after the window's own slot, so the matter is reopened before we report
        imports.sig_finished.connect(self._import_finished)

    @property
    def working(self) -> bool:
        return self.scan_worker is not None or self.importing is not None

    # -- on and off ---------------------------------------------------------------------------
    def start(self, matter_name: str) -> None:
        """The window opened a matter (also when it reopens it after an import)."""
        if self.paused_matter != matter_name:
            self.paused_matter = None
        if matter_name != self.matter_name:
            self._unavailable = []
        self.matter_name = matter_name
        self._update_timer()
        if self.dialog is not None:
            self.dialog.refresh()

    def stop(self) -> None:
        self.matter_name = None
        self.timer.stop()

    def folders(self) -> list[Path]:
        matter = self.window.matter
        return watched_folders(matter.catalog) if matter is not None else []

    def _update_timer(self) -> None:
        on = self.matter_name is not None and self.paused_matter is None and bool(self.folders())
        if on and not self.timer.isActive():
            self.timer.start()
        elif not on:
            self.timer.stop()

    # -- polling ------------------------------------------------------------------------------
    def _writing(self) -> bool:
        return (self.window.import_worker is not None
                or self.window.workers.writer.activeThreadCount() > 0)

    def poll(self) -> Worker | None:
        """Scan now (the timer calls this; so may a test); None when not the time to."""
        name = self.matter_name
        if name is None or self.paused_matter is not None or self.working or self._writing():
            return None
        if not self.folders():
            return None
        self.scan_worker = self.window.workers.read(
            scan_job(name), on_done=lambda found: self._scanned(name, found),
            on_error=self._scan_failed, on_finished=self._scan_finished)
        return self.scan_worker

    def _scan_failed(self, message: str) -> None:
        # a poll every few seconds must not stack up message boxes
        self.window.progress_label.setText(f"Watched folders: {message}")

    def _scan_finished(self) -> None:
        self.scan_worker = None

    def _scanned(self, name: str, found: WatchScan) -> None:
        matter = self.window.matter
        if name != self.matter_name or matter is None:
            return  # another matter is open now; its flags show when it is opened
        if found.removed or found.restored:
            self.window.refresh_documents()
        if found.to_import:
            if self._writing() or self.paused_matter is not None:
                return  # something else started writing: the next poll tries again
            self.importing = (name, found)
            self.imports.start(name, self.window.settings, found.to_import)
            return
        self._report(settle(matter.catalog, found))

    def _import_finished(self) -> None:
        if self.importing is None:
            return  # an import the lawyer started
        name, found = self.importing
        self.importing = None
        try:
            with open_catalog(name) as catalog:
                summary = settle(catalog, found)
        except DeskError as exc:
            log.warning("watched folders of %r: %s", name, exc)
            return
        paused = bool(summary.not_imported)
        if paused:  # cancelled or failed: not again at once, the lawyer decides
            self.paused_matter = name
            self.timer.stop()
        if name == self.matter_name:
            self._report(summary, PAUSED_TEXT if paused else "")

    def _report(self, summary: WatchSummary, extra: str = "") -> None:
        if not summary.eventful and summary.unavailable == self._unavailable:
            return  # nothing new: leave the status bar to others
        self._unavailable = summary.unavailable
        self.window.progress_label.setText(summary.text() + extra)
        self.sig_reported.emit(summary)

    # -- the folders --------------------------------------------------------------------------
    def open_dialog(self) -> None:
        if self.window.matter is None:
            self.window.show_error("Open or create a matter first, then choose the folders "
                                   "it watches.")
            return
        if self.paused_matter is not None:
            self.paused_matter = None
            self._update_timer()
        if self.dialog is None:
            self.dialog = WatchFoldersDialog(self, self.window)
        self.dialog.refresh()
        self.dialog.show()
        self.dialog.raise_()

    def add_folder(self, folder: Path) -> None:
        if self._change_folders(add_folder, folder):
            self.poll()  # what is already in the folder comes in now, not in a few seconds

    def remove_folder(self, folder: str) -> None:
        self._change_folders(remove_folder, folder)

    def _change_folders(self, change: Callable[[Catalog, Path | str], list[Path]],
                        folder: Path | str) -> bool:
        """Add or remove a watched folder of the open matter; a refusal is shown, not raised."""
        matter = self.window.matter
        if matter is None:
            return False
        try:
            change(matter.catalog, folder)
        except DeskError as exc:
            self.window.show_error(str(exc))
            return False
        self._changed()
        return True

    def _changed(self) -> None:
        self._update_timer()
        if self.dialog is not None:
            self.dialog.refresh()


class WatchFoldersDialog(QDialog):
    """The open matter's watched folders: add (a folder picker) and remove."""

    def __init__(self, controller: WatchController, parent: QWidget) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("watch_dialog")
        self.setWindowTitle("Watched folders")
        self.resize(520, 320)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.add_button = QPushButton("Add folder…")
        self.add_button.clicked.connect(self.choose_folder)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        row = QHBoxLayout()
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        layout.addWidget(buttons)

    def refresh(self) -> None:
        matter = self.controller.window.matter
        name = matter.name if matter is not None else ""
        self.intro.setText(f"New and changed PDFs in these folders (and their subfolders) are "
                           f"imported into “{name}” automatically. A file removed from disk "
                           f"is flagged in the documents list, not deleted from the matter.")
        self.list.clear()
        self.list.addItems([str(f) for f in self.controller.folders()])
        self.add_button.setEnabled(matter is not None)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.list.selectedItems()))

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Watch a folder")
        if folder:
            self.controller.add_folder(Path(folder))

    def remove_selected(self) -> None:
        for folder in [item.text() for item in self.list.selectedItems()]:
            self.controller.remove_folder(folder)  # refreshes the list: texts taken first
