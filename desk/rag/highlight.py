"""Where a quote sits on a page: the word boxes to highlight, found from the stored word boxes."""

from __future__ import annotations

from desk.core.types import Page
from desk.rag.citations import words

Box = tuple[float, float, float, float]


def quote_boxes(page: Page, quote: str) -> list[Box]:
    """Boxes (PDF points) of the page words that spell the quote; empty when it is not there.

    Matching compares letters and digits only, so line breaks, hyphen spacing and punctuation
    do not stop a quote from being found."""
    needle = words(quote)
    if not needle:
        return []
    tokens: list[str] = []
    owner: list[int] = []  # token index -> word index
    for index, word in enumerate(page.words):
        for token in words(page.text[word.start:word.end]):
            tokens.append(token)
            owner.append(index)
    for i in range(len(tokens) - len(needle) + 1):
        if tokens[i:i + len(needle)] == needle:
            chosen = sorted(set(owner[i:i + len(needle)]))
            return [(page.words[j].x0, page.words[j].y0, page.words[j].x1, page.words[j].y1)
                    for j in chosen]
    return []
