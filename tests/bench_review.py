"""Review speed, run on demand (not in the test suite): each named document of a matter
reviewed afresh against the default columns with the settings' model, timed per document,
with cells by route and seconds per cell. The lawyer's corrections are kept.

    DESK_HOME=... .venv/bin/python -m tests.bench_review --matter dev \
        --documents "SUCAMPOPHARMACEUTICALS,INC_11_04_2015-EX-10.2-STRATEGIC ALLIANCE AGREEMENT.PDF"
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter

from desk.config.settings import load_settings
from desk.core.progress import drive
from desk.index.matter import open_matter
from desk.llm.runtime import prepare_runtime
from desk.review.job import review_documents, run_review
from desk.review.store import ReviewStore
from desk.review.terms import resolve_terms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--matter", required=True)
    parser.add_argument("--documents", nargs="+", required=True)
    parser.add_argument("--terms", help="comma-separated (default: the default columns)")
    args = parser.parse_args()
    settings = load_settings()
    matter = open_matter(args.matter, settings, create=False)
    try:
        started = time.perf_counter()
        model = drive(prepare_runtime(settings.llm.model, settings.llm), lambda _: None)
        load_s = time.perf_counter() - started
        terms = resolve_terms(args.terms.split(",") if args.terms else None)
        store = ReviewStore(matter.catalog)
        report = []
        for doc in review_documents(matter, args.documents):
            store.forget([doc.id], [t.name for t in terms])
            started = time.perf_counter()
            rows = drive(run_review(matter, model, settings, terms, [doc]), lambda _: None)
            seconds = time.perf_counter() - started
            cells = list(rows[0].cells.values())
            by_route = Counter(c.route for c in cells)
            model_cells = [c.seconds for c in cells if c.route == "model"]
            report.append({
                "file": doc.file_name, "pages": doc.page_count, "terms": len(terms),
                "seconds": round(seconds, 1), "cells_by_route": dict(by_route),
                "median_model_cell_s": round(statistics.median(model_cells), 2)
                if model_cells else None,
                "verified_present": f"{sum(c.verified for c in cells if c.present)}/"
                                    f"{sum(c.present for c in cells)}"})
        print(json.dumps({"model": settings.llm.model, "load_s": round(load_s, 1),
                          "documents": report}, indent=1))
    finally:
        matter.close()


if __name__ == "__main__":
    main()
