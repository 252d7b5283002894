"""Run the engine's generators off the GUI thread and turn their yields into Qt signals.

Writes (imports, removals) go through a one-thread pool, so there is one writer at a time;
reads (answers, searches) use their own pool; model benchmarks and quantizing (minutes of full
CPU) get a one-thread pool of their own, so they never make an import or an answer wait for a
thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from desk.core.errors import Cancelled, DeskError
from desk.core.progress import CancelToken

log = logging.getLogger("desk")


class WorkerSignals(QObject):
    sig_item = Signal(object)  # each value the generator yields (Progress, text, ...)
    sig_done = Signal(object)  # the generator's return value
    sig_error = Signal(str)  # a message for the user
    sig_finished = Signal()  # always last


class Worker(QRunnable):
    def __init__(self, job: Callable[[CancelToken], Iterator[Any]]) -> None:
        super().__init__()
        self.job = job
        self.cancel = CancelToken()
        self.signals = WorkerSignals()
        self.setAutoDelete(False)

    def run(self) -> None:
        try:
            generator = self.job(self.cancel)
            while True:
                try:
                    item = next(generator)
                except StopIteration as stop:
                    self.signals.sig_done.emit(stop.value)
                    break
                self.signals.sig_item.emit(item)
        except Cancelled:
            self.signals.sig_error.emit("Cancelled.")
        except DeskError as exc:
            log.warning("%s", exc)
            self.signals.sig_error.emit(str(exc))
        except Exception as exc:  # the user sees a sentence, the log keeps the traceback
            log.exception("unexpected error in a background job")
            self.signals.sig_error.emit(f"Something went wrong ({type(exc).__name__}: {exc}). "
                                        "Details are in the log file.")
        finally:
            self.signals.sig_finished.emit()


Slot = Callable[..., Any] | None  # None: not connected
Handlers = dict[str, Slot]  # on_item, on_done, on_error, on_finished


class Workers:
    """Starts jobs on the pools; each call takes the slots for the worker's signals
    (on_item, on_done, on_error, on_finished), connected before the job starts."""

    def __init__(self) -> None:
        self.writer = QThreadPool()
        self.writer.setMaxThreadCount(1)
        self.reader = QThreadPool()
        self.reader.setMaxThreadCount(2)
        self.bench_pool = QThreadPool()
        self.bench_pool.setMaxThreadCount(1)
        self.running: list[Worker] = []

    def _start(self, pool: QThreadPool, worker: Worker, handlers: Handlers) -> Worker:
        """Connect the caller's slots, then start: a job that yields (or ends) at once must
        not emit before anyone listens, or its first items are lost."""
        self.running.append(worker)
        signals = worker.signals
        for signal, slot in ((signals.sig_item, handlers.get("on_item")),
                             (signals.sig_done, handlers.get("on_done")),
                             (signals.sig_error, handlers.get("on_error")),
                             (signals.sig_finished, handlers.get("on_finished"))):
            if slot is not None:
                signal.connect(slot)
        signals.sig_finished.connect(lambda: self._forget(worker))
        pool.start(worker)
        return worker

    def _forget(self, worker: Worker) -> None:
        if worker in self.running:
            self.running.remove(worker)

    def write(self, job: Callable[[CancelToken], Iterator[Any]], **handlers: Slot) -> Worker:
        return self._start(self.writer, Worker(job), handlers)

    def read(self, job: Callable[[CancelToken], Iterator[Any]], **handlers: Slot) -> Worker:
        return self._start(self.reader, Worker(job), handlers)

    def bench(self, job: Callable[[CancelToken], Iterator[Any]], **handlers: Slot) -> Worker:
        """Model benchmarks and quantizing: one at a time, beside imports and answers."""
        return self._start(self.bench_pool, Worker(job), handlers)

    def pools(self) -> tuple[QThreadPool, ...]:
        return (self.writer, self.reader, self.bench_pool)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel everything and wait for the threads to end (closing the window)."""
        for worker in list(self.running):
            worker.signals.blockSignals(True)  # the window is going away: no more messages
            worker.cancel.cancel()
        deadline = time.monotonic() + timeout_ms / 1000
        done = True
        for pool in self.pools():  # one deadline for all, not timeout_ms per pool
            left = max(0, int((deadline - time.monotonic()) * 1000))
            done = bool(pool.waitForDone(left)) and done
        if done:
            self.running.clear()
        return bool(done)
