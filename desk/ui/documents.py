"""The matter's documents: rows read from the catalog, a Qt table model over them, and the
panel that shows them with the remove action."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QWidget,
)

from desk.config.settings import Settings
from desk.core.progress import CancelToken, Progress
from desk.core.types import LOW_OCR_CONFIDENCE, Document
from desk.index.catalog import Catalog
from desk.index.matter import open_catalog, open_matter
from desk.ingest.importer import remove_documents

HEADERS = ("Document", "Pages", "Status")
FAILED = "failed"
_ROOT = QModelIndex()  # a flat table: every row hangs off the invalid root index


@dataclass(frozen=True)
class DocumentRow:
    file: str
    pages: str
    status: str  # short: "indexed", "OCR 3 p.", "2 p. low OCR", "file missing", "failed"
    detail: str  # the full status, for the tooltip
    path: str
    warn: bool = False  # shown in orange: worth a look (low OCR confidence, file gone)

    @property
    def failed(self) -> bool:
        return self.status == FAILED


def _document_row(doc: Document) -> DocumentRow:
    """What the table says of one document: missing file first, then OCR still to do, pages
    OCR could not read well, pages read by OCR, pages without text."""
    status, details, warn = "indexed", ["Indexed"], False
    if doc.ocr_pages:
        status = f"OCR {doc.ocr_pages} p."
        confidence = (f", mean confidence {doc.ocr_confidence:.0f}%"
                      if doc.ocr_confidence is not None else "")
        details.append(f"{doc.ocr_pages} page(s) read by OCR{confidence}")
    if doc.low_confidence_pages:
        status, warn = f"{doc.low_confidence_pages} p. low OCR", True
        details.append(f"{doc.low_confidence_pages} OCR page(s) below "
                       f"{LOW_OCR_CONFIDENCE:.0f}% confidence: check them against the scan")
    if doc.ocr_pending:
        status = f"OCR waiting: {doc.ocr_pending} p."
        details.append(f"{doc.ocr_pending} scanned page(s) wait for OCR; the rest is searchable")
    elif doc.pages_needing_ocr:
        status = f"{doc.pages_needing_ocr} p. need OCR"
        details.append(f"{doc.pages_needing_ocr} page(s) have no text (needs OCR)")
    if doc.missing_since is not None:
        status, warn = "file missing", True
        gone = time.strftime("%Y-%m-%d %H:%M", time.localtime(doc.missing_since))
        details.append(f"The file is no longer on disk (noticed {gone}); its text stays in "
                       "the matter until you remove it")
    return DocumentRow(doc.file_name, str(doc.page_count), status, "; ".join(details),
                       doc.path, warn)


def document_rows(catalog: Catalog) -> list[DocumentRow]:
    """Indexed documents, then the files that failed."""
    rows = [_document_row(doc) for doc in catalog.documents()]
    for path, error in catalog.problems():
        rows.append(DocumentRow(Path(path).name, "", FAILED, f"Failed: {error}", path))
    return rows


class DocumentsModel(QAbstractTableModel):
    PathRole = Qt.ItemDataRole.UserRole

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[DocumentRow] = []

    def set_rows(self, rows: list[DocumentRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT  # noqa: N802
                 ) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT  # noqa: N802
                    ) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (row.file, row.pages, row.status)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.path}\n{row.detail}"
        if role == Qt.ItemDataRole.ForegroundRole and row.failed:
            return QColor(Qt.GlobalColor.darkRed)
        if role == Qt.ItemDataRole.ForegroundRole and row.warn:
            return QColor(191, 96, 0)
        if role == self.PathRole:
            return row.path
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None


def rows_job(matter_name: str) -> Callable[[CancelToken], Iterator[list[DocumentRow]]]:
    """The table's rows read on the reader pool, on their own connection: during an import the
    GUI thread would wait for the GIL on every row the query returns (the writer's Python
    holds it in 5 ms slices), and froze for seconds on a matter of 3,000 documents."""

    def job(cancel: CancelToken) -> Iterator[list[DocumentRow]]:
        with open_catalog(matter_name) as catalog:
            yield document_rows(catalog)

    return job


def remove_job(matter_name: str, settings: Settings, paths: list[str]
               ) -> Callable[[CancelToken], Iterator[Progress]]:
    """Remove documents on the writer pool, through the writer's own matter connection (and
    a copy of the settings, never the window's)."""
    settings = copy.deepcopy(settings)

    def job(cancel: CancelToken) -> Iterator[Progress]:
        matter = open_matter(matter_name, settings)
        try:
            remove_documents(matter, paths)
        finally:
            matter.close()
        yield Progress("remove", 1, 1, "Removed")

    return job


class DocumentsPanel(QObject):
    """The table with its heading and remove button (laid out by the window); `sig_remove`
    carries the paths of the documents chosen for removal."""

    sig_remove = Signal(list)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.model = DocumentsModel(self)
        self.table = QTableView()
        self.table.setObjectName("documents")
        self.table.setModel(self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        # sized from the first rows, not all of them: a matter of 3,000 files refreshes often
        # while it imports, and measuring every row each time froze the window
        header.setResizeContentsPrecision(200)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.remove_button = QPushButton("Remove document")
        self.remove_button.clicked.connect(self.remove_selected)
        self.heading = QLabel("<b>Documents</b> (drop PDFs or folders here)")

    def widgets(self) -> list[tuple[QWidget, int]]:
        """(widget, stretch) from top to bottom."""
        return [(self.heading, 0), (self.table, 3), (self.remove_button, 0)]

    def show_catalog(self, catalog: Catalog | None) -> None:
        self.model.set_rows(document_rows(catalog) if catalog is not None else [])

    def selected_paths(self) -> list[str]:
        """The selected documents that are in the index (a failed file has nothing to remove)."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[r].path for r in rows if not self.model.rows[r].failed]

    def remove_selected(self) -> None:
        paths = self.selected_paths()
        if not paths:
            return
        answer = QMessageBox.question(self.parent_widget, "Remove documents",
                                      f"Remove {len(paths)} document(s) from this matter?")
        if answer == QMessageBox.StandardButton.Yes:
            self.sig_remove.emit(paths)
