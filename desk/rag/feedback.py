"""The lawyer's feedback on stored answers (thumbs up or down, the correct answer and page), kept
in the matter's catalog, and its export as an evaluation set, so corrections become regression
tests for `desk eval --set`."""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from desk.core.errors import DeskError
from desk.core.types import Document
from desk.index.catalog import Catalog
from desk.rag.turns import NOT_FOUND_TEXT, answer_record

# One row per turn, replaced when the lawyer changes it; created on first use, so matters made
# before feedback existed get the table when they are next opened.
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    turn_id INTEGER PRIMARY KEY REFERENCES turns(id) ON DELETE CASCADE,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    correct_answer TEXT,
    file TEXT,
    page INTEGER,
    not_in_documents INTEGER NOT NULL DEFAULT 0,
    at REAL NOT NULL
);
"""
COLUMNS = "turn_id, rating, correct_answer, file, page, not_in_documents, at"
# A correct answer typed as one of these means "the documents do not say".
NOT_FOUND_ANSWERS = {"not found", NOT_FOUND_TEXT.lower().rstrip(".")}

_ready: weakref.WeakSet[Catalog] = weakref.WeakSet()


@dataclass(frozen=True)
class Feedback:
    """What the lawyer said of one answer. `file` and `page` (1-based) locate the correct
    answer; `not_in_documents` says the documents do not answer the question at all."""

    turn_id: int
    rating: int  # +1 or -1
    correct_answer: str | None = None
    file: str | None = None
    page: int | None = None
    not_in_documents: bool = False
    at: float = field(default=0.0, compare=False)

    def to_json(self) -> dict[str, object]:
        return {"turn": self.turn_id, "rating": self.rating,
                "correct_answer": self.correct_answer, "file": self.file, "page": self.page,
                "not_in_documents": self.not_in_documents, "at": self.at}


@dataclass
class RatedTurn:
    """A stored turn with its feedback."""

    conversation_id: int
    question: str
    answer: dict[str, Any]  # the stored answer record (desk.rag.turns.answer_record)
    feedback: Feedback


@dataclass
class Case:
    """What a rated turn becomes in an exported set: a test, a negative, or nothing (why)."""

    kind: str  # "test", "negative" or "skipped"
    entry: dict[str, Any] | None = None
    reason: str = ""


def _ensure(catalog: Catalog) -> None:
    if catalog not in _ready:
        catalog.db.executescript(SCHEMA)
        _ready.add(catalog)


def _row(row: tuple[Any, ...]) -> Feedback:
    return Feedback(int(row[0]), int(row[1]), row[2], row[3],
                    None if row[4] is None else int(row[4]), bool(row[5]), float(row[6]))


def says_not_in_documents(text: str | None) -> bool:
    return text is not None and text.strip().rstrip(".").strip().lower() in NOT_FOUND_ANSWERS


def _document(catalog: Catalog, file: str) -> Document:
    docs = catalog.find_documents(file)
    names = sorted({d.file_name for d in docs})
    if not docs:
        raise DeskError(f"{file!r} is not a document of this matter.")
    if len(names) > 1:
        raise DeskError(f"{file!r} names several documents of this matter ("
                        + ", ".join(names) + "); give the whole file name.")
    if len(docs) > 1:
        # Two copies of one file name (from different folders): the evaluation matches gold
        # documents by file name, so either copy's pages will do; take one that has them.
        docs = sorted(docs, key=lambda d: -d.page_count)
    return docs[0]


def record_feedback(catalog: Catalog, turn_id: int, rating: int,
                    correct_answer: str | None = None, file: str | None = None,
                    page: int | None = None, not_in_documents: bool = False) -> Feedback:
    """Store (or replace) the feedback on one answer after checking it against the matter.

    A correct answer "not found" means the same as `not_in_documents`. `file` may name the
    document by file name or path; the file name is stored."""
    if isinstance(rating, bool) or rating not in (1, -1):
        raise DeskError(f"A rating is +1 (thumbs up) or -1 (thumbs down), not {rating!r}.")
    if catalog.turn(turn_id) is None:
        raise DeskError(f"There is no answer {turn_id} in this matter.")
    answer = (correct_answer or "").strip() or None
    absent = not_in_documents or says_not_in_documents(answer)
    if page is not None and file is None:
        raise DeskError("Say which document the page is in.")
    if absent and page is not None:
        raise DeskError("An answer that is not in the documents has no page; leave the page "
                        "out (the document may stay: the one it is absent from).")
    name = None
    if file is not None:
        doc = _document(catalog, file)
        name = doc.file_name
        if page is None and not absent:
            raise DeskError(f"Give the page of {name} where the correct answer is.")
        if page is not None and (isinstance(page, bool) or page < 1
                                 or catalog.page(doc.id, page) is None):
            raise DeskError(f"{name} has no page {page} (it has {doc.page_count} "
                            f"page{'s' if doc.page_count != 1 else ''}).")
    feedback = Feedback(turn_id, rating, answer, name, page, absent, time.time())
    _ensure(catalog)
    with catalog.transaction() as db:
        db.execute(f"INSERT OR REPLACE INTO feedback({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (turn_id, rating, answer, name, page, int(absent), feedback.at))
    return feedback


def clear_feedback(catalog: Catalog, turn_id: int) -> None:
    _ensure(catalog)
    with catalog.transaction() as db:
        db.execute("DELETE FROM feedback WHERE turn_id=?", (turn_id,))


def feedback_for(catalog: Catalog, conversation_id: int) -> dict[int, Feedback]:
    """The feedback on a conversation's answers, by turn id."""
    _ensure(catalog)
    rows = catalog.db.execute(
        f"SELECT {', '.join('f.' + c.strip() for c in COLUMNS.split(','))} FROM feedback f "
        "JOIN turns t ON t.id = f.turn_id WHERE t.conversation_id=? ORDER BY f.turn_id",
        (conversation_id,))
    return {fb.turn_id: fb for fb in map(_row, rows)}


