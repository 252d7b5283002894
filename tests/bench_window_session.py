"""A long working session in the real window (offscreen), run on demand, not by pytest:

    DESK_HOME=/tmp/desk-bench .venv/bin/python -m tests.bench_window_session \
        --pdfs ../shared/data/cuad-dev/pdf --set ../shared/data/cuad-dev/cuad-dev.json

Imports the folder into a matter through the window, asks the questions `desk eval --ttft N`
times (each in a new conversation, so no history changes the prompt), each followed at once by
the same measurement `desk eval --ttft` makes (the service alone, same process and model, so
the machine's drift hits both alike), then N follow-ups, switches matters back and forth, and
prints time to first token per question next to `desk eval --ttft` run on the same matter in
its own process, plus what the session cost: references to None (a binding that leaks them
aborts the app), resident memory and threads.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _wait(app, condition: Callable[[], bool], seconds: float) -> None:
    """Run Qt's event loop (idle between events, as the app runs) until `condition` holds."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + seconds
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if condition() or time.monotonic() > deadline
                          else None)
    timer.start(50)
    if not condition():
        loop.exec()
    timer.stop()
    if not condition():
        raise TimeoutError("the window did not finish in time")


def cli_ttft(matter: str, data_set: Path, count: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "desk.cli", "eval", "--matter", matter, "--set",
                          str(data_set), "--ttft", str(count), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pdfs", type=Path, required=True)
    parser.add_argument("--set", type=Path, required=True)
    parser.add_argument("--matter", default="dev")
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--switches", type=int, default=30)
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args()

    import psutil
    from PySide6.QtWidgets import QApplication

    from desk.config.settings import load_settings
    from desk.evaluation.answers import spread
    from desk.llm.model import Generation
    from desk.rag.service import answering_service
    from desk.ui.main_window import MainWindow

    data = json.loads(args.set.read_text(encoding="utf-8"))
    questions = [t["query"] for t in spread(data["tests"], args.questions)]
    scrub = next(t["query"] for t in data["tests"] if t["query"] not in questions)
    app = QApplication.instance() or QApplication([])
    window = MainWindow(load_settings())
    window.show()
    none_start = sys.getrefcount(None)
    started = time.perf_counter()
    window.select_matter(args.matter, create=True)
    window.import_paths([args.pdfs])
    _wait(app, lambda: window.import_worker is None, 3600)
    import_s = time.perf_counter() - started
    assert window.matter is not None
    counts = window.matter.catalog.counts()

    ttft: list[float] = []
    direct: list[float] = []  # the same question through the service alone, in this process
    prompt_tokens: list[int] = []
    for question in questions:  # as `desk eval --ttft` asks them: no history
        window.new_conversation()
        window.question.setText(question)
        window.ask()
        _wait(app, lambda: window.ask_worker is None, 900)
        ttft.append(window.turns[-1][1]["timings"]["ttft_ms"])
        prompt_tokens.append(window.turns[-1][1]["timings"]["prompt_tokens"])
        # Interleaved, so the machine's drift hits both alike: what `desk eval --ttft` times.
        model = window.models.model
        assert model is not None
        service = answering_service(window.matter, model, window.settings)
        # The window just evaluated this very prompt: first move llama.cpp's state past the
        # shared prefix with another question, as the window's own next question finds it.
        for _ in model.stream_chat(service.prepare(scrub).messages, 1):
            pass
        job = service.prepare(question)
        generation = Generation()
        for _ in model.stream_chat(job.messages, 1, stats=generation):
            pass
        direct.append(generation.ttft_ms)
    follow_ups = [t["query"] for t in spread(data["tests"][1:], args.questions)]
    for question in follow_ups:  # one conversation: history grows
        window.question.setText(question)
        window.ask()
        _wait(app, lambda: window.ask_worker is None, 900)
    other = f"{args.matter} (empty)"
    window.select_matter(other, create=True)
    for _ in range(args.switches):  # matter clicks redraw the sidebar and documents table
        window.select_matter(args.matter)
        app.processEvents()
        window.select_matter(other)
        app.processEvents()
    window.select_matter(args.matter)
    gc.collect()
    report = {
        "documents": counts["documents"], "pages": counts["pages"], "import_s": round(import_s, 1),
        "window_ttft_ms": [round(t) for t in ttft],
        "window_ttft_ms_median": round(statistics.median(ttft), 1),
        "window_prompt_tokens": prompt_tokens,
        "direct_ttft_ms": [round(t) for t in direct],
        "window_vs_direct": round(statistics.median(ttft) / statistics.median(direct), 3),
        "answers": len(ttft) + len(follow_ups), "matter_switches": 2 * args.switches,
        "none_refcount_change": sys.getrefcount(None) - none_start,
        "rss_mb": round(psutil.Process().memory_info().rss / 2**20),
        "threads_alive": threading.active_count(),
    }
    window.close()
    app.processEvents()
    if not args.skip_cli:
        cli = cli_ttft(args.matter, args.set, args.questions)
        report["cli_ttft_ms_median"] = cli["ttft_ms"]["median"]
        report["cli_prompt_tokens_median"] = cli["prompt_tokens_median"]
        report["window_vs_cli"] = round(report["window_ttft_ms_median"]
                                        / cli["ttft_ms"]["median"], 3)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
