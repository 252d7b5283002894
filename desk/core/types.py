"""The evidence chain: document -> page -> chunk (page range + character span) -> hit -> citation."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)  # slots: a 1,000-page PDF holds ~470,000 of them
class Word:
    """One word on a page: its box in PDF points and where it sits in the page text."""

    x0: float
    y0: float
    x1: float
    y1: float
    start: int
    end: int


# Where a page's text comes from: its text layer, OCR, OCR still to do, or nowhere (no usable
# text layer and OCR skipped or failed).
TEXT_LAYER, OCR_DONE, OCR_PENDING, NO_TEXT = "text", "ocr", "pending", "none"


@dataclass
class Page:
    """Extracted text of one page (1-based number) plus the word boxes that make highlighting
    exact; `confidence` is OCR's mean word confidence (0-100) on an OCR page."""

    number: int
    text: str
    words: list[Word] = field(default_factory=list)
    source: str = TEXT_LAYER
    confidence: float | None = None

    @property
    def needs_ocr(self) -> bool:
        return self.source in (OCR_PENDING, NO_TEXT)


@dataclass
class Document:
    id: int
    file_name: str
    path: str
    sha256: str
    page_count: int
    status: str  # "indexed", "failed"
    error: str = ""
    pages_needing_ocr: int = 0  # no usable text yet: OCR waiting, skipped or failed
    ocr_pages: int = 0  # pages whose text came from OCR
    ocr_pending: int = 0  # pages waiting for OCR
    ocr_confidence: float | None = None  # mean over the OCR pages
    low_confidence_pages: int = 0  # OCR pages below LOW_OCR_CONFIDENCE
    missing_since: float | None = None  # the file is gone from disk (a watched folder saw it)


LOW_OCR_CONFIDENCE = 70.0  # mean word confidence under which an OCR page is flagged


@dataclass(frozen=True)
class Chunk:
    """A passage; char_start is an offset into page_start's text, char_end into page_end's text."""

    doc_id: int
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    text: str
    id: int | None = None


@dataclass
class Hit:
    chunk_id: int
    doc_id: int
    file: str
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    text: str
    score: float

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "page_start": self.page_start,
            "page_end": self.page_end,
            "text": self.text,
            "score": round(self.score, 6),
        }


@dataclass
class Citation:
    n: int
    file: str
    page: int
    quote: str
    verified: bool
    reason: str = ""
    doc_id: int = 0
    chunk_id: int = 0

    def to_json(self) -> dict[str, object]:
        """`reason` says why an unverified citation failed, or where a verified one was
        moved from (cited under the wrong number); empty otherwise."""
        return {"n": self.n, "file": self.file, "page": self.page, "quote": self.quote,
                "verified": self.verified, "reason": self.reason}


@dataclass
class Answer:
    """`draft` is the model's text when none of it could be verified: the answer is then
    "not found" (`found` false) and the draft is shown below it, marked."""

    text: str
    found: bool
    citations: list[Citation] = field(default_factory=list)
    evidence: list[Hit] = field(default_factory=list)
    unsupported_sentences: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    draft: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "answer": self.text,
            "found": self.found,
            "draft": self.draft,
            "citations": [c.to_json() for c in self.citations],
            "unsupported": list(self.unsupported_sentences),
            "timings": self.timings,
        }