def rated_turns(catalog: Catalog) -> list[RatedTurn]:
    """Every answer of the matter that has feedback, oldest first."""
    _ensure(catalog)
    rows = catalog.db.execute(
        f"SELECT t.conversation_id, t.question, t.answer_json, "
        f"{', '.join('f.' + c.strip() for c in COLUMNS.split(','))} FROM feedback f "
        "JOIN turns t ON t.id = f.turn_id ORDER BY f.turn_id").fetchall()
    return [RatedTurn(int(r[0]), r[1], answer_record(r[2]), _row(r[3:])) for r in rows]


def export_case(catalog: Catalog, rated: RatedTurn,
                docs: dict[str, Document] | None = None) -> Case:
    """What one rated answer becomes in the exported set (see `export_feedback`); `docs` are
    the matter's documents by file name, when the caller has them."""
    fb, answer = rated.feedback, rated.answer
    found = bool(answer.get("found"))
    if docs is None:
        docs = {d.file_name: d for d in catalog.documents()}
    base: dict[str, Any] = {"query": rated.question, "question": rated.question}
    origin = {"conversation": rated.conversation_id, "turn": fb.turn_id, "rating": fb.rating}
    if fb.not_in_documents or (fb.rating == 1 and not found and fb.page is None):
        if found != (fb.rating == -1):
            return Case("skipped", reason="the rating contradicts \"not in the documents\"")
        # The document it is absent from: the lawyer's, else the one the answer cited.
        citations = sorted(answer.get("citations", []), key=lambda c: not c.get("verified"))
        file = fb.file or next((c["file"] for c in citations), None)
        entry = {"id": f"feedback-neg-{fb.turn_id:04d}", **base}
        if file is not None:
            entry["file"] = file
        return Case("negative", entry | origin)
    if fb.file is not None and fb.page is not None:
        doc = docs.get(fb.file)
        page = catalog.page(doc.id, fb.page) if doc is not None else None
        if page is None:
            return Case("skipped", reason=f"{fb.file}, page {fb.page} is no longer in the "
                                          "matter")
        text = fb.correct_answer or page.text.strip()
        if not text:
            return Case("skipped", reason=f"{fb.file}, page {fb.page} has no text (needs "
                                          "OCR); type the correct answer")
        snippets = [{"file": fb.file, "pages": [fb.page], "text": text}]
        extra = {"answer": fb.correct_answer} if fb.correct_answer else {}
        return Case("test", {"id": f"feedback-{fb.turn_id:04d}", **base, **extra,
                             "snippets": snippets} | origin)
    if fb.rating == -1:
        return Case("skipped", reason="thumbs down without the correct page (give it with "
                                      "Correct…)")
    snippets = []
    for c in answer.get("citations", []):
        snippet = {"file": c["file"], "pages": [c["page"]], "text": c["quote"]}
        if c.get("verified") and c["file"] in docs and snippet not in snippets:
            snippets.append(snippet)
    if not snippets:
        return Case("skipped", reason="the answer has no verified citation in the matter")
    return Case("test", {"id": f"feedback-{fb.turn_id:04d}", **base,
                         "answer": answer.get("answer", ""), "snippets": snippets} | origin)


def export_feedback(catalog: Catalog, matter_name: str) -> dict[str, Any]:
    """The matter's feedback as an evaluation set in the shape of cuad-dev.json:

    - thumbs up on an answer: a test whose gold snippets are its verified citations;
    - a correct file and page (thumbs up or down): a test with that page as gold and the
      correct answer (else the page's text) as the snippet's text;
    - thumbs down on a found answer with the correct answer "not found" (or marked not in
      the documents), or thumbs up on a "not found" answer: a negative.
    Thumbs down without the correct page cannot become a test and is left out."""
    tests, negatives = [], []
    docs = {d.file_name: d for d in catalog.documents()}
    for rated in rated_turns(catalog):
        case = export_case(catalog, rated, docs)
        if case.kind == "test":
            tests.append(case.entry)
        elif case.kind == "negative":
            negatives.append(case.entry)
    return {
        "name": f"{matter_name} feedback",
        "source": f"Lawyer feedback on Desk's answers in matter {matter_name!r}",
        "documents": sorted(docs),
        "tests": tests,
        "negatives": negatives,
    }
