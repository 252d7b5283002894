"""A document's brief: what it is and between whom (written by code from the review's verified
cells), then its purpose and key obligations in a few sentences the model writes from
numbered sentences of the document, each cited and checked by the answers' verifier. A long
document is briefed in parts (the model picks from each), then the parts are combined."""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

import numpy as np

from desk.config.settings import Settings
from desk.core.progress import CancelToken, Progress
from desk.core.types import Document
from desk.index.matter import Matter
from desk.llm.model import AnswerModel, Generation
from desk.rag.citations import verify_citations
from desk.rag.prompt import Passage
from desk.review.cells import Cell, CellCitation, ReviewRow
from desk.review.extract import Extractor, Sentence
from desk.review.job import run_review
from desk.review.store import ReviewStore
from desk.review.terms import resolve_terms

IDENTITY_TERMS = ["Document Name", "Parties", "Agreement Date"]
PART_PAGES = 8  # a longer document is briefed in parts of this many pages
PART_CHARS = 1400  # candidate sentences shown per part
POINTS_PER_PART = 2
MAX_POINTS = 4  # the brief: one identity sentence and up to four points
OBLIGATION = ("shall", "will", "agree", "must", "grant", "appoint", "purchase", "provide",
              "pay", "license", "sell", "deliver", "perform")

BRIEF_SYSTEM = (
    "You brief a lawyer on a contract. You get numbered sentences from it. Pick the sentences "
    "that state what the contract is about and the parties' key obligations, and restate each "
    "in one short plain sentence using the contract's own words. Reply with JSON only."
)
POINTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"points": {"type": "array", "maxItems": POINTS_PER_PART, "items": {
        "type": "object",
        "properties": {"sentence": {"type": "integer"},
                       "summary": {"type": "string", "maxLength": 180}},
        "required": ["sentence", "summary"]}}},
    "required": ["points"],
}


def make_briefs(matter: Matter, model: AnswerModel | None, settings: Settings,
                rows: list[ReviewRow], cancel: CancelToken | None = None
                ) -> Generator[Progress, None, list[ReviewRow]]:
    """Brief each row's document that has no brief yet (stored as each finishes)."""
    store = ReviewStore(matter.catalog)
    todo = [row for row in rows if row.brief is None]
    progress = Progress("brief", 0, len(todo), "Briefing documents")
    yield progress
    extractor = Extractor(matter, model, settings)
    for row in todo:
        doc = matter.catalog.document(row.doc_id)
        if doc is None:
            continue
        progress.message = doc.file_name
        identity = yield from run_review(matter, model, settings,
                                         resolve_terms(IDENTITY_TERMS), [doc], cancel)
        made = brief(extractor, model, doc, identity[0].cells if identity else {}, cancel)
        if cancel:
            cancel.raise_if_cancelled()  # a brief cut short is not stored; an earlier one stays
        row.brief = made
        for sentence in row.brief:  # every citation checked on its page, like a cell's
            check = Cell(doc.id, doc.file_name, "brief", sentence["text"], True,
                         [CellCitation.from_json(c) for c in sentence["citations"]])
            extractor.verify(check)
            sentence["citations"] = [c.to_json() for c in check.citations]
            sentence["verified"] = bool(sentence["verified"]) and check.verified
        store.put_brief(doc.id, row.brief)
        progress.done += 1
        yield progress
    return rows


def brief(extractor: Extractor, model: AnswerModel | None, doc: Document,
          cells: dict[str, Cell], cancel: CancelToken | None = None) -> list[dict[str, Any]]:
    """The brief's sentences, each {"text", "citations": [...], "verified"}."""
    sentences: list[dict[str, Any]] = []
    identity = identity_sentence(cells)
    if identity is not None:
        sentences.append(identity)
    if model is None:
        return sentences
    found, vectors = extractor.sentences_of(doc)
    everything = [Sentence(0, page, text) for page, text in found]
    parts: list[list[int]] = []
    for i, sentence in enumerate(everything):
        part = (sentence.page - 1) // PART_PAGES
        while len(parts) <= part:
            parts.append([])
        parts[part].append(i)
    picked: list[dict[str, Any]] = []
    for indices in parts:
        if cancel and cancel.cancelled:
            break
        candidates = _candidates(indices, everything, vectors)
        picked.extend(_points(model, doc, candidates, cancel))
    if len(picked) > MAX_POINTS:  # combine: choose the key points among the parts' picks
        pool = [Sentence(n, p["page"], p["source"]) for n, p in enumerate(picked, 1)]
        picked = _points(model, doc, pool, cancel, MAX_POINTS)
    sentences.extend(picked[:MAX_POINTS])
    return [{k: v for k, v in s.items() if k in ("text", "citations", "verified")}
            for s in sentences]


