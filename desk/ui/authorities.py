"""The Authorities tab: a document's table of authorities (cases, statutes, regulations,
other), each with the pages citing it; a click opens the page in the viewer with the citation
highlighted. "Whole matter" lists every authority with the documents citing it. Exports the
table as Markdown or Word."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk.core.errors import DeskError
from desk.index.matter import Matter
from desk.review.authorities import (
    SECTIONS,
    TableOfAuthorities,
    authority_label,
    cited_by,
    table_of_authorities,
    write_docx,
    write_markdown,
)

WHOLE_MATTER = 0  # the document box's first entry: every authority, "cited by"
TARGET = Qt.ItemDataRole.UserRole  # an item's (file, page, citation text as printed)


class AuthoritiesTab(QWidget):
    sig_open = Signal(str, int, str)  # file, page, the citation as printed (to highlight)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("authorities_tab")
        self.matter: Matter | None = None
        self.table: TableOfAuthorities | None = None
        self.document = QComboBox()
        self.document.setObjectName("authorities_document")
        self.document.currentIndexChanged.connect(lambda _: self.refresh())
        self.tree = QTreeWidget()
        self.tree.setObjectName("authorities")
        self.tree.setHeaderLabels(["Authority", "Pages"])
        self.tree.setColumnWidth(0, 520)
        self.tree.itemActivated.connect(self._open)
        self.tree.itemClicked.connect(self._open)
        self.md_button = QPushButton("Export Markdown…")
        self.md_button.clicked.connect(lambda: self.export("md"))
        self.docx_button = QPushButton("Export Word…")
        self.docx_button.clicked.connect(lambda: self.export("docx"))
        self.status = QLabel()
        self.status.setObjectName("authorities_status")
        top = QHBoxLayout()
        top.addWidget(QLabel("Document"))
        top.addWidget(self.document, 1)
        top.addWidget(self.md_button)
        top.addWidget(self.docx_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status)

    def show_matter(self, matter: Matter | None) -> None:
        self.matter = matter
        self.document.blockSignals(True)
        self.document.clear()
        self.document.addItem("Whole matter: who cites what", None)
        for doc in (matter.catalog.documents() if matter else []):
            self.document.addItem(doc.file_name, doc.id)
        self.document.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        self.tree.clear()
        self.table = None
        matter = self.matter
        if matter is None:
            self.status.setText("")
            return
        doc_id = self.document.currentData()
        whole = doc_id is None
        for button in (self.md_button, self.docx_button):
            button.setEnabled(not whole)
        if whole:
            self._show_matter_authorities(matter)
            return
        doc = matter.catalog.document(int(doc_id))
        if doc is None:
            return
        self.table = table = table_of_authorities(matter.catalog, doc)
        texts = {number: matter.catalog.page(doc.id, number) for number in {
            a.first[0] for a in table.authorities}}
        for kind, title in SECTIONS:
            entries = table.section(kind)
            if not entries:
                continue
            section = QTreeWidgetItem([f"{title} ({len(entries)})", ""])
            self.tree.addTopLevelItem(section)
            for authority in entries:
                page, start, end = authority.first
                held = texts.get(page)
                printed = held.text[start:end] if held is not None else authority.key
                item = QTreeWidgetItem([authority.label, authority.where])
                item.setToolTip(0, f"{authority.references} citation(s) on pages "
                                   f"{', '.join(map(str, authority.pages))}")
                item.setData(0, TARGET, (doc.file_name, page, printed))
                section.addChild(item)
            section.setExpanded(True)
        self.status.setText(f"{len(table.authorities)} authorities cited in {doc.file_name}."
                            if table.authorities else
                            f"No citations were found in {doc.file_name}.")

    def _show_matter_authorities(self, matter: Matter) -> None:
        rows = cited_by(matter.catalog)
        for row in rows:
            label = authority_label(row["name"], row["citation"], row["parallel"])
            item = QTreeWidgetItem([label, f"{row['references']} citation(s)"])
            for cited in row["documents"]:
                item.addChild(QTreeWidgetItem([cited["file"], f"{cited['references']}"]))
            self.tree.addTopLevelItem(item)
        self.status.setText(f"{len(rows)} authorities cited in this matter."
                            if rows else "No citations were found in this matter.")

    def _open(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        target = item.data(0, TARGET)
        if target:
            file, page, printed = target
            self.sig_open.emit(file, int(page), printed)

    def export(self, kind: str) -> None:
        if self.table is None:
            return
        stem = Path(self.table.file).stem
        suffix, title = (".md", "Markdown (*.md)") if kind == "md" else (".docx",
                                                                        "Word (*.docx)")
        name, _ = QFileDialog.getSaveFileName(self, "Export the table of authorities",
                                              f"{stem} - table of authorities{suffix}", title)
        if not name:
            return
        try:
            (write_markdown if kind == "md" else write_docx)(self.table, Path(name))
        except (OSError, DeskError) as exc:
            self.status.setText(f"Not written: {exc}")
            return
        self.status.setText(f"Wrote {name}.")
