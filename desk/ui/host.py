"""What the window's parts that run model jobs (asking, reviewing) need of the window."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtWidgets import QLabel

from desk.config.settings import Settings
from desk.index.matter import Matter
from desk.ui.model_status import ModelStatus
from desk.ui.workers import Workers


class ModelJobHost(Protocol):
    @property
    def matter(self) -> Matter | None: ...

    settings: Settings
    workers: Workers
    models: ModelStatus
    progress_label: QLabel

    def show_error(self, message: str) -> None: ...
