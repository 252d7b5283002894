"""Measure model variants on this machine: size, load time, memory, prompt and generation speed,
and quality against the family's highest-precision variant (the teacher): mean KL divergence of
next-token distributions, top-1 agreement, and perplexity on the same text."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from desk.config.settings import LlmSettings
from desk.core.errors import ModelError
from desk.core.files import atomic_write_text
from desk.core.progress import CancelToken, Progress
from desk.llm.gguf import read_gguf
from desk.llm.quantize import highest_precision
from desk.llm.store import ModelEntry, ModelStore

SAMPLE_TOKENS = 256
GEN_TOKENS = 32
KV_BYTES = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}


def sample_text(texts: list[str], max_chars: int = 4000) -> str:
    """A fixed sample: the start of each given text in turn until max_chars."""
    out, total = [], 0
    for text in texts:
        piece = " ".join(text.split())[:1200]
        out.append(piece)
        total += len(piece)
        if total >= max_chars:
            break
    return "\n\n".join(out)[:max_chars]


def kv_cache_bytes(path: Path, n_ctx: int, kv_type: str = "f16") -> int:
    meta = read_gguf(path).metadata
    arch = meta.get("general.architecture", "")
    layers = int(meta.get(f"{arch}.block_count", 0))
    heads = int(meta.get(f"{arch}.attention.head_count", 1))
    kv_heads = int(meta.get(f"{arch}.attention.head_count_kv", heads))
    head_dim = int(meta.get(f"{arch}.attention.key_length",
                            int(meta.get(f"{arch}.embedding_length", 0)) // max(heads, 1)))
    return int(2 * n_ctx * layers * kv_heads * head_dim * KV_BYTES.get(kv_type, 2.0))


def _log_softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _load(path: Path, settings: LlmSettings, logits_all: bool) -> Any:
    import llama_cpp

    threads = settings.n_threads or os.cpu_count() or 1
    return llama_cpp.Llama(model_path=str(path), n_ctx=max(SAMPLE_TOKENS + GEN_TOKENS + 8, 512),
                           n_threads=threads, n_threads_batch=threads, n_batch=settings.n_batch,
                           logits_all=logits_all, use_mmap=False, verbose=False)


def _logprobs(path: Path, tokens: list[int], settings: LlmSettings) -> np.ndarray:
    llm = _load(path, settings, logits_all=True)
    try:
        llm.eval(tokens)
        return _log_softmax(np.array(llm.scores[:len(tokens)], dtype=np.float32))
    finally:
        llm.close()


def measure(entry: ModelEntry, tokens: list[int], teacher: np.ndarray | None,
            settings: LlmSettings) -> dict[str, Any]:
    path = Path(entry.path)
    process = psutil.Process()
    rss_before = process.memory_info().rss
    started = time.perf_counter()
    llm = _load(path, settings, logits_all=False)
    load_s = time.perf_counter() - started
    rss_mb = (process.memory_info().rss - rss_before) / 2**20
    try:
        started = time.perf_counter()
        llm.eval(tokens)
        prompt_tps = len(tokens) / (time.perf_counter() - started)
        token = int(np.argmax(llm.scores[len(tokens) - 1]))
        started = time.perf_counter()
        for _ in range(GEN_TOKENS):
            llm.eval([token])
            token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        gen_tps = GEN_TOKENS / (time.perf_counter() - started)
    finally:
        llm.close()
    student = _logprobs(path, tokens, settings)
    targets = np.array(tokens[1:])
    nll = -student[np.arange(len(targets)), targets]
    result: dict[str, Any] = {
        "name": entry.name, "precision": entry.precision, "size_bytes": entry.size_bytes,
        "bits_per_weight": round(read_gguf(path).bits_per_weight, 2),
        "requantized": entry.requantized, "load_s": round(load_s, 3), "rss_mb": round(rss_mb, 1),
        "kv_cache_mb": round(kv_cache_bytes(path, settings.n_ctx) / 2**20, 1),
        "prompt_tokens_per_s": round(prompt_tps, 1), "gen_tokens_per_s": round(gen_tps, 2),
        "perplexity": round(float(np.exp(nll.mean())), 3),
        "kl_vs_reference": None, "top1_agreement": None,
        "measured_at": time.strftime("%Y-%m-%d %H:%M"), "sample_tokens": len(tokens)}
    if teacher is not None:
        p = np.exp(teacher)
        kl = (p * (teacher - student)).sum(axis=1)
        result["kl_vs_reference"] = round(float(max(kl.mean(), 0.0)), 5)
        result["top1_agreement"] = round(float(
            (teacher.argmax(axis=1) == student.argmax(axis=1)).mean()), 4)
    return result


def bench_models(store: ModelStore, names: list[str], text: str, settings: LlmSettings,
                 cancel: CancelToken | None = None
                 ) -> Generator[Progress, None, list[dict[str, Any]]]:
    """Benchmark the named variants; each family is compared with its best variant present."""
    entries = [store.get(n) for n in names]
    for entry in entries:
        yield from store.ensure(entry.name, cancel)
    progress = Progress("bench", 0, len(entries), "Benchmarking")
    results: list[dict[str, Any]] = []
    teachers: dict[str, tuple[ModelEntry, list[int], np.ndarray]] = {}
    import llama_cpp

    for entry in entries:
        if cancel:
            cancel.raise_if_cancelled()
        progress.message = entry.name
        yield progress
        if entry.family not in teachers:
            reference = highest_precision(store.family(entry.family))
            vocab = llama_cpp.Llama(model_path=reference.path, vocab_only=True, verbose=False)
            tokens = vocab.tokenize(text.encode("utf-8"), add_bos=True)[:SAMPLE_TOKENS]
            vocab.close()
            if len(tokens) < 16:
                raise ModelError("The benchmark text is too short (fewer than 16 tokens).")
            teachers[entry.family] = (reference, tokens,
                                      _logprobs(Path(reference.path), tokens, settings))
        reference, tokens, teacher = teachers[entry.family]
        result = measure(entry, tokens, teacher, settings)
        result["reference"] = reference.name
        results.append(result)
        progress.done += 1
        yield progress
    save_results(store, results)
    return results


def results_file(store: ModelStore) -> Path:
    return store.root / "bench.json"


def load_results(store: ModelStore) -> dict[str, dict[str, Any]]:
    try:
        return dict(json.loads(results_file(store).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def save_results(store: ModelStore, results: list[dict[str, Any]]) -> None:
    """Keep the latest measurement of each variant with the store."""
    kept = load_results(store)
    kept.update({r["name"]: r for r in results})
    atomic_write_text(results_file(store), json.dumps(kept, indent=2))
