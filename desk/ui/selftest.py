"""`desk --self-test`: prove a first launch works offline. Starts the window offscreen, imports
a bundled sample PDF into a temporary matter, asks one question with the default answering
model, and checks the answer carries a verified citation. Exit 0, or 1 with the reason.

Where a display exists (Linux with DISPLAY or WAYLAND_DISPLAY set) it first checks that the
window could open there at all: a child process creates a QApplication with `-platform xcb`
(one QApplication per process, and this one is offscreen). If Qt cannot load its xcb plugin,
the self-test fails with the system libraries that are missing and the apt-get command
(desk.ui.system_libs). The child is `python -c ...` from a virtualenv; in the PyInstaller bundle,
where sys.executable is the Desk program itself and takes no `-c`, it is `Desk --self-test`
with DESK_SELFTEST_XCB_PROBE=1 in its environment, which makes run_self_test do the probe only.

The default model, not SmolLM2: the 135M model invents quotes (the verifier rightly rejects
them), which would make the check fail for the model's sake rather than the app's."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QWidget

QUESTION = "Which state's laws govern this agreement?"
if TYPE_CHECKING:
    from desk.ui.main_window import MainWindow

XCB_PROBE_ENV = "DESK_SELFTEST_XCB_PROBE"  # set in the child that only tries the xcb plugin
XCB_PROBE_SECONDS = 60


def run_self_test() -> int:
    if os.environ.get(XCB_PROBE_ENV):
        return xcb_probe()
    with tempfile.TemporaryDirectory(prefix="desk-selftest-") as home:
        os.environ["DESK_HOME"] = home
        if problem := check_xcb():
            print(f"self-test FAILED: {problem}", file=sys.stderr)
            return 1
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
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
        if problem := _check_ocr(app, window, sample, home):
            return _fail(window, problem)
        window.close()
        print("self-test passed")
        return 0


def has_display(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return sys.platform.startswith("linux") and bool(env.get("DISPLAY")
                                                     or env.get("WAYLAND_DISPLAY"))


def xcb_probe_command() -> list[str]:
    """The child that tries the xcb plugin: `python -c` from a virtualenv; in a PyInstaller
    bundle the program itself, whose run_self_test sees XCB_PROBE_ENV and probes only."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--self-test"]
    return [sys.executable, "-c",
            "import sys; from desk.ui.selftest import xcb_probe; sys.exit(xcb_probe())"]


def xcb_probe() -> int:
    """In the child: a QApplication on the xcb platform (Qt aborts if the plugin cannot load)."""
    os.environ.pop("QT_QPA_PLATFORM", None)
    from PySide6.QtWidgets import QApplication

    app = QApplication(["desk", "-platform", "xcb"])
    print(f"Qt platform: {app.platformName()}")
    return 0 if app.platformName() == "xcb" else 1


def check_xcb() -> str | None:
    """None if the window could open on this display (or there is no display to check),
    else what is wrong, with the apt-get command when system libraries are missing."""
    if not has_display():
        return None
    from desk.ui import system_libs

    env = {**os.environ, XCB_PROBE_ENV: "1"}
    env.pop("QT_QPA_PLATFORM", None)
    try:
        child = subprocess.run(xcb_probe_command(), env=env, capture_output=True, text=True,
                               timeout=XCB_PROBE_SECONDS, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"Qt's xcb platform plugin did not start within {XCB_PROBE_SECONDS} s"
    if child.returncode == 0:
        print(f"xcb platform plugin loads ({child.stdout.strip()})")
        return None
    report = system_libs.check(env)
    if not report.ok:
        return report.text()
    output = (child.stderr + child.stdout).strip()
    if not os.environ.get("DISPLAY") and "could not connect to display" in output:
        # Wayland without Xwayland: the plugin and its libraries loaded, there is no X server
        print("xcb platform plugin loads (no X server: a Wayland session without Xwayland)")
        return None
    if "could not connect to display" in output:  # Qt then also prints its xcb-cursor0 hint
        return f"no X server answers on DISPLAY={os.environ.get('DISPLAY', '')}"
    tail = "\n".join(output.splitlines()[-8:])
    return f"Qt's xcb platform plugin failed (exit {child.returncode}):\n{tail}"


def _check_ocr(app: QCoreApplication, window: MainWindow, sample: Path, home: str
               ) -> str | None:
    """Scan the sample's first page (an image-only PDF) and import it: the OCR engine and its
    models must be there and read the page back."""
    import pymupdf

    from desk.core.text import tokens

    scan = Path(home) / "scanned sample.pdf"
    with pymupdf.open(sample) as source:
        truth = source[0].get_text()
        pix = source[0].get_pixmap(dpi=200, colorspace=pymupdf.csGRAY)
        with pymupdf.open() as copy:
            page = copy.new_page(width=source[0].rect.width, height=source[0].rect.height)
            page.insert_image(page.rect, stream=pix.tobytes("png"))
            copy.save(scan)
    window.import_paths([scan])
    if not _wait(app, lambda: window.import_worker is None, 300):
        return "the import of a scanned page did not finish in 5 minutes"
    assert window.matter is not None
    catalog = window.matter.catalog
    doc = next((d for d in catalog.documents() if d.file_name == scan.name), None)
    if doc is None or doc.ocr_pages != 1:
        return f"the scanned page was not read by OCR ({doc})"
    read = catalog.page(doc.id, 1)
    expected = set(tokens(truth))
    found = len(expected & set(tokens(read.text if read else ""))) / max(len(expected), 1)
    print(f"OCR read the scanned page: {found:.0%} of its words, confidence {doc.ocr_confidence}")
    return None if found >= 0.9 else f"OCR found only {found:.0%} of the scanned page's words"


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
