"""A matter: a named set of documents with its own catalog and vector file, and one writer at a time."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from desk.config.fingerprint import IndexFingerprint
from desk.config.paths import matter_slug, matters_dir
from desk.config.settings import Settings, load_settings
from desk.core.errors import DeskError, IndexMismatch, MatterBusy
from desk.core.files import PRIVATE_FILE_MODE, atomic_write_text, private_dir
from desk.core.progress import CancelToken, Progress
from desk.index.catalog import Catalog
from desk.index.embedder import Embedder, get_embedder
from desk.index.vectors import VectorIndexFactory, VectorStore

EMBED_BATCH = 1024  # a large batch lets the embedder group texts of similar length
SAVE_EVERY_SECONDS = 20.0


class Embedding:
    """Embeds a matter's pending chunks batch by batch, and saves the vector file at most
    every SAVE_EVERY_SECONDS and when its `with` block ends. An import steps it between documents, so
    embedding starts while later documents are still being read."""

    def __init__(self, matter: Matter, cancel: CancelToken | None = None) -> None:
        self.matter = matter
        self.cancel = cancel
        self.progress = Progress("embed", 0, 0, "Semantic index")
        self._after_id = 0
        self._unsaved: list[int] = []
        self._last_save = time.monotonic()

    def __enter__(self) -> Embedding:
        return self

    def __exit__(self, *exc: object) -> None:
        self.save()  # also on cancel or error: what was embedded is kept

    def remaining(self) -> int:
        return self.matter.catalog.count_pending(after_id=self._after_id)

    def step(self, full_batches_only: bool = False) -> bool:
        """Embed one batch; False when there is nothing (or, if asked, not a full batch) to do."""
        if self.cancel:
            self.cancel.raise_if_cancelled()
        catalog = self.matter.catalog
        batch = catalog.pending_chunks(self._after_id, EMBED_BATCH)
        if not batch or (full_batches_only and len(batch) < EMBED_BATCH):
            return False
        self._after_id = batch[-1][0]
        unique: dict[str, int] = {}
        for _, text in batch:
            unique.setdefault(text, len(unique))  # identical boilerplate is embedded once
        vectors = self.matter.embedder.embed(list(unique))
        self.matter.vectors.add([i for i, _ in batch], vectors[[unique[t] for _, t in batch]])
        self._unsaved.extend(i for i, _ in batch)
        self.progress.done += len(batch)
        self.progress.total = self.progress.done + self.remaining()
        if time.monotonic() - self._last_save > SAVE_EVERY_SECONDS:
            self.save()
        return True

    def run(self) -> Iterator[Progress]:
        """Embed everything still pending."""
        self.progress.total = self.progress.done + self.remaining()
        if self.progress.total == self.progress.done:
            return
        yield self.progress
        while self.step():
            yield self.progress

    def save(self) -> None:
        # Vector file first, then the flags: a kill in between only causes re-embedding.
        if self._unsaved:
            self.matter.vectors.save()
            self.matter.catalog.mark_embedded(self._unsaved)
            self._unsaved = []
        self._last_save = time.monotonic()


def list_matters() -> list[str]:
    names = []
    for folder in sorted(matters_dir().iterdir()):
        info = folder / "matter.json"
        if info.exists():
            try:
                names.append(json.loads(info.read_text(encoding="utf-8"))["name"])
            except (OSError, ValueError, KeyError):
                continue
    return names


def matter_path(name: str) -> Path:
    return matters_dir() / matter_slug(name)


@contextmanager
def open_catalog(matter_name: str) -> Iterator[Catalog]:
    """The catalog of a matter on its own connection, for a read off the GUI thread (a watched
    folder's poll, the documents table during an import): no embedder, no vector file."""
    folder = matter_path(matter_name)
    if not (folder / "matter.json").exists():
        raise DeskError(f"There is no matter named {matter_name!r}.")
    catalog = Catalog(folder / "catalog.sqlite")
    try:
        yield catalog
    finally:
        catalog.close()


def delete_matter(name: str) -> None:
    path = matter_path(name)
    if not (path / "matter.json").exists():
        raise DeskError(f"There is no matter named {name!r}.")
    shutil.rmtree(path)


def rename_matter(old: str, new: str) -> None:
    src, dst = matter_path(old), matter_path(new)
    if not (src / "matter.json").exists():
        raise DeskError(f"There is no matter named {old!r}.")
    if (dst / "matter.json").exists():
        raise DeskError(f"A matter named {new!r} already exists.")
    os.replace(src, dst)
    atomic_write_text(dst / "matter.json", json.dumps({"name": new}))


class Matter:
    """Opens (or creates) a matter; checks how its index was built; repairs the vector file."""

    def __init__(self, name: str, embedder: Embedder, fingerprint: IndexFingerprint,
                 create: bool = True, check_fingerprint: bool = True,
                 vector_index: VectorIndexFactory = VectorStore) -> None:
        self.name = name
        self.path = matter_path(name)
        if not (self.path / "matter.json").exists():
            if not create:
                raise DeskError(f"There is no matter named {name!r}. Import documents into it "
                                f"first: desk index --matter {json.dumps(name)} PATH")
            private_dir(self.path)
            atomic_write_text(self.path / "matter.json", json.dumps({"name": name}))
        self.embedder = embedder
        self.fingerprint = fingerprint
        self._lock: filelock.BaseFileLock | None = None
        self.catalog = Catalog(self.path / "catalog.sqlite")
        try:  # a matter that cannot be opened must not leave its catalog connection open
            if check_fingerprint:
                self._check_fingerprint()
            self.vectors = vector_index(self.path / "vectors.hnsw", fingerprint.dimension)
            self.repaired = self._reconcile()
        except BaseException:
            self.catalog.close()
            raise

    def _check_fingerprint(self) -> None:
        stored = self.catalog.get_meta("fingerprint")
        if stored is None:
            self.catalog.set_meta("fingerprint", self.fingerprint.to_json())
            return
        built = IndexFingerprint.from_json(stored)
        if built != self.fingerprint:
            raise IndexMismatch(
                f"Matter {self.name!r} was indexed with {built.describe()}, but the current "
                f"settings use {self.fingerprint.describe()}. Rebuild it with "
                f"`desk index --matter {json.dumps(self.name)} --rebuild` (or restore the settings).")

    def _reconcile(self) -> int:
        """Make the vector file agree with the catalog after a crash; return chunks to re-embed."""
        in_index = self.vectors.ids()
        live = set(self.catalog.chunk_ids())
        stale = sorted(in_index - live)
        if stale:
            self.vectors.remove(stale)
        return self.catalog.set_embedded_state(in_index & live)

    def close(self) -> None:
        self.release()
        self.catalog.close()

    # -- writing --------------------------------------------------------------------------
    def acquire(self) -> None:
        """Take the matter's write lock (one writer across processes)."""
        if self._lock is not None:
            return
        # Not thread-local and not a singleton: another Matter object on the same folder (in
        # this process or another) is another writer and must get MatterBusy.
        lock = filelock.FileLock(self.path / "write.lock", mode=PRIVATE_FILE_MODE,
                                 thread_local=False)
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout as exc:
            raise MatterBusy(f"Matter {self.name!r} is being changed by another Desk process; "
                             "try again when it finishes.") from exc
        self._lock = lock

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def remove_chunks_from_vectors(self, ids: list[int]) -> None:
        self.vectors.remove(ids)
        if self.vectors.needs_compaction():
            self.vectors.compact()
        self.vectors.save()

    def reset_vectors(self) -> None:
        """Drop the vector file and start an empty one (every chunk was replaced)."""
        self.vectors.reset()

    def embed_pending(self, cancel: CancelToken | None = None) -> Iterator[Progress]:
        """Embed every chunk the vector file lacks, saving atomically as it goes."""
        with self.embedding(cancel) as embedding:
            yield from embedding.run()

    def embedding(self, cancel: CancelToken | None = None) -> Embedding:
        return Embedding(self, cancel)


def open_matter(name: str, settings: Settings | None = None, create: bool = True,
                check_fingerprint: bool = True,
                vector_index: VectorIndexFactory = VectorStore) -> Matter:
    """Open a matter with the embedder and chunking the settings name."""
    settings = settings or load_settings()
    embedder = get_embedder(settings.embedder)
    fingerprint = IndexFingerprint(embedder.name, embedder.dimension, settings.chunking.size,
                                   settings.chunking.overlap)
    return Matter(name, embedder, fingerprint, create=create, check_fingerprint=check_fingerprint,
                  vector_index=vector_index)
