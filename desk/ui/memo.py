"""Export a conversation as a research memo: Markdown as is, or laid out as a PDF."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QPageSize, QPdfWriter, QTextDocument
from PySide6.QtWidgets import QFileDialog, QWidget

from desk.core.files import atomic_write_text, replace_atomically
from desk.index.matter import Matter
from desk.rag.memo import memo_markdown
from desk.rag.turns import load_turns


def export_memo(parent: QWidget, matter: Matter, conversation_id: int, title: str,
                kind: str) -> Path | None:
    """Ask where to save the memo ("md" or "pdf") and write it; the path, or None."""
    markdown = memo_markdown(matter.name, title, load_turns(matter.catalog, conversation_id))
    suffix = "Markdown (*.md)" if kind == "md" else "PDF (*.pdf)"
    path, _ = QFileDialog.getSaveFileName(parent, "Export research memo",
                                          f"{title[:40]}.{kind}", suffix)
    if not path:
        return None
    write_memo(Path(path), markdown)
    return Path(path)


def write_memo(path: Path, markdown: str) -> None:
    """Markdown as is, or laid out as a PDF through Qt's rich text engine; written atomically
    like every file Desk writes (an interrupted export never leaves half a memo)."""
    if path.suffix.lower() != ".pdf":
        atomic_write_text(path, markdown)
        return
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        document = QTextDocument()
        document.setMarkdown(markdown)
        writer = QPdfWriter(str(tmp))
        writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        writer.setResolution(96)
        document.setPageSize(writer.pageLayout().paintRectPixels(96).size().toSizeF())
        document.print_(writer)
        del writer  # the PDF is complete on disk once its writer is gone
        replace_atomically(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
