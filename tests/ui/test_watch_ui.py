"""Watched folders in the real window, offscreen: add a folder in the dialog, drop a PDF in it,
poll, and find it imported in the documents table with the status bar saying so; a removed
file is flagged; no poll while another import runs; a cancelled import pauses watching."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog

from desk.config.settings import load_settings
from desk.ui.main_window import MainWindow
from desk.ui.watch import PAUSED_TEXT, POLL_SECONDS
from tests.fakes import FakeModel, fake_loader
from tests.pdfs import CONTRACT_PAGES, make_pdf


@pytest.fixture
def window(qtbot):
    win = MainWindow(load_settings(), model_loader=fake_loader(FakeModel()))
    qtbot.addWidget(win)
    win.show()
    win.select_matter("Watched", create=True)
    yield win
    win.close()
    assert not win.workers.running
    assert all(pool.activeThreadCount() == 0 for pool in win.workers.pools())


def settled_pdf(path: Path, pages: list[str] = CONTRACT_PAGES) -> Path:
    make_pdf(path, pages)
    then = time.time() - 60  # older than the settling time: written completely
    os.utime(path, (then, then))
    return path.resolve()


def table_files(window: MainWindow) -> list[str]:
    model = window.documents.model()
    return [model.index(r, 0).data() for r in range(model.rowCount())]


def open_dialog(window: MainWindow) -> QDialog:
    window.watch_action.trigger()
    dialog = window.findChild(QDialog, "watch_dialog")
    assert dialog is not None and dialog.isVisible()
    return dialog


def add_in_dialog(qtbot, window: MainWindow, monkeypatch, folder: Path) -> QDialog:
    dialog = open_dialog(window)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *args, **kwargs: str(folder)))
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.watch.working, timeout=30_000)  # the poll on adding
    return dialog


def poll_and_wait(qtbot, window: MainWindow):
    with qtbot.waitSignal(window.watch.sig_reported, timeout=120_000) as blocker:
        assert window.watch.poll() is not None
    qtbot.waitUntil(lambda: window.import_worker is None and not window.watch.working,
                    timeout=120_000)
    return blocker.args[0]


def test_a_watched_folder_imports_a_new_pdf_and_flags_a_removed_one(
        qtbot, window, tmp_path: Path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert window.watch.timer.isActive() is False  # off until a folder is added
    assert window.watch.poll() is None

    status_before = window.progress_label.text()
    dialog = add_in_dialog(qtbot, window, monkeypatch, inbox)
    assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == [
        str(inbox.resolve())]
    assert window.watch.timer.isActive() is True
    assert window.watch.timer.interval() == POLL_SECONDS * 1000
    assert window.progress_label.text() == status_before  # an empty folder is no news

    pdf = settled_pdf(inbox / "Lease.pdf")
    summary = poll_and_wait(qtbot, window)
    assert summary.new == [str(pdf)]
    assert window.progress_label.text() == ("Watched folders: 1 new, 0 changed, "
                                            "0 removed (flagged).")
    assert table_files(window) == ["Lease.pdf"]
    assert window.matter is not None and window.matter.catalog.counts()["pending"] == 0
    assert window.watch.timer.isActive() is True  # still on after the matter was reopened

    pdf.unlink()
    summary = poll_and_wait(qtbot, window)
    assert summary.removed == [str(pdf)]
    assert window.progress_label.text() == ("Watched folders: 0 new, 0 changed, "
                                            "1 removed (flagged).")
    doc = window.matter.catalog.document_by_path(str(pdf))
    assert doc is not None and doc.missing_since is not None
    assert table_files(window) == ["Lease.pdf"]  # flagged, not deleted

    # another import is running: no poll until it is done
    window.import_paths([make_pdf(tmp_path / "other" / "Other.pdf", CONTRACT_PAGES[:1])])
    assert window.import_worker is not None
    assert window.watch.poll() is None
    qtbot.waitUntil(lambda: window.import_worker is None, timeout=120_000)
    assert window.progress_label.text().startswith("Imported 1 new")

    dialog.list.item(0).setSelected(True)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert dialog.list.count() == 0
    assert window.watch.timer.isActive() is False
    assert window.watch.poll() is None


def test_a_cancelled_watch_import_pauses_watching_until_the_dialog_is_opened(
        qtbot, window, tmp_path: Path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    dialog = add_in_dialog(qtbot, window, monkeypatch, inbox)
    dialog.close()
    pdf = settled_pdf(inbox / "Lease.pdf")

    start = window.watch.imports.start

    def start_then_cancel(*args, **kwargs):
        worker = start(*args, **kwargs)
        worker.cancel.cancel()  # the lawyer pressed Cancel at once
        return worker

    monkeypatch.setattr(window.watch.imports, "start", start_then_cancel)
    summary = poll_and_wait(qtbot, window)
    assert (summary.new, summary.not_imported) == ([], [str(pdf)])
    assert window.progress_label.text() == ("Watched folders: 0 new, 0 changed, "
                                            "0 removed (flagged), 1 not imported yet."
                                            + PAUSED_TEXT)
    assert window.watch.timer.isActive() is False
    assert window.watch.poll() is None
    assert table_files(window) == []

    monkeypatch.setattr(window.watch.imports, "start", start)
    open_dialog(window)  # resumes
    assert window.watch.timer.isActive() is True
    summary = poll_and_wait(qtbot, window)
    assert summary.new == [str(pdf)]
    assert window.progress_label.text() == ("Watched folders: 1 new, 0 changed, "
                                            "0 removed (flagged).")
    assert table_files(window) == ["Lease.pdf"]
