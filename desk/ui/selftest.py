"""`desk --self-test`: prove a first launch works offline. Starts the window offscreen, imports
a bundled sample PDF into a temporary matter, asks one question with the default answering
model, and checks the answer carries a verified citation. Exit 0, or 1 with the reason.

The default model, not SmolLM2: the 135M model invents quotes (the verifier rightly rejects
them), which would make the check fail for the model's sake rather than the app's."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

QUESTION = "Which state's laws govern this agreement?"


def run_self_test() -> int:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    with tempfile.TemporaryDirectory(prefix="desk-selftest-") as home:
        os.environ["DESK_HOME"] = home
        from PySide6.QtWidgets import QApplication

        from desk.config.paths import SAMPLES_DIR
        from desk.config.settings import load_settings
        from desk.ui.main_window import MainWindow

        app = QApplication.instance() or QApplication([])
        settings = load_settings()
        settings.llm.max_answer_tokens = 96
        window = MainWindow(settings)
        window.show()
        import psutil

        since_start = time.time() - psutil.Process().create_time()
        print(f"window ready {since_start:.1f} s after the process started")
        samples = sorted(p for p in SAMPLES_DIR.glob("*") if p.suffix.lower() == ".pdf")
        if not samples:
            return _fail(window, f"no sample PDF in {SAMPLES_DIR}")
        sample = next((p for p in samples if "NON-COMPETITION" in p.name), samples[0])
        window.select_matter("Self-test", create=True)
        window.import_paths([sample])
        if not _wait(app, lambda: window.import_worker is None, 300):
            return _fail(window, "the import did not finish in 5 minutes")
        assert window.matter is not None
        counts = window.matter.catalog.counts()
        print(f"imported {sample.name}: {counts['pages']} pages, {counts['chunks']} passages")
        if not counts["chunks"] or counts["pending"]:
            return _fail(window, f"import incomplete: {counts}")
        window.question.setText(QUESTION)
        window.ask()
        if not _wait(app, lambda: window.ask_worker is None, 300):
            return _fail(window, "no answer within 5 minutes")
        question, answer = window.turns[-1]
        print(f"Q: {question}\nA: {answer.get('answer', '')}")
        verified = [c for c in answer.get("citations", []) if c["verified"]]
        if not verified:
            return _fail(window, "the answer has no verified citation")
        c = verified[0]
        print(f"verified citation: [{c['n']}] {c['file']}, p. {c['page']}: \"{c['quote']}\"")
        window.close()
        print("self-test passed")
        return 0


def _wait(app: QCoreApplication, condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    return condition()


def _fail(window: QWidget, reason: str) -> int:
    print(f"self-test FAILED: {reason}", file=sys.stderr)
    window.close()
    return 1
