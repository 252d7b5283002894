"""The answering service: the one place where a question becomes a verified answer
(retrieve -> prompt -> stream -> verify citations -> remember). The CLI, the window and the
evaluations all use it; one service per open matter and loaded model (and settings object)
keeps the prompt's fixed start evaluated once per model load, never per question."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

import numpy as np

from desk.config.settings import Settings
from desk.core.progress import CancelToken, drive
from desk.core.types import Answer, Hit
from desk.index.matter import Matter
from desk.index.retriever import Retriever
from desk.llm.model import AnswerModel, Generation
from desk.rag.citations import contains, says_not_found, verify_citations, words
from desk.rag.prompt import Passage, build_messages, fixed_messages, select_passages
from desk.rag.turns import NOT_FOUND_TEXT, load_turns

MIN_RELEVANCE = 0.15  # cosine of question and best passage below which nothing is relevant
RETRIEVE_K = 16
PROMPT_OVERHEAD_TOKENS = 100  # chat markup and the question, besides the fixed start

# A follow-up that speaks of the documents as a set ("which of these agreements…", "do all the
# contracts…", "how many of them…") is about the whole matter, not the last document. Narrow on
# purpose: contract wording such as "supersedes all prior agreements" or "any other agreement"
# names no set of the matter's documents.
_SET = r"(?:agreements|contracts|documents|files|deals|leases)"
_WHOLE_MATTER = re.compile(
    rf"\b(?:these|those)\s+(?:\w+\s+)?{_SET}\b"  # these agreements, those two contracts
    rf"|\b(?:all|any|each|every|both|none|some|which|how\s+many)\s+of\s+"
    rf"(?:them\b|(?:the|these|those)\s+(?:\w+\s+)?{_SET}\b)"  # any of these (two) agreements
    rf"|\b(?:which|how\s+many)\s+(?:\w+\s+)?{_SET}\b"  # which contracts, how many agreements
    rf"|\b(?:all|both)\s+(?:the\s+)?{_SET}\b"  # all the contracts, both agreements
    r"|\b(?:each|every)\s+(?:agreement|contract|document|lease)\b"
    rf"|\b(?:list|compare)\s+(?:all\s+)?(?:the\s+)?(?:\w+\s+)?{_SET}\b"
    r"|\b(?:in|across|throughout)\s+(?:the|this)\s+(?:whole\s+|entire\s+)?matter\b",
    re.IGNORECASE)


def speaks_of_whole_matter(question: str) -> bool:
    """True for a question about the matter's documents as a set rather than one of them."""
    return bool(_WHOLE_MATTER.search(question))


@dataclass
class AnswerJob:
    """A prepared question: its evidence and prompt. `answer` is set when streaming ends."""

    question: str
    passages: list[Passage]
    messages: list[dict[str, str]]
    retrieval_ms: float
    answer: Answer | None = None
    generation: Generation = field(default_factory=Generation)


