"""Import jobs: find PDFs, extract and chunk them, write the catalog, embed, then OCR the
pages without a usable text layer; yield progress.

Each document is written in one transaction, so it is keyword-searchable as soon as it is
extracted; semantic search fills in as embedding proceeds, which starts with the first full
batch of passages while later documents are still being read. Scanned pages are stored as
waiting for OCR and recognised last, one transaction a page: a document's text pages are
searchable while its scans are read, and a cancelled or killed import leaves the rest waiting
for the next one, which starts with them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from desk.config.paths import SAMPLES_DIR
from desk.core.errors import BadDocument
from desk.core.progress import CancelToken, Progress
from desk.core.types import LOW_OCR_CONFIDENCE, NO_TEXT, OCR_PENDING, Chunk, Document, Page
from desk.index.citations import Citation, find_citations
from desk.index.matter import Embedding, Matter
from desk.ingest.chunker import chunk_pages
from desk.ingest.ocr import PageImage, TesseractOcr, get_ocr, render_for_ocr
from desk.ingest.pdf import PdfContent, empty_store, read_pdf

log = logging.getLogger("desk")

PROFILE_CHARS = 1500
READ_AHEAD = 3  # documents read ahead of the writer/embedder; bounds the memory held


@dataclass
class _Extracted:
    """One PDF read and chunked, or the problem that stopped it."""

    content: PdfContent | None
    chunks: list[Chunk]
    problem: str | None
    seconds: float
    citations: list[list[Citation]] = field(default_factory=list)  # per page
    citation_seconds: float = 0.0


@dataclass
class OcrFigures:
    """One document's OCR in an import: pages recognised, their mean confidence, and the pages
    under LOW_OCR_CONFIDENCE (worth a look)."""

    pages: int = 0
    read: int = 0  # pages with words, which have a confidence
    confidence_sum: float = 0.0
    low_confidence_pages: list[int] = field(default_factory=list)

    def add(self, page: Page) -> None:
        self.pages += 1
        if page.confidence is None:
            return
        self.read += 1
        self.confidence_sum += page.confidence
        if page.confidence < LOW_OCR_CONFIDENCE:
            self.low_confidence_pages.append(page.number)

    def to_json(self) -> dict[str, object]:
        mean = round(self.confidence_sum / self.read, 1) if self.read else None
        return {"pages": self.pages, "confidence": mean,
                "low_confidence_pages": self.low_confidence_pages}


@dataclass
class ImportSummary:
    added: int = 0
    replaced: int = 0
    skipped: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    pages: int = 0
    chunks: int = 0
    pages_needing_ocr: list[dict[str, object]] = field(default_factory=list)
    ocr: dict[str, OcrFigures] = field(default_factory=dict)  # by file name
    seconds: float = 0.0
    extract_seconds: float = 0.0  # reading PDFs and chunking
    citation_seconds: float = 0.0  # of which finding legal citations
    write_seconds: float = 0.0  # catalog transactions (text, pages, FTS)
    embed_seconds: float = 0.0  # embedding and saving the vector file
    ocr_seconds: float = 0.0  # the OCR stage, wall time

    @property
    def ocr_pages(self) -> int:
        return sum(figures.pages for figures in self.ocr.values())

    def to_json(self) -> dict[str, object]:
        return {"added": self.added, "skipped": self.skipped, "failed": self.failed,
                "pages": self.pages, "chunks": self.chunks, "seconds": round(self.seconds, 2),
                "replaced": self.replaced, "needs_ocr": self.pages_needing_ocr,
                "ocr": [{"file": name, **figures.to_json()} for name, figures in self.ocr.items()],
                "ocr_seconds": round(self.ocr_seconds, 2),
                "citation_seconds": round(self.citation_seconds, 2)}


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


def cite_again(matter: Matter, cancel: CancelToken | None = None) -> Iterator[Progress]:
    """Find the citations of the matter's documents that an older Desk imported (before it
    found citations, or with a finder since changed), from their stored text: no PDF is read
    and nothing is embedded again. Each document is its own transaction, so a cancel or a kill
    keeps those done and the rest are read at the next import or opening."""
    waiting = matter.catalog.documents_to_cite()
    if not waiting:
        return
    progress = Progress("citations", 0, len(waiting), "Finding citations in earlier documents")
    yield progress
    for doc_id in waiting:
        if cancel is not None:
            cancel.raise_if_cancelled()
        _cite_document(matter, doc_id)
        progress.done += 1
        yield progress


def _cite_document(matter: Matter, doc_id: int) -> None:
    catalog = matter.catalog
    citations = find_citations(catalog.page_texts(doc_id))
    with catalog.transaction() as db:
        catalog.set_citations(db, doc_id, citations)


class ImportJob:
    """Run with `for progress in job.run(): ...`; the result is in `job.summary`."""

    def __init__(self, matter: Matter, paths: Iterable[Path], chunk_size: int,
                 chunk_overlap: int, cancel: CancelToken | None = None, ocr: bool = True
                 ) -> None:
        self.matter = matter
        self.paths = [Path(p) for p in paths]
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap
        self.cancel = cancel or CancelToken()
        self.ocr = ocr
        self.summary = ImportSummary()

    def run(self) -> Iterator[Progress]:
        """Read documents in a helper thread a few files ahead, write each in one transaction
        here, and embed whenever a full batch of passages is waiting: the stages overlap
        (the PDF reader runs while the embedder, which releases the GIL, computes)."""
        started = time.monotonic()
        self.matter.acquire()
        try:
            files, missing = find_pdfs(self.paths)
            self.summary.failed.extend(missing)
            progress = Progress("extract", 0, len(files), "Reading documents")
            yield progress
            with self.matter.embedding(self.cancel) as embedding, \
                    ThreadPoolExecutor(1, thread_name_prefix="desk-extract") as reader:
                ahead: deque[tuple[Path, str, Document | None, Future[_Extracted]]] = deque()
                queue = iter(files)
                while True:
                    while len(ahead) < READ_AHEAD and (path := next(queue, None)) is not None:
                        todo = self._plan(path)
                        if todo is None:
                            progress.done += 1
                            continue
                        ahead.append((path, *todo, reader.submit(self._extract, path)))
                    if not ahead:
                        break
                    self.cancel.raise_if_cancelled()
                    path, sha, existing, future = ahead.popleft()
                    progress.message = path.name
                    self._store(path, sha, existing, future.result())
                    progress.done += 1
                    yield progress
                    embed_started = time.monotonic()
                    while embedding.step(full_batches_only=True):
                        yield embedding.progress
                    self.summary.embed_seconds += time.monotonic() - embed_started
                embed_started = time.monotonic()
                yield from embedding.run()
                embedding.save()  # the text pages are searchable by meaning during OCR
                self.summary.embed_seconds += time.monotonic() - embed_started
                yield from cite_again(self.matter, self.cancel)
                if self.ocr:
                    yield from self._recognise_waiting(embedding)
                    embed_started = time.monotonic()
                    yield from embedding.run()  # the last OCR pages' passages
                    self.summary.embed_seconds += time.monotonic() - embed_started
        finally:
            self.summary.seconds = time.monotonic() - started
            self.matter.release()

    def _plan(self, path: Path) -> tuple[str, Document | None] | None:
        """The file's hash and the document it replaces; None when there is nothing to do."""
        catalog = self.matter.catalog
        try:
            sha = file_sha256(path)
        except OSError as exc:
            self._fail(path, f"cannot be read ({exc.strerror or exc})")
            return None
        existing = catalog.document_by_path(str(path))
        if existing and existing.sha256 == sha:
            self.summary.skipped += 1
            return None
        twin = next((d for d in catalog.documents_with_sha(sha) if d.path != str(path)), None)
        if twin and not existing:
            self.summary.skipped += 1  # same content already in the matter under another name
            return None
        return sha, existing

    def _extract(self, path: Path) -> _Extracted:
        """Read and chunk one PDF (in the reader thread: no catalog access here)."""
        started = time.monotonic()
        try:
            content = read_pdf(path)
        except BadDocument as exc:
            return _Extracted(None, [], exc.problem, time.monotonic() - started)
        texts = [p.text for p in content.pages]
        if not any(t.strip() for t in texts):
            scanned = bool(content.pages_needing_ocr)
            if not (scanned and self.ocr):
                problem = (f"no text layer on any of its {len(texts)} page(s) (scanned; needs "
                           "OCR)" if scanned else f"all of its {len(texts)} page(s) are blank")
                return _Extracted(None, [], problem, time.monotonic() - started)
        chunks = chunk_pages(0, texts, self.chunk_size, self.chunk_overlap)
        cited = time.monotonic()
        citations = find_citations(texts)
        return _Extracted(content, chunks, None, time.monotonic() - started, citations,
                          time.monotonic() - cited)

    def _store(self, path: Path, sha: str, existing: Document | None,
               extracted: _Extracted) -> None:
        self.summary.extract_seconds += extracted.seconds
        self.summary.citation_seconds += extracted.citation_seconds
        if extracted.problem or extracted.content is None:
            self._fail(path, extracted.problem or "could not be read")
            return
        catalog = self.matter.catalog
        content, chunks = extracted.content, extracted.chunks
        texts = [p.text for p in content.pages]
        if self.ocr:
            for page in content.pages:
                if page.source == NO_TEXT:
                    page.source = OCR_PENDING
        write_started = time.monotonic()
        removed: list[int] = []
        with catalog.transaction() as db:
            if existing:
                removed = catalog.delete_document(db, existing.id)
            doc_id = catalog.add_document(db, path.name, str(path), sha, content.pages,
                                          document_profile(path.name, texts))
            catalog.add_chunks(db, (replace(c, doc_id=doc_id) for c in chunks))
            catalog.set_citations(db, doc_id, extracted.citations)
            catalog.clear_problem(db, str(path))
        self.summary.write_seconds += time.monotonic() - write_started
        if removed:
            self.matter.remove_chunks_from_vectors(removed)
            self.summary.replaced += 1
        else:
            self.summary.added += 1
        self.summary.pages += len(texts)
        self.summary.chunks += len(chunks)
        if content.pages_needing_ocr and not self.ocr:
            self.summary.pages_needing_ocr.append(
                {"file": path.name, "pages": content.pages_needing_ocr,
                 "error": "no text (needs OCR)"})

    def _recognise_waiting(self, embedding: Embedding) -> Iterator[Progress]:
        """OCR every page of the matter waiting for it (this import's and any an earlier,
        cancelled or killed import left): pages are rendered here, one after another (MuPDF
        is not for threads), and recognised on one thread per core."""
        waiting = self.matter.catalog.pending_ocr_pages()
        if not waiting:
            return
        started = time.monotonic()
        engine = get_ocr()
        progress = Progress("ocr", 0, len(waiting), "Recognising scanned pages")
        yield progress
        by_document: dict[int, list[int]] = {}
        for doc_id, number in waiting:
            by_document.setdefault(doc_id, []).append(number)
        workers = max(1, os.cpu_count() or 1)
        pool = ThreadPoolExecutor(workers, thread_name_prefix="desk-ocr")
        try:
            for doc_id, numbers in by_document.items():
                yield from self._recognise_document(doc_id, numbers, engine, pool, workers,
                                                    progress, embedding)
                # all of its text at once, now its scans are read: an Id. or a short form may
                # point back across pages
                _cite_document(self.matter, doc_id)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self.summary.ocr_seconds += time.monotonic() - started

    def _recognise_document(self, doc_id: int, numbers: list[int], engine: TesseractOcr,
                            pool: ThreadPoolExecutor, workers: int, progress: Progress,
                            embedding: Embedding) -> Iterator[Progress]:
        import pymupdf

        catalog = self.matter.catalog
        document = catalog.document(doc_id)
        if document is None:
            return
        path = Path(document.path)
        try:
            unchanged = file_sha256(path) == document.sha256
        except OSError:
            unchanged = False
        if not unchanged:  # gone or changed since it was read: its next import reads it anew
            progress.done += len(numbers)
            self.summary.pages_needing_ocr.append(
                {"file": document.file_name, "pages": numbers,
                 "error": "the file changed or disappeared before OCR; import it again"})
            yield progress
            return
        progress.message = document.file_name
        in_flight: deque[tuple[int, Future[Page]]] = deque()
        with pymupdf.open(path) as pdf:
            queue = iter(numbers)
            while True:
                self.cancel.raise_if_cancelled()
                while len(in_flight) < workers + 1 and (number := next(queue, None)) is not None:
                    image = render_for_ocr(pdf[number - 1])
                    empty_store()  # the scan's decoded image is not needed again
                    in_flight.append((number, pool.submit(self._recognise, engine, image,
                                                          number)))
                if not in_flight:
                    break
                number, future = in_flight.popleft()
                page = future.result()
                self._store_ocr_page(document, page)
                progress.done += 1
                yield progress
                while embedding.step(full_batches_only=True):
                    yield embedding.progress

    @staticmethod
    def _recognise(engine: TesseractOcr, image: PageImage, number: int) -> Page:
        """One page's OCR; a page Tesseract cannot read is kept without text, not fatal."""
        try:
            return engine.recognise(image, number)
        except Exception:
            log.exception("OCR failed on page %d", number)
            return Page(number, "", [], NO_TEXT)

    def _store_ocr_page(self, document: Document, page: Page) -> None:
        """A recognised page, its passages and (for the opening pages) the document's profile,
        in one transaction."""
        catalog = self.matter.catalog
        chunks = [replace(c, page_start=page.number, page_end=page.number)
                  for c in chunk_pages(document.id, [page.text], self.chunk_size,
                                       self.chunk_overlap)]
        with catalog.transaction() as db:
            catalog.set_page_text(db, document.id, page)
            catalog.add_chunks(db, chunks)
            if page.number <= 2:
                catalog.update_profile(db, document.id, document_profile(
                    document.file_name, catalog.page_texts(document.id)))
        self.summary.chunks += len(chunks)
        if page.source == NO_TEXT:
            self.summary.pages_needing_ocr.append(
                {"file": document.file_name, "pages": [page.number],
                 "error": "OCR could not read this page"})
        else:
            self.summary.ocr.setdefault(document.file_name, OcrFigures()).add(page)

    def _fail(self, path: Path, problem: str) -> None:
        self.summary.failed.append({"file": path.name, "error": problem})
        self.matter.catalog.record_problem(str(path), problem)


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
            catalog.write_meta(db, "fingerprint", matter.fingerprint.to_json())
            catalog.delete_all_chunks(db)
            for doc in docs:
                catalog.add_chunks(db, chunk_pages(doc.id, catalog.page_texts(doc.id),
                                                   chunk_size, chunk_overlap))
        matter.reset_vectors()
        yield from matter.embed_pending()
    finally:
        matter.release()
