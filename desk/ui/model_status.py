"""The answering model as the window knows it: which one is loaded (set on the UI thread only,
from a worker's result), how to load one, and the status-bar label that says so."""

from __future__ import annotations

import copy
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel

from desk.config.settings import Settings, server_host
from desk.core.errors import DeskError
from desk.core.progress import CancelToken, Progress
from desk.llm.model import AnswerModel, answer_source, prepare_model
from desk.llm.store import ModelStore
from desk.rag.service import release_services
from desk.ui.workers import Workers

# (settings, cancel) -> generator of Progress returning the model that answers under those
# settings; by default desk.llm.model.prepare_model (llama.cpp or a server), a fake in tests.
ModelLoader = Callable[[Settings, CancelToken | None], Generator[Progress, None, AnswerModel]]


@dataclass
class LoadedModel:
    """Yielded by a worker that loaded a model, so the UI thread can keep it. `source` is
    what answers (desk.llm.model.answer_source): a local model's name or a server's."""

    source: str
    model: AnswerModel


def load_job(loader: ModelLoader, settings: Settings
             ) -> Callable[[CancelToken], Generator[Any, None, LoadedModel]]:
    """A worker job over copied values only: it never touches the window or its settings."""
    settings = copy.deepcopy(settings)
    source = answer_source(settings)

    def job(cancel: CancelToken) -> Generator[Any, None, LoadedModel]:
        model = yield from loader(settings, cancel)
        return LoadedModel(source, model)

    return job


class ModelStatus(QObject):
    def __init__(self, settings: Settings, workers: Workers,
                 loader: ModelLoader | None = None,
                 on_error: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.workers = workers
        self.loader: ModelLoader = loader or prepare_model
        self.on_error = on_error
        self.model: AnswerModel | None = None
        self.source: str | None = None  # what the loaded model is (answer_source)
        self.loads = 0  # reloads under way
        self._precision: dict[str, str] = {}  # per model name: the store may read a GGUF header
        self.label = QLabel()
        self.label.setObjectName("model_status")
        self.update()

    def current(self) -> AnswerModel | None:
        """The loaded model if it is the one the settings name (else the caller loads it)."""
        return self.model if self.source == answer_source(self.settings) else None

    def precision(self, name: str) -> str:
        if name not in self._precision:
            try:
                self._precision[name] = ModelStore().get(name).precision
            except DeskError:
                return "?"  # not in the store yet (assembled on first question): ask again later
        return self._precision[name]

    def update(self) -> None:
        if self.settings.answers_from == "server":
            # said whenever a server is in use: the text leaves this computer
            server = self.settings.server
            state = " · connecting…" if self.loads else ""
            self.label.setText(f"Answers from {server.model} on {server_host(server.url)}: "
                               f"questions and passages are sent there{state}")
            self.label.setStyleSheet("color:#9a3412")
            return
        self.label.setStyleSheet("")
        name = self.settings.llm.model
        if self.loads:
            self.label.setText(f"Model: {name} · loading…")
            return
        model = self.current()
        state = f"{model.device}, loaded" if model else "loads on first question"
        self.label.setText(f"Model: {name} · {self.precision(name)} · {state}")

    def set_loaded(self, loaded: LoadedModel) -> None:
        """On the UI thread, from a worker's result."""
        if loaded.source != answer_source(self.settings):
            return  # another model was chosen meanwhile; its own load reports it
        self.model, self.source = loaded.model, loaded.source
        self.update()

    def reload(self) -> None:
        """Load the newly chosen model (or connect to the chosen server) in the background;
        the app stays usable meanwhile."""
        self.model = self.source = None  # an answer asked meanwhile loads the new one
        release_services()  # the old model is not kept alive by the last answering service
        self.loads += 1
        self.update()
        self.workers.read(load_job(self.loader, self.settings),
                          on_done=self.set_loaded, on_finished=self._reload_finished,
                          on_error=self.on_error)

    def _reload_finished(self) -> None:
        self.loads -= 1
        self.update()