class AnswerService:
    def __init__(self, matter: Matter, model: AnswerModel, settings: Settings) -> None:
        self.matter = matter
        self.model = model
        self.settings = settings
        self.retriever = Retriever(matter, settings.retrieval)
        self._fixed_tokens: int | None = None

    @property
    def fixed_tokens(self) -> int:
        """Tokens of the prompt's fixed start, cached in the model on first use (the model
        skips the work when it already holds them, e.g. after a matter switch)."""
        if self._fixed_tokens is None:
            self.matter.embedder.embed(["warm up"])  # load the embedder before the first answer
            self._fixed_tokens = self.model.cache_prefix(fixed_messages())
        return self._fixed_tokens

    # -- history --------------------------------------------------------------------------
    def history(self, conversation_id: int | None) -> list[tuple[str, str]]:
        """Earlier turns that fit the context, latest first to be kept."""
        if conversation_id is None:
            return []
        turns = [(q, a["answer"]) for q, a in load_turns(self.matter.catalog, conversation_id)]
        budget = (self.model.n_ctx - self.settings.llm.evidence_tokens
                  - self.settings.llm.max_answer_tokens - self.fixed_tokens
                  - PROMPT_OVERHEAD_TOKENS)
        kept: list[tuple[str, str]] = []
        for question, answer in reversed(turns):
            cost = self.model.count_tokens(question + answer) + 10
            if cost > budget:
                break
            kept.insert(0, (question, answer))
            budget -= cost
        return kept

    # -- asking ---------------------------------------------------------------------------
    def prepare(self, question: str, conversation_id: int | None = None,
                document: str | None = None) -> AnswerJob:
        started = time.perf_counter()
        self.fixed_tokens  # noqa: B018 (the prefix is cached before the first question's work)
        history = self.history(conversation_id)
        previous = history[-1][0] if history else None
        # A follow-up about the documents as a set: the whole matter, no document focus.
        whole_matter = previous is not None and speaks_of_whole_matter(question)
        query = question if whole_matter else self.search_query(question, previous)
        hits = self.retriever.search(query, k=RETRIEVE_K, document=document,
                                     whole_matter=whole_matter)
        hits = hits if self._relevant(hits) else []
        passages = select_passages(hits, self.settings.llm.evidence_tokens,
                                   self.model.count_tokens)
        retrieval_ms = (time.perf_counter() - started) * 1000
        asked = self._as_asked(question, query, passages)
        return AnswerJob(question, passages, build_messages(asked, passages, history),
                         retrieval_ms)

    def search_query(self, question: str, previous: str | None) -> str:
        """What to search for: a follow-up is searched with the question before it."""
        if previous is None:
            return question
        return self.retriever.follow_up_query(question, previous)

    def _as_asked(self, question: str, query: str, passages: list[Passage]) -> str:
        """The question put to the model: without a clause that only names the document
        ("Consider the supply agreement between A and B; what is the term?") when every
        source comes from that document, whose name heads the sources anyway. Measured on
        the dev set, the 1.5B model found the answer markedly more often without it."""
        focus = (self.retriever.last_focus if query == question
                 else self.retriever.focus(question))
        if focus.doc_id is None or {p.doc_id for p in passages} != {focus.doc_id}:
            return question
        return focus.question

    def _relevant(self, hits: list[Hit]) -> bool:
        if not hits:
            return False
        ids = [h.chunk_id for h in hits if h.chunk_id in self.matter.vectors]
        if not ids:
            return True  # semantic index not ready: keyword hits are all there is to judge by
        # The question as searched: without a clause that only names the document.
        vector = self.matter.embedder.embed([self.retriever.last_focus.question])[0]
        return float(np.max(self.matter.vectors.vectors(ids) @ vector)) >= MIN_RELEVANCE

    def stream(self, job: AnswerJob, cancel: CancelToken | None = None) -> Iterator[str]:
        """Yield answer text as it is generated; sets job.answer at the end."""
        timings: dict[str, float] = {"retrieval_ms": round(job.retrieval_ms, 1)}
        if not job.passages:
            job.answer = Answer(NOT_FOUND_TEXT, False, timings={
                **timings, "prompt_tokens": 0, "ttft_ms": 0.0, "gen_tokens_per_s": 0.0})
            yield NOT_FOUND_TEXT
            return
        yield from self.model.stream_chat(job.messages, self.settings.llm.max_answer_tokens,
                                          cancel, job.generation)
        gen = job.generation
        timings.update({"prompt_tokens": gen.prompt_tokens, "ttft_ms": round(gen.ttft_ms, 1),
                        "gen_tokens_per_s": round(gen.gen_tokens_per_s, 2)})
        job.answer = self.finish(gen.text, job.passages, timings, job.question)

    def finish(self, text: str, passages: list[Passage], timings: dict[str, float],
               question: str = "") -> Answer:
        """Judge the model's text: verified answer, or not found (with the draft kept)."""
        text = text.strip()
        evidence = [h for p in passages for h in p.hits]
        if not text or says_not_found(text):
            return Answer(NOT_FOUND_TEXT, False, evidence=evidence, timings=timings)
        text, citations, unsupported = verify_citations(text, passages, self._page_of,
                                                          question)
        if not any(c.verified for c in citations):
            # Nothing in the draft could be found in the sources: not an answer from the
            # documents. The draft stays visible, marked, for the lawyer to judge.
            return Answer(NOT_FOUND_TEXT, False, citations, evidence, unsupported, timings,
                          draft=text)
        return Answer(text, True, citations, evidence, unsupported, timings)

    def _page_of(self, passage: Passage, quote: str) -> int:
        needle = words(quote)
        for number in range(passage.page_start, passage.page_end + 1):
            page = self.matter.catalog.page(passage.doc_id, number)
            if page and contains(words(page.text), needle) >= 0:
                return number
        return passage.page_start

    def answer(self, question: str, conversation_id: int | None = None,
               document: str | None = None, cancel: CancelToken | None = None
               ) -> Generator[AnswerJob | str, None, Answer]:
        """The whole flow for a caller that shows it as it happens: yields the prepared job
        (its evidence) once, then the answer's text pieces; remembers the turn when a
        conversation is given; returns the verified answer."""
        job = self.prepare(question, conversation_id, document)
        yield job
        yield from self.stream(job, cancel)
        assert job.answer is not None
        if conversation_id is not None:
            self.remember(conversation_id, question, job.answer)
        return job.answer

    def ask(self, question: str, conversation_id: int | None = None,
            document: str | None = None, cancel: CancelToken | None = None) -> Answer:
        """Answer without streaming (and remember the turn when a conversation is given)."""
        return drive(self.answer(question, conversation_id, document, cancel), lambda _: None)

    def remember(self, conversation_id: int, question: str, answer: Answer) -> None:
        """Store the full typed answer (reasons, draft, unsupported sentences included)."""
        self.matter.catalog.add_turn(conversation_id, question, json.dumps(answer.to_json()))


_current: AnswerService | None = None
_current_lock = threading.Lock()


def answering_service(matter: Matter, model: AnswerModel, settings: Settings) -> AnswerService:
    """The service for this open matter and loaded model: the same object until either
    changes, so callers never rebuild it (nor re-evaluate the prompt's fixed start)."""
    global _current
    with _current_lock:
        current = _current
        if (current is None or current.matter is not matter or current.model is not model
                or current.settings is not settings):
            current = _current = AnswerService(matter, model, settings)
        return current


def release_services() -> None:
    """Forget the kept service: its matter is closing or another model is loading, and
    neither the old matter nor the old model should stay in memory through it."""
    global _current
    with _current_lock:
        _current = None
