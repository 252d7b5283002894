"""Retrieval metrics on a LegalBench-RAG-style set: document, page and character recall/precision.

Character overlap is measured on the documents' letters and digits only, folded as the citation
verifier folds them (desk.core.text `tokens`: accents, case and compatibility forms), so gold
text from another extractor still lines up with ours despite quotes, hyphens, accents and
spacing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from desk.core.errors import DeskError
from desk.core.text import letters_digits, letters_digits_offsets
from desk.core.types import Hit
from desk.evaluation.stats import median_p95
from desk.index.matter import Matter
from desk.index.retriever import Retriever

DEFAULT_KS = (1, 4, 8, 16, 64)


class DocumentText:
    """A document's pages joined, with a map from (page, offset) to letter-and-digit offsets."""

    def __init__(self, pages: list[str]) -> None:
        self.page_starts: list[int] = []
        cum: list[np.ndarray] = []
        total = 0
        for text in pages:
            counts = np.asarray(letters_digits_offsets(text), dtype=np.int64) + total
            cum.append(counts)
            self.page_starts.append(total)
            total = int(counts[-1])
        self._cum = cum
        self.alnum = "".join(letters_digits(t) for t in pages)

    def offset(self, page: int, char: int) -> int:
        counts = self._cum[page - 1]
        return int(counts[min(max(char, 0), len(counts) - 1)])

    def locate(self, gold: str) -> tuple[int, int] | None:
        needle = letters_digits(gold)
        if not needle:
            return None
        at = self.alnum.find(needle)
        if at >= 0:
            return at, at + len(needle)
        # Extractors disagree on a few characters: anchor on the start and end instead.
        anchor = min(40, len(needle) // 2)
        start = self.alnum.find(needle[:anchor])
        end = self.alnum.find(needle[-anchor:], max(start, 0))
        if start >= 0 and end >= 0 and end - start < 2 * len(needle):
            return start, end + anchor
        return None


def _overlap(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    return sum(max(0, min(x1, y1) - max(x0, y0)) for x0, x1 in a for y0, y1 in b)


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


@dataclass
class EvalResult:
    ks: tuple[int, ...]
    rows: dict[int, dict[str, float]]
    questions: int
    located: int
    latency_ms_p50: float
    latency_ms_p95: float

    def to_json(self) -> dict[str, object]:
        return {"questions": self.questions, "gold_located": self.located,
                "latency_ms": {"p50": self.latency_ms_p50, "p95": self.latency_ms_p95},
                "k": {str(k): self.rows[k] for k in self.ks}}

    def table(self) -> str:
        lines = ["| k | doc recall | page recall | char recall | char precision |",
                 "|---|---|---|---|---|"]
        for k in self.ks:
            r = self.rows[k]
            lines.append(f"| {k} | {r['doc_recall']:.2f} | {r['page_recall']:.2f} | "
                         f"{r['char_recall']:.2f} | {r['char_precision']:.2f} |")
        lines.append(f"({self.questions} questions; gold text located for {self.located} "
                     f"snippets; search p50 {self.latency_ms_p50:.1f} ms, "
                     f"p95 {self.latency_ms_p95:.1f} ms)")
        return "\n".join(lines)


def load_set(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DeskError(f"Cannot read evaluation set {path}: {exc}") from exc
    if not isinstance(data, dict) or "tests" not in data:
        raise DeskError(f"{path} is not an evaluation set (no 'tests' list).")
    return data


def evaluate_retrieval(matter: Matter, tests: list[dict], ks: tuple[int, ...] = DEFAULT_KS,
                       mode: str = "hybrid") -> EvalResult:
    retriever = Retriever(matter, mode=mode)
    catalog = matter.catalog
    docs_by_name = {d.file_name: d for d in catalog.documents()}
    texts: dict[int, DocumentText] = {}

    def doc_text(doc_id: int) -> DocumentText:
        if doc_id not in texts:
            texts[doc_id] = DocumentText(catalog.page_texts(doc_id))
        return texts[doc_id]

    sums = {k: {"doc_recall": 0.0, "page_recall": 0.0, "char_recall": 0.0,
                "char_precision": 0.0} for k in ks}
    char_counted = 0
    located = 0
    latencies = []
    max_k = max(ks)
    for test in tests:
        started = time.perf_counter()
        hits = retriever.search(test["query"], k=max_k)
        latencies.append((time.perf_counter() - started) * 1000)
        gold: list[tuple[int, list[int], tuple[int, int] | None]] = []
        for snip in test["snippets"]:
            doc = docs_by_name.get(snip["file"])
            if doc is None:
                raise DeskError(f"Gold document {snip['file']!r} is not in matter "
                                f"{matter.name!r}; index the evaluation PDFs first.")
            span = doc_text(doc.id).locate(snip["text"])
            located += span is not None
            gold.append((doc.id, list(snip["pages"]), span))
        spans_ok = all(span is not None for _, _, span in gold)
        char_counted += spans_ok
        for k in ks:
            top = hits[:k]
            sums[k]["doc_recall"] += _share(gold, partial(_doc_found, top))
            sums[k]["page_recall"] += _share(gold, partial(_page_found, top))
            if spans_ok:
                recall, precision = _char_scores(gold, top, doc_text)
                sums[k]["char_recall"] += recall
                sums[k]["char_precision"] += precision
    n = len(tests)
    rows = {k: {"doc_recall": round(v["doc_recall"] / n, 4),
                "page_recall": round(v["page_recall"] / n, 4),
                "char_recall": round(v["char_recall"] / max(char_counted, 1), 4),
                "char_precision": round(v["char_precision"] / max(char_counted, 1), 4)}
            for k, v in sums.items()}
    return EvalResult(ks, rows, n, located, *median_p95(latencies, 2))


def _doc_found(hits: list[Hit], gold: tuple[int, list[int], Any]) -> bool:
    return any(h.doc_id == gold[0] for h in hits)


def _page_found(hits: list[Hit], gold: tuple[int, list[int], Any]) -> bool:
    return any(h.doc_id == gold[0] and any(h.page_start <= p <= h.page_end for p in gold[1])
               for h in hits)


def _share(gold: list, found: Callable[[Any], bool]) -> float:
    return sum(1.0 for g in gold if found(g)) / len(gold)


def _char_scores(gold: list, hits: list[Hit],
                 doc_text: Callable[[int], DocumentText]) -> tuple[float, float]:
    retrieved: dict[int, list[tuple[int, int]]] = {}
    for h in hits:
        text = doc_text(h.doc_id)
        retrieved.setdefault(h.doc_id, []).append(
            (text.offset(h.page_start, h.char_start), text.offset(h.page_end, h.char_end)))
    gold_spans: dict[int, list[tuple[int, int]]] = {}
    for doc_id, _, span in gold:
        gold_spans.setdefault(doc_id, []).append(span)
    inter = gold_total = got_total = 0
    for doc_id, spans in retrieved.items():
        merged = _union(spans)
        got_total += sum(e - s for s, e in merged)
        inter += _overlap(merged, _union(gold_spans.get(doc_id, [])))
    gold_total = sum(e - s for spans in gold_spans.values() for s, e in _union(spans))
    return (inter / gold_total if gold_total else 0.0, inter / got_total if got_total else 0.0)
