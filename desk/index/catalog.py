"""The matter's SQLite catalog: documents, pages, chunks, FTS5 keyword index, problems, chats.

The catalog is the source of truth; the vector file is derived from it and repaired against it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desk.core.files import make_private, private_file
from desk.core.types import (
    LOW_OCR_CONFIDENCE,
    NO_TEXT,
    OCR_DONE,
    OCR_PENDING,
    Chunk,
    Document,
    Page,
    Word,
)
from desk.index.citations import BLANK_PAGE, FINDER_VERSION

if TYPE_CHECKING:
    from desk.index.citations import Citation

WORD_DTYPE = np.dtype([("x0", "f4"), ("y0", "f4"), ("x1", "f4"), ("y1", "f4"),
                       ("start", "i4"), ("end", "i4")])

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_name TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    page_count INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    pages_needing_ocr INTEGER NOT NULL DEFAULT 0,  -- unused: counted from pages since OCR
    added_at REAL NOT NULL,
    missing_since REAL,
    citations_version INTEGER NOT NULL DEFAULT 0  -- the citation finder that read it (0: none)
);
CREATE TABLE IF NOT EXISTS pages (
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    text TEXT NOT NULL,
    words BLOB NOT NULL,
    source TEXT NOT NULL DEFAULT 'text',
    ocr_confidence REAL,
    PRIMARY KEY (doc_id, number)
);
CREATE INDEX IF NOT EXISTS pages_pending ON pages(source) WHERE source = 'pending';
-- what documents() counts per document, without reading the pages' text and word boxes (which
-- come first in each row: a 1,000-page document's were read on every refresh of the table)
CREATE INDEX IF NOT EXISTS pages_figures ON pages(doc_id, source, ocr_confidence);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page_start INTEGER NOT NULL,
    page_end INTEGER NOT NULL,
    char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL,
    text TEXT NOT NULL,
    embedded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE INDEX IF NOT EXISTS documents_sha ON documents(sha256);
CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(embedded) WHERE embedded = 0;
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5(
    profile, tokenize='unicode61 remove_diacritics 2'
);
-- every legal citation found on a page (desk/index/citations.py): `key` is the canonical full
-- citation it is or points back to (a short form, Id. or supra carries its full citation's key)
CREATE TABLE IF NOT EXISTS citations (
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    page INTEGER NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    form TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    pin TEXT NOT NULL DEFAULT '',
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    parallel TEXT NOT NULL DEFAULT ''  -- a parallel citation's case's first citation's key
);
CREATE INDEX IF NOT EXISTS citations_key ON citations(key);
CREATE INDEX IF NOT EXISTS citations_doc ON citations(doc_id, page);
CREATE TABLE IF NOT EXISTS problems (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file TEXT NOT NULL,
    error TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    answer_json TEXT NOT NULL,
    at REAL NOT NULL
);
"""

# Columns added after a matter may have been made: (table, column, declaration).
ADDED_COLUMNS = (
    ("documents", "missing_since", "REAL"),
    ("pages", "source", "TEXT NOT NULL DEFAULT 'text'"),
    ("pages", "ocr_confidence", "REAL"),
    ("documents", "citations_version", "INTEGER NOT NULL DEFAULT 0"),
    ("citations", "parallel", "TEXT NOT NULL DEFAULT ''"),
)
# A document's OCR figures come from its pages, so they never disagree with them; one pass over
# the pages table (grouped), not a subquery per document and figure.
DOC_COLUMNS = f"""d.id, d.file_name, d.path, d.sha256, d.page_count, d.status, d.error,
    coalesce(sum(p.source IN ('{OCR_PENDING}', '{NO_TEXT}')), 0),
    coalesce(sum(p.source = '{OCR_DONE}'), 0),
    coalesce(sum(p.source = '{OCR_PENDING}'), 0),
    avg(CASE WHEN p.source = '{OCR_DONE}' THEN p.ocr_confidence END),
    coalesce(sum(p.source = '{OCR_DONE}' AND p.ocr_confidence < {LOW_OCR_CONFIDENCE}), 0),
    d.missing_since"""
