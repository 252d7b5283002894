"""The answering model as the window knows it: which one is loaded (set on the UI thread only,
from a worker's result), how to load one, and the status-bar label that says so."""

from __future__ import annotations

import copy
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel

from desk.config.settings import LlmSettings, Settings
from desk.core.errors import DeskError
from desk.core.progress import CancelToken, Progress
from desk.llm.model import AnswerModel
from desk.llm.store import ModelStore
from desk.rag.service import release_services
from desk.ui.workers import Workers

# (name, llm settings, cancel) -> generator of Progress returning the loaded model; by default
# desk.llm.runtime.prepare_runtime, a fake in tests.
ModelLoader = Callable[[str, LlmSettings, CancelToken | None],
                       Generator[Progress, None, AnswerModel]]


@dataclass
class LoadedModel:
    """Yielded by a worker that loaded a model, so the UI thread can keep it."""

    name: str
    model: AnswerModel


def default_loader(name: str, llm: LlmSettings, cancel: CancelToken | None = None
                   ) -> Generator[Progress, None, AnswerModel]:
    from desk.llm.runtime import prepare_runtime  # llama.cpp is imported on first use

    return (yield from prepare_runtime(name, llm, cancel))


def load_job(loader: ModelLoader, name: str, llm: LlmSettings
             ) -> Callable[[CancelToken], Generator[Any, None, LoadedModel]]:
    """A worker job over copied values only: it never touches the window or its settings."""
    llm = copy.deepcopy(llm)

    def job(cancel: CancelToken) -> Generator[Any, None, LoadedModel]:
        model = yield from loader(name, llm, cancel)
        return LoadedModel(name, model)

    return job


class ModelStatus(QObject):
    def __init__(self, settings: Settings, workers: Workers,
                 loader: ModelLoader | None = None,
                 on_error: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.workers = workers
        self.loader: ModelLoader = loader or default_loader
        self.on_error = on_error
        self.model: AnswerModel | None = None
        self.model_name: str | None = None
        self.loads = 0  # reloads under way
        self._precision: dict[str, str] = {}  # per model name: the store may read a GGUF header
        self.label = QLabel()
        self.label.setObjectName("model_status")
        self.update()

    def current(self) -> AnswerModel | None:
        """The loaded model if it is the one the settings name (else the caller loads it)."""
        return self.model if self.model_name == self.settings.llm.model else None

    def precision(self, name: str) -> str:
        if name not in self._precision:
            try:
                self._precision[name] = ModelStore().get(name).precision
            except DeskError:
                return "?"  # not in the store yet (assembled on first question): ask again later
        return self._precision[name]

    def update(self) -> None:
        name = self.settings.llm.model
        if self.loads:
            self.label.setText(f"Model: {name} · loading…")
            return
        model = self.current()
        state = f"{model.device}, loaded" if model else "CPU, loads on first question"
        self.label.setText(f"Model: {name} · {self.precision(name)} · {state}")

    def set_loaded(self, loaded: LoadedModel) -> None:
        """On the UI thread, from a worker's result."""
        if loaded.name != self.settings.llm.model:
            return  # another model was chosen meanwhile; its own load reports it
        self.model, self.model_name = loaded.model, loaded.name
        self.update()

    def reload(self, name: str) -> None:
        """Load the newly chosen model in the background; the app stays usable meanwhile."""
        self.model = self.model_name = None  # an answer asked meanwhile loads the new one
        release_services()  # the old model is not kept alive by the last answering service
        self.loads += 1
        self.update()
        self.workers.read(load_job(self.loader, name, self.settings.llm),
                          on_done=self.set_loaded, on_finished=self._reload_finished,
                          on_error=self.on_error)

    def _reload_finished(self) -> None:
        self.loads -= 1
        self.update()
