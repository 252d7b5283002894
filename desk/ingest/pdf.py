"""Read a PDF into pages of text plus word boxes, or say plainly why it cannot be read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pymupdf

from desk.core.errors import BadDocument
from desk.core.types import NO_TEXT, Page, Word

MAX_FILE_BYTES = 1 << 30  # 1 GiB: beyond this a "PDF" is almost surely not a contract
MAX_PAGES = 20_000
# A text layer is not usable when it holds fewer characters than this and an image covers
# much of the page (a scan with a stamp or a page number typed on it), or when this share of
# its characters are not text (glyphs without a Unicode mapping, private-use codes).
FEW_CHARS = 40
SCAN_COVER = 0.3
GARBLED_SHARE = 0.3

pymupdf.TOOLS.mupdf_display_errors(False)  # we report problems ourselves, per file
# MuPDF keeps decoded images and fonts in a store of up to 256 MB; an import reads each page once,
# so the store is emptied every so many pages and after each file instead of growing to that.
EMPTY_STORE_EVERY = 32  # pages


def empty_store() -> None:
    pymupdf.TOOLS.store_shrink(100)


@dataclass
class PdfContent:
    path: Path
    pages: list[Page]

    @property
    def pages_needing_ocr(self) -> list[int]:
        return [p.number for p in self.pages if p.needs_ocr]


def _sniff(path: Path) -> None:
    """Reject files that are not PDFs before PyMuPDF guesses at them."""
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BadDocument(name, f"cannot be read ({exc.strerror or exc})") from exc
    if size == 0:
        raise BadDocument(name, "the file is empty (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise BadDocument(name, f"the file is too large ({size / 2**20:.0f} MB; limit "
                                f"{MAX_FILE_BYTES / 2**20:.0f} MB)")
    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:
        kind = "a Word document or ZIP archive" if head.startswith(b"PK") else (
            "an old Word/Office document" if head.startswith(b"\xd0\xcf\x11\xe0") else (
                "an HTML page" if b"<html" in head.lower() else "not a PDF"))
        raise BadDocument(name, f"this is not a PDF although it is named .pdf (it looks like {kind})"
                          if kind != "not a PDF" else "this is not a PDF (no PDF header found)")


def _page_text(page: pymupdf.Page) -> tuple[str, list[Word]]:
    """Build the page text from its words so that every character offset maps to a word box."""
    parts: list[str] = []
    words: list[Word] = []
    pos = 0
    last_block = last_line = None
    for x0, y0, x1, y1, token, block, line, _ in page.get_text(
            "words", flags=pymupdf.TEXT_MEDIABOX_CLIP):
        if last_block is not None:
            sep = "\n\n" if block != last_block else ("\n" if line != last_line else " ")
            parts.append(sep)
            pos += len(sep)
        parts.append(token)
        words.append(Word(x0, y0, x1, y1, pos, pos + len(token)))
        pos += len(token)
        last_block, last_line = block, line
    return "".join(parts), words


def _garbled(text: str) -> bool:
    visible = [c for c in text if not c.isspace()]
    bad = sum(1 for c in visible if c == "\ufffd" or "\ue000" <= c <= "\uf8ff"
              or (ord(c) < 32))
    return bool(visible) and bad / len(visible) >= GARBLED_SHARE


def _image_cover(page: pymupdf.Page) -> float:
    """The share of the page the largest image covers."""
    area = abs(page.rect) or 1.0
    try:
        boxes = [pymupdf.Rect(i["bbox"]) & page.rect for i in page.get_image_info()]
    except Exception:  # an image the info call cannot parse: count it as covering the page
        return 1.0
    return max((abs(b) / area for b in boxes), default=0.0)


def text_layer_usable(page: pymupdf.Page, text: str) -> bool:
    """Whether a page's text layer can be indexed as it is, or the page needs OCR. A page with
    no text, no image and no drawing is blank: nothing to recognise."""
    chars = sum(1 for c in text if not c.isspace())
    if chars and _garbled(text):
        return False
    if chars >= FEW_CHARS:
        return True
    cover = _image_cover(page)
    if chars:
        return cover < SCAN_COVER
    return cover == 0.0 and not page.get_cdrawings()


def read_pdf(path: Path) -> PdfContent:
    _sniff(path)
    name = path.name
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except Exception as exc:  # PyMuPDF raises several types for damaged files
        raise BadDocument(name, f"the PDF is damaged and cannot be opened ({exc})") from exc
    try:
        if doc.needs_pass:
            raise BadDocument(name, "the PDF is password-protected; remove the password "
                                    "(e.g. print to PDF) and import it again")
        if doc.page_count == 0:
            raise BadDocument(name, "the PDF has no pages")
        if doc.page_count > MAX_PAGES:
            raise BadDocument(name, f"the PDF has {doc.page_count} pages (limit {MAX_PAGES})")
        pages = []
        for index in range(doc.page_count):
            try:
                page = doc[index]
                text, words = _page_text(page)
                usable = text_layer_usable(page, text)
            except Exception as exc:
                raise BadDocument(name, f"page {index + 1} is damaged ({exc})") from exc
            pages.append(Page(index + 1, text, words) if usable else
                         Page(index + 1, "", [], NO_TEXT))
            if index % EMPTY_STORE_EVERY == EMPTY_STORE_EVERY - 1:
                empty_store()
        return PdfContent(path, pages)
    finally:
        doc.close()
        empty_store()
