"""The Qt bindings must not lose references to Python's singletons.

PySide6/shiboken6 6.12.0 on Python 3.11 drops one reference to None on every call of a Qt
method that returns nothing (QLabel.setText, QProgressBar.setValue, QWidget.show, ...) and one
reference to True on every Signal.emit. After a few thousand calls the count reaches zero and
the window aborts with "Fatal Python error: none_dealloc" (or bool_dealloc). 6.11.3 loses none.
Each case below makes CALLS calls through a binding Desk uses and checks that the reference
counts of None, True and False did not fall (a leak of one per call is a fall of CALLS).

On Python 3.12+ these singletons are immortal and the counts never move, so the check holds
trivially there; Desk runs on 3.11 (pyproject.toml), where it matters."""

from __future__ import annotations

import ctypes
import gc
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QAbstractTableModel, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QStatusBar,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QWidget,
)

CALLS = 3000
TOLERANCE = 50  # unrelated noise (caches filling or emptying); a real leak is about CALLS

# References held for the whole session, so that a leaking binding makes these tests fail with
# numbers instead of killing the interpreter (none_dealloc) before pytest can report anything.
# The list itself is leaked on purpose: freeing it would hand the lost references back to zero.
_GUARD: list[object] = [None, True, False] * 200_000
ctypes.pythonapi.Py_IncRef(ctypes.py_object(_GUARD))


class _Model(QAbstractTableModel):
    """A Python subclass, as Desk's table models are: its signals and protected methods."""

    def rowCount(self, parent: Any = None) -> int:
        return 3

    def columnCount(self, parent: Any = None) -> int:
        return 2

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return f"{index.row()},{index.column()}" if role == Qt.ItemDataRole.DisplayRole else None


class _Emitter(QObject):
    """A worker-like object: Desk's workers emit Python objects (answers, progress dicts)."""

    payload = Signal(object)


def _reset(model: _Model) -> None:
    model.beginResetModel()
    model.endResetModel()


@pytest.fixture
def widgets(qtbot: Any) -> Iterator[dict[str, Any]]:
    """One of each widget; a QApplication exists (pytest-qt's qapp, offscreen)."""
    assert QApplication.instance() is not None
    window = QWidget()
    qtbot.addWidget(window)
    emitter = _Emitter()
    received: list[object] = []
    emitter.payload.connect(lambda obj: received.__setitem__(slice(None), [obj]))
    model = _Model()
    bar = QProgressBar(window)
    bar.setRange(0, CALLS)
    w = {
        "window": window,
        "label": QLabel(window),
        "bar": bar,
        "table": QTableWidget(2, 2, window),
        "item": QTableWidgetItem("x"),
        "button": QPushButton("Ask", window),
        "browser": QTextBrowser(window),
        "list": QListWidget(window),
        "combo": QComboBox(window),
        "status": QStatusBar(window),
        "model": model,
        "emitter": emitter,
        "first": model.index(0, 0),
        "last": model.index(2, 1),
        "received": received,
    }
    yield w


CASES: dict[str, Callable[[dict[str, Any], int], object]] = {
    "QLabel.setText": lambda w, i: w["label"].setText(f"passage {i % 7}"),
    "QProgressBar.setValue": lambda w, i: w["bar"].setValue(i),
    "QTableWidgetItem.setData": lambda w, i: w["item"].setData(Qt.ItemDataRole.UserRole, i),
    "QTableWidget.setItem": lambda w, i: w["table"].setItem(0, i % 2, QTableWidgetItem(str(i))),
    "QWidget.show/hide": lambda w, i: w["label"].show() if i % 2 else w["label"].hide(),
    "QPushButton.setEnabled": lambda w, i: w["button"].setEnabled(bool(i % 2)),
    "Signal(object).emit": lambda w, i: w["emitter"].payload.emit({"done": i}),
    "dataChanged.emit": lambda w, i: w["model"].dataChanged.emit(w["first"], w["last"]),
    "beginResetModel/endResetModel": lambda w, i: _reset(w["model"]),
    "QTextBrowser.setHtml": lambda w, i: w["browser"].setHtml(f"<p>answer <b>{i % 5}</b></p>"),
    "QListWidget.addItem": lambda w, i: w["list"].addItem(f"file {i}.pdf"),
    "QComboBox.addItem": lambda w, i: w["combo"].addItem(f"matter {i}"),
    "QStatusBar.showMessage": lambda w, i: w["status"].showMessage(f"{i} pages"),
}


def _counts() -> dict[str, int]:
    gc.collect()
    return {"None": sys.getrefcount(None), "True": sys.getrefcount(True),
            "False": sys.getrefcount(False)}


@pytest.mark.parametrize("name", list(CASES))
def test_binding_keeps_singleton_references(name: str, widgets: dict[str, Any]) -> None:
    call = CASES[name]
    call(widgets, 0)  # first call: lets Qt and shiboken fill their caches
    before = _counts()
    for i in range(CALLS):
        call(widgets, i)
    after = _counts()
    fell = {k: before[k] - after[k] for k in before}
    assert all(f < TOLERANCE for f in fell.values()), (
        f"{name}: {CALLS} calls lowered the reference counts by {fell} "
        "(a leaking PySide6/shiboken6 build; Desk pins 6.11.3 in pyproject.toml)")
    if name == "Signal(object).emit":
        assert widgets["received"] == [{"done": CALLS - 1}], "the slot did not get the object"
