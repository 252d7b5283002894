"""The matters sidebar (the list; new, rename, delete) and the first-run welcome page."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QInputDialog,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desk.core.errors import DeskError
from desk.index.matter import Matter, delete_matter, list_matters, rename_matter


class MatterHost(Protocol):
    """What the sidebar needs of the window: the open matter and a way to change it."""

    @property
    def matter(self) -> Matter | None: ...

    def select_matter(self, name: str, create: bool = False) -> None: ...

    def close_matter(self) -> None: ...

    def busy(self, changing: bool = False) -> str:
        """Why the open matter cannot be closed now, or renamed and deleted (`changing`);
        "" when it can."""
        ...

    def show_error(self, message: str) -> None: ...


class MattersSidebar(QObject):
    """The matters list with its heading and "New matter" button (laid out by the window, so
    that the list and the documents table share the left pane's height as before)."""

    def __init__(self, host: MatterHost, parent: QWidget) -> None:
        super().__init__(parent)
        self.host = host
        self.parent_widget = parent
        self.heading = QLabel("<b>Matters</b>")
        self.list = QListWidget()
        self.list.setObjectName("matters")
        self.list.currentTextChanged.connect(self._clicked)
        self.new_button = QPushButton("New matter")
        self.new_button.clicked.connect(self.new_matter)

    def widgets(self) -> list[tuple[QWidget, int]]:
        """(widget, stretch) from top to bottom."""
        return [(self.heading, 0), (self.list, 1), (self.new_button, 0)]

    def refresh(self) -> None:
        current = self.host.matter.name if self.host.matter else None
        self.list.blockSignals(True)
        self.list.clear()
        for name in list_matters():
            self.list.addItem(name)
            if name == current:
                self.list.setCurrentRow(self.list.count() - 1)
        self.list.blockSignals(False)

    def _clicked(self, name: str) -> None:
        matter = self.host.matter
        if not name or (matter is not None and name == matter.name):
            return
        if self._refused("switch"):
            self.refresh()  # keep the selection on the matter in use
            return
        self.host.select_matter(name)

    def _refused(self, action: str, changing: bool = False) -> bool:
        reason = self.host.busy(changing)
        if reason:
            self.host.show_error(f"{reason} Stop it or wait, then {action}.")
        return bool(reason)

    def new_matter(self) -> None:
        name, ok = QInputDialog.getText(self.parent_widget, "New matter", "Name of the matter:")
        if ok and name.strip() and not self._refused("create a matter"):
            self.host.select_matter(name.strip(), create=True)

    def rename_current(self) -> None:
        matter = self.host.matter
        if matter is None:
            return
        name, ok = QInputDialog.getText(self.parent_widget, "Rename matter", "New name:", text=matter.name)
        old = matter.name
        if not ok or not name.strip() or name.strip() == old or self._refused("rename", True):
            return
        self.host.close_matter()
        try:
            rename_matter(old, name.strip())
        except DeskError as exc:
            self.host.show_error(str(exc))
            name = old
        self.host.select_matter(name.strip())

    def delete_current(self) -> None:
        matter = self.host.matter
        if matter is None:
            return
        name = matter.name
        answer = QMessageBox.question(
            self.parent_widget, "Delete matter", f"Delete the matter “{name}” with its index and "
            "conversations? The PDF files themselves are not touched.")
        if answer != QMessageBox.StandardButton.Yes or self._refused("delete", True):
            return
        self.host.close_matter()
        delete_matter(name)
        self.refresh()
        remaining = list_matters()
        if remaining:
            self.host.select_matter(remaining[0])


class WelcomePage(QWidget):
    """Shown while there is no matter: drop PDFs, or start with the sample contracts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        text = QLabel("<h2>Welcome to Desk</h2><p>Drop the PDFs of a matter onto this window, "
                      "or start with three sample contracts. Everything stays on this "
                      "computer.</p>")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        text.setWordWrap(True)
        self.sample_button = QPushButton("Open the sample matter")
        self.new_button = QPushButton("Create an empty matter…")
        layout.addWidget(text)
        layout.addWidget(self.sample_button, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.new_button, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(2)
