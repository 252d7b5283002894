"""Tokenising and normalising text, two ways: one for the keyword index, one for comparing texts.

`index_tokens` is how the keyword index (SQLite FTS5, tokenizer `unicode61 remove_diacritics 2`,
desk.index.catalog) splits and folds text; everything that builds an FTS5 query or looks a term
up in the index's vocabulary uses it, so a query term is exactly an indexed term. It asks FTS5
itself, because no Python fold matches it: FTS5 lowercases with its own (older) Unicode tables,
removes diacritics from Latin letters only (Greek `έ` keeps its accent), folds `ς` to `σ` but
keeps `ß`, and applies no compatibility decomposition (full-width `２０２４`, `²` and `ﬁ` stay).

`tokens` folds harder, for the citation verifier and the evaluation, where texts from different
extractors (a PDF reader, a gold set, a model's quote) are compared: accents dropped, compatibility
characters decomposed (NFKD: `ﬁ` is `fi`, `²` is `2`, `２` is `2`) and case folded (`ß` is `ss`).
Both split into runs of letters and digits: anything else (quotes, hyphens, `§`, apostrophes,
underscores) separates tokens.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from itertools import accumulate

# Words that say nothing about a document's content: left out of keyword queries and of the
# claims the verifier checks.
STOPWORDS = frozenset("""
a an and are as at be been being but by can could did do does doing for from had has have having
he her here hers him his how i if in into is it its itself me more most my no nor not of off on
once only or other our ours out over own same she should so some such than that the their theirs
them then there these they this those through to too under until up very was we were what when
where which while who whom why will with would you your yours shall may must any all each
consider about
""".split())

TOKEN = re.compile(r"[^\W_]+")  # letters and digits: \w without the underscore
ASCII_INDEX_TOKEN = re.compile(r"[a-z0-9]+")  # FTS5's token characters among ASCII (lowercased)
FTS_TOKENIZER = "unicode61 remove_diacritics 2"  # the keyword index's (desk.index.catalog)
CACHED_CHARS = 4000  # texts up to this length (passages, sentences) keep their tokens cached


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn").casefold()
    # Case folding can itself produce a decomposable character or a mark (İ -> i + dot above).
    again = unicodedata.normalize("NFKD", bare)
    return "".join(c for c in again if unicodedata.category(c) != "Mn")


@lru_cache(maxsize=8192)
def _letters_digits(char: str) -> int:
    """How many letters and digits one character folds to (é: 1, ﬁ: 2, a combining accent: 0)."""
    return len("".join(TOKEN.findall(_fold_char(char))))


def fold(text: str) -> str:
    """`text` with accents removed (NFKD, combining marks dropped) and case folded, as `tokens`
    folds it (not as the keyword index does: see `index_tokens`)."""
    if text.isascii():
        return text.lower()
    return "".join(map(_fold_char, text))


def tokens(text: str) -> list[str]:
    """The folded runs of letters and digits of `text`, for comparing texts (not for querying
    the index: see `index_tokens`): "Café-owner’s Straße" -> cafe, owner, s, strasse."""
    if len(text) <= CACHED_CHARS:
        return list(_cached_tokens(text))
    return TOKEN.findall(fold(text))


@lru_cache(maxsize=256)
def _cached_tokens(text: str) -> tuple[str, ...]:
    # The verifier tokenises the same few passages and sentences many times per answer.
    return tuple(TOKEN.findall(fold(text)))


def index_tokens(text: str) -> list[str]:
    """The terms the keyword index makes of `text`, in order: "Straße ２０２４" -> straße, ２０２４."""
    if text.isascii():
        return ASCII_INDEX_TOKEN.findall(text.lower())
    return list(_cached_index_tokens(text))


@lru_cache(maxsize=256)
def _cached_index_tokens(text: str) -> tuple[str, ...]:
    return _fts5_tokenizer().tokenize(text)


class _Fts5Tokenizer:
    """FTS5's tokenizer run on a private in-memory table: insert the text, read its terms from
    fts5vocab, roll back."""

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._db.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{FTS_TOKENIZER}')")
        self._db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        self._lock = threading.Lock()

    def tokenize(self, text: str) -> tuple[str, ...]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute("INSERT INTO t(x) VALUES (?)", (text,))
                return tuple(r[0] for r in self._db.execute("SELECT term FROM v ORDER BY offset"))
            finally:
                self._db.execute("ROLLBACK")


@lru_cache(maxsize=1)
def _fts5_tokenizer() -> _Fts5Tokenizer:
    return _Fts5Tokenizer()


def token_spans(text: str) -> list[tuple[int, int]]:
    """Where each of `tokens(text)` lies in `text` (start, end offsets), in the same order."""
    if text.isascii():
        return [m.span() for m in TOKEN.finditer(text)]
    spans: list[tuple[int, int]] = []
    start = -1
    end = 0
    for i, char in enumerate(text):
        folded = _fold_char(char)
        if not folded:
            if start >= 0:
                end = i + 1  # a combining mark belongs to the token it follows
            continue
        for c in folded:
            if TOKEN.match(c):
                if start < 0:
                    start = i
                end = i + 1
            elif start >= 0:
                spans.append((start, end))
                start = -1
    if start >= 0:
        spans.append((start, end))
    return spans


def letters_digits(text: str) -> str:
    """Only the folded letters and digits of `text`, run together: what two extractions of the
    same passage agree on despite quotes, hyphens and spacing."""
    return "".join(tokens(text))


def letters_digits_offsets(text: str) -> list[int]:
    """For each offset 0..len(text) of `text`, how many characters of `letters_digits(text)`
    come before it."""
    return [0, *accumulate(map(_letters_digits, text))]


def content_words(words: Iterable[str]) -> list[str]:
    """The tokens that carry meaning: no stopwords, no single characters."""
    return [w for w in words if w not in STOPWORDS and len(w) > 1]
