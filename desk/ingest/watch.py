"""Watched folders of a matter: which folders, what changed in them since the last look
(new, changed, removed and returned PDFs), and the import of what is new or changed.

A poll is cheap: each file's stat signature (size, mtime_ns) is kept in the catalog's meta, and
only a file whose signature moved is hashed. A signature is recorded once the file's version
has been dealt with (imported, failed with a recorded problem, or found unchanged), so a
cancelled import is picked up again by the next poll, and a document the lawyer removed stays
removed until its file changes. Files removed from disk are flagged, never deleted.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from desk.core.errors import DeskError
from desk.core.progress import CancelToken, Progress
from desk.core.types import Document
from desk.index.catalog import Catalog
from desk.index.matter import Matter
from desk.ingest.importer import ImportJob, file_sha256

FOLDERS_KEY = "watch.folders"  # JSON list of absolute folder paths
SIGNATURES_KEY = "watch.signatures"  # {path: [size, mtime_ns]} of versions dealt with
PENDING_KEY = "watch.pending"  # {path: [size, mtime_ns]} of files seen still being written
SETTLE_SECONDS = 2.0  # a file modified more recently than this may still be being written

Signature = tuple[int, int]  # (size, mtime_ns)


# -- the folders ----------------------------------------------------------------------------
def watched_folders(catalog: Catalog) -> list[Path]:
    raw = catalog.get_meta(FOLDERS_KEY)
    return [Path(p) for p in json.loads(raw)] if raw else []


def _save_folders(catalog: Catalog, folders: list[Path]) -> None:
    catalog.set_meta(FOLDERS_KEY, json.dumps([str(p) for p in folders]))


def add_folder(catalog: Catalog, folder: Path | str) -> list[Path]:
    """Watch a folder (absolute, resolved); return the watched folders."""
    path = Path(folder).expanduser()
    if not path.exists():
        raise DeskError(f"Cannot watch {str(folder)!r}: there is no such folder.")
    if not path.is_dir():
        raise DeskError(f"Cannot watch {str(folder)!r}: it is a file, not a folder.")
    path = path.resolve()
    folders = watched_folders(catalog)
    if path not in folders:
        folders.append(path)
        _save_folders(catalog, folders)
    return folders


def remove_folder(catalog: Catalog, folder: Path | str) -> list[Path]:
    """Stop watching a folder (its documents stay in the matter); return the watched folders."""
    folders = watched_folders(catalog)
    given = Path(folder).expanduser()
    candidates = {given, given.resolve()}
    kept = [f for f in folders if f not in candidates]
    if len(kept) == len(folders):
        raise DeskError(f"{str(folder)!r} is not a watched folder of this matter.")
    _save_folders(catalog, kept)
    return kept


# -- the scan -------------------------------------------------------------------------------
@dataclass
class Candidate:
    """A PDF to import: its hash and signature when scanned, and the document it replaces."""

    path: str
    sha256: str
    signature: Signature
    replaces: Document | None = None


@dataclass
class Duplicate:
    """A PDF whose content is already in the matter under another path (the importer would
    skip it), or is another file of the same scan (`twin_path`): reported once, not imported."""

    path: str
    same_as: str  # the other file's name
    signature: Signature
    twin_path: str | None = None  # the candidate of this scan it repeats


@dataclass
class WatchScan:
    folders: list[str] = field(default_factory=list)
    new: list[Candidate] = field(default_factory=list)
    changed: list[Candidate] = field(default_factory=list)
    removed: list[Document] = field(default_factory=list)  # flagged missing by this scan
    restored: list[Document] = field(default_factory=list)  # flag cleared: the file is back
    missing: list[Document] = field(default_factory=list)  # all flagged, under the folders
    duplicates: list[Duplicate] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # still being written: next poll
    unavailable: list[str] = field(default_factory=list)  # watched folders not there now
    hashed: int = 0  # files hashed by this scan

    @property
    def to_import(self) -> list[Path]:
        return [Path(c.path) for c in self.new + self.changed]


def _load(catalog: Catalog, key: str) -> dict[str, Signature]:
    raw = catalog.get_meta(key)
    return {p: (int(s[0]), int(s[1])) for p, s in json.loads(raw).items()} if raw else {}


def _store(catalog: Catalog, key: str, value: dict[str, Signature], before: dict[str, Signature]
           ) -> None:
    if value != before:  # a quiet poll writes nothing
        catalog.set_meta(key, json.dumps({p: list(s) for p, s in sorted(value.items())}))


def _pdfs(folder: Path) -> Iterator[Path]:
    """PDFs under a folder, recursively, skipping hidden entries and Office lock files
    (e.g. macOS "._x.pdf" resource forks, which are not PDFs)."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.lower().endswith(".pdf") and not name.startswith((".", "~$")):
                yield Path(root, name)


