"""Export a review table for lawyers: a CSV (one line per document x term) and an Excel workbook
(the table as the window shows it, the same long form with citations, and the briefs).

Both files are written whole in memory, then atomically and privately by
`desk.core.files.atomic_write_bytes` (a crash leaves the old file or the new one, never half of
one; client text is not readable by other accounts).

Formula injection. Contract text, file names and terms are untrusted: a quote such as
`=cmd|' /C calc'!A0` or `@SUM(...)` would be run by Excel or LibreOffice as a formula when the
file is opened (CSV), or stored as one by openpyxl, which turns any string starting with "=" into
a formula (XLSX). Following OWASP's "CSV Injection" advice, every text cell that starts with
"=", "+", "-", "@", a tab or a carriage return is prefixed with a single quote ', so the
spreadsheet shows it as text. This is deliberately simple: a pure number such as "-5" gets the
quote too (it stays readable, and no value Desk shows is needed as a number for arithmetic).
The CSV also quotes every field, so a ";" or "," inside a quote cannot start a new cell in
locales where Excel splits on another separator than the one Desk writes.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from desk.core.errors import DeskError
from desk.core.files import atomic_write_bytes
from desk.review.cells import Cell, ReviewRow

LONG_HEADERS = ["File", "Term", "Value", "Present", "Verified", "Edited", "Page(s)", "Quote",
                "Reason", "Formula", "Original"]
QUOTE_SEPARATOR = " … "
PAGE_SEPARATOR = "; "
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

UNVERIFIED_FILL = "FFFFD8A8"  # light orange: present but not verified, check by hand
EDITED_FILL = "FFDDEBF7"  # light blue: a lawyer's correction
COMMENT_AUTHOR = "Desk"

_MIN_WIDTH = 10
_MAX_WIDTH = 50
_BRIEF_WIDTH = 100


def neutralise(text: str) -> str:
    """`text` made safe for a spreadsheet cell: prefixed with ' when it starts with a character
    that makes Excel or LibreOffice read a formula (see the module's docstring)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def write_csv(path: Path, rows: list[ReviewRow], terms: list[str]) -> None:
    """The review in long form, one line per present cell of `rows` x `terms` (documents and
    terms in the order given; a term a document has no cell for is skipped), columns
    `LONG_HEADERS`. UTF-8 with a byte order mark so that Excel reads the accents right."""
    buffer = io.StringIO(newline="")  # the csv module writes its own \r\n line ends
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(LONG_HEADERS)
    for line in _long_rows(rows, terms):
        writer.writerow([neutralise(v) for v in line])
    _write(path, buffer.getvalue().encode("utf-8-sig"))


def write_xlsx(path: Path, rows: list[ReviewRow], terms: list[str]) -> None:
    """The review as an Excel workbook.

    "Review": one line per document, File then one column per term with the value; the header
    is bold and frozen (with the File column). A present cell that is not verified is light
    orange with the reason as a comment; a cell a lawyer edited is light blue with a comment
    naming what Desk had found; a derived cell has its formula as a comment.
    "Citations": the long form of `write_csv`, with an autofilter.
    "Briefs": File and Brief, only when some document has a brief."""
    wb = Workbook()
    review = wb.active
    assert isinstance(review, Worksheet)
    review.title = "Review"
    _append(review, ["File", *terms])
    for row in rows:
        _append(review, [row.file, *(row.cells[t].value if t in row.cells else "" for t in terms)])
        line = review.max_row
        for col, term in enumerate(terms, start=2):
            cell = row.cells.get(term)
            if cell is not None:
                _mark(review.cell(row=line, column=col), cell)
    _finish(review, freeze="B2")

    citations = wb.create_sheet("Citations")
    _append(citations, LONG_HEADERS)
    for long_row in _long_rows(rows, terms):
        _append(citations, long_row)
    citations.auto_filter.ref = citations.dimensions
    _finish(citations, freeze="A2")

    briefs = [(row.file, row.brief_text()) for row in rows if row.brief is not None]
    if briefs:
        sheet = wb.create_sheet("Briefs")
        _append(sheet, ["File", "Brief"])
        for file, text in briefs:
            _append(sheet, [file, text or ""])
        _finish(sheet, freeze="A2", widest=_BRIEF_WIDTH)

    buffer = io.BytesIO()
    wb.save(buffer)
    _write(path, buffer.getvalue())


def _long_rows(rows: list[ReviewRow], terms: list[str]) -> list[list[str]]:
    out = []
    for row in rows:
        for term in terms:
            cell = row.cells.get(term)
            if cell is None:
                continue
            pages: list[str] = []
            for c in cell.citations:
                if str(c.page) not in pages:
                    pages.append(str(c.page))
            out.append([
                row.file, term, cell.value, _yes(cell.present), _yes(cell.verified),
                _yes(cell.edited), PAGE_SEPARATOR.join(pages),
                QUOTE_SEPARATOR.join(c.quote for c in cell.citations), _reason(cell),
                cell.formula, cell.original or "",
            ])
    return out


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def _reason(cell: Cell) -> str:
    """The cell's own reason, else those of its unverified citations."""
    if cell.reason:
        return cell.reason
    reasons: list[str] = []
    for c in cell.citations:
        if not c.verified and c.reason and c.reason not in reasons:
            reasons.append(c.reason)
    return "; ".join(reasons)


def _clean(text: str) -> str:
    """Without the control characters an XLSX cannot hold (openpyxl refuses them), as PDF text
    may carry a stray form feed or NUL."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)


def _append(sheet: Worksheet, values: list[str]) -> None:
    sheet.append([neutralise(_clean(v)) for v in values])


def _mark(target: XlCell, cell: Cell) -> None:
    """Fill and comment one cell of the Review sheet after what `cell` is."""
    notes: list[str] = []
    fill = None
    if cell.edited:
        fill = EDITED_FILL
        notes.append(f"Edited; Desk found: {cell.original or ''}")
    elif cell.present and not cell.verified:
        fill = UNVERIFIED_FILL
        notes.append(f"Not verified: {_reason(cell) or 'no citation found'}")
    if cell.formula:
        notes.append(f"Formula: {cell.formula}")
    if fill is not None:
        target.fill = PatternFill(fill_type="solid", start_color=fill, end_color=fill)
    if notes:
        comment = Comment(_clean("\n".join(notes)), COMMENT_AUTHOR)
        comment.width = 300
        comment.height = 120
        target.comment = comment


def _finish(sheet: Worksheet, freeze: str, widest: int = _MAX_WIDTH) -> None:
    """Bold header, frozen panes, wrapped text aligned to the top, widths after the content."""
    wrap = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)
    widths: dict[int, int] = {}
    for line in sheet.iter_rows():
        for c in line:
            c.alignment = wrap
            if c.row == 1:
                c.font = bold
            longest = max((len(part) for part in str(c.value or "").split("\n")), default=0)
            widths[c.column] = max(widths.get(c.column, 0), longest)
    for col, width in widths.items():
        limit = widest if col == sheet.max_column else _MAX_WIDTH
        sheet.column_dimensions[get_column_letter(col)].width = max(
            _MIN_WIDTH, min(width + 2, limit))
    sheet.freeze_panes = freeze


def _write(path: Path, data: bytes) -> None:
    """`data` written atomically and privately to `path`, or a DeskError naming it."""
    folder = path.parent
    if not folder.is_dir():
        raise DeskError(f"Cannot write {path}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DeskError(f"Cannot write {path}: the folder {folder} is not writable.")
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise DeskError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
