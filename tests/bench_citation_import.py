"""Import speed with and without the citation finder (run on demand, not a test):

    .venv/bin/python -m tests.bench_citation_import DIR [RUNS]

Imports every PDF of DIR into a fresh matter RUNS times each way, alternating, the finder
swapped for a stub in the "without" runs; prints pages/s of each run."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import desk.ingest.importer as importer
from desk.index.matter import open_matter


def main() -> None:
    folder, runs = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 2
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".pdf")
    finder = importer.find_citations
    for _ in range(runs):
        for label, find in (("with", finder), ("without", lambda texts: [[] for _ in texts])):
            os.environ["DESK_HOME"] = tempfile.mkdtemp(prefix="desk-cite-bench-")
            importer.find_citations = find  # type: ignore[assignment]
            matter = open_matter("bench")
            job = importer.ImportJob(matter, paths, 500, 100, ocr=False)
            for _progress in job.run():
                pass
            matter.close()
            summary = job.summary
            print(f"{label:8} {summary.pages} pages {summary.seconds:6.2f} s "
                  f"{summary.pages / summary.seconds:6.2f} pages/s", flush=True)


if __name__ == "__main__":
    main()
