"""Take the README screenshots from the real window (run on demand, not a test):

    DESK_HOME=... QT_QPA_PLATFORM=xcb xvfb-run -s "-screen 0 1400x900x24" \
        .venv/bin/python tests/ui/screenshots.py MATTER "QUESTION" [MODEL]

A scanned page (resources/screenshots/scanned-page.png: the window with the documents table's OCR
statuses beside the viewer showing the cited quote highlighted on the scan):

    DESK_HOME=... QT_QPA_PLATFORM=offscreen \
        .venv/bin/python tests/ui/screenshots.py --scan MATTER "QUESTION" [MODEL]

Answers from a server (resources/screenshots/server.png: the optimization panel's server
section after its connection test, beside the window that answered through it; the settings
are pointed at the server for the run; the first-use question is answered yes):

    DESK_HOME=... QT_QPA_PLATFORM=offscreen \
        .venv/bin/python tests/ui/screenshots.py --server URL MODEL MATTER "QUESTION"

The Authorities tab (resources/screenshots/authorities.png: a document's table of authorities
beside the viewer showing the first citation of its first case, highlighted):

    DESK_HOME=... QT_QPA_PLATFORM=offscreen \
        .venv/bin/python tests/ui/screenshots.py --authorities MATTER FILE

The Review tab (resources/screenshots/review.png): review the matter's documents with the
settings' model, or with the deterministic fake model of the tests (--fake; offscreen works):

    DESK_HOME=... QT_QPA_PLATFORM=offscreen \
        .venv/bin/python tests/ui/screenshots.py --review MATTER [--fake] [MODEL]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication

from desk.config.settings import load_settings
from desk.ui.main_window import MainWindow

OUT = Path(__file__).resolve().parents[2] / "resources" / "screenshots"


def wait(app: QApplication, condition, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)


def settle(app: QApplication) -> None:
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)


def review_main(args: list[str]) -> None:
    """--review MATTER [--fake] [MODEL]: run the review, then grab the window on its tab."""
    fake = "--fake" in args
    rest = [a for a in args if a != "--fake"]
    matter = rest[0]
    app = QApplication(sys.argv)
    settings = load_settings()
    if len(rest) > 1:
        settings.llm.model = rest[1]
    loader = None
    if fake:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
        from tests.fakes import FakeModel, fake_loader

        loader = fake_loader(FakeModel())
    window = MainWindow(settings, model_loader=loader)
    window.resize(1400, 860)
    window.show()
    window.select_matter(matter)
    window.tabs.setCurrentWidget(window.review)
    window.review.start()
    wait(app, lambda: window.review.worker is None, timeout=4 * 3600)
    settle(app)
    window.grab().save(str(OUT / "review.png"))
    print(window.review.status.text())
    window.close()


def asked(matter: str, question: str, model: str | None) -> tuple[QApplication, MainWindow]:
    """The window on `matter` after it answered `question` (with `model`, else the settings')."""
    app = QApplication(sys.argv)
    settings = load_settings()
    if model:
        settings.llm.model = model
    window = MainWindow(settings)
    window.resize(1400, 860)
    window.show()
    window.select_matter(matter)
    window.new_conversation()
    window.question.setText(question)
    window.ask()
    wait(app, lambda: window.ask_worker is None)
    settle(app)
    return app, window


def scan_main(args: list[str]) -> None:
    """--scan MATTER QUESTION [MODEL]: ask, open the first verified citation, grab both."""
    app, window = asked(args[0], args[1], args[2] if len(args) > 2 else None)
    answer = window.turns[-1][1]
    print(answer)
    verified = [c for c in answer["citations"] if c["verified"]]
    if not verified:
        raise SystemExit("no verified citation to open")
    window.navigator.link_clicked(QUrl(f"cite:{len(window.turns) - 1}:{verified[0]['n']}"),
                                  window.turns)
    assert window.viewer is not None
    window.viewer.resize(760, 860)
    settle(app)
    _side_by_side(window.grab(), window.viewer.grab(), "scanned-page.png")
    window.close()


def server_main(args: list[str]) -> None:
    """--server URL MODEL MATTER QUESTION: test the connection in the panel, use the server,
    ask; grab the panel and the window side by side."""
    from desk.config.settings import save_settings
    from desk.ui import server as server_ui

    url, model, matter, question = args
    server_ui.ask_to_send = lambda parent, host: True  # the lawyer says yes
    settings = load_settings()
    settings.last_matter = matter
    save_settings(settings)
    app = QApplication(sys.argv)
    window = MainWindow(load_settings())
    window.resize(1400, 860)
    window.show()
    window.select_matter(matter)
    window.open_optimization_panel()
    panel = window.panel
    section = panel.server
    section.remote.setChecked(True)
    section.url.setText(url)
    section.model.setCurrentText(model)
    section.test()
    wait(app, lambda: section.test_button.isEnabled())
    section.apply()
    wait(app, lambda: window.models.loads == 0)
    window.new_conversation()
    window.question.setText(question)
    window.ask()
    wait(app, lambda: window.ask_worker is None)
    settle(app)
    print(section.result.text())
    print(window.model_label.text())
    print(window.turns[-1][1])
    panel.resize(1250, 860)
    settle(app)
    _side_by_side(window.grab(), panel.grab(), "server.png")
    window.close()


def authorities_main(args: list[str]) -> None:
    """--authorities MATTER FILE: the document's table of authorities, its first case opened."""
    matter, file = args
    app = QApplication(sys.argv)
    window = MainWindow(load_settings())
    window.resize(1400, 860)
    window.show()
    window.select_matter(matter)
    tab = window.authorities
    window.tabs.setCurrentWidget(tab)
    tab.document.setCurrentText(file)
    cases = tab.tree.topLevelItem(0)
    first = cases.child(0)
    tab.tree.setCurrentItem(first)
    tab._open(first)
    assert window.viewer is not None
    window.viewer.resize(760, 860)
    settle(app)
    print(tab.status.text())
    _side_by_side(window.grab(), window.viewer.grab(), "authorities.png")
    window.close()


def _side_by_side(left, right, name: str) -> None:
    from PySide6.QtGui import QPainter, QPixmap

    both = QPixmap(left.width() + right.width(), max(left.height(), right.height()))
    both.fill()
    painter = QPainter(both)
    painter.drawPixmap(0, 0, left)
    painter.drawPixmap(left.width(), 0, right)
    painter.end()
    both.save(str(OUT / name))


def main() -> None:
    if sys.argv[1] == "--authorities":
        authorities_main(sys.argv[2:])
        return
    if sys.argv[1] == "--server":
        server_main(sys.argv[2:])
        return
    if sys.argv[1] == "--review":
        review_main(sys.argv[2:])
        return
    if sys.argv[1] == "--scan":
        scan_main(sys.argv[2:])
        return
    app, window = asked(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
    settings = window.settings
    window.grab().save(str(OUT / "main-window.png"))
    answer = window.turns[-1][1]
    verified = [c for c in answer["citations"] if c["verified"]] or answer["citations"]
    if verified:
        window.navigator.link_clicked(QUrl(f"cite:{len(window.turns) - 1}:{verified[0]['n']}"),
                                      window.turns)
        assert window.viewer is not None
        window.viewer.resize(820, 900)
        for _ in range(20):
            app.processEvents()
        window.viewer.grab().save(str(OUT / "source-viewer.png"))
    print(answer)
    window.open_optimization_panel()
    panel = window.panel
    panel.family.setCurrentText(panel.store.get(settings.llm.model).family)
    panel.resize(1250, 760)
    for _ in range(20):
        app.processEvents()
    panel.grab().save(str(OUT / "optimization-panel.png"))
    window.close()


if __name__ == "__main__":
    main()
