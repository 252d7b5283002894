"""Importing PDFs into a matter on the writer pool, with progress, a cancel button and a summary
in the status bar. Reading runs ahead of embedding, so the bar follows the reading; OCR of the
scanned pages comes last, with its own count and ETA, while the rest is already searchable."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Generator
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from desk.config.settings import Settings
from desk.core.progress import CancelToken, Progress
from desk.index.matter import open_matter
from desk.ingest.importer import ImportJob, ImportSummary, rebuild
from desk.ui.workers import Worker, Workers

TABLE_REFRESH_SECONDS = 0.5


def import_job(matter_name: str, settings: Settings, paths: list[Path]
               ) -> Callable[[CancelToken], Generator[Progress, None, ImportSummary]]:
    """The job reads only what it is given: a copy of the settings, never the window's."""
    settings = copy.deepcopy(settings)
    paths = list(paths)

    def job(cancel: CancelToken) -> Generator[Progress, None, ImportSummary]:
        matter = open_matter(matter_name, settings)  # the writer's own connection and vectors
        try:
            importer = ImportJob(matter, paths, settings.chunking.size,
                                 settings.chunking.overlap, cancel)
            yield from importer.run()
            return importer.summary
        finally:
            matter.close()

    return job


def rebuild_job(matter_name: str, settings: Settings
                ) -> Callable[[CancelToken], Generator[Progress, None, None]]:
    """Re-chunk and re-embed a matter indexed with other settings or an older embedder: the
    documents' stored page text is kept, so nothing is read or recognised again."""
    settings = copy.deepcopy(settings)

    def job(cancel: CancelToken) -> Generator[Progress, None, None]:
        matter = open_matter(matter_name, settings, check_fingerprint=False)
        try:
            for progress in rebuild(matter, settings.chunking.size, settings.chunking.overlap):
                cancel.raise_if_cancelled()
                yield progress
        finally:
            matter.close()

    return job


def summary_text(summary: ImportSummary) -> str:
    ocr = f", {summary.ocr_pages} read by OCR" if summary.ocr_pages else ""
    return (f"Imported {summary.added} new, {summary.replaced} changed, {summary.skipped} "
            f"unchanged; {len(summary.failed)} failed ({summary.pages} pages{ocr}, "
            f"{summary.chunks} passages, {summary.seconds:.0f} s).")


class ImportOperation(QObject):
    sig_documents_changed = Signal()  # a file was read: the documents table can show it
    sig_text_ready = Signal()  # OCR begins: the text pages are in both indexes, searchable
    sig_finished = Signal()  # done, failed or cancelled: the matter is reopened

    def __init__(self, workers: Workers, status_bar: QStatusBar, status: QLabel,
                 on_error: Callable[[str], None]) -> None:
        super().__init__()
        self.workers = workers
        self.status = status
        self.on_error = on_error
        self.worker: Worker | None = None
        self._reading: Progress | None = None  # the running import's reading progress
        self._table_shown = 0.0  # when the documents table was last told to refresh
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel)
        status_bar.addWidget(self.progress)
        status_bar.addWidget(self.cancel_button)

    def start(self, matter_name: str, settings: Settings, paths: list[Path]) -> Worker:
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self._reading = None
        self._table_shown = 0.0
        worker = self.workers.write(import_job(matter_name, settings, paths),
                                    on_item=self._progress, on_done=self._done,
                                    on_error=self.on_error, on_finished=self._finished)
        self.worker = worker
        return worker

    def start_rebuild(self, matter_name: str, settings: Settings) -> Worker:
        """Rebuild a matter's index, with progress and cancel like an import (a cancelled
        rebuild leaves the matter to be rebuilt: its new fingerprint is stored with its new
        passages, and the rest re-embeds on the next open)."""
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self._reading = None
        worker = self.workers.write(rebuild_job(matter_name, settings), on_item=self._progress,
                                    on_done=lambda _: self.status.setText(
                                        f"Rebuilt the index of {matter_name}."),
                                    on_error=self.on_error, on_finished=self._finished)
        self.worker = worker
        return worker

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel.cancel()

    def _progress(self, progress: Progress) -> None:
        if progress.stage == "extract":
            self._reading = progress
        if progress.stage == "ocr" and progress.done == 0:
            QTimer.singleShot(0, self, self.sig_text_ready.emit)
        reading = self._reading
        if progress.stage == "embed" and reading and reading.done < reading.total:
            # Embedding runs while later files are still read: the bar follows the reading.
            self.status.setText(f"Reading: {reading.done}/{reading.total}; "
                                f"{progress.done} passages in the semantic index")
            return
        self.progress.setMaximum(max(progress.total, 1))
        self.progress.setValue(progress.done)
        eta = progress.eta_seconds()
        stage = {"extract": "Reading", "embed": "Semantic index",
                 "ocr": "OCR of scanned pages",
                 "citations": "Citations of earlier documents"}.get(progress.stage, progress.stage)
        eta_text = f", about {int(eta) + 1} s left" if eta is not None else ""
        where = f" ({progress.message})" if progress.stage == "ocr" and progress.done else ""
        self.status.setText(f"{stage}: {progress.done}/{progress.total}{eta_text}{where}")
        now = time.monotonic()
        # not on every one of 3,000 small files: the table is read whole each time
        if progress.stage in ("extract", "ocr") and (
                now - self._table_shown >= TABLE_REFRESH_SECONDS or progress.done == 0
                or progress.done == progress.total):
            self._table_shown = now
            QTimer.singleShot(0, self, self.sig_documents_changed.emit)  # after this update

    def _done(self, summary: ImportSummary) -> None:
        self.status.setText(summary_text(summary))
        if summary.failed:
            details = "\n".join(f"• {f['file']}: {f['error']}" for f in summary.failed)
            self.on_error(f"Some files could not be imported:\n{details}")

    def _finished(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.worker = None
        self.sig_finished.emit()
