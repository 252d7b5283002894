"""OCR figures on a scanned copy of a PDF set (run on demand, minutes):

    python -m tests.bench_ocr --pdfs ../shared/data/cuad-dev/pdf \
        --set ../shared/data/cuad-dev/cuad-dev.json [--scanned DIR] [--home DIR]

Makes the scanned copy (tests/make_scanned_set.py) unless given one, imports the original and
the copy into two matters with `desk index --json`, then prints: the scanned import's time and
OCR pages/s, the character error rate of the OCR text against the original text layer (page by
page, whitespace collapsed), and page recall@8 with the set's questions on both.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

from tests.make_scanned_set import make_scanned_copy


def desk(home: Path, *args: str) -> Any:
    env = {**os.environ, "DESK_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "desk.cli", *args, "--json"], env=env,
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def character_error_rate(home: Path) -> dict[str, Any]:
    """OCR text of the scanned matter against the text layer of the original, page by page."""
    from desk.index.catalog import Catalog

    def pages(matter: str) -> dict[tuple[str, int], tuple[str, str]]:
        catalog = Catalog(home / "matters" / matter / "catalog.sqlite")
        try:
            return {(r[0], r[1]): (r[2], r[3]) for r in catalog.db.execute(
                "SELECT d.file_name, p.number, p.text, p.source FROM pages p "
                "JOIN documents d ON d.id = p.doc_id")}
        finally:
            catalog.close()

    original, scanned = pages("original"), pages("scanned")
    errors = chars = 0
    by_source: dict[str, int] = {}
    for key, (truth, _) in original.items():
        text, source = scanned.get(key, ("", "missing"))
        by_source[source] = by_source.get(source, 0) + 1
        truth, text = " ".join(truth.split()), " ".join(text.split())
        if not truth:
            continue
        errors += Levenshtein.distance(text, truth)
        chars += len(truth)
    return {"cer": round(errors / max(chars, 1), 4), "characters": chars,
            "pages_by_source": by_source}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pdfs", type=Path, required=True)
    parser.add_argument("--set", type=Path, required=True)
    parser.add_argument("--scanned", type=Path, help="a scanned copy made before")
    parser.add_argument("--home", type=Path, help="DESK_HOME to use (default: a new temp dir)")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="desk-bench-ocr-"))
    scanned = args.scanned or home / "scanned-pdfs"
    if not args.scanned:
        make_scanned_copy(args.pdfs, scanned)
    started = time.monotonic()
    original = desk(home, "index", "--matter", "original", "--quiet", str(args.pdfs))
    original_seconds = time.monotonic() - started
    started = time.monotonic()
    copy = desk(home, "index", "--matter", "scanned", "--quiet", str(scanned))
    scanned_seconds = time.monotonic() - started
    ocr_pages = sum(d["pages"] for d in copy["ocr"])
    report = {
        "original_import_s": round(original_seconds, 1),
        "scanned_import_s": round(scanned_seconds, 1),
        "ocr_pages": ocr_pages,
        "ocr_seconds": copy["ocr_seconds"],
        "ocr_pages_per_s": round(ocr_pages / max(copy["ocr_seconds"], 1e-9), 2),
        "low_confidence_pages": sum(len(d["low_confidence_pages"]) for d in copy["ocr"]),
        "mean_confidence": round(sum(d["confidence"] * d["pages"] for d in copy["ocr"]
                                     if d["confidence"] is not None) / max(ocr_pages, 1), 1),
        "failed": copy["failed"] + original["failed"],
        **character_error_rate(home),
    }
    for matter in ("original", "scanned"):
        result = desk(home, "eval", "--matter", matter, "--set", str(args.set), "--k", "4,8")
        report[f"{matter}_page_recall@8"] = result["hybrid"]["k"]["8"]["page_recall"]
    original_recall = report["original_page_recall@8"]
    if isinstance(original_recall, float) and original_recall:
        report["recall_ratio"] = round(report["scanned_page_recall@8"] / original_recall, 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