def identity_sentence(cells: dict[str, Cell]) -> dict[str, Any] | None:
    """"<Title>, dated <date>, between <A> and <B>." from verified cells, cited where they are."""
    name, parties, dated = (cells.get(t) for t in IDENTITY_TERMS)
    if name is None or not name.present:
        return None
    text = name.value.strip().rstrip(".")
    used = [name]
    if dated is not None and dated.present:
        text += f", dated {dated.value}"
        used.append(dated)
    if parties is not None and parties.present:
        names = (parties.typed or {}).get("names") or [parties.value]
        text += (f", between {', '.join(names[:-1])} and {names[-1]}" if len(names) > 1
                 else f", with {names[0]}")
        used.append(parties)
    citations = [c.to_json() for cell in used for c in cell.citations[:1]]
    return {"text": text + ".", "citations": citations,
            "verified": all(cell.verified for cell in used)}


def _candidates(indices: list[int], everything: list[Sentence], vectors: np.ndarray
                ) -> list[Sentence]:
    """The part's most central sentences that state obligations, within the budget, in
    document order: what a contract is about is what most of its sentences are about."""
    usable = [i for i in indices if any(w in everything[i].text.casefold() for w in OBLIGATION)
              and len(everything[i].text) > 60] or indices
    if not usable:
        return []
    centre = vectors[usable].mean(axis=0)
    order = sorted(usable, key=lambda i: -float(vectors[i] @ centre))
    keep: list[int] = []
    used = 0
    for i in order:
        if used + len(everything[i].text) > PART_CHARS and keep:
            break
        keep.append(i)
        used += len(everything[i].text)
    return [Sentence(n, everything[i].page, everything[i].text)
            for n, i in enumerate(sorted(keep), 1)]


def _points(model: AnswerModel, doc: Document, candidates: list[Sentence],
            cancel: CancelToken | None, limit: int = POINTS_PER_PART) -> list[dict[str, Any]]:
    """The model's key points among the candidates, each verified against its sentence
    like an answer; a point the verifier cannot support is replaced by the sentence's own
    words, so the brief never states what the document does not."""
    if not candidates:
        return []
    schema = json.loads(json.dumps(POINTS_SCHEMA))
    schema["properties"]["points"]["maxItems"] = limit
    excerpts = "\n".join(f"[{s.n}] (p. {s.page}) {s.text}" for s in candidates)
    messages = [{"role": "system", "content": BRIEF_SYSTEM},
                {"role": "user", "content": f"Contract: {doc.file_name}\n\n{excerpts}"}]
    text = "".join(model.stream_chat(messages, 60 * limit + 20, cancel, Generation(),
                                     schema=schema))
    try:
        points = json.loads(text).get("points", [])
    except (ValueError, AttributeError):
        return []
    by_n = {s.n: s for s in candidates}
    out: list[dict[str, Any]] = []
    for point in points:
        number = point.get("sentence") if isinstance(point, dict) else None
        source = by_n.get(number) if isinstance(number, int) else None
        if source is None or any(p["source"] == source.text for p in out):
            continue
        summary = " ".join(str(point.get("summary", "")).split()).rstrip(".") + "."
        passage = Passage(1, doc.id, doc.file_name, source.page, source.page, source.text, [])
        _, citations, _ = verify_citations(f"{summary} [1]", [passage],
                                           lambda p, q: p.page_start)
        verified = bool(citations) and all(c.verified for c in citations)
        shown = summary if verified else f"“{_shorten(source.text)}”"
        out.append({"text": shown, "page": source.page, "source": source.text,
                    "verified": True, "citations": [CellCitation(
                        doc.file_name, source.page, source.text, True).to_json()]})
        if len(out) >= limit:
            break
    return out


def _shorten(text: str, limit: int = 220) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[:cut if cut > 0 else limit] + " …"