def _settling(signature: Signature, before: Signature | None, now: float) -> bool:
    """Whether a file may still be being written: modified within SETTLE_SECONDS, or its size
    changed since the last poll saw it being written."""
    if before is not None and before[0] != signature[0]:
        return True
    age = now - signature[1] / 1e9
    if -SETTLE_SECONDS < age < SETTLE_SECONDS:
        return True
    # dated in the future (another machine's clock): wait until it holds still for one poll
    return age < 0 and before != signature


def _under(path: str, folders: Iterable[Path]) -> bool:
    pure = PurePath(path)
    return any(pure.is_relative_to(f) for f in folders)


def scan(catalog: Catalog, folders: Iterable[Path], now: float | None = None) -> WatchScan:
    """Compare the watched folders with the catalog: PDFs new or changed (to import), files
    still being written (left for the next poll), and documents whose file is gone (flagged
    missing now) or back (flag cleared)."""
    now = time.time() if now is None else now
    folders = [Path(f) for f in folders]
    found = WatchScan(folders=[str(f) for f in folders])
    available = [f for f in folders if f.is_dir()]
    found.unavailable = [str(f) for f in folders if f not in available]
    signatures_before, pending_before = (_load(catalog, SIGNATURES_KEY),
                                         _load(catalog, PENDING_KEY))
    signatures, pending = dict(signatures_before), {}
    documents = catalog.documents()
    by_path = {d.path: d for d in documents}
    by_sha = {d.sha256: d for d in documents}
    candidates: dict[str, Candidate] = {}  # by hash: two copies in one scan import once
    seen: set[str] = set()
    for folder in available:
        for file in _pdfs(folder):
            try:
                # documents are keyed by resolved path; the folder is stored resolved and the
                # walk does not enter linked folders, so only a linked file needs resolving
                path = str(file.resolve()) if file.is_symlink() else str(file)
                stat = file.stat()
            except OSError:
                continue  # gone between listing and looking
            if path in seen:
                continue  # a folder inside another watched folder
            seen.add(path)
            signature = (stat.st_size, stat.st_mtime_ns)
            if signatures.get(path) == signature:
                continue
            if _settling(signature, pending_before.get(path), now):
                pending[path] = signature
                found.waiting.append(path)
                continue
            try:
                sha = file_sha256(Path(path))
            except OSError:
                pending[path] = signature  # locked or unreadable now: try again next poll
                found.waiting.append(path)
                continue
            found.hashed += 1
            existing = by_path.get(path)
            if existing is not None and existing.sha256 == sha:
                signatures[path] = signature  # touched, or already imported by hand
            elif existing is not None:
                found.changed.append(Candidate(path, sha, signature, existing))
            elif (twin := by_sha.get(sha)) is not None:
                # said once, not on every poll
                found.duplicates.append(Duplicate(path, twin.file_name, signature))
                signatures[path] = signature
            elif (first := candidates.get(sha)) is not None:
                found.duplicates.append(Duplicate(path, Path(first.path).name, signature,
                                                  first.path))
            else:
                candidates[sha] = Candidate(path, sha, signature)
                found.new.append(candidates[sha])
    for doc in documents:
        if not _under(doc.path, available):
            continue
        exists = doc.path in seen or Path(doc.path).is_file()
        if not exists and doc.missing_since is None:
            found.removed.append(doc)
        elif exists and doc.missing_since is not None:
            found.restored.append(doc)
    if found.removed:
        catalog.set_missing([d.id for d in found.removed], now)
    if found.restored:
        catalog.set_missing([d.id for d in found.restored], None)
    flagged, cleared = {d.id for d in found.removed}, {d.id for d in found.restored}
    found.missing = [d for d in documents if d.id in flagged or (
        d.missing_since is not None and d.id not in cleared and _under(d.path, available))]
    # forget files that are gone; keep what an unplugged folder had, so it is not re-hashed
    kept = {p: s for p, s in signatures.items()
            if p in seen or (_under(p, folders) and not _under(p, available))}
    _store(catalog, SIGNATURES_KEY, kept, signatures_before)
    _store(catalog, PENDING_KEY, pending, pending_before)
    return found


