"""What a review cell holds: a short typed value, the clause it comes from, and the verified
document + page citations of that clause. Plain data, shared by extraction, storage, export,
evaluation and the window."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NOT_FOUND_VALUE = "Not found"
ROUTES = ("code", "model", "derived", "none")  # who produced the value


@dataclass
class CellCitation:
    """Where the cell's clause is: `quote` must occur on `page` of `file` to be verified."""

    file: str
    page: int
    quote: str
    verified: bool
    reason: str = ""  # why it is not verified; empty when it is

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "page": self.page, "quote": self.quote,
                "verified": self.verified, "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellCitation:
        return cls(str(data["file"]), int(data["page"]), str(data["quote"]),
                   bool(data["verified"]), str(data.get("reason", "")))


@dataclass
class Cell:
    """One document x one term.

    `value` is what the table shows ("Delaware", "2014-05-08", "30 days", "Yes", "No",
    "Not found"); `typed` is the value as code parsed it, e.g. {"type": "date", "iso":
    "2014-05-08"}, {"type": "duration", "days": 30, "months": null, "text": "30 days"},
    {"type": "place", "name": "Delaware"}, {"type": "parties", "names": [...]},
    {"type": "number", "days": 41} — or None when the value is free text.
    `present` is False when the document has no such clause (value "Not found" or "No").
    A derived cell (route "derived") names its `formula` and the `inputs` (terms) it used.
    A lawyer's correction sets `edited` and keeps what Desk had found in `original`."""

    doc_id: int
    file: str
    term: str
    value: str
    present: bool
    citations: list[CellCitation] = field(default_factory=list)
    typed: dict[str, Any] | None = None
    route: str = "none"
    reason: str = ""  # why the cell is unverified or empty (e.g. "model output not JSON")
    formula: str = ""
    inputs: list[str] = field(default_factory=list)
    edited: bool = False
    original: str | None = None
    seconds: float = 0.0

    @property
    def verified(self) -> bool:
        """A present cell is verified when it has citations and every one is verified; an
        absent cell has nothing to verify; a derived cell is as verified as its inputs
        (the job sets its citations to theirs)."""
        if not self.present:
            return True
        return bool(self.citations) and all(c.verified for c in self.citations)

    def to_json(self) -> dict[str, Any]:
        """The shape `desk review --json` prints per term (DESIGN.md), plus Desk's extras."""
        return {"value": self.value, "present": self.present, "verified": self.verified,
                "citations": [c.to_json() for c in self.citations], "typed": self.typed,
                "route": self.route, "reason": self.reason, "formula": self.formula,
                "inputs": list(self.inputs), "edited": self.edited, "original": self.original,
                "seconds": self.seconds}

    @classmethod
    def from_json(cls, doc_id: int, file: str, term: str, data: dict[str, Any]) -> Cell:
        return cls(doc_id, file, term, str(data["value"]), bool(data["present"]),
                   [CellCitation.from_json(c) for c in data.get("citations", [])],
                   data.get("typed"), str(data.get("route", "none")),
                   str(data.get("reason", "")), str(data.get("formula", "")),
                   list(data.get("inputs", [])), bool(data.get("edited", False)),
                   data.get("original"), float(data.get("seconds", 0.0)))


@dataclass
class ReviewRow:
    """One document of the review: its cells by term name, and its brief (None until made)."""

    doc_id: int
    file: str
    cells: dict[str, Cell] = field(default_factory=dict)
    brief: list[dict[str, Any]] | None = None  # [{"text", "citations": [CellCitation json]}]

    def brief_text(self) -> str | None:
        return " ".join(s["text"] for s in self.brief) if self.brief is not None else None


def table_to_json(rows: list[ReviewRow], terms: list[str]) -> dict[str, Any]:
    """`desk review --json`: {"documents": [{"file", "brief", "cells": {term: cell}}]}."""
    return {"terms": list(terms), "documents": [
        {"file": row.file, "brief": row.brief_text(), "brief_sentences": row.brief,
         "cells": {t: row.cells[t].to_json() for t in terms if t in row.cells}}
        for row in rows]}
