"""Indexing and search benchmark: throughput split by stage, peak memory, latency percentiles."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from desk.config.settings import load_settings
from desk.evaluation.retrieval import load_set
from desk.evaluation.stats import median_p95

SAMPLE_SECONDS = 0.05


class PeakMemory:
    """This process's peak resident memory (MB) so far: the kernel's own high-water mark on
    Linux (VmHWM) and Windows (peak working set); elsewhere (macOS) the highest resident size
    sampled every SAMPLE_SECONDS while the `with` block runs."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._sampled = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        if self._native() is None:
            self._thread = threading.Thread(target=self._sample, name="desk-peak-rss",
                                            daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def mb(self) -> float:
        native = self._native()
        if native is not None:
            return native / 2**20
        self._sampled = max(self._sampled, self._process.memory_info().rss)
        return self._sampled / 2**20

    def _native(self) -> int | None:
        """The peak in bytes where the system keeps it, else None."""
        if sys.platform.startswith("linux"):
            try:
                with open("/proc/self/status", encoding="ascii") as fh:
                    for line in fh:
                        if line.startswith("VmHWM:"):
                            return int(line.split()[1]) * 1024  # reported in kB
            except (OSError, ValueError, IndexError):
                return None
        peak = getattr(self._process.memory_info(), "peak_wset", None)  # Windows only
        return int(peak) if peak else None

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self._sampled = max(self._sampled, self._process.memory_info().rss)


def _queries(set_path: Path | None) -> list[str]:
    if set_path is None:
        return ["termination for convenience notice period", "governing law",
                "exclusivity", "limitation of liability", "Section 12.3", "assignment consent"]
    data = load_set(set_path)
    return [t["query"] for t in data["tests"]]


def run(pdfs: Path, set_path: Path | None, scale_chunks: int = 0) -> dict[str, Any]:
    """Index `pdfs` into a temporary matter (fresh DESK_HOME) and time everything."""
    from desk.index.matter import open_matter
    from desk.index.retriever import Retriever
    from desk.ingest.importer import ImportJob

    settings = load_settings()
    report: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}}
    with tempfile.TemporaryDirectory(prefix="desk-bench-") as home, PeakMemory() as peak:
        previous = os.environ.get("DESK_HOME")
        os.environ["DESK_HOME"] = home
        try:
            matter = open_matter("bench", settings)
            matter.embedder.embed(["warm up"])  # model load is not indexing throughput
            rss_before = peak.mb()
            job = ImportJob(matter, [pdfs], settings.chunking.size, settings.chunking.overlap)
            for _ in job.run():
                pass
            s = job.summary
            report["index"] = {
                "documents": s.added, "pages": s.pages, "chunks": s.chunks,
                "seconds": round(s.seconds, 2),
                "pages_per_s": round(s.pages / s.seconds, 1),
                "chunks_per_s": round(s.chunks / s.seconds, 1),
                "extract_s": round(s.extract_seconds, 2),
                "extract_pages_per_s": round(s.pages / max(s.extract_seconds, 1e-9), 1),
                "write_s": round(s.write_seconds, 2),
                "embed_s": round(s.embed_seconds, 2),
                "embed_chunks_per_s": round(s.chunks / max(s.embed_seconds, 1e-9), 1),
                "peak_rss_mb": round(peak.mb(), 1),
                "rss_growth_mb": round(peak.mb() - rss_before, 1),
                "disk_mb": round(sum(f.stat().st_size for f in matter.path.iterdir())
                                 / 2**20, 1),
            }
            queries = _queries(set_path)
            report["search"] = _time_search(Retriever(matter, settings.retrieval), queries)
            if scale_chunks:
                report["scale"] = _scale(matter, queries, scale_chunks, peak)
            matter.close()
        finally:
            if previous is None:
                os.environ.pop("DESK_HOME", None)
            else:
                os.environ["DESK_HOME"] = previous
    return report