# -- after the import -----------------------------------------------------------------------
@dataclass
class WatchSummary:
    """What a poll did, by path: for the status bar (`text`) and `desk watch --json`."""

    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)  # {"file", "path", "error"}
    duplicates: list[dict[str, str]] = field(default_factory=list)  # {"file", "path", "same_as"}
    waiting: list[str] = field(default_factory=list)
    not_imported: list[str] = field(default_factory=list)  # the import stopped before them
    unavailable: list[str] = field(default_factory=list)

    @property
    def eventful(self) -> bool:
        """Whether there is anything to tell the lawyer (waiting files are not news yet)."""
        return bool(self.new or self.changed or self.removed or self.restored or self.failed
                    or self.duplicates or self.not_imported)

    def text(self) -> str:
        text = (f"Watched folders: {len(self.new)} new, {len(self.changed)} changed, "
                f"{len(self.removed)} removed (flagged)")
        for items, label in ((self.restored, "back"), (self.failed, "failed"),
                             (self.duplicates, "already in the matter"),
                             (self.not_imported, "not imported yet")):
            if items:
                text += f", {len(items)} {label}"
        if self.unavailable:
            text += f"; {len(self.unavailable)} folder(s) not available"
        return text + "."

    def to_json(self) -> dict[str, object]:
        def files(paths: list[str]) -> list[dict[str, str]]:
            return [{"file": Path(p).name, "path": p} for p in paths]

        return {"new": files(self.new), "changed": files(self.changed),
                "removed": files(self.removed), "restored": files(self.restored),
                "missing": files(self.missing), "failed": self.failed,
                "duplicates": self.duplicates, "waiting": files(self.waiting),
                "not_imported": files(self.not_imported), "unavailable": self.unavailable}


def settle(catalog: Catalog, found: WatchScan) -> WatchSummary:
    """After the import of a scan's files (or none): record the signatures of the versions
    dealt with, and say what happened. A file the import did not reach (cancelled, failed
    early) keeps no signature, so the next poll tries it again."""
    summary = WatchSummary(
        removed=[d.path for d in found.removed], restored=[d.path for d in found.restored],
        missing=sorted(d.path for d in found.missing),
        waiting=list(found.waiting), unavailable=list(found.unavailable))
    candidates = found.new + found.changed
    if not candidates:
        summary.duplicates = [_duplicate(d) for d in found.duplicates]
        return summary
    problems = dict(catalog.problems())
    before = _load(catalog, SIGNATURES_KEY)
    signatures = dict(before)
    imported: set[str] = set()
    for candidate in candidates:
        doc = catalog.document_by_path(candidate.path)
        if doc is not None and doc.sha256 == candidate.sha256:
            (summary.changed if candidate.replaces else summary.new).append(candidate.path)
            signatures[candidate.path] = candidate.signature
            imported.add(candidate.path)
        elif candidate.path in problems:
            summary.failed.append({"file": Path(candidate.path).name, "path": candidate.path,
                                   "error": problems[candidate.path]})
            signatures[candidate.path] = candidate.signature  # not again until it changes
        else:
            summary.not_imported.append(candidate.path)
    for duplicate in found.duplicates:  # a copy of a file not imported is tried again
        if duplicate.twin_path is None or duplicate.twin_path in imported:
            summary.duplicates.append(_duplicate(duplicate))
            signatures[duplicate.path] = duplicate.signature
    _store(catalog, SIGNATURES_KEY, signatures, before)
    return summary


def _duplicate(duplicate: Duplicate) -> dict[str, str]:
    return {"file": Path(duplicate.path).name, "path": duplicate.path,
            "same_as": duplicate.same_as}


def watch_once(matter: Matter, chunk_size: int, chunk_overlap: int,
               cancel: CancelToken | None = None, now: float | None = None
               ) -> Generator[Progress, None, WatchSummary]:
    """Scan the matter's watched folders and import what is new or changed (the CLI's
    `desk watch --once`; the window runs the same two steps, importing on its writer pool)."""
    folders = watched_folders(matter.catalog)
    if not folders:
        raise DeskError(f"Matter {matter.name!r} watches no folders. Add one: "
                        f"desk watch --matter {json.dumps(matter.name)} --add FOLDER")
    found = scan(matter.catalog, folders, now)
    if found.to_import:
        job = ImportJob(matter, found.to_import, chunk_size, chunk_overlap, cancel)
        yield from job.run()
    return settle(matter.catalog, found)
