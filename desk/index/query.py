"""Turn a question into FTS5 queries: plain terms, and exact phrases for legal identifiers.

Terms and phrases are made of `index_tokens`, the keyword index's own terms, so "Straße" looks
for `straße` and "２０２４" for `２０２４`, as the index holds them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from desk.core.text import content_words, index_tokens

# Identifiers that embeddings blur: case numbers, section and clause references, statutes,
# defined terms in quotes, amounts and dates written with digits.
IDENTIFIER_PATTERNS = [
    re.compile(r"\b\d{1,2}:\d{2}-[a-z]{2,4}-\d{3,6}(?:-[A-Z]{2,4})?\b", re.I),  # 2:21-cv-01234
    re.compile(r"§+\s*\d+[\w.\-()]*"),  # § 1983, §§ 12(b)
    re.compile(r"\b(?:section|article|clause|exhibit|schedule|annex|rule)\s+"
               r"[\dIVXivx]+(?:\.\d+)*(?:\([a-z0-9]+\))*", re.I),  # Section 12.3(a)
    re.compile(r"\b\d+(?:\.\d+)+\b"),  # 12.3.1
    re.compile(r"\b[A-Z]{2,}[-/]?\d[\w\-/]*\b"),  # docket / exhibit codes like EX-10.1
]
QUOTED = re.compile(r"[\"“”']([^\"“”']{2,80})[\"“”']")


@dataclass
class ParsedQuery:
    terms: list[str]
    phrases: list[str]

    @property
    def terms_query(self) -> str:
        """OR of the content words, for BM25 ranking."""
        return " OR ".join(f'"{t}"' for t in self.terms)

    @property
    def phrases_query(self) -> str:
        """OR of exact phrases (each identifier or quoted term), empty if there are none."""
        return " OR ".join(f'"{p}"' for p in self.phrases)


def parse_query(text: str) -> ParsedQuery:
    phrases: list[str] = []
    for match in QUOTED.finditer(text):
        phrases.append(" ".join(index_tokens(match.group(1))))
    for pattern in IDENTIFIER_PATTERNS:
        for match in pattern.finditer(text):
            phrases.append(" ".join(index_tokens(match.group(0))))
    phrases = [p for p in dict.fromkeys(phrases) if p]
    terms = content_words(dict.fromkeys(index_tokens(text)))
    if not terms:
        terms = list(dict.fromkeys(index_tokens(text)))
    return ParsedQuery(terms, phrases)


def split_clauses(text: str) -> list[str]:
    """Split a question into its clauses (';', sentence ends, line breaks)."""
    parts = re.split(r";|\?\s|\n|(?<=[a-z])\.\s+(?=[A-Z])", text)
    return [p.strip() for p in parts if len(p.strip()) > 3]
