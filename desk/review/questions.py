"""Questions about the matter's documents as a set ("Which of these agreements are governed by
New York law?", "How many contracts have a change of control clause?") answered from the
review column: every document listed with its verified cell, cells filled on demand for
documents not yet reviewed. Retrieval cannot answer these: it brings a few passages from a
few documents, and the model cannot count what it was not shown."""

from __future__ import annotations

import re
import time
from collections.abc import Generator

from desk.core.progress import CancelToken, Progress
from desk.core.types import Answer, Citation
from desk.rag.service import AnswerJob, AnswerService, speaks_of_whole_matter
from desk.review import values
from desk.review.cells import Cell
from desk.review.job import run_review
from desk.review.terms import BY_NAME, Term

# How lawyers ask about a term, besides its name. Phrasings, not contract wording.
PHRASINGS: dict[str, tuple[str, ...]] = {
    "Governing Law": (r"govern\w*", r"laws?\s+of", r"choice\s+of\s+law"),
    "Agreement Date": (r"dated", r"signed\s+(?:on|when)", r"date\s+of\s+the\s+agreement"),
    "Effective Date": (r"effective\s+(?:date|as\s+of|on|when)", r"become\s+effective"),
    "Expiration Date": (r"expir\w*", r"end\s+date", r"when\s+do\s+\w+\s+end"),
    "Renewal Term": (r"renew\w*",),
    "Notice Period To Terminate Renewal": (r"notice\s+(?:period|of\s+non-?renewal)",
                                           r"non-?renewal\s+notice"),
    "Parties": (r"parties\s+to", r"who\s+are\s+the\s+parties"),
    "Non-Compete": (r"non-?\s?compet\w*", r"compete\b"),
    "Exclusivity": (r"exclusiv\w*",),
    "Anti-Assignment": (r"assign\w*(?!\s+(?:of\s+)?(?:ip|intellectual))",),
    "Change Of Control": (r"change\s+(?:of|in)\s+control",),
    "Termination For Convenience": (r"terminat\w*\s+(?:\w+\s+)?(?:for\s+convenience|"
                                    r"without\s+cause|at\s+any\s+time)",),
    "Cap On Liability": (r"(?:cap|limit\w*)\s+(?:on|of)\s+(?:\w+\s+)?liability",
                         r"liability\s+cap", r"capped"),
    "Uncapped Liability": (r"uncapped|unlimited\s+liability",),
    "Audit Rights": (r"audit\w*",),
    "Insurance": (r"insurance", r"insured?\b"),
    "Most Favored Nation": (r"most\s+favou?red",),
    "Rofr/Rofo/Rofn": (r"right\s+of\s+first\s+(?:refusal|offer|negotiation)", r"rofr|rofo|rofn"),
    "No-Solicit Of Employees": (r"(?:solicit|hire|poach)\w*\s+(?:\w+\s+)?employees",),
    "No-Solicit Of Customers": (r"solicit\w*\s+(?:\w+\s+)?customers",),
    "Non-Disparagement": (r"disparag\w*",),
    "Liquidated Damages": (r"liquidated\s+damages", r"termination\s+fee"),
    "Source Code Escrow": (r"escrow",),
    "Third Party Beneficiary": (r"third[-\s]party\s+beneficiar\w*",),
    "Covenant Not To Sue": (r"covenant\s+not\s+to\s+sue",),
    "Minimum Commitment": (r"minimum\s+(?:commitment|purchase|order|volume)\w*",),
    "Revenue/Profit Sharing": (r"(?:revenue|profit)[-\s]shar\w*", r"royalt\w*"),
    "Price Restrictions": (r"price\s+(?:restriction|increase|cap)\w*",),
    "License Grant": (r"licen[cs]e\s+grant", r"grant\w*\s+(?:a\s+)?licen[cs]e"),
    "Irrevocable Or Perpetual License": (r"(?:irrevocable|perpetual)\s+licen[cs]e",),
    "Warranty Duration": (r"warrant(?:y|ies)",),
    "Post-Termination Services": (r"post-?\s?termination",),
    "Joint Ip Ownership": (r"joint(?:ly)?\s+own\w*",),
    "Ip Ownership Assignment": (r"(?:assign\w*|own\w*)\s+(?:of\s+)?(?:the\s+)?(?:ip|intellectual"
                                r"\s+property)",),
}
NEGATIVE = re.compile(r"\b(?:without|lack\w*|do(?:es)?\s+not|don't|doesn't|no|none\s+of)\b", re.I)
SET_QUESTION = re.compile(r"^\s*(?:which|how\s+many|list|what|when|do\s+any|does\s+any|are\s+any)"
                          r"\b", re.I)


