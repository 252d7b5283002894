"""Hybrid retrieval: dense (HNSW) and lexical (FTS5 BM25, plus exact identifier phrases) fused by
reciprocal rank, scoped to a matter or a document, favouring a document the question names."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from desk.config.settings import RetrievalSettings
from desk.core.errors import DeskError
from desk.core.types import Hit
from desk.index.citations import BLANK_PAGE, keys_typed_in, query_citations
from desk.index.matter import Matter
from desk.index.query import parse_query, split_clauses

MODES = ("hybrid", "dense", "lexical")
NAMING_RATIO = 1.5  # a clause names a document when it matches it this much better than the next
# On matters above PRUNE_ABOVE_CHUNKS passages, BM25 scores the rarest query terms whose
# postings fit POSTINGS_BUDGET (at least MIN_TERMS of them): common terms carry little BM25
# weight but cost the most to score, and the dense ranking still has them.
PRUNE_ABOVE_CHUNKS = 20_000
POSTINGS_BUDGET = 25_000
MIN_TERMS = 2


@dataclass
class Focus:
    """The document a question names, and the question with the naming clause taken out."""

    doc_id: int | None
    question: str


CITED_SCORE = 1.0  # above any fused score (reciprocal ranks sum to well under 1)
_NAME_WORD = re.compile(r"\b[A-Z][A-Za-z'’\-]{2,}")
# capitalised words of questions that are not parties' names
_NOT_NAMES = {"what", "which", "who", "whom", "how", "does", "did", "was", "were", "the", "this",
              "that", "court", "supreme", "section", "agreement", "contract", "held", "hold",
              "holding", "find", "show", "list", "case", "cases", "under", "when", "where",
              "why", "and", "for", "with", "state", "states", "united", "are", "can"}


class Retriever:
    def __init__(self, matter: Matter, settings: RetrievalSettings | None = None,
                 mode: str = "hybrid") -> None:
        if mode not in MODES:
            raise DeskError(f"Unknown retrieval mode {mode!r}; use one of {', '.join(MODES)}.")
        self.matter = matter
        self.settings = settings or RetrievalSettings()
        self.mode = mode
        self.last_ms = 0.0
        self.last_focus = Focus(None, "")  # of the latest search, for callers that need it too

    # -- public -------------------------------------------------------------------------
    def search(self, query: str, k: int = 8, document: str | None = None,
               whole_matter: bool = False) -> list[Hit]:
        """Best k passages; within `document`, or within the document the query names,
        unless `whole_matter` (the question is about the documents as a set)."""
        started = time.perf_counter()
        catalog = self.matter.catalog
        doc_ids: list[int] | None = None
        if document:
            docs = catalog.find_documents(document)
            if not docs:
                raise DeskError(f"No document named {document!r} in matter {self.matter.name!r}.")
            doc_ids = [d.id for d in docs]
            focus = Focus(None, query)
        elif whole_matter:
            focus = Focus(None, query)
        else:
            focus = self.focus(query)
            if focus.doc_id is not None:
                doc_ids = [focus.doc_id]
        self.last_focus = focus
        # an authority is looked up across the matter (unless a document was chosen): the
        # document whose opening the query resembles is rarely the one citing it
        cited = self._cited(query, doc_ids if document else None, k)
        taken = {cid for cid, _ in cited}
        fused = [item for item in self._fuse(focus.question, doc_ids, max(k, 1))
                 if item[0] not in taken]
        hits = self._hits((cited + fused)[:k])
        self.last_ms = (time.perf_counter() - started) * 1000
        return hits

    def search_documents(self, query: str, doc_ids: list[int], k: int = 8) -> list[Hit]:
        """Best k passages inside these documents (by id: file names need not be unique)."""
        started = time.perf_counter()
        hits = self._hits(self._fuse(query, doc_ids, max(k, 1))[:k])
        self.last_ms = (time.perf_counter() - started) * 1000
        return hits

    def follow_up_query(self, question: str, previous: str | None) -> str:
        """A follow-up ("and when does it end?") is searched together with the previous
        question, unless it is about another document than the previous one (which would
        pull the search back to the earlier document)."""
        if not previous:
            return question
        named = self.focus(question).doc_id
        if named is not None and named != self.focus(previous).doc_id:
            return question
        return f"{previous} {question}"

    def focus(self, query: str) -> Focus:
        """Find a document named by one clause of the question; other clauses are the question."""
        if self.matter.catalog.document_count() <= 1:
            return Focus(None, query)
        clauses = split_clauses(query)
        for clause in clauses:
            ranked = self.matter.catalog.document_search(parse_query(clause).terms_query, 2)
            if not ranked:
                continue
            best = ranked[0][1]
            second = ranked[1][1] if len(ranked) > 1 else 0.0
            if best > 0 and best >= NAMING_RATIO * max(second, 1e-9):
                rest = [c for c in clauses if c != clause]
                return Focus(ranked[0][0], "; ".join(rest) if rest else query)
        return Focus(None, query)

    # -- rankers --------------------------------------------------------------------------
    def _dense(self, text: str, doc_ids: list[int] | None, n: int) -> list[int]:
        vector = self.matter.embedder.embed([text])[0]
        store = self.matter.vectors
        if doc_ids is None:
            return [i for i, _ in store.search(vector, n)]
        ids = [i for d in doc_ids for i in self.matter.catalog.chunk_ids(d) if i in store]
        if not ids:
            return []
        sims = store.vectors(ids) @ vector  # exact cosine within a document: small and precise
        order = np.argsort(-sims)[:n]
        return [ids[i] for i in order]

    def _lexical(self, text: str, doc_ids: list[int] | None, n: int) -> tuple[list[int], list[int]]:
        parsed = parse_query(text)
        catalog = self.matter.catalog
        total = catalog.chunk_id_bound()
        if doc_ids is None and total > PRUNE_ABOVE_CHUNKS and len(parsed.terms) > MIN_TERMS:
            parsed.terms = self._selective_terms(parsed.terms)
        terms = [i for i, _ in catalog.keyword_search(parsed.terms_query, n, doc_ids)]
        phrases = [i for i, _ in catalog.keyword_search(parsed.phrases_query, n, doc_ids)]
        return terms, phrases

    def _selective_terms(self, terms: list[str]) -> list[str]:
        """On a large matter, BM25 time grows with the postings it scores. Keep the rarest
        terms (they carry the most weight) while their postings fit a fixed budget; the
        dense search still sees the whole question."""
        df = self.matter.catalog.document_frequencies(terms)
        kept: list[str] = []
        postings = 0
        for term in sorted(terms, key=lambda t: df.get(t, 0)):
            if len(kept) >= MIN_TERMS and postings + df.get(term, 0) > POSTINGS_BUDGET:
                break
            kept.append(term)
            postings += df.get(term, 0)
        return [t for t in terms if t in kept]

    def _cited(self, query: str, doc_ids: list[int] | None, k: int) -> list[tuple[int, float]]:
        """Passages on the pages that cite the authority the query names, by its citation in
        any form ("539 U. S. 306", "42 USC 1983", "cal civ code 1542") or by the case's name
        ("Grutter v. Bollinger", "Grutter"): exact matches from the citation index, ranked
        before the hybrid results, the pages that refer to it most (its discussion) first."""
        catalog = self.matter.catalog
        keys, name = query_citations(query), ""
        if not keys and any(c.isdigit() for c in query):
            keys = keys_typed_in(query, catalog.citation_keys())
        if not keys:
            keys, name = self._cases_named(query)
        elif any(key.endswith(BLANK_PAGE) for key in keys):  # which of the volume's cases
            name = self._cases_named(query)[1]
        ranked: dict[int, float] = {}  # a passage may hold several citing pages' first cite
        for doc_id, page, references, offset in catalog.citing_pages(keys, doc_ids, name)[:k]:
            cid = catalog.chunk_at(doc_id, page, offset)
            if cid is not None:
                ranked.setdefault(cid, CITED_SCORE + references / 1000)
        return list(ranked.items())

    def _cases_named(self, query: str) -> tuple[list[str], str]:
        """The citations and the name of the one case the query names: all its capitalised
        words together ("Grutter v. Bollinger"), else one of them alone when it names a single
        case (one name; its parallel citations count as one)."""
        words = [w for w in _NAME_WORD.findall(query) if w.lower() not in _NOT_NAMES]
        catalog = self.matter.catalog
        for candidate in ([words] if len(words) > 1 else []) + [[w] for w in words]:
            found = catalog.case_keys_named(candidate)
            keys = list(dict.fromkeys(key for key, _ in found))
            names = {name.lower() for _, name in found} | catalog.case_names(keys)
            if len(names) == 1:
                return keys, found[0][1]
        return [], ""

    def _fuse(self, text: str, doc_ids: list[int] | None, k: int) -> list[tuple[int, float]]:
        n = max(self.settings.candidates, k)
        rankings: list[tuple[float, list[int]]] = []
        if self.mode in ("hybrid", "dense"):
            rankings.append((1.0, self._dense(text, doc_ids, n)))
        if self.mode in ("hybrid", "lexical"):
            terms, phrases = self._lexical(text, doc_ids, n)
            # Exact identifier phrases weigh fully: that is where embeddings fail.
            rankings.extend([(self.settings.lexical_weight, terms), (1.0, phrases)])
        scores: dict[int, float] = defaultdict(float)
        for weight, ranking in rankings:
            for rank, cid in enumerate(ranking):
                scores[cid] += weight / (self.settings.rrf_k + rank + 1)
        return sorted(scores.items(), key=lambda item: -item[1])

    def _hits(self, ranked: list[tuple[int, float]]) -> list[Hit]:
        catalog = self.matter.catalog
        chunks = catalog.chunks([cid for cid, _ in ranked])
        names: dict[int, str] = {}
        hits = []
        for cid, score in ranked:
            chunk = chunks.get(cid)
            if chunk is None:
                continue  # removed since the vector file was written
            if chunk.doc_id not in names:
                doc = catalog.document(chunk.doc_id)
                names[chunk.doc_id] = doc.file_name if doc else "?"
            hits.append(Hit(cid, chunk.doc_id, names[chunk.doc_id], chunk.page_start,
                            chunk.page_end, chunk.char_start, chunk.char_end, chunk.text, score))
        return hits
