"""Answers in-process next to the same model served by llama-cpp-python's OpenAI-compatible
server on 127.0.0.1 (run on demand, not a test):

    DESK_HOME=... .venv/bin/python -m tests.bench_server --matter dev \\
        --set ../shared/data/cuad-dev/cuad-dev.json --answers 20 --negatives 20

Both runs are `desk eval --answers/--negatives --json` in their own process, one after the
other (never at once: they share the cores); the served one adds `--server URL
--server-model NAME`. Prints the report's figures side by side, and writes both reports to
--out when given."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from desk.config.settings import load_settings
from desk.llm.store import ModelStore
from tests.served import llama_server


def run_eval(args: argparse.Namespace, extra: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "desk.cli", "eval", "--matter", args.matter, "--set",
               args.set, "--answers", str(args.answers), "--negatives", str(args.negatives),
               "--json", *extra]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"desk eval failed ({done.returncode}): {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def figures(report: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The report's numbers, nested keys joined with dots (the rows left out)."""
    out: dict[str, Any] = {}
    for key, value in report.items():
        if key in ("rows", "backend"):
            continue
        if isinstance(value, dict):
            out.update(figures(value, f"{prefix}{key}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[f"{prefix}{key}"] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--matter", default="dev")
    parser.add_argument("--set", required=True)
    parser.add_argument("--answers", type=int, default=20)
    parser.add_argument("--negatives", type=int, default=20)
    parser.add_argument("--model", help="the GGUF to serve (default: the settings' model)")
    parser.add_argument("--skip-local", action="store_true", help="only the served run")
    parser.add_argument("--out", help="write both reports here (JSON)")
    args = parser.parse_args()
    settings = load_settings()
    name = args.model or settings.llm.model
    reports: dict[str, dict[str, Any]] = {}
    if not args.skip_local:
        reports["in-process"] = run_eval(args, ["--model", name])
    log = Path(args.out).with_suffix(".server.log") if args.out else None
    with llama_server(ModelStore().path(name), name, n_ctx=settings.llm.n_ctx,
                      threads=settings.llm.n_threads, log=log) as url:
        reports["served"] = run_eval(args, ["--server", url, "--server-model", name])
    if args.out:
        Path(args.out).write_text(json.dumps(reports, indent=1))
    columns = list(reports)
    table = {column: figures(report) for column, report in reports.items()}
    keys = [k for k in table[columns[-1]] if all(k in table[c] for c in columns)]
    print(f"| figure | {' | '.join(columns)} |")
    print(f"|---|{'---|' * len(columns)}")
    for key in keys:
        print(f"| {key} | " + " | ".join(f"{table[c][key]:g}" if isinstance(table[c][key], float)
                                         else str(table[c][key]) for c in columns) + " |")
    if "in-process" in reports:
        same = sum(a.get("answer") == b.get("answer") for a, b in zip(
            reports["in-process"].get("rows", []), reports["served"].get("rows", [])))
        print(f"\nidentical answer text: {same} of {len(reports['served'].get('rows', []))}")


if __name__ == "__main__":
    main()
