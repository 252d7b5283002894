"""Dense vectors in an hnswlib HNSW index (cosine), saved atomically, grown without a cap.

Labels are catalog chunk ids (never reused), so the file can be checked against the catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import hnswlib
import numpy as np

from desk.core.files import private_file, replace_atomically


class VectorIndex(Protocol):
    """What a matter needs of its dense index; labels are catalog chunk ids. Passed into the
    matter (a factory of path and dimension), so tests and other stores can stand in."""

    @property
    def count(self) -> int: ...
    def ids(self) -> set[int]: ...
    def __contains__(self, label: int) -> bool: ...
    def add(self, ids: list[int], vectors: np.ndarray) -> None: ...
    def remove(self, ids: list[int]) -> None: ...
    def needs_compaction(self) -> bool: ...
    def compact(self) -> None: ...
    def vectors(self, ids: list[int]) -> np.ndarray: ...
    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]: ...
    def save(self) -> None: ...
    def reset(self) -> None: ...


VectorIndexFactory = Callable[[Path, int], VectorIndex]


class VectorStore:
    """The hnswlib implementation of VectorIndex."""

    def __init__(self, path: Path, dimension: int, ef_construction: int = 200, m: int = 16) -> None:
        self.path = path
        self.dimension = dimension
        self._ef_construction = ef_construction
        self._m = m
        self.index = hnswlib.Index(space="cosine", dim=dimension)
        self.deleted: set[int] = set()
        self.stored: set[int] = set()  # every label in the file, deleted or not
        if path.exists():
            try:
                self.index.load_index(str(path), allow_replace_deleted=False)
                self.stored = set(int(i) for i in self.index.get_ids_list())
            except Exception:
                # A damaged vector file is rebuilt from the catalog; nothing else is lost.
                self._new(1024)
        else:
            self._new(1024)
        self.index.set_ef(128)

    def _new(self, capacity: int) -> None:
        self.index = hnswlib.Index(space="cosine", dim=self.dimension)
        self.index.init_index(max_elements=capacity, ef_construction=self._ef_construction,
                              M=self._m)
        self.index.set_ef(128)
        self.deleted = set()
        self.stored = set()

    @property
    def count(self) -> int:
        return int(self.index.get_current_count()) - len(self.deleted)

    def ids(self) -> set[int]:
        return self.stored - self.deleted

    def __contains__(self, label: int) -> bool:
        """Whether a chunk has a live vector: O(1), for the per-query checks."""
        return label in self.stored and label not in self.deleted

    def add(self, ids: list[int], vectors: np.ndarray) -> None:
        if not ids:
            return
        needed = self.index.get_current_count() + len(ids)
        if needed > self.index.get_max_elements():
            self.index.resize_index(max(needed, self.index.get_max_elements() * 2))
        self.index.add_items(vectors, np.asarray(ids, dtype=np.int64), num_threads=1)
        self.stored.update(ids)
        self.deleted.difference_update(ids)

    def remove(self, ids: list[int]) -> None:
        for i in ids:
            if i in self.stored and i not in self.deleted:
                try:
                    self.index.mark_deleted(i)
                except RuntimeError:
                    pass  # already marked in an earlier run whose file was saved
                self.deleted.add(i)

    def needs_compaction(self) -> bool:
        total = self.index.get_current_count()
        return total > 1000 and len(self.deleted) > 0.2 * total

    def compact(self) -> None:
        """Rebuild without deleted items (hnswlib only marks them)."""
        live = sorted(self.ids())
        vectors = np.asarray(self.index.get_items(live), dtype=np.float32) if live else None
        self._new(max(1024, len(live) * 2))
        if vectors is not None:
            self.add(live, vectors)

    def vectors(self, ids: list[int]) -> np.ndarray:
        if not ids:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self.index.get_items(ids), dtype=np.float32)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Nearest chunk ids with cosine similarity (higher = better)."""
        available = self.count
        if available == 0:
            return []
        k = min(k, available)
        self.index.set_ef(max(128, k * 2))
        labels, distances = self.index.knn_query(vector.reshape(1, -1), k=k, num_threads=1)
        return [(int(label), 1.0 - float(d)) for label, d in zip(labels[0], distances[0])]

    def reset(self) -> None:
        """Drop every vector and the file (all chunks were replaced)."""
        self.path.unlink(missing_ok=True)
        self._new(1024)

    def save(self) -> None:
        """Write to a temporary file, fsync, then rename: a kill leaves the old or the new file."""
        tmp = self.path.with_suffix(".tmp")
        private_file(tmp)  # hnswlib truncates it and keeps the mode: never readable by others
        self.index.save_index(str(tmp))
        replace_atomically(tmp, self.path)
