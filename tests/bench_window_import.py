"""A large import in the real window (offscreen), run on demand, not by pytest:

    .venv/bin/python -m tests.bench_window_import --pdfs ../shared/data/cuad-dev/pdf \
        [--files 3000] [--pages 1000] [--work DIR]

Drops a folder of one-page PDFs, then a long PDF (both made as tests/bench_import.py makes
them) onto the window of a fresh DESK_HOME and measures how responsive the window stays: a
50 ms timer on the GUI thread records how late each tick fires (a late tick is a frozen
window), and how often the status bar's progress changed. Prints the import time, the ticks'
lateness (p50, p99, max) and the progress updates seen.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 50


class Ticks:
    """How late a GUI-thread timer fires: a late tick is a window that did not respond."""

    def __init__(self) -> None:
        self.lateness: list[float] = []
        self.expected = time.monotonic() + TICK_MS / 1000

    def tick(self) -> None:
        now = time.monotonic()
        self.lateness.append(max(0.0, now - self.expected) * 1000)
        self.expected = now + TICK_MS / 1000


def measure(app, window, path: Path) -> str:
    """Import `path` through the window; how long it took and how responsive it stayed."""
    from PySide6.QtCore import QTimer

    ticks = Ticks()
    texts: list[str] = []
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(ticks.tick)
    started = time.monotonic()
    timer.start()
    window.import_paths([path])
    while window.import_worker is not None:
        app.processEvents()
        if not texts or texts[-1] != window.progress_label.text():
            texts.append(window.progress_label.text())
        time.sleep(0.005)
    timer.stop()
    ordered = sorted(ticks.lateness)
    return (f"{time.monotonic() - started:.1f} s; GUI tick lateness p50 "
            f"{statistics.median(ordered):.0f} ms, p99 {ordered[int(len(ordered) * 0.99)]:.0f} "
            f"ms, max {ordered[-1]:.0f} ms over {len(ordered)} ticks; {len(texts)} status "
            f"texts; last: {window.progress_label.text()!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pdfs", type=Path, required=True)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--work", type=Path)
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="desk-bench-window-"))
    os.environ["DESK_HOME"] = str(work / "home")

    from PySide6.QtWidgets import QApplication

    from desk.config.settings import load_settings
    from desk.ui.main_window import MainWindow
    from tests.bench_import import build_long_pdf, build_page_folder, dev_files
    from tests.fakes import FakeModel, fake_loader

    (work / "long").mkdir(parents=True, exist_ok=True)
    inputs = {
        f"{args.files} one-page PDFs": build_page_folder(args.pdfs, work / "pages", args.files),
        f"a {args.pages}-page PDF": build_long_pdf(args.pdfs, work / "long" / "long.pdf",
                                                   args.pages),
    }
    if not dev_files(args.pdfs):
        raise SystemExit(f"no PDFs in {args.pdfs}")
    app = QApplication.instance() or QApplication(sys.argv)
    window = MainWindow(load_settings(), model_loader=fake_loader(FakeModel()))
    window.show()
    window.select_matter("Large", create=True)
    window.matter.embedder.embed(["warm up"])  # type: ignore[union-attr]
    for label, path in inputs.items():
        print(f"{label}: {measure(app, window, path)}", flush=True)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
