"""Page-aware recursive chunking: every chunk keeps its page range and character span."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from desk.core.types import Chunk

PAGE_BREAK = "\n\f\n"
# Split at the coarsest boundary that yields pieces small enough: page, paragraph, line,
# sentence, clause, word, character.
SEPARATORS = ("\f", "\n\n", "\n", ". ", "; ", ", ", " ")


def _split(text: str, start: int, end: int, size: int, level: int) -> list[tuple[int, int]]:
    if end - start <= size:
        return [(start, end)]
    if level >= len(SEPARATORS):
        return [(i, min(i + size, end)) for i in range(start, end, size)]
    sep = SEPARATORS[level]
    pieces: list[tuple[int, int]] = []
    cursor = start
    while cursor < end:
        found = text.find(sep, cursor, end)
        stop = end if found < 0 else found + len(sep)
        pieces.append((cursor, stop))
        cursor = stop
    if len(pieces) == 1:
        return _split(text, start, end, size, level + 1)
    result: list[tuple[int, int]] = []
    for a, b in pieces:
        result.extend(_split(text, a, b, size, level + 1) if b - a > size else [(a, b)])
    return result


def _pack(pieces: list[tuple[int, int]], size: int, overlap: int) -> list[tuple[int, int]]:
    """Greedily merge consecutive pieces up to size; each new chunk repeats up to overlap chars."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        j = i
        while j + 1 < len(pieces) and pieces[j + 1][1] - pieces[i][0] <= size:
            j += 1
        spans.append((pieces[i][0], pieces[j][1]))
        if j + 1 >= len(pieces):
            break
        k = j + 1
        while k - 1 > i and pieces[j][1] - pieces[k - 1][0] <= overlap:
            k -= 1
        i = k
    return spans


def chunk_pages(doc_id: int, page_texts: Sequence[str], size: int, overlap: int) -> list[Chunk]:
    """Chunk a document's pages (page 1 first); chunks may cross a page break."""
    starts: list[int] = []
    parts: list[str] = []
    pos = 0
    for i, text in enumerate(page_texts):
        if i:
            parts.append(PAGE_BREAK)
            pos += len(PAGE_BREAK)
        starts.append(pos)
        parts.append(text)
        pos += len(text)
    full = "".join(parts)

    def locate(offset: int) -> tuple[int, int]:
        page_index = bisect.bisect_right(starts, offset) - 1
        local = offset - starts[page_index]
        # An offset inside the page-break separator belongs to the end of the previous page.
        return page_index, min(local, len(page_texts[page_index]))

    chunks: list[Chunk] = []
    for a, b in _pack(_split(full, 0, len(full), size, 0), size, overlap):
        while a < b and full[a].isspace():
            a += 1
        while b > a and full[b - 1].isspace():
            b -= 1
        if b - a < 1:
            continue
        first, local_a = locate(a)
        last, local_b = locate(b - 1)
        text = full[a:b].replace(PAGE_BREAK, "\n")
        chunks.append(Chunk(doc_id, first + 1, last + 1, local_a, local_b + 1, text))
    return chunks
