"""Answer quality on an evaluation set: verified citations, gold pages cited, "not found" on
questions whose clause is absent, and time to first token."""

from __future__ import annotations

import statistics
import sys
from typing import Any

from desk.evaluation.stats import median_p95
from desk.llm.model import Generation
from desk.rag.service import AnswerService


def evaluate_answers(service: AnswerService, data: dict[str, Any], positives: int,
                     negatives: int, verbose: bool = False) -> dict[str, Any]:
    """Ask the first `positives` answerable and `negatives` absent-clause questions.

    Questions are taken spread evenly over the set (not the first n), so one contract or
    category does not dominate a small sample.
    """
    tests = spread(data["tests"], positives)
    negs = spread(data.get("negatives", []), negatives)
    all_verified = gold_cited = answered = 0
    citations_total = citations_verified = 0
    ttft: list[float] = []
    speed: list[float] = []
    rows = []
    for test in tests:
        answer = service.ask(test["query"])
        gold = {(s["file"], p) for s in test["snippets"] for p in s["pages"]}
        cited = {(c.file, c.page) for c in answer.citations if c.verified}
        verified = answer.found and bool(answer.citations) and all(
            c.verified for c in answer.citations)
        answered += answer.found
        all_verified += verified
        gold_cited += bool(cited & gold)
        citations_total += len(answer.citations)
        citations_verified += sum(c.verified for c in answer.citations)
        _timing(answer.timings, ttft, speed)
        rows.append({"id": test["id"], "found": answer.found, "all_verified": verified,
                     "gold_page_cited": bool(cited & gold), "answer": answer.text})
        if verbose:
            print(rows[-1], file=sys.stderr)
    not_found = 0
    for neg in negs:
        answer = service.ask(neg["query"])
        not_found += not answer.found
        _timing(answer.timings, ttft, speed)
        rows.append({"id": neg["id"], "found": answer.found, "answer": answer.text})
        if verbose:
            print(rows[-1], file=sys.stderr)
    n = max(len(tests), 1)
    first_token = _median_p95(ttft)
    return {
        "positives": len(tests), "negatives": len(negs),
        "answered": round(answered / n, 3),
        "answered_with_all_citations_verified": round(all_verified / max(answered, 1), 3),
        "citations_verified": round(citations_verified / max(citations_total, 1), 3),
        "answers_citing_gold_page": round(gold_cited / n, 3),
        "negatives_not_found": round(not_found / max(len(negs), 1), 3),
        "ttft_ms_median": first_token["median"],
        "ttft_ms_p95": first_token["p95"],
        "gen_tokens_per_s_median": round(statistics.median(speed), 2) if speed else None,
        "rows": rows,
    }


def time_to_first_token(service: AnswerService, data: dict[str, Any], count: int
                        ) -> dict[str, Any]:
    """Time to the first answer token over `count` questions spread over the set: as Desk
    runs (the fixed prompt start already evaluated) and with nothing reused."""
    model = service.model
    cached: list[float] = []
    uncached: list[float] = []
    prompt_tokens: list[int] = []
    for test in spread(data["tests"], count):
        job = service.prepare(test["query"])
        if not job.passages:
            continue
        for times in (cached, uncached):
            if times is uncached:
                model.clear_cache()
            generation = Generation()
            for _ in model.stream_chat(job.messages, 1, stats=generation):
                pass
            times.append(generation.ttft_ms)
        prompt_tokens.append(generation.prompt_tokens)
    return {
        "questions": len(cached),
        "evidence_tokens_budget": service.settings.llm.evidence_tokens,
        "prompt_tokens_median": statistics.median(prompt_tokens) if prompt_tokens else None,
        "ttft_ms": _median_p95(cached),
        "ttft_ms_without_prefix_cache": _median_p95(uncached),
    }


def _median_p95(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p95": None}
    median, p95 = median_p95(values, 1)
    return {"median": median, "p95": p95}


def spread(items: list[dict], count: int) -> list[dict]:
    """`count` items taken evenly over the list (all of them when it is shorter)."""
    if count >= len(items):
        return list(items)
    step = len(items) / count
    return [items[int(i * step)] for i in range(count)]


def _timing(timings: dict[str, float], ttft: list[float], speed: list[float]) -> None:
    if timings.get("ttft_ms"):
        ttft.append(timings["ttft_ms"])
        speed.append(timings["gen_tokens_per_s"])
