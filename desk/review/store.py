"""Review cells, columns and briefs in the matter's own SQLite file, written as each cell
finishes (a kill loses at most the cell in progress). A cell belongs to a document row: when
a document is removed or changed (re-imported as a new row) its cells go with it, so only its
row is filled again. A lawyer's correction replaces the shown value and keeps what Desk had
found; re-runs never overwrite it."""

from __future__ import annotations

import json
import time
from typing import Any

from desk.core.errors import DeskError
from desk.index.catalog import Catalog
from desk.review.cells import Cell, ReviewRow

SCHEMA = """
CREATE TABLE IF NOT EXISTS review_cells (
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    term TEXT NOT NULL,
    cell_json TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (doc_id, term)
);
CREATE TABLE IF NOT EXISTS review_columns (
    position INTEGER NOT NULL,
    name TEXT NOT NULL PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS review_briefs (
    doc_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    brief_json TEXT NOT NULL,
    updated_at REAL NOT NULL
);
"""


class ReviewStore:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        with catalog.transaction() as db:
            db.executescript(SCHEMA)

    # -- columns --------------------------------------------------------------------------
    def columns(self) -> list[str]:
        """The matter's review columns in order (empty until the lawyer or a run sets them)."""
        return [r[0] for r in self.catalog.db.execute(
            "SELECT name FROM review_columns ORDER BY position")]

    def set_columns(self, names: list[str]) -> None:
        with self.catalog.transaction() as db:
            db.execute("DELETE FROM review_columns")
            db.executemany("INSERT INTO review_columns(position, name) VALUES (?, ?)",
                           list(enumerate(dict.fromkeys(names))))

    # -- cells ----------------------------------------------------------------------------
    def put(self, cell: Cell) -> Cell:
        """Store a cell Desk made, unless the lawyer has corrected that cell; return the
        cell the table now holds (the correction, or this one)."""
        current = self.get(cell.doc_id, cell.term)
        if current is not None and current.edited:
            return current
        self._write(cell)
        return cell

    def _write(self, cell: Cell) -> None:
        data = cell.to_json()
        with self.catalog.transaction() as db:
            db.execute("INSERT OR REPLACE INTO review_cells(doc_id, term, cell_json, updated_at) "
                       "VALUES (?, ?, ?, ?)", (cell.doc_id, cell.term, json.dumps(data),
                                              time.time()))

    def get(self, doc_id: int, term: str) -> Cell | None:
        row = self.catalog.db.execute(
            "SELECT c.cell_json, d.file_name FROM review_cells c JOIN documents d ON "
            "d.id = c.doc_id WHERE c.doc_id=? AND c.term=?", (doc_id, term)).fetchone()
        return Cell.from_json(doc_id, row[1], term, json.loads(row[0])) if row else None

    def cells(self, doc_ids: list[int] | None = None) -> dict[int, dict[str, Cell]]:
        """Stored cells by document and term."""
        result: dict[int, dict[str, Cell]] = {}
        for doc_id, term, data, file in self.catalog.db.execute(
                "SELECT c.doc_id, c.term, c.cell_json, d.file_name FROM review_cells c "
                "JOIN documents d ON d.id = c.doc_id"):
            if doc_ids is None or doc_id in doc_ids:
                result.setdefault(doc_id, {})[term] = Cell.from_json(doc_id, file, term,
                                                                     json.loads(data))
        return result

    def forget(self, doc_ids: list[int] | None = None, terms: list[str] | None = None,
               keep_edited: bool = True) -> None:
        """Drop stored cells so a run makes them again (corrections stay unless asked)."""
        doomed = [(doc_id, term) for doc_id, cells in self.cells(doc_ids).items()
                  for term, cell in cells.items()
                  if (terms is None or term in terms) and not (keep_edited and cell.edited)]
        with self.catalog.transaction() as db:
            db.executemany("DELETE FROM review_cells WHERE doc_id=? AND term=?", doomed)

    def correct(self, doc_id: int, term: str, value: str, present: bool | None = None) -> Cell:
        """The lawyer's correction: shown as edited, kept across re-runs; what Desk found
        stays in `original`. A correction to the value Desk found is no correction."""
        cell = self.get(doc_id, term)
        if cell is None:
            doc = self.catalog.document(doc_id)
            if doc is None:
                raise DeskError(f"There is no document {doc_id} in this matter.")
            cell = Cell(doc_id, doc.file_name, term, "", False)
        value = " ".join(value.split())
        if not cell.edited:
            cell.original = cell.value
        cell.value = value
        cell.present = present if present is not None else value.casefold() not in (
            "", "no", "not found", "none", "n/a")
        cell.edited = cell.original is None or value != cell.original
        if not cell.edited:
            cell.original = None
        self._write(cell)
        return cell

    # -- briefs ---------------------------------------------------------------------------
    def put_brief(self, doc_id: int, sentences: list[dict[str, object]]) -> None:
        with self.catalog.transaction() as db:
            db.execute("INSERT OR REPLACE INTO review_briefs(doc_id, brief_json, updated_at) "
                       "VALUES (?, ?, ?)", (doc_id, json.dumps(sentences), time.time()))

    def briefs(self) -> dict[int, list[dict[str, object]]]:
        """Every stored brief by document id, in one query (the tab shows them all)."""
        return {r[0]: json.loads(r[1]) for r in self.catalog.db.execute(
            "SELECT doc_id, brief_json FROM review_briefs")}

    def brief(self, doc_id: int) -> list[dict[str, object]] | None:
        row = self.catalog.db.execute("SELECT brief_json FROM review_briefs WHERE doc_id=?",
                                      (doc_id,)).fetchone()
        return json.loads(row[0]) if row else None

    # -- the table ------------------------------------------------------------------------
    def rows(self, terms: list[str], doc_ids: list[int] | None = None) -> list[ReviewRow]:
        """The review as the table shows it: indexed documents in import order, their cells
        for these terms (missing ones left out) and their briefs."""
        cells = self.cells(doc_ids)
        rows = []
        for doc in self.catalog.documents():
            if doc.status != "indexed" or (doc_ids is not None and doc.id not in doc_ids):
                continue
            have = cells.get(doc.id, {})
            rows.append(ReviewRow(doc.id, doc.file_name,
                                  {t: have[t] for t in terms if t in have}, self.brief(doc.id)))
        return rows


def corrections_set(store: ReviewStore, matter_name: str) -> dict[str, Any]:
    """The lawyer's corrections in the shape of a review set (cuad-dev-review.json), so that
    `desk review eval --set` scores later runs against them: per document, each corrected
    term with its corrected answer and the pages Desk had cited for it."""
    from desk.review.terms import BY_NAME

    documents: list[dict[str, Any]] = []
    for _, cells in sorted(store.cells().items()):
        edited = {term: cell for term, cell in cells.items() if cell.edited}
        if not edited:
            continue
        file = next(iter(edited.values())).file
        documents.append({"file": file, "terms": {term: {
            "present": cell.present,
            "answer": cell.value if cell.present else None,
            "quotes": [{"text": c.quote, "pages": [c.page]} for c in cell.citations
                       if c.verified],
        } for term, cell in sorted(edited.items())}})
    terms = sorted({t for d in documents for t in d["terms"]})
    return {"name": f"{matter_name}-corrections",
            "source": f"the lawyer's corrections in Desk's review of matter {matter_name!r}",
            "categories": {t: BY_NAME[t].kind if t in BY_NAME else "answer" for t in terms},
            "documents": documents}