DOC_FROM = "documents d LEFT JOIN pages p ON p.doc_id = d.id"
CHUNK_COLUMNS = "id, doc_id, page_start, page_end, char_start, char_end, text"


def pack_words(words: list[Word]) -> bytes:
    arr = np.array([(w.x0, w.y0, w.x1, w.y1, w.start, w.end) for w in words], dtype=WORD_DTYPE)
    return arr.tobytes()


def unpack_words(blob: bytes) -> list[Word]:
    arr = np.frombuffer(blob, dtype=WORD_DTYPE)
    return [Word(float(r["x0"]), float(r["y0"]), float(r["x1"]), float(r["y1"]),
                 int(r["start"]), int(r["end"])) for r in arr]


class Catalog:
    """One connection per thread; writes go through `transaction()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Client text: the database is created owner-only, and SQLite gives its -wal and -shm
        # files the database's mode; ones left readable by an older version are tightened.
        private_file(path)
        for journal in ("-wal", "-shm"):
            make_private(path.with_name(path.name + journal))
        self.db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self._add_columns()
        self.db.executescript(SCHEMA)
        self._df_cache: dict[str, int] = {}  # term -> passages containing it
        self._df_bound = -1  # chunk_id_bound() the cached counts belong to

    def _add_columns(self) -> None:
        """Bring a matter made by an older Desk up to the schema (before the indexes on the
        new columns are made)."""
        with self.db:
            for table, column, declaration in ADDED_COLUMNS:
                names = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
                if names and column not in names:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
                    if (table, column) == ("pages", "source"):
                        # pages an older Desk kept without text get their OCR now
                        self.db.execute("UPDATE pages SET source=? WHERE trim(text)=''",
                                        (OCR_PENDING,))

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.db:
            yield self.db

    # -- meta -----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            self.write_meta(db, key, value)

    def write_meta(self, db: sqlite3.Connection, key: str, value: str) -> None:
        """Set a meta value inside the caller's transaction."""
        db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # -- documents ------------------------------------------------------------------------
    def document_by_path(self, path: str) -> Document | None:
        row = self.db.execute(f"SELECT {DOC_COLUMNS} FROM {DOC_FROM} WHERE d.path=? GROUP BY d.id",
                              (path,)).fetchone()
        return Document(*row) if row else None

    def documents_with_sha(self, sha256: str) -> list[Document]:
        """Documents with this content (an indexed lookup: an import asks for every file)."""
        return [Document(*r) for r in self.db.execute(
            f"SELECT {DOC_COLUMNS} FROM {DOC_FROM} WHERE d.sha256=? GROUP BY d.id", (sha256,))]

    def document(self, doc_id: int) -> Document | None:
        row = self.db.execute(f"SELECT {DOC_COLUMNS} FROM {DOC_FROM} WHERE d.id=? GROUP BY d.id",
                              (doc_id,)).fetchone()
        return Document(*row) if row else None

    def documents(self) -> list[Document]:
        rows = self.db.execute(f"SELECT {DOC_COLUMNS} FROM {DOC_FROM} GROUP BY d.id "
                               "ORDER BY d.file_name")
        return [Document(*r) for r in rows]

    def find_documents(self, name: str) -> list[Document]:
        """Documents whose file name or path equals (or, failing that, contains) `name`."""
        exact = [d for d in self.documents() if name in (d.file_name, d.path)]
        if exact:
            return exact
        low = name.lower()
        return [d for d in self.documents() if low in d.file_name.lower()]

    def add_document(self, db: sqlite3.Connection, file_name: str, path: str, sha256: str,
                     pages: list[Page], profile: str) -> int:
        """Insert a document with its pages (inside the caller's transaction)."""
        cur = db.execute(
            "INSERT INTO documents(file_name, path, sha256, page_count, status, "
            "added_at) VALUES (?, ?, ?, ?, 'indexed', ?)",
            (file_name, path, sha256, len(pages), time.time()))
        doc_id = int(cur.lastrowid or 0)
        db.executemany("INSERT INTO pages(doc_id, number, text, words, source, ocr_confidence) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       [(doc_id, p.number, p.text, pack_words(p.words), p.source, p.confidence)
                        for p in pages])
        db.execute("INSERT INTO documents_fts(rowid, profile) VALUES (?, ?)", (doc_id, profile))
        return doc_id

    def delete_document(self, db: sqlite3.Connection, doc_id: int) -> list[int]:
        """Delete a document with its pages and chunks; return the removed chunk ids."""
        ids = [r[0] for r in db.execute("SELECT id FROM chunks WHERE doc_id=?", (doc_id,))]
        db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        db.execute("DELETE FROM documents_fts WHERE rowid=?", (doc_id,))
        db.execute("DELETE FROM documents WHERE id=?", (doc_id,))
        return ids

    def add_chunks(self, db: sqlite3.Connection, chunks: Iterable[Chunk]) -> int:
        rows = [(c.doc_id, c.page_start, c.page_end, c.char_start, c.char_end, c.text)
                for c in chunks]
        db.executemany("INSERT INTO chunks(doc_id, page_start, page_end, char_start, char_end, "
                       "text) VALUES (?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def delete_all_chunks(self, db: sqlite3.Connection) -> None:
        """Delete every chunk, keeping documents and pages (inside the caller's transaction)."""
        db.execute("DELETE FROM chunks")

    def problems(self) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in
                self.db.execute("SELECT file, error FROM problems ORDER BY id")]

    def clear_problem(self, db: sqlite3.Connection, file: str) -> None:
        """Forget the problem recorded for a file (inside the caller's transaction)."""
        db.execute("DELETE FROM problems WHERE file=?", (file,))

    def record_problem(self, file: str, error: str) -> None:
        """Record why a file could not be imported, replacing what was recorded before."""
        with self.transaction() as db:
            self.clear_problem(db, file)
            db.execute("INSERT INTO problems(file, error, at) VALUES (?, ?, ?)",
                       (file, error, time.time()))

    def set_missing(self, doc_ids: Iterable[int], since: float | None) -> None:
        """Flag documents whose file is gone from disk (since a time), or clear the flag."""
        with self.transaction() as db:
            db.executemany("UPDATE documents SET missing_since=? WHERE id=?",
                           [(since, d) for d in doc_ids])

    def update_profile(self, db: sqlite3.Connection, doc_id: int, profile: str) -> None:
        db.execute("UPDATE documents_fts SET profile=? WHERE rowid=?", (profile, doc_id))

    # -- citations ------------------------------------------------------------------------
    def set_citations(self, db: sqlite3.Connection, doc_id: int,
                      pages: list[list[Citation]]) -> None:
        """Replace a document's citations (page i+1's in pages[i]), in the caller's
        transaction."""
        db.execute("DELETE FROM citations WHERE doc_id=?", (doc_id,))
        db.execute("UPDATE documents SET citations_version=? WHERE id=?",
                   (FINDER_VERSION, doc_id))
        db.executemany(
            "INSERT INTO citations(doc_id, page, key, kind, form, name, pin, start, end, "
            "parallel) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(doc_id, number, c.key, c.kind, c.form, c.name, c.pin, c.start, c.end, c.parallel)
             for number, found in enumerate(pages, start=1) for c in found])

    def documents_to_cite(self) -> list[int]:
        """Documents whose citations an older finder read, or none did (imported before Desk
        found citations): they are read again from their stored text."""
        return [r[0] for r in self.db.execute(
            "SELECT id FROM documents WHERE citations_version < ? ORDER BY id",
            (FINDER_VERSION,))]

    def citing_pages(self, keys: list[str], doc_ids: list[int] | None = None,
                     name: str = "") -> list[tuple[int, int, int, int]]:
        """(document, page, references, offset of the first) of every page citing one of
        these authorities in any form, the pages that refer to them most first (a page that
        discusses a case cites it again and again: short forms, Id., pin cites). With a case's
        `name`, a key with a blank page ("567 U.S. ___") counts only that case's citations."""
        if not keys:
            return []
        where = f"key IN ({','.join('?' * len(keys))})"
        args: list[Any] = list(keys)
        if name:
            where += f" AND (substr(key, -{len(BLANK_PAGE)}) != ? OR lower(name) = ?)"
            args += [BLANK_PAGE, name.lower()]
        if doc_ids is not None:
            where += f" AND doc_id IN ({','.join('?' * len(doc_ids))})"
            args += doc_ids
        return [(r[0], r[1], r[2], r[3]) for r in self.db.execute(
            f"SELECT doc_id, page, count(*), min(start) FROM citations WHERE {where} "
            "GROUP BY doc_id, page ORDER BY count(*) DESC, sum(form = 'full') DESC, doc_id, page",
            args)]

    def citation_keys(self) -> list[str]:
        """Every authority the matter cites (its full citations' keys)."""
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT key FROM citations WHERE form = 'full'")]

    def case_keys_named(self, words: list[str]) -> list[tuple[str, str]]:
        """(citation, name) of the cases whose name holds all these words (a party's name,
        "Grutter", or both parties'), most cited first."""
        if not words:
            return []
        where = " AND ".join(["name LIKE ?"] * len(words))
        return [(r[0], r[1]) for r in self.db.execute(
            f"SELECT key, name FROM citations WHERE kind='case' AND name != '' AND {where} "
            "GROUP BY key, name ORDER BY count(*) DESC", [f"%{w}%" for w in words])]

    def case_names(self, keys: list[str]) -> set[str]:
        """The distinct names (lower case) the full citations of these cases carry (a key with
        a blank page, shared by several cases, is left out)."""
        keys = [k for k in keys if not k.endswith(BLANK_PAGE)]
        if not keys:
            return set()
        return {r[0].lower() for r in self.db.execute(
            f"SELECT DISTINCT name FROM citations WHERE form='full' AND name != '' AND key IN "
            f"({','.join('?' * len(keys))})", keys)}

    def citations(self, doc_id: int | None = None) -> list[tuple[Any, ...]]:
        """Every citation (of one document, or of the matter) in reading order, as
        (doc_id, page, key, kind, form, name, pin, start, end)."""
        where, args = ("WHERE doc_id=?", (doc_id,)) if doc_id is not None else ("", ())
        return list(self.db.execute(
            "SELECT doc_id, page, key, kind, form, name, pin, start, end FROM citations "
            f"{where} ORDER BY doc_id, page, start", args))

    def parallel_citations(self, doc_id: int | None = None) -> dict[str, str]:
        """Each citation printed as a parallel of a case's first (of one document, or of the
        matter) -> that first citation: {"129 S. Ct. 1937": "556 U.S. 662"}."""
        where, args = ("AND doc_id=?", (doc_id,)) if doc_id is not None else ("", ())
        out: dict[str, str] = {}
        for key, first in self.db.execute(
                f"SELECT key, parallel FROM citations WHERE parallel != '' {where} "
                "GROUP BY key, parallel ORDER BY count(*) DESC", args):
            out.setdefault(key, first)  # printed as the parallel of two cases: the usual one
        return out

    def chunk_at(self, doc_id: int, page: int, offset: int) -> int | None:
        """The first passage holding this character of this page."""
        row = self.db.execute(
            "SELECT id FROM chunks WHERE doc_id=? "
            "AND (page_start < ? OR (page_start = ? AND char_start <= ?)) "
            "AND (page_end > ? OR (page_end = ? AND char_end > ?)) ORDER BY id LIMIT 1",
            (doc_id, page, page, offset, page, page, offset)).fetchone()
        return int(row[0]) if row else None

    # -- pages and chunks -----------------------------------------------------------------
    def page(self, doc_id: int, number: int) -> Page | None:
        row = self.db.execute("SELECT number, text, words, source, ocr_confidence FROM pages "
                              "WHERE doc_id=? AND number=?", (doc_id, number)).fetchone()
        return Page(row[0], row[1], unpack_words(row[2]), row[3], row[4]) if row else None

    def pending_ocr_pages(self) -> list[tuple[int, int]]:
        """(document id, page number) of every page waiting for OCR, in reading order."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT doc_id, number FROM pages WHERE source=? ORDER BY doc_id, number",
            (OCR_PENDING,))]

    def set_page_text(self, db: sqlite3.Connection, doc_id: int, page: Page) -> None:
        """Replace a page's text, words and source (OCR's result), in the caller's
        transaction."""
        db.execute("UPDATE pages SET text=?, words=?, source=?, ocr_confidence=? "
                   "WHERE doc_id=? AND number=?",
                   (page.text, pack_words(page.words), page.source, page.confidence, doc_id,
                    page.number))

    def page_texts(self, doc_id: int) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT text FROM pages WHERE doc_id=? ORDER BY number", (doc_id,))]

    def chunks(self, ids: Iterable[int]) -> dict[int, Chunk]:
        id_list = list(ids)
        result: dict[int, Chunk] = {}
        for start in range(0, len(id_list), 900):
            batch = id_list[start:start + 900]
            marks = ",".join("?" * len(batch))
            for r in self.db.execute(f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})",
                                     batch):
                result[r[0]] = Chunk(r[1], r[2], r[3], r[4], r[5], r[6], id=r[0])
        return result

    def chunk_ids(self, doc_id: int | None = None) -> list[int]:
        if doc_id is None:
            return [r[0] for r in self.db.execute("SELECT id FROM chunks")]
        return [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE doc_id=?", (doc_id,))]

    def pending_chunks(self, after_id: int, limit: int) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT id, text FROM chunks WHERE embedded=0 AND id>? ORDER BY id LIMIT ?",
            (after_id, limit))]

    def count_pending(self, after_id: int = 0) -> int:
        return int(self.db.execute("SELECT count(*) FROM chunks WHERE embedded=0 AND id>?",
                                   (after_id,)).fetchone()[0])

    def mark_embedded(self, ids: Iterable[int], value: int = 1) -> None:
        with self.transaction() as db:
            db.executemany("UPDATE chunks SET embedded=? WHERE id=?", [(value, i) for i in ids])

    def set_embedded_state(self, present: set[int]) -> int:
        """Make the embedded flags agree with the vector file; return how many were wrong."""
        flagged = {r[0] for r in self.db.execute("SELECT id FROM chunks WHERE embedded=1")}
        missing = flagged - present
        extra = {r[0] for r in self.db.execute("SELECT id FROM chunks WHERE embedded=0")} & present
        with self.transaction() as db:
            db.executemany("UPDATE chunks SET embedded=0 WHERE id=?", [(i,) for i in missing])
            db.executemany("UPDATE chunks SET embedded=1 WHERE id=?", [(i,) for i in extra])
        return len(missing)

    def document_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM documents").fetchone()[0])

    def chunk_id_bound(self) -> int:
        """An upper bound of the number of chunks without counting them (ids only grow): cheap
        enough to ask on every search of a million-passage matter."""
        return int(self.db.execute("SELECT coalesce(max(id), 0) FROM chunks").fetchone()[0])

    def counts(self) -> dict[str, int]:
        q = self.db.execute
        return {
            "documents": int(q("SELECT count(*) FROM documents").fetchone()[0]),
            "pages": int(q("SELECT coalesce(sum(page_count),0) FROM documents").fetchone()[0]),
            "chunks": int(q("SELECT count(*) FROM chunks").fetchone()[0]),
            "pending": self.count_pending(),
        }

    # -- keyword search -------------------------------------------------------------------
    def keyword_search(self, fts_query: str, limit: int,
                       doc_ids: list[int] | None = None) -> list[tuple[int, float]]:
        """BM25 over chunks; returns (chunk id, score) with higher = better.

        A document's chunks are mostly written in one transaction, so their ids form one
        range; a rowid range lets FTS5 skip other documents instead of joining every match."""
        if not fts_query:
            return []
        sql = "SELECT rowid, bm25(chunks_fts) AS s FROM chunks_fts WHERE chunks_fts MATCH ?"
        params: list[object] = [fts_query]
        allowed: set[int] | None = None
        if doc_ids is not None:
            ranges = [self.db.execute("SELECT min(id), max(id), count(*) FROM chunks "
                                      "WHERE doc_id=?", (d,)).fetchone() for d in doc_ids]
            ranges = [r for r in ranges if r[0] is not None]
            if not ranges:
                return []
            sql += " AND rowid BETWEEN ? AND ?"
            params += [min(r[0] for r in ranges), max(r[1] for r in ranges)]
            # one document whose passages were written at once fills its range; passages
            # added later (its OCR pages) leave other documents' passages in between
            whole = len(ranges) == 1 and ranges[0][1] - ranges[0][0] + 1 == ranges[0][2]
            allowed = None if whole else set(self.chunk_docs_in(doc_ids))
        sql += " ORDER BY s LIMIT ?"
        params.append(limit if allowed is None else limit * 4)
        try:
            rows = [(r[0], -r[1]) for r in self.db.execute(sql, params)]
        except sqlite3.OperationalError:
            return []  # a query FTS5 cannot parse finds nothing rather than failing the search
        return rows if allowed is None else [r for r in rows if r[0] in allowed][:limit]

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many chunks contain each term (FTS5's own vocabulary). Counting walks the
        term's whole posting list (~2 ms per common term at 1M passages), so counts are
        kept until passages are added."""
        bound = self.chunk_id_bound()
        if bound != self._df_bound:
            self._df_cache.clear()
            self._df_bound = bound
        missing = [t for t in dict.fromkeys(terms) if t not in self._df_cache]
        if missing:
            self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_vocab USING "
                            "fts5vocab(main, chunks_fts, 'row')")
            marks = ",".join("?" * len(missing))
            found = dict(self.db.execute(
                f"SELECT term, doc FROM temp.chunks_vocab WHERE term IN ({marks})", missing))
            self._df_cache.update({t: int(found.get(t, 0)) for t in missing})
        return {t: self._df_cache[t] for t in terms if self._df_cache[t]}

    def chunk_docs_in(self, doc_ids: list[int]) -> list[int]:
        marks = ",".join("?" * len(doc_ids))
        return [r[0] for r in self.db.execute(
            f"SELECT id FROM chunks WHERE doc_id IN ({marks})", doc_ids)]

    def document_search(self, fts_query: str, limit: int) -> list[tuple[int, float]]:
        if not fts_query:
            return []
        try:
            return [(r[0], -r[1]) for r in self.db.execute(
                "SELECT rowid, bm25(documents_fts) AS s FROM documents_fts WHERE documents_fts "
                "MATCH ? ORDER BY s LIMIT ?", (fts_query, limit))]
        except sqlite3.OperationalError:
            return []

    # -- conversations --------------------------------------------------------------------
    def new_conversation(self, title: str) -> int:
        with self.transaction() as db:
            cur = db.execute("INSERT INTO conversations(title, created_at) VALUES (?, ?)",
                             (title[:200], time.time()))
            return int(cur.lastrowid or 0)

    def conversations(self) -> list[tuple[int, str, float]]:
        return [(r[0], r[1], r[2]) for r in self.db.execute(
            "SELECT id, title, created_at FROM conversations ORDER BY id")]

    def add_turn(self, conversation_id: int, question: str, answer_json: str) -> int:
        """Store a turn; return its id."""
        with self.transaction() as db:
            cur = db.execute("INSERT INTO turns(conversation_id, question, answer_json, at) "
                             "VALUES (?, ?, ?, ?)", (conversation_id, question, answer_json,
                                                     time.time()))
            return int(cur.lastrowid or 0)

    def turns(self, conversation_id: int) -> list[tuple[str, str]]:
        """(question, answer JSON) pairs, oldest first."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT question, answer_json FROM turns WHERE conversation_id=? ORDER BY id",
            (conversation_id,))]

    def turn_rows(self, conversation_id: int) -> list[tuple[int, str, str]]:
        """(turn id, question, answer JSON) of a conversation's turns, oldest first."""
        return [(r[0], r[1], r[2]) for r in self.db.execute(
            "SELECT id, question, answer_json FROM turns WHERE conversation_id=? ORDER BY id",
            (conversation_id,))]

    def turn(self, turn_id: int) -> tuple[int, str, str] | None:
        """(conversation id, question, answer JSON) of one turn, or None."""
        row = self.db.execute("SELECT conversation_id, question, answer_json FROM turns "
                              "WHERE id=?", (turn_id,)).fetchone()
        return (row[0], row[1], row[2]) if row else None

