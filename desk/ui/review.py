"""The Review tab: every indexed document of the open matter against the review terms (one
row per document, one column per term), filled in the background by
`desk.review.job.run_review` with the answering model the chat uses, cell by cell as each
finishes; sorted and filtered; a cell opens the clause it cites in the source viewer; the
lawyer corrects cells (kept across re-runs by the store) and exports the table to CSV or Excel.
Brief makes the selected document's brief (`desk.review.brief.make_briefs`) the same way; the
pane below the table shows the selected document's brief, each sentence with its citations
as links to the viewer.

A job (review or brief) runs on the bench pool (long full-CPU model work, one at a time, so an answer never
waits for a thread) through its own connection to the matter, and the window re-reads each
finished cell from the matter's store on the UI thread."""

from __future__ import annotations

import copy
import datetime as dt
import html
import textwrap
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desk.config.settings import Settings
from desk.core.errors import DeskError
from desk.core.progress import CancelToken, Progress
from desk.index.matter import Matter, open_matter
from desk.llm.model import AnswerModel
from desk.review.brief import make_briefs
from desk.review.cells import Cell, ReviewRow
from desk.review.export import write_csv, write_xlsx
from desk.review.job import derive, review_documents, run_review
from desk.review.store import ReviewStore
from desk.review.terms import (
    CUAD_TERMS,
    DERIVED_INPUTS,
    DERIVED_TERMS,
    Term,
    custom_term,
    resolve_terms,
    with_inputs,
)
from desk.ui.host import ModelJobHost
from desk.ui.model_status import LoadedModel, ModelLoader, load_job
from desk.ui.server import confirm_server
from desk.ui.workers import Worker

FILE_COLUMN = "File"
UNVERIFIED_COLOR = QColor("#FFD8A8")  # light orange, as in the Excel export
EDITED_COLOR = QColor("#DDEBF7")  # light blue, as in the Excel export
EDITED_MARK = "✎ "
FIT_ROWS = 200  # rows measured for the column widths
QUOTE_START_CHARS = 90
UNVERIFIED_TEXT = "#b54708"  # dark orange: an unverified sentence or citation in the brief
BRIEF_HINT = "No brief yet — select the document and press Brief."
BRIEF_CHOOSE = "Select a document to see its brief."
BRIEF_LINK = "cite"  # the scheme of a citation link in the brief pane: cite:<sentence>:<n>
_ROOT = QModelIndex()


# -- the job --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewStep:
    """A snapshot of the job's progress, made on the worker thread when a cell finished
    (the job's own Progress object keeps changing after it is yielded). `finished` names the
    cell(s) just stored, as (document id, term); empty at the start."""

    done: int
    total: int
    eta_seconds: float | None
    elapsed_seconds: float
    finished: list[tuple[int, str]] = field(default_factory=list)


def review_job(matter_name: str, settings: Settings, model: AnswerModel | None,
               loader: ModelLoader, term_names: list[str]
               ) -> Callable[[CancelToken], Generator[Any, None, ReviewStep]]:
    """Load the model if none is loaded (yielding it for the window to keep, as asking does),
    then fill the matter's missing cells through the job's own connection to the matter.
    The job reads only what it is given: copies, never the window's objects."""
    settings = copy.deepcopy(settings)
    names = list(term_names)

    def job(cancel: CancelToken) -> Generator[Any, None, ReviewStep]:
        active = yield from answer_model(model, loader, settings, cancel)
        cancel.raise_if_cancelled()
        matter = open_matter(matter_name, settings, create=False)
        try:
            terms = resolve_terms(names)
            docs = review_documents(matter)
            # run_review names the cell it just stored in the progress message
            cells: dict[str, list[tuple[int, str]]] = {}
            for doc in docs:
                for term in with_inputs(terms):
                    if term.kind != "derived":
                        cells.setdefault(f"{doc.file_name}: {term.name}", []).append(
                            (doc.id, term.name))
            steps = run_review(matter, active, settings, terms, docs, cancel=cancel)
            step = ReviewStep(0, 0, None, 0.0)
            while True:
                try:
                    progress: Progress = next(steps)
                except StopIteration:
                    return step
                step = ReviewStep(progress.done, progress.total, progress.eta_seconds(),
                                  time.monotonic() - progress.started,
                                  list(cells.get(progress.message, [])) if progress.done else [])
                yield step
        finally:
            matter.close()

    return job


def answer_model(model: AnswerModel | None, loader: ModelLoader, settings: Settings,
                 cancel: CancelToken
                 ) -> Generator[Any, None, AnswerModel]:
    """The loaded model, else load it (yielding it for the window to keep, as asking does)."""
    if model is not None:
        return model
    loaded = yield from load_job(loader, settings)(cancel)
    yield loaded
    return loaded.model


@dataclass(frozen=True)
class BriefStep:
    """A snapshot of a brief job's progress (made on the worker thread): documents briefed
    of those asked, the one in progress, and what was just stored: the identity cells the
    brief reviewed (document id, term) and the documents whose brief was stored."""

    done: int
    total: int
    file: str
    elapsed_seconds: float
    cells: list[tuple[int, str]] = field(default_factory=list)
    briefed: list[int] = field(default_factory=list)


