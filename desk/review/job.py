"""The review job: fill every missing cell of documents x terms, storing each as it finishes,
with progress (cells done / total, ETA) and cancel. Run again, it resumes: stored cells are
kept, so a new document fills only its row and a new column only its cells. Derived columns
are computed by code from stored cells every time (they cost nothing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator

from desk.config.settings import Settings
from desk.core.errors import DeskError
from desk.core.progress import CancelToken, Progress
from desk.core.types import Document
from desk.index.matter import Matter
from desk.llm.model import AnswerModel
from desk.review import values
from desk.review.cells import NOT_FOUND_VALUE, Cell, CellCitation, ReviewRow
from desk.review.extract import Extractor
from desk.review.store import ReviewStore
from desk.review.terms import DERIVED_INPUTS, Term, with_inputs


def review_documents(matter: Matter, files: list[str] | None = None) -> list[Document]:
    """Indexed documents to review: all, or those named (by file name)."""
    docs = [d for d in matter.catalog.documents() if d.status == "indexed"]
    if not files:
        return docs
    chosen: list[Document] = []
    for name in files:
        found = [d for d in docs if d.file_name.casefold() == name.casefold()
                 or d.path == name]
        if not found:
            raise DeskError(f"No document named {name!r} in matter {matter.name!r}.")
        chosen.extend(d for d in found if d not in chosen)
    return chosen


def run_review(matter: Matter, model: AnswerModel | None, settings: Settings,
               terms: list[Term], documents: list[Document] | None = None,
               cancel: CancelToken | None = None, route: str = "auto",
               today: dt.date | None = None, shared_evidence: bool = True
               ) -> Generator[Progress, None, list[ReviewRow]]:
    """Fill the missing cells; yield progress after each; return the table's rows."""
    store = ReviewStore(matter.catalog)
    docs = documents if documents is not None else review_documents(matter)
    wanted = [t for t in with_inputs(terms) if t.kind != "derived"]
    known: dict[int, dict[str, Cell]] = store.cells([d.id for d in docs])
    todo = [(doc, term) for doc in docs for term in wanted
            if term.name not in known.get(doc.id, {})]
    progress = Progress("review", 0, len(todo), "Reviewing")
    yield progress
    extractor = Extractor(matter, model, settings, route)
    current: int | None = None
    for doc, term in todo:
        if cancel:
            cancel.raise_if_cancelled()
        if doc.id != current and shared_evidence:
            current = doc.id
            extractor.share_evidence(doc, [t for d, t in todo if d.id == doc.id])
        progress.message = f"{doc.file_name}: {term.name}"
        cell = extractor.cell(doc, term, known.get(doc.id, {}), cancel)
        if cancel and cancel.cancelled:
            break  # a cell cut short by cancel is not stored
        known.setdefault(doc.id, {})[term.name] = store.put(cell)
        progress.done += 1
        yield progress
    if cancel:
        cancel.raise_if_cancelled()
    names = [t.name for t in terms]
    rows = store.rows(names, [d.id for d in docs])
    for row in rows:
        for term in terms:
            if term.kind == "derived" and term.name not in row.cells:  # a correction stays
                row.cells[term.name] = derive(row, term, today or dt.date.today())
    return rows


def derive(row: ReviewRow, term: Term, today: dt.date) -> Cell:
    """A derived column from the row's cells, by code, with its formula; cited where its
    inputs are cited, and as verified as they are."""
    inputs = [row.cells.get(name) for name in DERIVED_INPUTS[term.name]]
    cell = Cell(row.doc_id, row.file, term.name, NOT_FOUND_VALUE, False, route="derived",
                inputs=list(DERIVED_INPUTS[term.name]), formula=term.question)
    if any(c is None or not c.present or c.typed is None for c in inputs):
        missing = [n for n, c in zip(DERIVED_INPUTS[term.name], inputs)
                   if c is None or not c.present or c.typed is None]
        cell.reason = "needs " + " and ".join(missing)
        return cell
    typed = [c.typed for c in inputs if c is not None and c.typed is not None]
    expiration = values.parse_date(str(typed[0].get("iso", "")))
    if expiration is None:
        cell.reason = "the expiration date is not a date"
        return cell
    if term.name == "Last Day To Give Notice Of Non-Renewal":
        notice = values.Duration(typed[1].get("days"), typed[1].get("months"),
                                 str(typed[1].get("text", "")))
        last = values.notice_deadline(expiration, notice)
        cell.value = values.iso(last)
        cell.typed = {"type": "date", "iso": cell.value}
        cell.formula = (f"Expiration Date ({values.iso(expiration)}) − Notice Period To "
                        f"Terminate Renewal ({notice.label()}) = {cell.value}")
    else:
        days = values.days_until(expiration, today)
        cell.value = f"{days} days" if days >= 0 else f"expired {-days} days ago"
        cell.typed = {"type": "number", "days": days}
        cell.formula = (f"Expiration Date ({values.iso(expiration)}) − today "
                        f"({values.iso(today)}) = {days} days")
    cell.present = True
    cell.citations = [CellCitation(c.file, c.page, c.quote, c.verified, c.reason)
                      for source in inputs if source is not None for c in source.citations]
    return cell