def _time_search(retriever: Any, queries: list[str], k: int = 8) -> dict[str, Any]:
    times = []
    for query in queries:
        started = time.perf_counter()
        retriever.search(query, k=k)
        times.append((time.perf_counter() - started) * 1000)
    p50, p95 = median_p95(times, 2)
    return {"queries": len(queries), "k": k, "latency_ms": {"p50": p50, "p95": p95}}


def _scale(source: Any, queries: list[str], target: int, peak: PeakMemory) -> dict[str, Any]:
    """Grow a copy of the matter to `target` passages by cloning its documents under new names
    (text and vectors, with a little noise so the clones are not exact duplicates)."""
    from desk.index.matter import open_matter
    from desk.index.retriever import Retriever

    src = source
    big = open_matter("scale")
    rng = np.random.default_rng(0)
    docs = src.catalog.documents()
    copies = 0
    chunks_added = 0
    started = time.perf_counter()
    while chunks_added < target:
        for doc in docs:
            ids = src.catalog.chunk_ids(doc.id)
            chunks = src.catalog.chunks(ids)
            vectors = src.vectors.vectors(ids)
            with big.catalog.transaction() as db:
                name = f"copy{copies:04d} {doc.file_name}"
                new_id = big.catalog.add_document(db, name, f"/synthetic/{name}",
                                                  f"{copies}-{doc.sha256}", [], name)
                first = big.catalog.chunk_id_bound() + 1
                big.catalog.add_chunks(db, [c.__class__(new_id, c.page_start, c.page_end,
                                                        c.char_start, c.char_end, c.text)
                                            for c in (chunks[i] for i in ids)])
            noisy = vectors + rng.normal(0, 0.01, vectors.shape).astype(np.float32)
            new_ids = list(range(first, first + len(ids)))
            big.vectors.add(new_ids, noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
            copies += 1
            chunks_added += len(ids)
            if chunks_added >= target:
                break
    big.vectors.save()
    big.catalog.mark_embedded(big.catalog.chunk_ids())
    build_s = time.perf_counter() - started
    rss = peak.mb()
    result: dict[str, Any] = {"chunks": big.catalog.counts()["chunks"], "build_s": round(build_s, 1),
              "disk_mb": round(sum(f.stat().st_size for f in big.path.iterdir()) / 2**20, 1),
              "peak_rss_mb": round(rss, 1)}
    result["search"] = _time_search(Retriever(big), queries)
    big.close()
    return result


def format_report(report: dict[str, Any]) -> str:
    idx = report["index"]
    lines = [
        f"Indexing ({report['machine']['cpus']} CPUs): {idx['documents']} documents, "
        f"{idx['pages']} pages, {idx['chunks']} passages in {idx['seconds']} s",
        f"  end to end: {idx['pages_per_s']} pages/s, {idx['chunks_per_s']} passages/s",
        f"  extract+chunk: {idx['extract_s']} s ({idx['extract_pages_per_s']} pages/s); "
        f"catalog write: {idx['write_s']} s; embed+save: {idx['embed_s']} s "
        f"({idx['embed_chunks_per_s']} passages/s)",
        f"  peak RSS {idx['peak_rss_mb']} MB; matter on disk {idx['disk_mb']} MB",
    ]
    s = report["search"]
    lines.append(f"Search ({s['queries']} queries, k={s['k']}): p50 {s['latency_ms']['p50']} ms, "
                 f"p95 {s['latency_ms']['p95']} ms")
    if "scale" in report:
        sc = report["scale"]
        lines.append(f"Scale: {sc['chunks']} passages, {sc['disk_mb']} MB on disk, peak RSS "
                     f"{sc['peak_rss_mb']} MB; search p50 {sc['search']['latency_ms']['p50']} ms, "
                     f"p95 {sc['search']['latency_ms']['p95']} ms")
    return "\n".join(lines)