def _name_pattern(term: Term) -> str:
    words = re.split(r"[\s/-]+", term.name.casefold())
    return r"[\s/-]*".join(re.escape(w) for w in words if w)


def question_term(question: str) -> Term | None:
    """The review term a whole-matter question asks about, or None (not a set question, or
    no term): the longest phrase that matches wins ("change of control" over "control")."""
    if not (speaks_of_whole_matter(question) and SET_QUESTION.search(question)):
        return None
    best: tuple[int, Term] | None = None
    folded = question.casefold()
    for term in BY_NAME.values():
        for pattern in (_name_pattern(term), *PHRASINGS.get(term.name, ())):
            match = re.search(rf"\b{pattern}", folded)
            if match and (best is None or len(match.group(0)) > best[0]):
                best = (len(match.group(0)), term)
    return best[1] if best else None


def answer_question(service: AnswerService, question: str, conversation_id: int | None = None,
                    document: str | None = None, cancel: CancelToken | None = None
                    ) -> Generator[AnswerJob | str | Progress, None, Answer]:
    """The chat's one entry point: a whole-matter question about a review term is answered
    from the review column (progress while missing cells are filled); any other question by
    the answering service."""
    term = None if document else question_term(question)
    if term is None:
        return (yield from service.answer(question, conversation_id, document, cancel))
    started = time.perf_counter()
    rows = yield from run_review(service.matter, service.model, service.settings, [term],
                                 cancel=cancel)
    cells = [row.cells[term.name] for row in rows if term.name in row.cells]
    answer = column_answer(question, term, cells)
    answer.timings = {"retrieval_ms": round((time.perf_counter() - started) * 1000, 1),
                      "prompt_tokens": 0, "ttft_ms": 0.0, "gen_tokens_per_s": 0.0,
                      "review_cells": len(cells)}
    yield answer.text
    if conversation_id is not None:
        service.remember(conversation_id, question, answer)
    return answer


def column_answer(question: str, term: Term, cells: list[Cell]) -> Answer:
    """The documents that match the question, each with its cell and citation."""
    total = len(cells)
    places = values.find_places(question) if term.value_type == "place" else []
    if places:
        wanted = places[0][0]
        matching = [c for c in cells if c.present and values.same_place(
            str((c.typed or {}).get("name", c.value)), wanted)]
        lead = f"{len(matching)} of {total} documents: {term.name} is {wanted}."
    elif term.value_type == "yes-no":
        absent = bool(NEGATIVE.search(question))
        matching = [c for c in cells if c.present != absent]
        lead = (f"{len(matching)} of {total} documents have "
                f"{'no' if absent else 'a'} {term.name} clause.")
    else:
        matching = cells
        found = sum(1 for c in cells if c.present)
        lead = f"{term.name}: found in {found} of {total} documents."
    lines = [lead]
    citations: list[Citation] = []
    for cell in matching:
        marks = []
        for cite in cell.citations[:1]:
            citations.append(Citation(len(citations) + 1, cite.file, cite.page, cite.quote,
                                      cite.verified, cite.reason, cell.doc_id))
            marks.append(f"[{len(citations)}]")
        note = "" if cell.verified else f" (not verified: {cell.reason or 'see the citation'})"
        edited = " (edited)" if cell.edited else ""
        lines.append(f"- {cell.file}: {cell.value}{edited} {' '.join(marks)}{note}".rstrip())
    return Answer("\n".join(lines), True, citations)