def brief_job(matter_name: str, settings: Settings, model: AnswerModel | None,
              loader: ModelLoader, doc_ids: list[int]
              ) -> Callable[[CancelToken], Generator[Any, None, BriefStep]]:
    """Load the model if none is loaded, then (re)make the briefs of these documents through
    the job's own connection to the matter; each is stored as it finishes. A brief cut short
    by Cancel is not kept: the document's previous brief (or none) stays."""
    settings = copy.deepcopy(settings)
    ids = list(doc_ids)

    def job(cancel: CancelToken) -> Generator[Any, None, BriefStep]:
        active = yield from answer_model(model, loader, settings, cancel)
        cancel.raise_if_cancelled()
        matter = open_matter(matter_name, settings, create=False)
        try:
            files = {d.id: d.file_name for d in matter.catalog.documents()}
            # no brief on the row: make_briefs makes it (again, when the lawyer asks)
            rows = [ReviewRow(i, files[i]) for i in ids if i in files]
            steps = make_briefs(matter, active, settings, rows, cancel)
            outer: Progress | None = None  # make_briefs' own progress (its first item)
            reported: set[int] = set()
            step = BriefStep(0, len(rows), "", 0.0)
            while True:
                try:
                    progress: Progress = next(steps)
                except StopIteration:
                    return step
                outer = outer or progress
                file = outer.message if outer.message in files.values() else ""
                cells: list[tuple[int, str]] = []
                briefed: list[int] = []
                if progress is outer:
                    briefed = [r.doc_id for r in rows
                               if r.brief is not None and r.doc_id not in reported]
                    reported.update(briefed)
                elif progress.done:  # run_review stored "<file>: <term>" (the identity)
                    cells = [(r.doc_id, progress.message[len(r.file) + 2:]) for r in rows
                             if progress.message.startswith(f"{r.file}: ")][:1]
                step = BriefStep(outer.done, outer.total, file,
                                 time.monotonic() - outer.started, cells, briefed)
                yield step
        finally:
            matter.close()

    return job


def clock(seconds: float) -> str:
    """m:ss"""
    whole = max(0, int(round(seconds)))
    return f"{whole // 60}:{whole % 60:02d}"


def brief_step_text(step: BriefStep) -> str:
    """"Briefing Alpha.pdf · 0 / 1 documents"."""
    doing = f"Briefing {step.file} · " if step.file and step.done < step.total else ""
    return f"{doing}{step.done} / {step.total} documents briefed"


def step_text(step: ReviewStep) -> str:
    """"12 / 48 cells · ETA 1:05"."""
    eta = clock(step.eta_seconds) if step.eta_seconds is not None else "–:––"
    return f"{step.done} / {step.total} cells · ETA {eta}"


# -- cells as the table shows them ----------------------------------------------------------
def add_derived(row: ReviewRow, terms: list[Term], today: dt.date) -> ReviewRow:
    """The row with its derived cells, computed by code (desk.review.job.derive) from the
    stored cells, as run_review does at its end. A derived column stays empty until every
    cell it needs was reviewed, and a correction of it is kept."""
    for term in terms:
        if term.kind != "derived" or term.name in row.cells:
            continue
        if all(name in row.cells for name in DERIVED_INPUTS[term.name]):
            row.cells[term.name] = derive(row, term, today)
    return row


def unverified_reason(cell: Cell) -> str:
    if cell.reason:
        return cell.reason
    reasons = [c.reason for c in cell.citations if not c.verified and c.reason]
    return "; ".join(dict.fromkeys(reasons)) or "no citation found"


