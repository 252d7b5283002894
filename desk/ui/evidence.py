"""From an answer to its sources: the evidence list, the tooltip over a citation link, and the
source viewer a citation or a passage opens at its page (the quote highlighted)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTextBrowser,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from desk.core.errors import DeskError
from desk.index.matter import Matter
from desk.rag.prompt import Passage
from desk.ui.answer_html import Turn, citation_at, citation_tooltip
from desk.ui.viewer import SourceViewer


class EvidencePanel(QWidget):
    """The passages the answer being read was written from; activating one opens its page."""

    sig_open = Signal(str, int, str)  # file, page, quote

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setObjectName("evidence")
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setAlternatingRowColors(True)
        self.list.setSpacing(3)
        self.list.itemActivated.connect(self._activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Evidence</b>"))
        layout.addWidget(self.list)

    def show_passages(self, passages: list[Passage]) -> None:
        self.list.clear()
        for passage in passages:
            text = " ".join(passage.text.split())
            item = QListWidgetItem(f"[{passage.n}] {passage.file}, {passage.pages_label}\n"
                                   f"{text[:220]}…")
            item.setData(Qt.ItemDataRole.UserRole, (passage.file, passage.page_start,
                                                    text[:120]))
            item.setToolTip(text)
            self.list.addItem(item)

    def _activated(self, item: QListWidgetItem) -> None:
        file, page, _ = item.data(Qt.ItemDataRole.UserRole)
        self.sig_open.emit(file, page, "")


class SourceNavigator(QObject):
    """Follows citation links of an answer view and opens sources in one SourceViewer."""

    def __init__(self, parent: QWidget, matter: Callable[[], Matter | None],
                 on_error: Callable[[str], None]) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.matter = matter
        self.on_error = on_error
        self.viewer: SourceViewer | None = None

    def follow(self, view: QTextBrowser, turns: Callable[[], list[Turn]]) -> None:
        view.setOpenLinks(False)
        view.anchorClicked.connect(lambda url: self.link_clicked(url, turns()))
        view.highlighted.connect(lambda url: self.link_hovered(url, turns()))

    def link_hovered(self, url: QUrl, turns: list[Turn]) -> None:
        citation = citation_at(turns, url.toString()) if url.isValid() else None
        if citation is None:
            QToolTip.hideText()
            return
        QToolTip.showText(QCursor.pos(), citation_tooltip(citation))

    def link_clicked(self, url: QUrl, turns: list[Turn]) -> None:
        citation = citation_at(turns, url.toString())
        if citation is not None:
            self.open_source(citation["file"], citation["page"], citation["quote"])

    def open_source(self, file: str, page: int, quote: str) -> None:
        matter = self.matter()
        if matter is None:
            return
        docs = matter.catalog.find_documents(file)
        if not docs:
            self.on_error(f"{file} is no longer in this matter.")
            return
        if self.viewer is None:
            self.viewer = SourceViewer(self.parent_widget)
        try:
            self.viewer.open_source(Path(docs[0].path), matter.catalog, docs[0].id, page, quote)
        except DeskError as exc:
            self.on_error(str(exc))
            return
        self.viewer.show()
        self.viewer.raise_()

    def close(self) -> None:
        if self.viewer is not None:
            self.viewer.close()
