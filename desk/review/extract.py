"""One review cell: search inside the document for the term, let code extract the value where
a pattern is reliable (titles, dates, durations, governing law), else ask the model for JSON
constrained by a schema, then verify the cited clause on its page.

The model never writes the quote: it picks numbered sentences of the excerpts, and code takes
their text from the page. It never does arithmetic either: an expiration "five years from the
Effective Date" is computed by code (values.add_duration) and shown with its formula."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from desk.config.settings import Settings
from desk.core.errors import DeskError
from desk.core.progress import CancelToken
from desk.core.text import tokens
from desk.core.types import Document, Hit
from desk.index.matter import Matter
from desk.index.retriever import Retriever
from desk.llm.model import AnswerModel, Generation
from desk.rag.citations import contains, split_sentences
from desk.review import values
from desk.review.cells import NOT_FOUND_VALUE, Cell, CellCitation
from desk.review.terms import Term

ROUTES = ("auto", "code", "model")  # auto: code where it finds a value, else the model
EVIDENCE_HITS_SEARCHED = 8  # passages searched inside the document per term
EVIDENCE_CHARS = 1300  # excerpt text shown to the model per cell (about 330 tokens)
SHARED_CHARS = 3600  # one block for a document's yes-no terms (about 900 tokens)
MIN_SHARED_PER_TERM = 300
HIT_LIFT = 0.05  # added to the cosine of a sentence inside a best hybrid passage
HEADING_CHARS = 40  # a shorter "sentence" is a heading ("11.1 Governing Law.")
OPENING_SENTENCES = 4  # of page 1, always shown for terms found in the opening
SENTENCE_CHARS = 420  # a longer sentence is cut at a word boundary (still the page's words)
MAX_CITED = 3
OPENING_TERMS = ("Document Name", "Parties", "Agreement Date", "Effective Date")
# Where code finds no value, the auto route leaves these empty instead of asking the model.
# Measured on the dev set (`desk review eval --route code` vs `auto`): with the model as
# fallback, a contract without a renewal clause got one ("30 days", "1 year") and an
# expiration date was the signing date; value accuracy fell from 0.89-0.93 to 0.25-0.38 for
# the renewal terms and from 0.63 to 0.13 for the expiration date.
CODE_ONLY_TERMS = ("Effective Date", "Expiration Date", "Renewal Term",
                   "Notice Period To Terminate Renewal")

SYSTEM = (
    "You review contracts for a lawyer. You get numbered sentences from one contract and a "
    "question about it. Reply with JSON only. First judge whether a sentence answers the "
    "question: a clause counts only if it does what the question asks, a similar word is "
    "not enough; if none does, say so (\"present\": false or \"found\": false). Then in "
    "\"sentences\" give the numbers of the sentences that answer it (at most three)."
)

# Worked examples (invented contracts), evaluated once as the fixed prompt start.
EXAMPLES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("[1] (p. 7) 11. Limitation. In no event shall either party be liable for indirect, "
     "incidental or consequential damages.\n[2] (p. 7) Supplier's total liability under this "
     "Agreement shall not exceed the fees paid in the twelve months before the claim.",
     "Is a party's liability for breach capped at a maximum amount?",
     {"present": True, "sentences": [2]}),
    ("[1] (p. 2) 4. Exclusivity. Nothing in this Agreement prevents Distributor from selling "
     "competing products.\n[2] (p. 2) Distributor shall use reasonable efforts to promote the "
     "Products.",
     "Is there an exclusive dealing commitment with the counterparty?",
     {"present": False, "sentences": []}),
    ("[1] (p. 9) 18. Governing Law. This Agreement shall be construed under the laws of the "
     "State of Ohio.\n[2] (p. 9) 19. Notices. Notices shall be sent by courier.",
     "Which state's or country's law governs the interpretation of the contract?",
     {"found": True, "value": "Ohio", "sentences": [1]}),
)

# The judgement comes first, then the clause: asked to cite first, the 1.5B model found a
# clause for every term in every contract (dev set: recall 1.0, precision 0.25-0.63).
SENTENCES: dict[str, Any] = {"type": "array", "items": {"type": "integer"},
                             "maxItems": MAX_CITED}
YES_NO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"present": {"type": "boolean"}, "sentences": SENTENCES},
    "required": ["present", "sentences"],
}
VALUE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"found": {"type": "boolean"},
                   "value": {"type": "string", "maxLength": 160}, "sentences": SENTENCES},
    "required": ["found", "value", "sentences"],
}
PARTIES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"found": {"type": "boolean"},
                   "parties": {"type": "array", "items": {"type": "string", "maxLength": 100},
                               "maxItems": 6}, "sentences": SENTENCES},
    "required": ["found", "parties", "sentences"],
}
VALUE_HINTS = {
    "date": "Give the date as written in the contract.",
    "duration": "Give the length of time, e.g. \"1 year\" or \"30 days\".",
    "place": "Give only the state or country.",
    "title": "Give the title as written.",
    "parties": "List each party's name as written, without its role.",
    "text": "Give a short answer in the contract's words.",
}
OFF_TOPIC = "the clause it cited is not about {term}"
# A definition ('"Change in Control" means …') names a term; it grants, restricts or caps
# nothing, so it is never the clause a yes-no term asks for.
DEFINITION = re.compile(r"^\W*(?:\d[\d.]*\s+)?[\"“][^\"”]{2,60}[\"”]\s*(?:\([^)]*\)\s*)?"
                        r"(?:shall\s+)?(?:means?|has\s+the\s+meaning|is\s+defined|"
                        r"shall\s+have\s+the\s+meaning|refers?\s+to|includes?)\b", re.I)
MAX_JSON_TOKENS = {"yes-no": 24, "parties": 120}


@dataclass(frozen=True)
class Sentence:
    """A sentence of the excerpts, with the page it is on (its text is the page's words)."""

    n: int
    page: int
    text: str


def fixed_messages() -> list[dict[str, str]]:
    messages = [{"role": "system", "content": SYSTEM}]
    for excerpts, question, reply in EXAMPLES:
        messages.append({"role": "user", "content": _ask_text("example.pdf", excerpts,
                                                              question)})
        messages.append({"role": "assistant", "content": json.dumps(reply)})
    return messages


def _ask_text(file: str, excerpts: str, question: str) -> str:
    return f"Contract: {file}\n\n{excerpts}\n\nQuestion: {question}"


class Extractor:
    """Makes cells for one matter with one model (None: code only, e.g. without a model)."""

    def __init__(self, matter: Matter, model: AnswerModel | None, settings: Settings,
                 route: str = "auto") -> None:
        if route not in ROUTES:
            raise DeskError(f"Unknown extraction route {route!r}; use one of {', '.join(ROUTES)}.")
        self.matter = matter
        self.model = model
        self.route = route
        self.retriever = Retriever(matter, settings.retrieval)
        self._prefix_cached = False
        self._shared: tuple[int, list[Sentence]] | None = None  # (doc id, evidence block)
        self._doc_sentences: tuple[int, list[tuple[int, str]], np.ndarray] | None = None

    # -- evidence -------------------------------------------------------------------------
    def share_evidence(self, doc: Document, terms: list[Term]) -> None:
        """Show the model one evidence block for all these yes-no terms of the document:
        each term's best sentences, together, in document order. Every question then
        differs only after the block, so llama.cpp evaluates the block once per document
        and each term costs its question and a few output tokens."""
        wanted = [t for t in terms if t.value_type == "yes-no"]
        if len(wanted) < 2:
            self._shared = None
            return
        budget = max(SHARED_CHARS // len(wanted), MIN_SHARED_PER_TERM)
        chosen: dict[tuple[int, str], None] = {}
        for term in wanted:
            for sentence in self.evidence(doc, term, budget):
                chosen.setdefault((sentence.page, sentence.text))
        order = {key: i for i, key in enumerate(self.sentences_of(doc)[0])}
        block = sorted(chosen, key=lambda key: order.get(key, 0))
        self._shared = (doc.id, [Sentence(n, page, text) for n, (page, text) in
                                 enumerate(block, 1)])

    def evidence(self, doc: Document, term: Term, budget: int = 0) -> list[Sentence]:
        """The document's sentences most like the term's clause wording, within the budget,
        in document order; the opening of page 1 first for terms that live there.

        Ranked sentence by sentence over the whole document (embedded once per document):
        a clause is one or two sentences, while a passage of the matter's index mixes it
        with others, and ranking passages left governing-law clauses of long contracts out
        of the top 8. Sentences of the hybrid search's best passages get a small lift, so
        exact words still count."""
        sentences, vectors = self.sentences_of(doc)
        if not sentences:
            return []
        query = self.matter.embedder.embed([term.search_text])[0]
        hits = self.retriever.search_documents(term.search_text, [doc.id],
                                                EVIDENCE_HITS_SEARCHED)
        lifted = {_key(t) for hit in hits for _, text in self._segments(hit)
                  for t in _sentences(text)}
        scores = vectors @ query + np.array([HIT_LIFT if _key(t) in lifted else 0.0
                                             for _, t in sentences])
        keep: list[int] = []
        if term.name in OPENING_TERMS:
            keep = [i for i, (page, _) in enumerate(sentences[:OPENING_SENTENCES]) if page == 1]
        used = sum(len(sentences[i][1]) for i in keep)
        for i in (int(i) for i in np.argsort(-scores)):
            if i in keep:
                continue
            if used + len(sentences[i][1]) > (budget or EVIDENCE_CHARS) and keep:
                break
            keep.append(i)
            used += len(sentences[i][1])
        return [Sentence(n, *sentences[i]) for n, i in enumerate(sorted(keep), 1)]

    def sentences_of(self, doc: Document) -> tuple[list[tuple[int, str]], np.ndarray]:
        """Every sentence of the document with its page, and their embeddings (kept for
        the document's other terms). A short heading is joined to the sentence after it."""
        if self._doc_sentences is not None and self._doc_sentences[0] == doc.id:
            return self._doc_sentences[1], self._doc_sentences[2]
        found: list[tuple[int, str]] = []
        seen: set[str] = set()
        for number, text in enumerate(self.matter.catalog.page_texts(doc.id), 1):
            heading = ""
            for sentence in _sentences(text):
                if len(sentence) < HEADING_CHARS and len(heading) < 2 * HEADING_CHARS:
                    heading = f"{heading} {sentence}".strip()  # "12." + "Governing Law."
                    continue
                sentence = f"{heading} {sentence}".strip()
                heading = ""
                key = _key(sentence)
                if key and key not in seen:
                    seen.add(key)
                    found.append((number, sentence))
            if heading and _key(heading) not in seen:
                found.append((number, heading))
        vectors = (self.matter.embedder.embed([t for _, t in found]) if found
                   else np.zeros((0, 1), dtype=np.float32))
        self._doc_sentences = (doc.id, found, vectors)
        return found, vectors

    def _segments(self, hit: Hit) -> list[tuple[int, str]]:
        """The hit's text page by page, taken from the stored pages (a passage can span two)."""
        out = []
        for number in range(hit.page_start, hit.page_end + 1):
            page = self.matter.catalog.page(hit.doc_id, number)
            if page is None:
                continue
            start = hit.char_start if number == hit.page_start else 0
            end = hit.char_end if number == hit.page_end else len(page.text)
            out.append((number, page.text[start:end]))
        return out

    # -- a cell ---------------------------------------------------------------------------
    def cell(self, doc: Document, term: Term, known: dict[str, Cell] | None = None,
             cancel: CancelToken | None = None) -> Cell:
        """The cell for this document and term; `known` holds the document's finished cells
        (an expiration computed from the effective date needs it)."""
        started = time.perf_counter()
        shared = self._shared
        if term.value_type == "yes-no" and shared is not None and shared[0] == doc.id:
            sentences = shared[1]
        else:
            sentences = self.evidence(doc, term)
        cell: Cell | None = None
        if self.route in ("auto", "code"):
            whole = ([Sentence(0, page, text) for page, text in self.sentences_of(doc)[0]]
                     if term.name in WHOLE_DOCUMENT_RULES else None)
            cell = code_cell(doc, term, sentences, known or {}, whole)
        model_may = self.route == "model" or (self.route == "auto"
                                              and term.name not in CODE_ONLY_TERMS)
        if cell is None and model_may and self.model is not None:
            cell = self._model_cell(doc, term, sentences, cancel)
        if cell is None:
            cell = _absent(doc, term, "code", "no clause found by code")
        self.verify(cell)
        cell.seconds = round(time.perf_counter() - started, 3)
        return cell

    def _model_cell(self, doc: Document, term: Term, sentences: list[Sentence],
                    cancel: CancelToken | None) -> Cell:
        assert self.model is not None
        if not sentences:
            return _absent(doc, term, "model", "the document has no text to search")
        if not self._prefix_cached:
            self.model.cache_prefix(fixed_messages())
            self._prefix_cached = True
        excerpts = "\n".join(f"[{s.n}] (p. {s.page}) {s.text}" for s in sentences)
        question = term.question
        if term.value_type != "yes-no":
            question = f"{question} {VALUE_HINTS[term.value_type]}"
        messages = [*fixed_messages(),
                    {"role": "user", "content": _ask_text(doc.file_name, excerpts, question)}]
        schema = (YES_NO_SCHEMA if term.value_type == "yes-no" else
                  PARTIES_SCHEMA if term.value_type == "parties" else VALUE_SCHEMA)
        stats = Generation()
        text = "".join(self.model.stream_chat(
            messages, MAX_JSON_TOKENS.get(term.value_type, 80), cancel, stats, schema=schema))
        try:
            reply = json.loads(text)
            if not isinstance(reply, dict):
                raise ValueError(text)
        except ValueError:
            return _absent(doc, term, "model", f"the model's reply was not JSON: {text[:80]!r}")
        cell = model_cell(doc, term, sentences, reply)
        if not cell.present and cell.reason.endswith(OFF_TOPIC.format(term=term.name.lower())):
            found = self._best_anchored(doc, term, sentences)
            if found is not None:
                # The model judged the clause present but, shown the clauses of several terms
                # at once, cited another term's: cite the term's own best-matching clause.
                cell = Cell(doc.id, doc.file_name, term.name, "Yes", True, _cite(doc, [found]),
                            route="model", reason="the model cited another clause; this is "
                                                  "the best match for the term")
        return cell

    def _best_anchored(self, doc: Document, term: Term, shown: list[Sentence]
                       ) -> Sentence | None:
        """Of the sentences the model was shown, the one most like the term's clause wording
        that mentions the term (its anchor words) and is not a definition."""
        anchored = [x for x in shown if any(re.search(a, x.text, re.I) for a in term.anchors)
                    and not DEFINITION.search(x.text)]
        if not anchored:
            return None
        found, vectors = self.sentences_of(doc)  # the shown sentences' embeddings, kept
        row = {key: i for i, key in enumerate(found)}
        query = self.matter.embedder.embed([term.search_text])[0]
        scores = vectors[[row[(x.page, x.text)] for x in anchored]] @ query
        return anchored[int(np.argmax(scores))]

    # -- verification ---------------------------------------------------------------------
    def verify(self, cell: Cell) -> None:
        """Each quote must occur on the page it cites, as for answers."""
        for citation in cell.citations:
            if not citation.verified and citation.reason:
                continue  # already failed for a reason of its own (e.g. value not in clause)
            page = self.matter.catalog.page(cell.doc_id, citation.page)
            if page is None:
                citation.verified, citation.reason = False, f"page {citation.page} does not exist"
            elif contains(tokens(page.text), tokens(citation.quote)) < 0:
                citation.verified = False
                citation.reason = f"the quote is not on page {citation.page}"
            else:
                citation.verified, citation.reason = True, ""


# A numbered clause starting after a sentence end: "… in writing. 11.2 Assignment. …"
CLAUSE_NUMBER = r"(?:\d{1,3}(?:\.\d{1,3})*\.?|[IVX]{1,5}\.|\([a-z0-9]{1,3}\))"
CLAUSE_START = re.compile(r"(?<=[.;:])\s+(?=" + CLAUSE_NUMBER + r"\s+[A-Z])")
TRAILING_NUMBER = re.compile(r"(?<=[.;:])\s+(" + CLAUSE_NUMBER + r")$")


def _sentences(text: str) -> list[str]:
    """Sentences of a page's text, each at most SENTENCE_CHARS. A clause number the splitter
    left at the end of a sentence ("… State of New York. 10.") goes to the next one."""
    out: list[str] = []
    carried = ""
    pieces = [piece for sentence in split_sentences(" ".join(text.split()))
              for piece in CLAUSE_START.split(sentence)]
    for sentence in pieces:
        sentence = f"{carried} {sentence}".strip()
        carried = ""
        number = TRAILING_NUMBER.search(sentence)
        if number and number.start() > 0:
            carried, sentence = number.group(1), sentence[:number.start()]
        while len(sentence) > SENTENCE_CHARS:
            cut = sentence.rfind(" ", 0, SENTENCE_CHARS)
            cut = cut if cut > SENTENCE_CHARS // 2 else SENTENCE_CHARS
            out.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            out.append(sentence)
    return out


def _key(sentence: str) -> str:
    return " ".join(tokens(sentence))


def _absent(doc: Document, term: Term, route: str, reason: str = "") -> Cell:
    value = "No" if term.value_type == "yes-no" else NOT_FOUND_VALUE
    return Cell(doc.id, doc.file_name, term.name, value, False, route=route, reason=reason)


def _cite(doc: Document, chosen: list[Sentence]) -> list[CellCitation]:
    return [CellCitation(doc.file_name, s.page, s.text, True) for s in chosen]


# -- the model's reply --------------------------------------------------------------------
def model_cell(doc: Document, term: Term, sentences: list[Sentence],
               reply: dict[str, Any]) -> Cell:
    """A cell from the model's JSON: the sentences it picked become the quotes; a value must
    be found in them (else the cell is unverified, with the reason)."""
    by_n = {s.n: s for s in sentences}
    picked = [n for n in dict.fromkeys(reply.get("sentences") or []) if isinstance(n, int)]
    chosen = [by_n[n] for n in picked if n in by_n][:MAX_CITED]
    missing = [n for n in picked if n not in by_n]
    present = bool(reply.get("present", reply.get("found", False)))
    if term.value_type == "yes-no":
        if not present:
            return _absent(doc, term, "model")
        cell = Cell(doc.id, doc.file_name, term.name, "Yes", True, _cite(doc, chosen),
                    route="model")
    elif term.value_type == "parties":
        names = [" ".join(str(p).split()) for p in reply.get("parties") or [] if str(p).strip()]
        if not present or not names:
            return _absent(doc, term, "model")
        cell = Cell(doc.id, doc.file_name, term.name, "; ".join(names), True,
                    _cite(doc, chosen), {"type": "parties", "names": names}, route="model")
    else:
        value = " ".join(str(reply.get("value") or "").split())
        if not present or not value:
            return _absent(doc, term, "model")
        cell = Cell(doc.id, doc.file_name, term.name, value, True, _cite(doc, chosen),
                    route="model")
        typed = typed_value(term, value)
        if typed is not None:
            cell.typed, cell.value = typed
    problem = ""
    if not chosen:
        problem = (f"cited sentence {missing[0]}, which it was not shown" if missing
                   else "cited no clause")
    elif term.value_type != "yes-no" and not _value_in_clause(cell, chosen):
        problem = "the clause it cited does not state that"
    elif term.anchors and not any(re.search(a, s.text, re.I) for a in term.anchors
                                  for s in chosen):
        problem = OFF_TOPIC.format(term=term.name.lower())
    elif term.value_type == "yes-no" and all(DEFINITION.search(s.text) for s in chosen):
        problem = "the clause it cited only defines a word"
    if problem:
        # Like an answer no citation supports: not found, with the model's draft in the reason.
        return _absent(doc, term, "model", f"not found: the model answered {cell.value!r} "
                                           f"but {problem}")
    return cell


def typed_value(term: Term, value: str) -> tuple[dict[str, Any], str] | None:
    """The value as code parses it, and the canonical text the table shows."""
    if term.value_type == "date":
        parsed = values.parse_date(value)
        if parsed is not None:
            return {"type": "date", "iso": values.iso(parsed)}, values.iso(parsed)
    elif term.value_type == "duration":
        duration = values.parse_duration(value)
        if duration is not None:
            return duration.to_json(), duration.label()
    elif term.value_type == "place":
        place = values.canonical_place(value)
        if place is not None:
            return {"type": "place", "name": place}, place
    return None


def _value_in_clause(cell: Cell, chosen: list[Sentence]) -> bool:
    """The value the model gave must be what the cited clause says: the same date, length
    of time or place, or (other values) its words."""
    clause = " ".join(s.text for s in chosen)
    typed = cell.typed or {}
    if typed.get("type") == "date":
        return any(values.iso(d) == typed["iso"] for d, _, _ in values.find_dates(clause))
    if typed.get("type") == "duration":
        return any(d.to_json() == {**typed, "text": d.text} for d, _, _ in
                   values.find_durations(clause))
    if typed.get("type") == "place":
        return any(p == typed["name"] for p, _, _ in values.find_places(clause))
    have = tokens(clause)
    if typed.get("type") == "parties":
        return all(contains(have, tokens(name)) >= 0 for name in typed["names"])
    return contains(have, tokens(cell.value)) >= 0


# -- code extractors -----------------------------------------------------------------------
TITLE_WORDS = re.compile(r"\b(?:AGREEMENT|CONTRACT|AMENDMENT|LICENSE|LICENCE|LEASE|TERMS|"
                         r"MEMORANDUM|PLAN|DEED|ADDENDUM|SCHEDULE)\b")
# A run of upper-case words ending at the first word naming a kind of agreement.
TITLE_HEAD = re.compile(r"((?:(?!" + TITLE_WORDS.pattern + r")[A-Z0-9&][A-Z0-9&,'.-]*\s+){0,8}"
                        + TITLE_WORDS.pattern + r")")
LAW = re.compile(r"\b(?:govern\w*|constru\w*|interpret\w*)\b[^.]{0,160}?\blaws?\s+(?:of|in)\b",
                 re.I)
DATED = re.compile(r"\b(?:dated|as\s+of|made|entered\s+into|executed|day\s+of|effective)\b", re.I)
EFFECTIVE = re.compile(r"\beffective\b", re.I)
RENEWAL = re.compile(r"\b(?:renew\w*|extend\w*|extension)\b", re.I)
AUTOMATIC = re.compile(r"\bautomatic\w*|\bshall\s+(?:be\s+)?(?:renew|extend|continue)|"
                       r"\bwill\s+(?:be\s+)?(?:renew|extend|continue)", re.I)
NOTICE_BEFORE = re.compile(r"\bnotice\b", re.I)
PRIOR = re.compile(r"^\W*(?:\w+\W+){0,4}?(?:prior|before|in\s+advance|preceding)\b", re.I)
TERM_ANCHOR = re.compile(r"^\W*(?:\w+\W+){0,3}?(?:from|after|following|commencing\s+on|"
                         r"beginning\s+on)\s+(?:the\s+)?(effective\s+date|date\s+(?:of|hereof)|"
                         r"execution)", re.I)
UNTIL = re.compile(r"\b(?:until|through|expir\w*\s+on|terminat\w*\s+on|ending\s+on|end\s+on)\b"
                   r"\W*(?:\w+\W+){0,3}?$", re.I)
TERM_SENTENCE = re.compile(r"\bterm\b|\bexpir|\bcontinue\b|\bin\s+(?:full\s+)?force\b", re.I)

CodeRule = Callable[[Document, Term, list[Sentence], dict[str, Cell]], "Cell | None"]
WHOLE_DOCUMENT_RULES = ("Governing Law",)  # a pattern precise enough to scan every sentence


def code_cell(doc: Document, term: Term, sentences: list[Sentence],
              known: dict[str, Cell], whole: list[Sentence] | None = None) -> Cell | None:
    """A value by code where a pattern is reliable, or None (then the model decides). A
    pattern precise enough is also tried on every sentence of the document when the
    evidence lacks it (a missed clause costs more than a scan)."""
    rule = CODE_RULES.get(term.name)
    if rule is None:
        return None
    cell = rule(doc, term, sentences, known)
    if cell is None and whole and term.name in WHOLE_DOCUMENT_RULES:
        cell = rule(doc, term, whole, known)
    return cell


def _found(doc: Document, term: Term, sentence: Sentence, value: str,
           typed: dict[str, Any] | None) -> Cell:
    return Cell(doc.id, doc.file_name, term.name, value, True, _cite(doc, [sentence]), typed,
                route="code")


def _title(doc: Document, term: Term, sentences: list[Sentence],
           known: dict[str, Cell]) -> Cell | None:
    """The first upper-case heading of page 1 that names a kind of agreement."""
    for sentence in sentences[:6]:
        if sentence.page != 1:
            continue
        match = TITLE_HEAD.search(sentence.text)
        if match:
            # Exhibit numbers and "EXHIBIT 10.26" labels lead the heading; they are not its name.
            words = match.group(1).split()
            while words and (re.search(r"\d", words[0]) or words[0] in ("EXHIBIT", "EX")):
                words.pop(0)
            title = " ".join(words).strip(" ,.-")
            if len(title) >= 6 and TITLE_WORDS.search(title):
                return _found(doc, term, sentence, title, None)
    return None


def _governing_law(doc: Document, term: Term, sentences: list[Sentence],
                   known: dict[str, Cell]) -> Cell | None:
    for sentence in sentences:
        for match in LAW.finditer(sentence.text):
            places = values.find_places(sentence.text[match.end():match.end() + 140])
            if places:
                name = places[0][0]
                return _found(doc, term, sentence, name, {"type": "place", "name": name})
    return None


def _agreement_date(doc: Document, term: Term, sentences: list[Sentence],
                    known: dict[str, Cell]) -> Cell | None:
    """A date in the opening words that says when the agreement was made."""
    for sentence in sentences[:8]:
        if sentence.page != 1:
            continue
        for found, start, _ in values.find_dates(sentence.text):
            if DATED.search(sentence.text[max(0, start - 80):start]):
                return _found(doc, term, sentence, values.iso(found),
                              {"type": "date", "iso": values.iso(found)})
    return None


def _effective_date(doc: Document, term: Term, sentences: list[Sentence],
                    known: dict[str, Cell]) -> Cell | None:
    for sentence in sentences:
        if not EFFECTIVE.search(sentence.text):
            continue
        for found, start, end in values.find_dates(sentence.text):
            near = sentence.text[max(0, start - 100):end + 60]
            if EFFECTIVE.search(near):
                return _found(doc, term, sentence, values.iso(found),
                              {"type": "date", "iso": values.iso(found)})
    return None


def _expiration_date(doc: Document, term: Term, sentences: list[Sentence],
                     known: dict[str, Cell]) -> Cell | None:
    """An explicit end date ("until December 31, 2023"), or a term counted from the
    effective date ("for five (5) years from the Effective Date"), computed by code."""
    for sentence in sentences:
        if not TERM_SENTENCE.search(sentence.text):
            continue
        for found, start, _ in values.find_dates(sentence.text):
            if UNTIL.search(sentence.text[max(0, start - 60):start]):
                return _found(doc, term, sentence, values.iso(found),
                              {"type": "date", "iso": values.iso(found)})
    start_cell = known.get("Effective Date") or known.get("Agreement Date")
    if start_cell is None or not start_cell.present or (start_cell.typed or {}).get("type") != "date":
        return None
    for sentence in sentences:
        if not re.search(r"\bterm\b", sentence.text, re.I):
            continue
        for duration, start, end in values.find_durations(sentence.text):
            before, after = sentence.text[max(0, start - 60):start], sentence.text[end:end + 80]
            if RENEWAL.search(before) or not TERM_ANCHOR.search(after):
                continue
            assert start_cell.typed is not None
            begin = values.parse_date(start_cell.typed["iso"])
            if begin is None:
                continue
            ends = values.add_duration(begin, duration)
            cell = _found(doc, term, sentence, values.iso(ends),
                          {"type": "date", "iso": values.iso(ends)})
            cell.route = "derived"
            cell.formula = f"{start_cell.term} ({start_cell.value}) + {duration.label()}"
            cell.inputs = [start_cell.term]
            cell.citations += [CellCitation(c.file, c.page, c.quote, c.verified, c.reason)
                               for c in start_cell.citations]
            return cell
    return None


def _renewal_term(doc: Document, term: Term, sentences: list[Sentence],
                  known: dict[str, Cell]) -> Cell | None:
    for sentence in sentences:
        if not RENEWAL.search(sentence.text):
            continue
        for duration, _, end in values.find_durations(sentence.text):
            if PRIOR.search(sentence.text[end:end + 40]):
                continue  # a notice period, not the renewal term
            automatic = bool(AUTOMATIC.search(sentence.text))
            label = duration.label() + (", renews automatically" if automatic else "")
            typed = {**duration.to_json(), "automatic": automatic}
            return _found(doc, term, sentence, label, typed)
    return None


def _notice_period(doc: Document, term: Term, sentences: list[Sentence],
                   known: dict[str, Cell]) -> Cell | None:
    for sentence in sentences:
        if not (RENEWAL.search(sentence.text) and NOTICE_BEFORE.search(sentence.text)):
            continue
        for duration, _, end in values.find_durations(sentence.text):
            if PRIOR.search(sentence.text[end:end + 40]):
                return _found(doc, term, sentence, duration.label(), duration.to_json())
    return None


DEFINED_AS = re.compile(r"\(\s*(?:the\s+|each\s+a\s+|hereinafter\s+(?:called\s+|referred\s+to\s+"
                        r"as\s+)?)?[\"“”']+([^\"“”')]{1,40})[\"“”']+[^)]{0,40}\)")
PREAMBLE_CHARS = 2000
DESCRIPTOR = re.compile(r",?\s+(?:a|an|the)\s+(?:company|corporation|limited|[A-Z]\w+\s+"
                        r"(?:corporation|company|limited|partnership|llc))|,\s+(?:a|an)\s+|,\s+"
                        r"(?:with|having|whose|located|organi[sz]ed|incorporated)\b", re.I)
NOT_PARTIES = {"agreement", "effective date", "parties", "party", "territory", "products",
               "product", "services", "term", "affiliate", "affiliates"}
ENTITY = re.compile(r"\b(?:inc|llc|l\.l\.c|ltd|limited|corp|corporation|company|co|plc|gmbh|"
                    r"ag|s\.a|sa|lp|l\.p|llp|bv|b\.v|n\.v|pte|pty|trust|bank|university|"
                    r"association|partners|holdings|group)\b\.?", re.I)


def _parties(doc: Document, term: Term, sentences: list[Sentence],
             known: dict[str, Cell]) -> Cell | None:
    """The preamble's parties: each name that a defined term in parentheses follows
    ('System Associates, Inc., a Florida corporation … ("ISA")'), without its description.
    The preamble is read whole (the opening sentences of page 1 joined): it is often one
    long sentence, longer than an excerpt sentence."""
    opening = [x.text for x in sentences if x.page == 1][:OPENING_SENTENCES + 2]
    text = " ".join(opening)[:PREAMBLE_CHARS]
    names: list[str] = []
    first = last_end = 0
    previous = 0
    for match in DEFINED_AS.finditer(text):
        segment_start = previous
        previous = match.end()
        if match.group(1).strip().casefold() in NOT_PARTIES:
            continue
        before = text[segment_start:match.start()]
        between = [m.end() for m in re.finditer(r"\b(?:between|among)\s+", before, re.I)]
        joined = [m.end() for m in re.finditer(r"(?:\band\b|;)\s+", before, re.I)]
        start = between[-1] if between else joined[0] if joined else 0
        name = before[start:]
        cut = DESCRIPTOR.search(name)
        name = name[:cut.start()] if cut else name
        name = name.split("(")[0].strip(" ,;:.").strip()
        words = name.split()
        if 1 <= len(words) <= 10 and (ENTITY.search(name) or all(
                w[:1].isupper() for w in words)) and name.casefold() not in (
                n.casefold() for n in names):
            if not names:
                first = segment_start + start
            names.append(name)
            last_end = match.end()
    if len(names) < 2:
        return None
    clause = Sentence(0, 1, text[first:last_end].strip())
    return _found(doc, term, clause, "; ".join(names), {"type": "parties", "names": names})


CODE_RULES: dict[str, CodeRule] = {
    "Parties": _parties,
    "Document Name": _title,
    "Governing Law": _governing_law,
    "Agreement Date": _agreement_date,
    "Effective Date": _effective_date,
    "Expiration Date": _expiration_date,
    "Renewal Term": _renewal_term,
    "Notice Period To Terminate Renewal": _notice_period,
}

