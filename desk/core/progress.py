"""Long jobs are generators that yield Progress and check a CancelToken; the UI and CLI render them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TypeVar

from desk.core.errors import Cancelled

T = TypeVar("T")
Y = TypeVar("Y")


@dataclass
class Progress:
    stage: str  # e.g. "extract", "embed", "save"
    done: int
    total: int
    message: str = ""
    started: float = field(default_factory=time.monotonic)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    def eta_seconds(self) -> float | None:
        if not self.done or not self.total:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / self.done * (self.total - self.done)


class CancelToken:
    """Thread-safe flag a job polls between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Block until cancelled or `timeout` seconds pass; True if cancelled (for a watcher
        that must act on cancel while the job itself is blocked, e.g. in a network read)."""
        return self._event.wait(timeout)

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("Cancelled by the user.")


def drive(job: Generator[Y, None, T], on_item: Callable[[Y], None]) -> T:
    """Run a job that yields as it goes (progress, text) to its end, handing each item to
    `on_item`; return the job's result."""
    while True:
        try:
            on_item(next(job))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
