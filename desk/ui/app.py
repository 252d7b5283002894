"""Start the desktop app: logging to the data folder, one QApplication, the main window."""

from __future__ import annotations

import logging
import sys

from desk.config.paths import log_file


def configure_logging() -> None:
    handler = logging.FileHandler(log_file(), encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("desk")
    root.setLevel(logging.INFO)
    if not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        root.addHandler(handler)


def main(argv: list[str] | None = None) -> int:
    from desk.config.paths import secure_data_dir

    secure_data_dir()  # before desk.log and the matters are opened (also when run without the CLI)
    from PySide6.QtWidgets import QApplication

    from desk.ui.main_window import MainWindow

    configure_logging()
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Desk")
    window = MainWindow()
    window.show()
    return int(app.exec())
