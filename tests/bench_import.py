"""Import throughput and peak memory, run on demand: `python -m tests.bench_import`.

Builds three inputs from the dev contracts (../shared/data/cuad-dev/pdf): the dev folder as it
is, one 1,000-page PDF (the dev pages repeated with PyMuPDF's insert_pdf) and a folder of
3,000 one-page PDFs (each dev page in turn, stamped with its copy number so that no two files
are the same). Each is imported into a fresh DESK_HOME by a `desk index --json` subprocess;
reported are the seconds, pages/s and chunks/s (the import's own clock, which excludes loading
the model; the wall clock of the whole command is given too) and the child's peak RSS, taken
from os.wait4's rusage (ru_maxrss, KiB on Linux).

The ONNX embedder files are made once beforehand (`python -m desk.index.embedder`) and copied
into each fresh DESK_HOME, so the figures are of importing, not of exporting the model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEV_PDFS = ROOT.parent / "shared" / "data" / "cuad-dev" / "pdf"
LIMIT_MB = 800


def dev_files(source: Path) -> list[Path]:
    return sorted(p for p in source.iterdir() if p.suffix.lower() == ".pdf")


def build_long_pdf(source: Path, target: Path, pages: int = 1000) -> Path:
    """One PDF of `pages` pages: the dev contracts' pages, repeated in order."""
    import pymupdf

    out = pymupdf.open()
    while out.page_count < pages:
        for path in dev_files(source):
            with pymupdf.open(path) as src:
                last = min(src.page_count, pages - out.page_count) - 1
                out.insert_pdf(src, to_page=last)
            if out.page_count >= pages:
                break
    out.save(target, garbage=3, deflate=True)
    out.close()
    return target


def build_page_folder(source: Path, folder: Path, files: int = 3000) -> Path:
    """`files` one-page PDFs, each a dev page stamped with its copy number."""
    import pymupdf

    folder.mkdir(parents=True, exist_ok=True)
    made = 0
    while made < files:
        for path in dev_files(source):
            with pymupdf.open(path) as src:
                for number in range(src.page_count):
                    if made >= files:
                        break
                    one = pymupdf.open()
                    one.insert_pdf(src, from_page=number, to_page=number)
                    one[0].insert_text((36, 24), f"Copy {made:05d}", fontsize=6)
                    one.save(folder / f"page{made:05d}.pdf", garbage=3, deflate=True)
                    one.close()
                    made += 1
            if made >= files:
                break
    return folder


def prepare_models(cache: Path) -> None:
    """Make the ONNX files once (in the bundled folder, or in `cache`'s model store)."""
    env = {**os.environ, "DESK_HOME": str(cache)}
    subprocess.run([sys.executable, "-m", "desk.index.embedder"], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def run_import(name: str, paths: list[Path], models: Path, keep: bool = False) -> dict[str, Any]:
    """`desk index --json` in a fresh DESK_HOME; the child's peak RSS from os.wait4."""
    home = Path(tempfile.mkdtemp(prefix="desk-bench-import-"))
    try:
        if (models / "models").exists():
            shutil.copytree(models / "models", home / "models")
        env = {**os.environ, "DESK_HOME": str(home)}
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            started = time.monotonic()
            child = subprocess.Popen(
                [sys.executable, "-m", "desk.cli", "index", "--matter", "bench", "--quiet",
                 "--json", *map(str, paths)], env=env, stdout=out, stderr=err)
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            wall = time.monotonic() - started
            out.seek(0)
            err.seek(0)
            text = out.read().decode()
            if child.returncode != 0:
                raise SystemExit(f"{name}: desk index failed ({child.returncode}):\n"
                                 f"{err.read().decode()[-3000:]}")
        summary = json.loads(text[text.index("{"):])
        seconds = float(summary["seconds"])
        peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
        return {"input": name, "files": summary["added"], "pages": summary["pages"],
                "chunks": summary["chunks"], "seconds": round(seconds, 1),
                "wall_s": round(wall, 1),
                "pages_per_s": round(summary["pages"] / seconds, 1),
                "chunks_per_s": round(summary["chunks"] / seconds, 1),
                "peak_rss_mb": round(peak_mb), "within_limit": peak_mb <= LIMIT_MB}
    finally:
        if not keep:
            shutil.rmtree(home, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdfs", type=Path, default=DEV_PDFS, help="the dev contracts")
    parser.add_argument("--only", default="dev,long,pages",
                        help="comma list of: dev, long (1,000-page PDF), pages (3,000 files)")
    parser.add_argument("--work", type=Path, help="keep the built inputs here (reused)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.pdfs.is_dir():
        raise SystemExit(f"No dev contracts at {args.pdfs}.")
    work = args.work or Path(tempfile.mkdtemp(prefix="desk-bench-inputs-"))
    work.mkdir(parents=True, exist_ok=True)
    models = work / "model-home"
    prepare_models(models)
    rows = []
    try:
        for which in args.only.split(","):
            if which == "dev":
                rows.append(run_import("dev folder", [args.pdfs], models))
            elif which == "long":
                pdf = work / "long-1000.pdf"
                if not pdf.exists():
                    build_long_pdf(args.pdfs, pdf)
                rows.append(run_import("1,000-page PDF", [pdf], models))
            elif which == "pages":
                folder = work / "pages-3000"
                if not (folder / "page02999.pdf").exists():
                    build_page_folder(args.pdfs, folder)
                rows.append(run_import("3,000 one-page PDFs", [folder], models))
            else:
                raise SystemExit(f"Unknown input {which!r}.")
            if not args.json:
                r = rows[-1]
                print(f"{r['input']}: {r['files']} files, {r['pages']} pages, {r['chunks']} "
                      f"chunks in {r['seconds']} s ({r['wall_s']} s wall): "
                      f"{r['pages_per_s']} pages/s, {r['chunks_per_s']} chunks/s; peak RSS "
                      f"{r['peak_rss_mb']} MB ({'within' if r['within_limit'] else 'OVER'} "
                      f"{LIMIT_MB} MB)", flush=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0 if all(r["within_limit"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
