"""The source viewer: a PDF page rendered with PyMuPDF, the cited quote highlighted."""

from __future__ import annotations

from pathlib import Path

import pymupdf
from PySide6.QtCore import QRectF, Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QImage, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desk.core.errors import DeskError
from desk.index.catalog import Catalog
from desk.rag.highlight import Box, quote_boxes


class SourceViewer(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Source")
        self.resize(760, 900)
        self.doc: pymupdf.Document | None = None
        self.path: Path | None = None
        self.catalog: Catalog | None = None
        self.doc_id = 0
        self.page_number = 1
        self.quote = ""
        self.zoom = 1.3
        self.highlights: list[Box] = []

        self.title = QLabel()
        self.title.setWordWrap(True)
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.page_label = QLabel()
        self.zoom_out = QPushButton("−")
        self.zoom_in = QPushButton("+")
        self.external = QPushButton("Open in system viewer")
        self.prev_button.clicked.connect(lambda: self.show_page(self.page_number - 1))
        self.next_button.clicked.connect(lambda: self.show_page(self.page_number + 1))
        self.zoom_in.clicked.connect(lambda: self.set_zoom(self.zoom * 1.25))
        self.zoom_out.clicked.connect(lambda: self.set_zoom(self.zoom / 1.25))
        self.zoom_in.setShortcut(QKeySequence.StandardKey.ZoomIn)
        self.zoom_out.setShortcut(QKeySequence.StandardKey.ZoomOut)
        self.external.clicked.connect(self.open_external)

        bar = QHBoxLayout()
        for widget in (self.prev_button, self.page_label, self.next_button, self.zoom_out,
                       self.zoom_in):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.external)
        self.image = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(self.image)
        self.scroll_area.setWidgetResizable(True)
        self.status = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(bar)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.status)

    def open_source(self, path: Path, catalog: Catalog, doc_id: int, page: int,
                    quote: str) -> None:
        if not path.exists():
            raise DeskError(f"{path.name} is no longer at {path.parent}; import it again from "
                            "its new place to open its pages.")
        if self.doc is not None:
            self.doc.close()
        self.doc = pymupdf.open(path)
        self.path, self.catalog, self.doc_id, self.quote = path, catalog, doc_id, quote
        self.title.setText(f"<b>{path.name}</b>" + (f"<br>“{quote}”" if quote else ""))
        self.show_page(page)

    def set_zoom(self, zoom: float) -> None:
        self.zoom = min(max(zoom, 0.4), 5.0)
        self.show_page(self.page_number)

    def show_page(self, number: int) -> None:
        if self.doc is None:
            return
        number = min(max(number, 1), self.doc.page_count)
        self.page_number = number
        self.page_label.setText(f"Page {number} of {self.doc.page_count}")
        self.prev_button.setEnabled(number > 1)
        self.next_button.setEnabled(number < self.doc.page_count)
        page = self.catalog.page(self.doc_id, number) if self.catalog else None
        self.highlights = quote_boxes(page, self.quote) if page and self.quote else []
        pix = self.doc[number - 1].get_pixmap(matrix=pymupdf.Matrix(self.zoom, self.zoom))
        image = QImage(pix.samples, pix.width, pix.height, pix.stride,
                       QImage.Format.Format_RGB888).copy()
        pixmap = QPixmap.fromImage(image)
        if self.highlights:
            painter = QPainter(pixmap)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(255, 214, 0, 110))
            for x0, y0, x1, y1 in self.highlights:
                painter.drawRect(QRectF(x0 * self.zoom - 1, y0 * self.zoom - 1,
                                        (x1 - x0) * self.zoom + 2, (y1 - y0) * self.zoom + 2))
            painter.end()
        self.image.setPixmap(pixmap)
        if self.quote:
            self.status.setText("Quote highlighted." if self.highlights else
                                "The quote is not on this page.")
        if self.highlights:
            top = int(min(b[1] for b in self.highlights) * self.zoom)
            self.scroll_area.verticalScrollBar().setValue(max(0, top - 120))

    def open_external(self) -> None:
        if self.path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path)))

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        if self.doc is not None:
            self.doc.close()
            self.doc = None
        super().closeEvent(event)