def quote_start(quote: str) -> str:
    quote = " ".join(quote.split())
    if len(quote) <= QUOTE_START_CHARS:
        return quote
    cut = quote.rfind(" ", 0, QUOTE_START_CHARS)
    return quote[:cut if cut > QUOTE_START_CHARS // 2 else QUOTE_START_CHARS] + "…"


def citation_lines(cell: Cell) -> list[str]:
    return [f"p. {c.page}: {quote_start(c.quote)}" for c in cell.citations]


def cell_tooltip(cell: Cell) -> str:
    """Edited: what Desk had found. Derived: the formula. Present but unverified: why, with
    "Not verified". Verified: the page and the start of each quote."""
    if cell.edited:
        return f"Edited; Desk found: {cell.original or 'nothing'}"
    if cell.route == "derived" and cell.formula:
        lines = [cell.formula]
        if not cell.present and cell.reason:
            lines.append(f"({cell.reason})")
        elif cell.present and not cell.verified:
            lines.append(f"Not verified: {unverified_reason(cell)}")
        return "\n".join(lines)
    if not cell.present:
        return "Not in this document" + (f" ({cell.reason})." if cell.reason else ".")
    if not cell.verified:
        return "\n".join([f"Not verified: {unverified_reason(cell)}", *citation_lines(cell)])
    return "\n".join(citation_lines(cell))


# -- briefs as the tab shows them -----------------------------------------------------------
def _reasons(citations: list[dict[str, Any]]) -> str:
    reasons = [str(c.get("reason") or "") for c in citations if not c.get("verified")]
    return "; ".join(dict.fromkeys(r for r in reasons if r)) or "no citation found"


def citation_title(citation: dict[str, Any]) -> str:
    """A citation link's tooltip: the page and the start of the quote, or why it is not
    verified."""
    where = f"p. {citation['page']}: {quote_start(str(citation['quote']))}"
    if citation.get("verified"):
        return where
    return f"Not verified: {citation.get('reason') or 'the quote is not on the page'}\n{where}"


def brief_html(brief: list[dict[str, Any]]) -> str:
    """The brief for the pane: a paragraph per sentence, each followed by its citation marks
    as links ("[p. 3]", BRIEF_LINK:<sentence>:<citation>), one per quote (the identity
    sentence often cites one sentence for the title, the date and the parties); an
    unverified sentence or citation is dark orange, why in its tooltip."""
    paragraphs = []
    for s, sentence in enumerate(brief):
        citations = list(sentence.get("citations") or [])
        text = html.escape(str(sentence.get("text", "")))
        if not sentence.get("verified"):
            why = html.escape(f"Not verified: {_reasons(citations)}", quote=True)
            text = f'<span style="color:{UNVERIFIED_TEXT}" title="{why}">{text}</span>'
        marks = []
        seen: set[tuple[str, int, str, bool]] = set()
        for c, citation in enumerate(citations):
            key = (str(citation["file"]), int(citation["page"]), str(citation["quote"]),
                   bool(citation.get("verified")))
            if key in seen:
                continue
            seen.add(key)
            style = "" if citation.get("verified") else f' style="color:{UNVERIFIED_TEXT}"'
            title = html.escape(citation_title(citation), quote=True)
            marks.append(f'<a href="{BRIEF_LINK}:{s}:{c}" title="{title}"{style}>'
                         f'[p. {int(citation["page"])}]</a>')
        paragraphs.append(f"<p>{' '.join([text, *marks])}</p>")
    return "".join(paragraphs)


def file_tooltip(file: str, brief: list[dict[str, Any]] | None) -> str:
    """The file column's tooltip: the file name, then its brief (a line per sentence)."""
    if not brief:
        return file
    lines = [textwrap.fill(str(s.get("text", "")), 90) for s in brief]
    return "\n\n".join([file, "\n".join(lines)])


class ReviewTableModel(QAbstractTableModel):
    """One row per indexed document: the file name, then one column per term."""

    CellRole = Qt.ItemDataRole.UserRole  # the Cell, or None (not reviewed yet; file column)
    SortRole = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.docs: list[tuple[int, str]] = []  # (document id, file name)
        self.terms: list[Term] = []
        self.stored: dict[int, dict[str, Cell]] = {}  # every stored cell, by document and term
        self.shown: dict[int, dict[str, Cell]] = {}  # stored plus derived
        self.briefs: dict[int, list[dict[str, Any]]] = {}  # stored briefs, by document
        self.today = dt.date.today()
        self._italic = QFont()
        self._italic.setItalic(True)

    def set_table(self, docs: list[tuple[int, str]], terms: list[Term],
                  cells: dict[int, dict[str, Cell]], today: dt.date | None = None,
                  briefs: dict[int, list[dict[str, Any]]] | None = None) -> None:
        self.beginResetModel()
        self.docs, self.terms = list(docs), list(terms)
        self.briefs = {d: list(b) for d, b in (briefs or {}).items()}
        self.today = today or dt.date.today()
        self.stored = {doc_id: dict(cells.get(doc_id, {})) for doc_id, _ in self.docs}
        self.shown = {doc_id: self._row_cells(doc_id, file) for doc_id, file in self.docs}
        self.endResetModel()

    def _row_cells(self, doc_id: int, file: str) -> dict[str, Cell]:
        row = ReviewRow(doc_id, file, dict(self.stored.get(doc_id, {})))
        return add_derived(row, self.terms, self.today).cells

    def set_cell(self, cell: Cell) -> None:
        """A cell re-read from the store: shown, with the row's derived cells recomputed."""
        row = self.row_of(cell.doc_id)
        if row < 0:
            return
        self.stored[cell.doc_id][cell.term] = cell
        self.shown[cell.doc_id] = self._row_cells(cell.doc_id, self.docs[row][1])
        self.dataChanged.emit(self.index(row, 1), self.index(row, len(self.terms)))

    def set_brief(self, doc_id: int, brief: list[dict[str, Any]] | None) -> None:
        """A brief re-read from the store: the file cell's tooltip shows it."""
        row = self.row_of(doc_id)
        if row < 0:
            return
        if brief is None:
            self.briefs.pop(doc_id, None)
        else:
            self.briefs[doc_id] = list(brief)
        self.dataChanged.emit(self.index(row, 0), self.index(row, 0))

    def brief_of(self, doc_id: int) -> list[dict[str, Any]] | None:
        return self.briefs.get(doc_id)

    def row_of(self, doc_id: int) -> int:
        return next((r for r, (d, _) in enumerate(self.docs) if d == doc_id), -1)

    def column_of(self, name: str) -> int:
        """The column of a term (0 for "File"), or -1."""
        if name == FILE_COLUMN:
            return 0
        return next((c for c, t in enumerate(self.terms, 1) if t.name == name), -1)

    def term_at(self, column: int) -> Term | None:
        return self.terms[column - 1] if 1 <= column <= len(self.terms) else None

    def cell_at(self, row: int, column: int) -> Cell | None:
        term = self.term_at(column)
        if term is None or not 0 <= row < len(self.docs):
            return None
        return self.shown.get(self.docs[row][0], {}).get(term.name)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT  # noqa: N802
                 ) -> int:
        return 0 if parent.isValid() else len(self.docs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT  # noqa: N802
                    ) -> int:
        return 0 if parent.isValid() else 1 + len(self.terms)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.docs):
            return None
        if index.column() == 0:
            doc_id, file = self.docs[index.row()]
            if role == Qt.ItemDataRole.DisplayRole:
                return file
            if role == Qt.ItemDataRole.ToolTipRole:
                return file_tooltip(file, self.briefs.get(doc_id))
            if role == self.SortRole:
                return file.casefold()
            return None
        cell = self.cell_at(index.row(), index.column())
        if role == self.CellRole:
            return cell
        if role == Qt.ItemDataRole.DisplayRole:
            if cell is None:
                return ""
            return EDITED_MARK + cell.value if cell.edited else cell.value
        if role == self.SortRole:
            return cell.value.casefold() if cell is not None else ""
        if cell is None:
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            if cell.edited:
                return EDITED_COLOR
            if cell.present and not cell.verified:
                return UNVERIFIED_COLOR
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return cell_tooltip(cell)
        if role == Qt.ItemDataRole.FontRole and cell.route == "derived":
            return self._italic
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        term = self.term_at(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return FILE_COLUMN if section == 0 else term.name if term else None
        if role == Qt.ItemDataRole.ToolTipRole and term is not None:
            return term.name if term.question == term.name else f"{term.name}\n{term.question}"
        return None


def value_matches(value: str, wanted: str) -> bool:
    """A filter's test: the value contains the text, case-insensitively; "Yes" and "No" must
    be the whole value (else "No" would match "Not found" and "Nottingham")."""
    value, wanted = value.casefold(), " ".join(wanted.split()).casefold()
    if wanted in ("yes", "no"):
        return value == wanted
    return wanted in value


class ReviewFilterModel(QSortFilterProxyModel):
    """Sorted by any column; shows the rows that pass every filter (term, text)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.filters: list[tuple[str, str]] = []
        self.setSortRole(ReviewTableModel.SortRole)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def set_filters(self, filters: list[tuple[str, str]]) -> None:
        self.beginFilterChange()
        self.filters = list(filters)
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int,  # noqa: N802 (Qt naming)
                         source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        source = self.sourceModel()
        if not isinstance(source, ReviewTableModel):
            return True
        for name, wanted in self.filters:
            column = source.column_of(name)
            if column < 0:
                continue
            if column == 0:
                value = source.docs[source_row][1]
            else:
                cell = source.cell_at(source_row, column)
                value = cell.value if cell is not None else ""
            if not value_matches(value, wanted):
                return False
        return True


class MiddleElided(QStyledItemDelegate):
    """File names differ at their end as often as at their start: elide the middle."""

    def initStyleOption(self, option: QStyleOptionViewItem,  # noqa: N802 (Qt naming)
                        index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle  # type: ignore[attr-defined]


# -- dialogs --------------------------------------------------------------------------------
class CellCorrectionDialog(QDialog):
    """The lawyer's value for one cell, and whether the clause is in the document."""

    def __init__(self, file: str, term: str, cell: Cell | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cell_correction")
        self.matter_name = ""  # the matter whose cell this is
        self.setWindowTitle("Correct the cell")
        heading = QLabel(f"<b>{term}</b><br>{file}")
        heading.setTextFormat(Qt.TextFormat.RichText)
        heading.setWordWrap(True)
        self.value_edit = QLineEdit(cell.value if cell is not None else "")
        self.value_edit.setObjectName("cell_value")
        self.present_box = QCheckBox("Clause present in the document")
        self.present_box.setChecked(cell.present if cell is not None else True)
        found = QLabel()
        found.setWordWrap(True)
        if cell is not None and cell.edited:
            found.setText(f"Desk found: {cell.original or 'nothing'}")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        form = QFormLayout()
        form.addRow("Value:", self.value_edit)
        form.addRow("", self.present_box)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(found)
        layout.addWidget(buttons)
        self.resize(420, self.sizeHint().height())


class ColumnsDialog(QDialog):
    """Which terms are columns: CUAD's 41 categories, the derived columns, and the lawyer's
    own questions (added here). The chosen keep their order; new ones come after them."""

    def __init__(self, current: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("review_columns")
        self.matter_name = ""  # the matter whose columns these are
        self.setWindowTitle("Review columns")
        self.current = list(current)
        self.list = QListWidget()
        self.list.setObjectName("column_list")
        known = [*CUAD_TERMS, *DERIVED_TERMS]
        known_names = {t.name for t in known}
        for term in known:
            label = term.name + (" (computed)" if term.kind == "derived" else "")
            self._add(term.name, label, term.question, term.name in current)
        for name in current:
            if name not in known_names:
                self._add(name, name, "Your question", True)
        self.question = QLineEdit()
        self.question.setObjectName("custom_question")
        self.question.setPlaceholderText("Your own question, e.g. Is there a warranty of title?")
        self.question.returnPressed.connect(self.add_question)
        self.add_button = QPushButton("Add question")
        self.add_button.clicked.connect(self.add_question)
        self.problem = QLabel()
        self.problem.setStyleSheet("color:#b42318")
        self.problem.hide()
        add_row = QHBoxLayout()
        add_row.addWidget(self.question, 1)
        add_row.addWidget(self.add_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Columns of the review table:"))
        layout.addWidget(self.list, 1)
        layout.addLayout(add_row)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(460, 620)

    def _add(self, name: str, label: str, tooltip: str, checked: bool) -> QListWidgetItem:
        item = QListWidgetItem(label)
        item.setData(Qt.ItemDataRole.UserRole, name)
        item.setToolTip(tooltip)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.list.addItem(item)
        return item

    def items(self) -> list[QListWidgetItem]:
        return [self.list.item(i) for i in range(self.list.count())]

    def add_question(self) -> None:
        try:
            term = custom_term(self.question.text())
        except DeskError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            return
        self.problem.hide()
        existing = [i for i in self.items() if i.data(Qt.ItemDataRole.UserRole) == term.name]
        item = existing[0] if existing else self._add(term.name, term.name, "Your question",
                                                      True)
        item.setCheckState(Qt.CheckState.Checked)
        self.list.scrollToItem(item)
        self.question.clear()

    def chosen(self) -> list[str]:
        checked = [str(i.data(Qt.ItemDataRole.UserRole)) for i in self.items()
                   if i.checkState() == Qt.CheckState.Checked]
        return [n for n in self.current if n in checked] + [
            n for n in checked if n not in self.current]

    def accept(self) -> None:
        if self.question.text().strip():
            self.add_question()  # a question typed but not added yet is meant
            if self.problem.isVisible():
                return
        if not self.chosen():
            self.problem.setText("Choose at least one column.")
            self.problem.show()
            return
        super().accept()


# -- the tab --------------------------------------------------------------------------------
class ReviewTab(QWidget):
    sig_open = Signal(str, int, str)  # file, page, quote: open the source viewer there
    sig_step = Signal(object)  # each ReviewStep of the running review
    sig_run_finished = Signal()  # a review ended: done, failed or cancelled
    sig_brief_finished = Signal()  # a brief run ended: done, failed or cancelled

    def __init__(self, host: ModelJobHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.matter_name: str | None = None  # the matter shown
        self.worker: Worker | None = None
        self.running_matter: str | None = None  # the matter the running review fills
        self.running_kind: str | None = None  # "review" or "brief"
        self.last_step: ReviewStep | None = None
        self.last_brief_step: BriefStep | None = None
        self._table_matter: str | None = None  # the matter whose documents the table has
        self.cancelling = False
        self.correction: CellCorrectionDialog | None = None
        self.columns_dialog: ColumnsDialog | None = None
        self.filters: list[tuple[str, str]] = []
        self._store: tuple[Matter, ReviewStore] | None = None

        self.hint = QLabel()
        self.hint.setObjectName("review_hint")
        self.hint.setWordWrap(True)
        self.hint.hide()

        self.review_button = QPushButton("Review")
        self.review_button.setObjectName("review_run")
        self.review_button.setToolTip("Fill the cells not reviewed yet with the answering model "
                                      "(loaded on first use). Finished cells are kept.")
        self.review_button.clicked.connect(self.start)
        self.brief_button = QPushButton("Brief")
        self.brief_button.setObjectName("review_brief")
        self.brief_button.setToolTip("Brief the selected document (again, if it has a brief): "
                                     "what it is, between whom, and its key obligations, "
                                     "each sentence cited.")
        self.brief_button.clicked.connect(self.start_brief)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Stop after the cell in progress; the finished cells "
                                      "are kept and Review resumes with the rest.")
        self.cancel_button.clicked.connect(self.cancel)
        self.columns_button = QPushButton("Columns…")
        self.columns_button.clicked.connect(self.choose_columns)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.clicked.connect(lambda: self.choose_export("csv"))
        self.xlsx_button = QPushButton("Export XLSX…")
        self.xlsx_button.clicked.connect(lambda: self.choose_export("xlsx"))
        self.progress = QProgressBar()
        self.progress.setObjectName("review_progress")
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.status = QLabel()
        self.status.setObjectName("review_status")
        actions = QHBoxLayout()
        for button in (self.review_button, self.brief_button, self.cancel_button):
            actions.addWidget(button)
        actions.addWidget(self.progress)
        actions.addWidget(self.status, 1)
        for button in (self.columns_button, self.csv_button, self.xlsx_button):
            actions.addWidget(button)

        self.filter_term = QComboBox()
        self.filter_term.setObjectName("filter_term")
        self.filter_term.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.filter_term.setMinimumContentsLength(22)
        self.filter_term.activated.connect(self._filter_term_chosen)
        self.filter_choice = ""  # the term the lawyer last chose to filter by
        self.filter_text = QLineEdit()
        self.filter_text.setObjectName("filter_text")
        self.filter_text.setPlaceholderText("value contains…")
        self.filter_text.setMaximumWidth(200)
        self.filter_text.returnPressed.connect(self.add_filter_from_bar)
        self.add_filter_button = QPushButton("Add filter")
        self.add_filter_button.clicked.connect(self.add_filter_from_bar)
        self.chips = QHBoxLayout()
        self.chips.setSpacing(4)
        self.clear_filters_button = QPushButton("Clear filters")
        self.clear_filters_button.setEnabled(False)
        self.clear_filters_button.clicked.connect(self.clear_filters)
        self.count = QLabel()
        self.count.setObjectName("review_count")
        filter_bar = QHBoxLayout()
        filter_bar.addWidget(QLabel("Filter:"))
        filter_bar.addWidget(self.filter_term)
        filter_bar.addWidget(QLabel("="))
        filter_bar.addWidget(self.filter_text)
        filter_bar.addWidget(self.add_filter_button)
        filter_bar.addLayout(self.chips)
        filter_bar.addWidget(self.clear_filters_button)
        filter_bar.addStretch(1)
        filter_bar.addWidget(self.count)

        self.model = ReviewTableModel(self)
        self.proxy = ReviewFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("review_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setItemDelegateForColumn(0, MiddleElided(self.table))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.clicked.connect(self._clicked)
        self.table.doubleClicked.connect(self.correct)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        # A click opens the clause once it is clearly not the start of a double-click.
        self._click_timer = QTimer(self)
        self._click_timer.setSingleShot(True)
        self._click_timer.timeout.connect(self._open_clicked)
        self._clicked_index: QPersistentModelIndex | None = None
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        for signal in (self.proxy.rowsRemoved, self.proxy.layoutChanged):
            signal.connect(self._selection_changed)

        self.brief_pane = QTextBrowser()
        self.brief_pane.setObjectName("review_brief_pane")
        self.brief_pane.setReadOnly(True)
        self.brief_pane.setOpenLinks(False)
        self.brief_pane.setOpenExternalLinks(False)
        self.brief_pane.anchorClicked.connect(self._brief_link)
        self.brief_pane.setMinimumHeight(60)
        self.shown_brief: list[dict[str, Any]] | None = None  # what the pane shows
        self._pane_html = ""
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.brief_pane)
        self.splitter.setStretchFactor(0, 4)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([600, 150])

        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(actions)
        body.addLayout(filter_bar)
        body.addWidget(self.splitter, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addWidget(self.body, 1)
        self.show_matter(None)

    # -- the matter -----------------------------------------------------------------------
    def show_matter(self, matter: Matter | None) -> None:
        """Show the open matter's review (None: nothing open). A review still filling another
        matter is cancelled; its finished cells are kept."""
        if matter is not None and self.worker is not None and \
                self.running_matter != matter.name:
            self.cancel()
            if self.running_kind == "brief":
                self.host.progress_label.setText(
                    f"The brief in “{self.running_matter}” was stopped; the briefs it finished "
                    "are kept.")
            else:
                self.host.progress_label.setText(
                    f"The review of “{self.running_matter}” was stopped; its finished cells "
                    "are kept and Review resumes it.")
        name = matter.name if matter is not None else None
        for dialog in (self.correction, self.columns_dialog):
            if dialog is not None and name is not None and dialog.matter_name != name:
                dialog.reject()  # it was about the other matter's documents
        if name != self.matter_name and not (name and name == self.running_matter):
            self.status.clear()  # about another matter's review
            self.progress.hide()
        elif name and name == self.running_matter:
            self.progress.show()
            if self.running_kind == "brief" and self.last_brief_step is not None:
                self.status.setText(brief_step_text(self.last_brief_step))
            elif self.running_kind == "review" and self.last_step is not None:
                self.status.setText(step_text(self.last_step))
        self.matter_name = name
        self.reload()

    def store(self) -> ReviewStore | None:
        """The open matter's review store (on the window's connection), or None."""
        matter = self.host.matter
        if matter is None:
            self._store = None
            return None
        if self._store is None or self._store[0] is not matter:
            self._store = (matter, ReviewStore(matter.catalog))
        return self._store[1]

    def _same_matter(self, name: str) -> bool:
        """Whether `name` is still the open matter (else a dialog's change is not saved)."""
        matter = self.host.matter
        if matter is not None and matter.name == name:
            return True
        self.host.show_error("Not saved: another matter is open now.")
        return False

    def terms(self) -> list[Term]:
        store = self.store()
        return resolve_terms((store.columns() if store is not None else None) or None)

    def reload(self) -> None:
        """Re-read the documents, the columns and every stored cell of the open matter."""
        matter = self.host.matter
        store = self.store()
        kept = self.selected_docs() if self._table_matter == self.matter_name else []
        column = max(self.table.currentIndex().column(), 0)
        if matter is None or store is None:
            self._table_matter = None
            self.model.set_table([], [], {})
            self.body.setEnabled(False)
            self.hint.setText("Open or create a matter to review its documents.")
            self.hint.show()
        else:
            docs = [(d.id, d.file_name) for d in matter.catalog.documents()
                    if d.status == "indexed"]
            briefs = store.briefs()
            self._table_matter = self.matter_name
            self.model.set_table(docs, self.terms(), store.cells(), briefs=briefs)
            self.body.setEnabled(True)
            self.hint.setText("Import documents into this matter to review them.")
            self.hint.setVisible(not docs)
        self._fit_columns()
        self._update_filter_terms()
        self.select_docs(kept, column)  # the reset cleared the selection
        self._update_buttons()
        self._update_count()
        self.show_brief()

    def _fit_columns(self) -> None:
        """Widths after the content: the file names (elided in the middle) up to 250 px, a
        term column as wide as its values up to 190 px, its heading up to 150 px (the
        heading's tooltip has the full name)."""
        header = self.table.horizontalHeader()
        cells, heading = self.table.fontMetrics(), header.fontMetrics()
        for column in range(self.model.columnCount()):
            # the first rows tell the width: measuring all of 3,000 froze the window
            texts = [str(self.model.index(r, column).data() or "")
                     for r in range(min(self.model.rowCount(), FIT_ROWS))]
            widest = max([cells.horizontalAdvance(t) for t in texts] or [0])
            name = heading.horizontalAdvance(str(self.model.headerData(
                column, Qt.Orientation.Horizontal)))
            if column == 0:
                width = min(max(widest, name) + 24, 250)
            else:
                width = min(max(widest, min(name, 150)) + 24, 190)
            header.resizeSection(column, max(width, 70))

    # -- running --------------------------------------------------------------------------
    def start(self) -> None:
        """Fill the missing cells in the background (the model is loaded first if needed)."""
        matter = self.host.matter
        if matter is None or self.worker is not None:
            return
        models = self.host.models
        job = review_job(matter.name, self.host.settings, models.current(), models.loader,
                         [t.name for t in self.model.terms])
        self.last_step = None
        self._run(matter.name, "review", job, "Starting the review…")

    def start_brief(self) -> None:
        """(Re)make the selected documents' briefs in the background, as a review runs."""
        matter = self.host.matter
        doc_ids = self.selected_docs()
        if matter is None or self.worker is not None or not doc_ids:
            return
        models = self.host.models
        job = brief_job(matter.name, self.host.settings, models.current(), models.loader,
                        doc_ids)
        self.last_brief_step = None
        self._run(matter.name, "brief", job, "Starting the brief…")

    def _run(self, matter_name: str, kind: str, job: Callable[[CancelToken], Any],
             starting: str) -> None:
        if not confirm_server(self, self.host.settings):
            return  # declined: nothing is sent to the server
        self.running_matter = matter_name
        self.running_kind = kind
        self.cancelling = False
        self.worker = self.host.workers.bench(job, on_item=self._item, on_done=self._done,
                                              on_error=self._failed,
                                              on_finished=self._finished)
        self.progress.setRange(0, 0)  # busy until the job counts its work
        self.progress.show()
        self.status.setText(starting)
        self._update_buttons()

    def cancel(self) -> None:
        if self.worker is not None:
            self.cancelling = True
            self.worker.cancel.cancel()
            self.status.setText("Cancelling the brief…" if self.running_kind == "brief"
                                else "Cancelling after the cell in progress…")
            self._update_buttons()

    def _showing_run(self) -> bool:
        return self.running_matter is not None and self.running_matter == self.matter_name

    def _item(self, item: Any) -> None:
        if isinstance(item, LoadedModel):
            self.host.models.set_loaded(item)
        elif isinstance(item, Progress) and self._showing_run():  # loading the model
            text = item.message or "Loading the model…"
            if item.stage == "model" and item.total > 1:
                text = f"Preparing the model: {item.fraction:.0%}"
            self.status.setText(text)
        elif isinstance(item, ReviewStep):
            self.last_step = item
            self.sig_step.emit(item)
            if not self._showing_run():
                return
            self.progress.setRange(0, max(item.total, 1))
            self.progress.setValue(item.done if item.total else 1)
            self.status.setText(step_text(item))
            store = self.store()
            for doc_id, term in item.finished:
                cell = store.get(doc_id, term) if store is not None else None
                if cell is not None:
                    self.model.set_cell(cell)
        elif isinstance(item, BriefStep):
            self.last_brief_step = item
            if not self._showing_run():
                return
            self.progress.setRange(0, max(item.total, 1))
            self.progress.setValue(item.done if item.total else 1)
            self.status.setText(brief_step_text(item))
            store = self.store()
            if store is None:
                return
            for doc_id, term in item.cells:
                cell = store.get(doc_id, term)
                if cell is not None:
                    self.model.set_cell(cell)
            for doc_id in item.briefed:
                self.model.set_brief(doc_id, store.brief(doc_id))
            if item.briefed:
                self.show_brief()

    def _done(self, step: ReviewStep | BriefStep) -> None:
        if not self._showing_run():
            return
        self.reload()  # the derived cells and anything written meanwhile
        if isinstance(step, BriefStep):
            noun = "document" if step.total == 1 else "documents"
            self.status.setText(f"Briefed {step.done} / {step.total} {noun} in "
                                f"{clock(step.elapsed_seconds)}.")
            return
        if step.total == 0:
            self.status.setText("Every cell is reviewed.")
        else:
            self.status.setText(f"{step.done} / {step.total} cells · done in "
                                f"{clock(step.elapsed_seconds)}")

    def _failed(self, message: str) -> None:
        if self.cancelling and self.running_kind == "brief":
            brief = self.last_brief_step
            if self._showing_run():
                done = f"{brief.done} / {brief.total} briefed; " if brief else ""
                self.status.setText(f"Cancelled: {done}a brief cut short is not kept.")
                self.reload()  # the identity cells the brief reviewed
            return
        if self.cancelling:
            step = self.last_step
            if self._showing_run():
                done = f"{step.done} / {step.total} cells done; " if step else ""
                self.status.setText(f"Cancelled: {done}Review resumes with the rest.")
            return
        if self._showing_run():
            self.status.setText("The brief stopped." if self.running_kind == "brief"
                                else "The review stopped.")
        self.host.show_error(message)

    def _finished(self) -> None:
        kind = self.running_kind
        self.worker = None
        self.running_matter = None
        self.running_kind = None
        self.cancelling = False
        self.progress.hide()
        self._update_buttons()
        (self.sig_brief_finished if kind == "brief" else self.sig_run_finished).emit()

    def _update_buttons(self) -> None:
        running = self.worker is not None
        open_matter_ = self.host.matter is not None
        self.review_button.setEnabled(not running and open_matter_)
        self.brief_button.setEnabled(not running and open_matter_ and bool(self.selected_docs()))
        self.cancel_button.setEnabled(running and not self.cancelling)
        self.columns_button.setEnabled(not running)

    # -- the brief pane -------------------------------------------------------------------
    def selected_docs(self) -> list[int]:
        """The documents of the selected rows, in the view's order."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedIndexes()})
        docs = [self.proxy.mapToSource(self.proxy.index(r, 0)).row() for r in rows]
        return [self.model.docs[r][0] for r in docs if 0 <= r < len(self.model.docs)]

    def select_docs(self, doc_ids: list[int], column: int = 0) -> None:
        """Select these documents' rows (the current cell in `column`)."""
        selection = self.table.selectionModel()
        for n, doc_id in enumerate(doc_ids):
            row = self.model.row_of(doc_id)
            if row < 0:
                continue
            where = self.proxy.mapFromSource(self.model.index(row, min(
                column, self.model.columnCount() - 1)))
            if where.isValid():
                flag = (selection.SelectionFlag.ClearAndSelect if n == 0
                        else selection.SelectionFlag.Select)
                selection.setCurrentIndex(where, flag)

    def _selection_changed(self, *_: Any) -> None:
        self._update_buttons()
        self.show_brief()

    def show_brief(self) -> None:
        """Show the selected document's stored brief, or a hint."""
        docs = self.selected_docs()
        brief = self.model.brief_of(docs[0]) if docs else None
        hint = html.escape(BRIEF_HINT if docs else BRIEF_CHOOSE)
        text = brief_html(brief) if brief else f'<p style="color:#667085">{hint}</p>'
        self.shown_brief = brief
        if text != self._pane_html:  # unchanged: keep the reader's scroll position
            self._pane_html = text
            self.brief_pane.setHtml(text)

    def _brief_link(self, url: QUrl) -> None:
        """A citation mark: open the viewer at its page with its quote, as a cell does."""
        parts = url.toString().split(":")
        if len(parts) != 3 or parts[0] != BRIEF_LINK or self.shown_brief is None:
            return
        try:
            citation = self.shown_brief[int(parts[1])]["citations"][int(parts[2])]
        except (ValueError, IndexError, KeyError, TypeError):
            return
        self.sig_open.emit(str(citation["file"]), int(citation["page"]), str(citation["quote"]))

    # -- filters --------------------------------------------------------------------------
    def _update_filter_terms(self) -> None:
        names = [FILE_COLUMN, *(t.name for t in self.model.terms)]
        chosen = self.filter_choice
        self.filter_term.blockSignals(True)
        self.filter_term.clear()
        self.filter_term.addItems(names)
        # the last term chosen, else the first term (filtering by file name is rarer)
        self.filter_term.setCurrentIndex(names.index(chosen) if chosen in names
                                         else min(1, len(names) - 1))
        self.filter_term.blockSignals(False)
        kept = [(n, t) for n, t in self.filters if n in names]
        if kept != self.filters:
            self.set_filters(kept)

    def _filter_term_chosen(self, _index: int) -> None:
        self.filter_choice = self.filter_term.currentText()

    def add_filter_from_bar(self) -> None:
        text = " ".join(self.filter_text.text().split())
        if text:
            self.add_filter(self.filter_term.currentText(), text)
            self.filter_text.clear()

    def add_filter(self, term: str, text: str) -> None:
        if (term, text) not in self.filters:
            self.set_filters([*self.filters, (term, text)])

    def remove_filter(self, index: int) -> None:
        self.set_filters([f for i, f in enumerate(self.filters) if i != index])

    def clear_filters(self) -> None:
        self.set_filters([])

    def set_filters(self, filters: list[tuple[str, str]]) -> None:
        self.filters = list(filters)
        self.proxy.set_filters(self.filters)
        for chip in self.chip_buttons():
            self.chips.removeWidget(chip)
            chip.deleteLater()
        for index, (term, text) in enumerate(self.filters):
            chip = QToolButton()
            chip.setObjectName("filter_chip")
            chip.setText(f"{term} = {text}  ✕")
            chip.setToolTip("Remove this filter")
            chip.setStyleSheet("QToolButton { border: 1px solid #8aa4c8; border-radius: 9px; "
                               "padding: 1px 8px; background: #e8f0fb; }")
            chip.clicked.connect(lambda _=False, i=index: self.remove_filter(i))
            self.chips.addWidget(chip)
        self.clear_filters_button.setEnabled(bool(self.filters))
        self._update_count()

    def chip_buttons(self) -> list[QToolButton]:
        items = (self.chips.itemAt(i) for i in range(self.chips.count()))
        return [w for item in items if item is not None
                and isinstance(w := item.widget(), QToolButton)]

    def chip_texts(self) -> list[str]:
        return [chip.text() for chip in self.chip_buttons()]

    def _update_count(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        self.count.setText(f"{shown} of {total} documents" if self.filters else
                           f"{total} documents")

    # -- a cell ---------------------------------------------------------------------------
    def source_index(self, index: QModelIndex | QPersistentModelIndex) -> QModelIndex:
        """The table model's index of a view (proxy) index."""
        if isinstance(index, QPersistentModelIndex):
            index = self.proxy.index(index.row(), index.column())
        return self.proxy.mapToSource(index)

    def view_index(self, file: str, term: str) -> QModelIndex:
        """The view's index of a document's cell (term, or "File"), for tests and tools."""
        row = next((r for r, (_, f) in enumerate(self.model.docs) if f == file), -1)
        return self.proxy.mapFromSource(self.model.index(row, self.model.column_of(term)))

    def _clicked(self, index: QModelIndex) -> None:
        self._clicked_index = QPersistentModelIndex(index)
        self._click_timer.start(QApplication.doubleClickInterval())

    def _open_clicked(self) -> None:
        if self._clicked_index is not None and self._clicked_index.isValid():
            self.open_cell(self._clicked_index)
        self._clicked_index = None

    def open_cell(self, index: QModelIndex | QPersistentModelIndex) -> None:
        """Open the viewer at the cell's first citation (the file column: its first page)."""
        source = self.source_index(index)
        if not source.isValid():
            return
        if source.column() == 0:
            self.sig_open.emit(self.model.docs[source.row()][1], 1, "")
            return
        cell = self.model.cell_at(source.row(), source.column())
        if cell is not None and cell.citations:
            first = cell.citations[0]
            self.sig_open.emit(first.file, first.page, first.quote)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        source = self.source_index(index)
        cell = self.model.cell_at(source.row(), source.column())
        menu = QMenu(self)
        open_action = menu.addAction("Open the clause" if source.column() else "Open")
        open_action.setEnabled(source.column() == 0 or bool(cell and cell.citations))
        open_action.triggered.connect(lambda: self.open_cell(index))
        correct_action = menu.addAction("Correct…")
        correct_action.setEnabled(source.column() > 0)
        correct_action.triggered.connect(lambda: self.correct(index))
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def correct(self, index: QModelIndex | QPersistentModelIndex) -> None:
        """Open the correction dialog for the cell at (view) `index`."""
        self._click_timer.stop()
        self._clicked_index = None
        source = self.source_index(index)
        term = self.model.term_at(source.column())
        if term is None or self.host.matter is None:
            return
        if self.correction is not None:
            self.correction.reject()
        doc_id, file = self.model.docs[source.row()]
        dialog = CellCorrectionDialog(file, term.name, self.model.cell_at(source.row(),
                                                                          source.column()), self)
        dialog.matter_name = self.host.matter.name
        dialog.accepted.connect(lambda: self._correction_saved(dialog, doc_id, term.name))
        dialog.finished.connect(lambda _: self._correction_closed(dialog))
        self.correction = dialog
        dialog.open()

    def _correction_saved(self, dialog: CellCorrectionDialog, doc_id: int, term: str) -> None:
        if self._same_matter(dialog.matter_name):
            self.save_correction(doc_id, term, dialog.value_edit.text(),
                                 dialog.present_box.isChecked())

    def _correction_closed(self, dialog: CellCorrectionDialog) -> None:
        if self.correction is dialog:
            self.correction = None
        dialog.deleteLater()

    def save_correction(self, doc_id: int, term: str, value: str, present: bool) -> Cell | None:
        store = self.store()
        if store is None:
            return None
        try:
            cell = store.correct(doc_id, term, value, present)
        except DeskError as exc:
            self.host.show_error(str(exc))
            return None
        self.model.set_cell(cell)
        return cell

    # -- columns --------------------------------------------------------------------------
    def choose_columns(self) -> None:
        if self.host.matter is None or self.worker is not None:
            return
        if self.columns_dialog is not None:
            self.columns_dialog.reject()
        dialog = ColumnsDialog([t.name for t in self.model.terms], self)
        dialog.matter_name = self.host.matter.name
        dialog.accepted.connect(lambda: self._columns_saved(dialog))
        dialog.finished.connect(lambda _: self._columns_closed(dialog))
        self.columns_dialog = dialog
        dialog.open()

    def _columns_saved(self, dialog: ColumnsDialog) -> None:
        if self._same_matter(dialog.matter_name):
            self.set_columns(dialog.chosen())

    def _columns_closed(self, dialog: ColumnsDialog) -> None:
        if self.columns_dialog is dialog:
            self.columns_dialog = None
        dialog.deleteLater()

    def set_columns(self, names: list[str]) -> None:
        store = self.store()
        if store is None:
            return
        store.set_columns(names)
        self.reload()

    # -- export ---------------------------------------------------------------------------
    def export_rows(self) -> tuple[list[ReviewRow], list[str]]:
        """The stored review of the open matter as the table shows it (with derived cells),
        every document, and the column names."""
        store = self.store()
        if store is None:
            return [], []
        terms = self.model.terms
        rows = store.rows([t.name for t in with_inputs(terms)])
        today = dt.date.today()
        return [add_derived(row, terms, today) for row in rows], [t.name for t in terms]

    def choose_export(self, kind: str) -> None:
        matter = self.host.matter
        if matter is None:
            return
        label = "CSV" if kind == "csv" else "Excel"
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export the review as {label}", f"{matter.name} review.{kind}",
            "CSV files (*.csv)" if kind == "csv" else "Excel workbooks (*.xlsx)")
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() != f".{kind}":
            target = target.with_name(target.name + f".{kind}")
        self.export(target, kind)

    def export(self, path: Path, kind: str) -> bool:
        rows, names = self.export_rows()
        try:
            (write_csv if kind == "csv" else write_xlsx)(path, rows, names)
        except DeskError as exc:
            self.host.show_error(str(exc))
            return False
        self.host.progress_label.setText(
            f"Exported {len(rows)} documents × {len(names)} terms to {path}.")
        return True

    def export_csv(self, path: Path) -> bool:
        return self.export(path, "csv")

    def export_xlsx(self, path: Path) -> bool:
        return self.export(path, "xlsx")
