"""Import speed with and without the citation finder (run on demand, not a test):

    .venv/bin/python -m tests.bench_citation_import DIR [RUNS]

Imports every PDF of DIR into a fresh matter: once to warm up (the embedder's load, eyecite's
import and its regexes' first compile, which a desktop session pays once), then RUNS times each
way, alternating, the finder swapped for a stub in the "without" runs. Prints pages/s of each
run, the medians, and the median slowdown of each run with the finder against the
run without it that follows."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

import desk.ingest.importer as importer
from desk.index.matter import open_matter


def _import(paths: list[Path]) -> importer.ImportSummary:
    os.environ["DESK_HOME"] = tempfile.mkdtemp(prefix="desk-cite-bench-")
    matter = open_matter("bench")
    job = importer.ImportJob(matter, paths, 500, 100, ocr=False)
    for _progress in job.run():
        pass
    matter.close()
    return job.summary


def main() -> None:
    folder, runs = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 3
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".pdf")
    finder = importer.find_citations
    _import(paths)
    rates: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(runs):
        for label, find in (("with", finder), ("without", lambda texts: [[] for _ in texts])):
            importer.find_citations = find  # type: ignore[assignment]
            summary = _import(paths)
            rates[label].append(summary.pages / summary.seconds)
            print(f"{label:8} {summary.pages} pages {summary.seconds:6.2f} s "
                  f"{rates[label][-1]:6.2f} pages/s (finder {summary.citation_seconds:.2f} s)",
                  flush=True)
    with_, without = (statistics.median(rates[k]) for k in ("with", "without"))
    paired = statistics.median(1 - w / wo for w, wo in zip(rates["with"], rates["without"],
                                                             strict=True))
    print(f"median: with {with_:.2f} pages/s, without {without:.2f} pages/s; median of the "
          f"{runs} pairs: {paired * 100:.1f}% slower with the finder")


if __name__ == "__main__":
    main()
