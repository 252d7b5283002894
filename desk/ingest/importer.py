"""Import jobs: find PDFs, extract and chunk them, write the catalog, then embed; yield progress.

Each document is written in one transaction, so it is keyword-searchable as soon as it is
extracted; semantic search fills in during the embed stage.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from desk.config.paths import SAMPLES_DIR
from desk.core.errors import BadDocument
from desk.core.progress import CancelToken, Progress
from desk.index.matter import Matter
from desk.ingest.chunker import chunk_pages
from desk.ingest.pdf import read_pdf

PROFILE_CHARS = 1500


@dataclass
class ImportSummary:
    added: int = 0
    replaced: int = 0
    skipped: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    pages: int = 0
    chunks: int = 0
    pages_needing_ocr: list[dict[str, object]] = field(default_factory=list)
    seconds: float = 0.0
    extract_seconds: float = 0.0  # reading PDFs and chunking
    write_seconds: float = 0.0  # catalog transactions (text, pages, FTS)
    embed_seconds: float = 0.0  # embedding and saving the vector file

    def to_json(self) -> dict[str, object]:
        return {"added": self.added, "skipped": self.skipped, "failed": self.failed,
                "pages": self.pages, "chunks": self.chunks, "seconds": round(self.seconds, 2),
                "replaced": self.replaced, "needs_ocr": self.pages_needing_ocr}


def find_pdfs(paths: Iterable[Path]) -> tuple[list[Path], list[dict[str, str]]]:
    """Expand folders (recursively) into PDF files; report paths that do not exist."""
    found: list[Path] = []
    missing: list[dict[str, str]] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*")
                                if p.is_file() and p.suffix.lower() == ".pdf"))
        elif path.is_file():
            found.append(path)
        else:
            missing.append({"file": str(path), "error": "no such file or folder"})
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return unique, missing


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def document_profile(file_name: str, page_texts: list[str]) -> str:
    """Text that identifies a document: its file name in words plus the start of its text."""
    stem = re.sub(r"[_\-.]+", " ", Path(file_name).stem)
    head = " ".join(t for t in page_texts if t.strip())[:PROFILE_CHARS]
    return f"{stem}\n{head}"


def opening_texts(matter: Matter | None, pages: int = 2) -> list[str]:
    """The first pages of each document of a matter, or of the sample contracts without one:
    the text model quality is measured on."""
    if matter is not None and matter.catalog.documents():
        return [" ".join(matter.catalog.page_texts(d.id)[:pages])
                for d in matter.catalog.documents()]
    return [" ".join(p.text for p in read_pdf(f).pages[:pages])
            for f in sorted(SAMPLES_DIR.iterdir()) if f.suffix.lower() == ".pdf"]


class ImportJob:
    """Run with `for progress in job.run(): ...`; the result is in `job.summary`."""

    def __init__(self, matter: Matter, paths: Iterable[Path], chunk_size: int,
                 chunk_overlap: int, cancel: CancelToken | None = None) -> None:
        self.matter = matter
        self.paths = [Path(p) for p in paths]
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.cancel = cancel or CancelToken()
        self.summary = ImportSummary()

    def run(self) -> Iterator[Progress]:
        started = time.monotonic()
        self.matter.acquire()
        try:
            files, missing = find_pdfs(self.paths)
            self.summary.failed.extend(missing)
            progress = Progress("extract", 0, len(files), "Reading documents")
            yield progress
            for path in files:
                self.cancel.raise_if_cancelled()
                progress.message = path.name
                self._import_one(path)
                progress.done += 1
                yield progress
            embed_started = time.monotonic()
            yield from self.matter.embed_pending(self.cancel)
            self.summary.embed_seconds = time.monotonic() - embed_started
        finally:
            self.summary.seconds = time.monotonic() - started
            self.matter.release()

    def _import_one(self, path: Path) -> None:
        catalog = self.matter.catalog
        key = str(path)
        try:
            sha = file_sha256(path)
        except OSError as exc:
            self._fail(path, f"cannot be read ({exc.strerror or exc})")
            return
        existing = catalog.document_by_path(key)
        if existing and existing.sha256 == sha:
            self.summary.skipped += 1
            return
        twin = next((d for d in catalog.documents() if d.sha256 == sha and d.path != key), None)
        if twin and not existing:
            self.summary.skipped += 1  # same content already in the matter under another name
            return
        extract_started = time.monotonic()
        try:
            content = read_pdf(path)
        except BadDocument as exc:
            self._fail(path, exc.problem)
            return
        texts = [p.text for p in content.pages]
        if not any(t.strip() for t in texts):
            self._fail(path, f"no text layer on any of its {len(texts)} page(s) "
                             "(scanned; needs OCR)")
            return
        chunks = chunk_pages(0, texts, self.chunk_size, self.chunk_overlap)
        write_started = time.monotonic()
        self.summary.extract_seconds += write_started - extract_started
        removed: list[int] = []
        with catalog.transaction() as db:
            if existing:
                removed = catalog.delete_document(db, existing.id)
            doc_id = catalog.add_document(db, path.name, key, sha, content.pages,
                                          document_profile(path.name, texts))
            catalog.add_chunks(db, (replace(c, doc_id=doc_id) for c in chunks))
            db.execute("DELETE FROM problems WHERE file=?", (key,))
        self.summary.write_seconds += time.monotonic() - write_started
        if removed:
            self.matter.remove_chunks_from_vectors(removed)
            self.summary.replaced += 1
        else:
            self.summary.added += 1
        self.summary.pages += len(texts)
        self.summary.chunks += len(chunks)
        if content.pages_needing_ocr:
            self.summary.pages_needing_ocr.append(
                {"file": path.name, "pages": content.pages_needing_ocr,
                 "error": "no text (needs OCR)"})

    def _fail(self, path: Path, problem: str) -> None:
        self.summary.failed.append({"file": path.name, "error": problem})
        with self.matter.catalog.transaction() as db:
            db.execute("DELETE FROM problems WHERE file=?", (str(path),))
            db.execute("INSERT INTO problems(file, error, at) VALUES (?, ?, ?)",
                       (str(path), problem, time.time()))


def remove_documents(matter: Matter, names: Iterable[str]) -> list[str]:
    """Delete documents (by file name or path) with their chunks and vectors."""
    removed_names: list[str] = []
    matter.acquire()
    try:
        for name in names:
            docs = matter.catalog.find_documents(name)
            if not docs:
                from desk.core.errors import DeskError

                raise DeskError(f"No document named {name!r} in matter {matter.name!r}.")
            for doc in docs:
                with matter.catalog.transaction() as db:
                    ids = matter.catalog.delete_document(db, doc.id)
                matter.remove_chunks_from_vectors(ids)
                removed_names.append(doc.file_name)
    finally:
        matter.release()
    return removed_names


def rebuild(matter: Matter, chunk_size: int, chunk_overlap: int) -> Iterator[Progress]:
    """Re-chunk every document from its stored page text and re-embed everything.

    Open the matter with check_fingerprint=False; the new fingerprint is stored in the same
    transaction as the new chunks, so a kill leaves either the old index or the new one.
    """
    catalog = matter.catalog
    matter.acquire()
    try:
        docs = catalog.documents()
        with catalog.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('fingerprint', ?)",
                       (matter.fingerprint.to_json(),))
            db.execute("DELETE FROM chunks")
            for doc in docs:
                catalog.add_chunks(db, chunk_pages(doc.id, catalog.page_texts(doc.id),
                                                   chunk_size, chunk_overlap))
        matter.vectors.path.unlink(missing_ok=True)
        from desk.index.vectors import VectorStore

        matter.vectors = VectorStore(matter.vectors.path, matter.fingerprint.dimension)
        yield from matter.embed_pending()
    finally:
        matter.release()
