"""Resolve [n] marks to document, page and quote, and check each against the cited passage.

A quoted phrase must occur in the cited passage (letters and digits compared, case and spacing
ignored); a long quote with a word or two changed is first replaced by the source's exact
words. A sentence without a quote must share most of its content words with the passage;
words it repeats from the question ("The expiration date is ...") are not claims about the
document and are left out, and every number it states must occur in the passage. Sentences
without a citation are reported as unsupported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from difflib import SequenceMatcher

from desk.core.text import content_words as _content
from desk.core.text import token_spans, tokens
from desk.core.types import Citation
from desk.index.citations import query_citations
from desk.rag.prompt import Passage

MARK = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
QUOTE = re.compile(r"[\"“”]([^\"“”]{3,}?)[\"“”]")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])|\n+")
NOT_FOUND = re.compile(r"\bnot\s+found\b|\bdo(?:es)?\s+not\s+(?:contain|mention|address|"
                       r"specify|provide|include|state)|\bno\s+(?:explicit\s+)?(?:information|"
                       r"mention|provision)|\bnot\s+(?:explicitly\s+|clearly\s+)?(?:stated|"
                       r"mentioned|specified|provided|addressed|included)\b", re.I)
CLAIM_SUPPORT = 0.6  # share of a sentence's content words that must appear in the passage
REPAIR_MIN_WORDS = 8  # a shorter quote must be exact
REPAIR_SHARE = 0.9  # share of a long quote's words that must match, in order, to be repaired


def words(text: str) -> list[str]:
    """Letters and digits, folded to compare texts from different extractors (desk.core.text)."""
    return tokens(text)


def contains(haystack: list[str], needle: list[str]) -> int:
    """Index of needle as a contiguous run of words in haystack, or -1."""
    if not needle:
        return -1
    first = needle[0]
    for i in range(len(haystack) - len(needle) + 1):
        if haystack[i] == first and haystack[i:i + len(needle)] == needle:
            return i
    return -1


def says_not_found(answer: str) -> bool:
    head = answer.strip()[:200]
    return bool(NOT_FOUND.search(head)) and not MARK.search(head)


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(text) if s and s.strip()]


def _bare(sentence: str) -> str:
    """A sentence without its [n] marks and outer quotes: what a copied sentence would be."""
    return " ".join(MARK.sub(" ", sentence).split()).strip("\"“” .")


def _best_sentence(passage: Passage, claim: list[str]) -> str:
    """The passage sentence sharing most words with the claim: what the viewer highlights."""
    wanted = set(claim)
    sentences = split_sentences(" ".join(passage.text.split())) or [passage.text]
    return max(sentences, key=lambda s: len(wanted & set(words(s))))


def _attribute(sentence: str, passages: list[Passage]) -> int | None:
    """The source that a sentence without a mark copies or restates, if one clearly does."""
    quotes = [words(q) for q in QUOTE.findall(sentence) if words(q)] or [words(sentence)]
    for passage in passages:
        source = words(passage.text)
        if any(len(q) >= 4 and contains(source, q) >= 0 for q in quotes):
            return passage.n
    # A terse answer ("1 year") is attributed only when exactly one source has those words.
    short = [q for q in quotes if 2 <= len(q) < 4]
    holders = [p.n for p in passages
               if any(contains(words(p.text), q) >= 0 for q in short)]
    if len(holders) == 1:
        return holders[0]
    claim = _content(words(sentence))
    if len(claim) < 3:
        return None
    shares = [(len([w for w in claim if w in set(words(p.text))]) / len(claim), p.n)
              for p in passages]
    shares.sort(reverse=True)
    (best, n), runner_up = shares[0], shares[1][0] if len(shares) > 1 else 0.0
    return n if best >= CLAIM_SUPPORT and best > runner_up else None  # ambiguous: unsupported


def verify_citations(answer: str, passages: list[Passage],
                     page_of: Callable[[Passage, str], int], question: str = ""
                     ) -> tuple[str, list[Citation], list[str]]:
    """Return the answer (with a mark added where Desk found the source of an uncited
    sentence), the citations (each verified or not, with a reason) and uncited sentences.

    page_of(passage, quote) says on which page of the passage the quote lies.
    """
    by_n = {p.n: p for p in passages}
    asked = set(words(question))
    citations: list[Citation] = []
    unsupported: list[str] = []
    for sentence in split_sentences(answer):
        numbers = [int(x) for m in MARK.finditer(sentence) for x in re.split(r"[,;]", m.group(1))]
        if not numbers:
            if not words(sentence) or says_not_found(sentence):
                continue
            found = _attribute(sentence, passages)
            if found is None:
                unsupported.append(sentence)
                continue
            answer = answer.replace(sentence, f"{sentence} [{found}]", 1)
            numbers = [found]
        repaired = _repair_quotes(sentence, [by_n[n] for n in numbers if n in by_n])
        if repaired != sentence:
            answer = answer.replace(sentence, repaired, 1)
            sentence = repaired
        bare = _bare(sentence)
        # Longest first: a copied sentence or long quote is the best thing to highlight.
        quotes = sorted((q.strip() for q in QUOTE.findall(sentence) if words(q)),
                        key=lambda q: -len(words(q)))
        if len(words(bare)) >= 4 and any(contains(words(by_n[n].text), words(bare)) >= 0
                                         for n in numbers if n in by_n):
            quotes.insert(0, bare)
        claim = [w for w in _content(words(MARK.sub(" ", sentence))) if w not in asked]
        for n in dict.fromkeys(numbers):
            passage = by_n.get(n)
            if passage is None:
                citations.append(Citation(n, "", 0, "", False, f"there is no source [{n}]"))
                continue
            citation = _check(n, passage, quotes, claim, passages, page_of)
            moved = _renumber(citation, sentence, quotes, claim, passages, page_of)
            if moved is not None:
                citation, fixed = moved
                answer = answer.replace(sentence, fixed, 1)
                sentence = fixed
            citations.append(_authorities_checked(citation, sentence, by_n))
    return answer, citations, unsupported


def _authorities_checked(citation: Citation, sentence: str, by_n: dict[int, Passage]
                         ) -> Citation:
    """An authority the sentence names ("539 U.S. 306", "42 U.S.C. § 1983") is checked like a
    quote: the cited source must cite it too, in any form, or the citation is not verified."""
    named = query_citations(sentence)
    passage = by_n.get(citation.n)
    if not citation.verified or not named or passage is None:
        return citation
    # every citation the passage holds, with no plausibility filter: a bare citation whose
    # case name fell in the passage before is still one it cites
    held = set(query_citations(passage.text))
    missing = [key for key in named if key not in held]
    if not missing:
        return citation
    return replace(citation, verified=False,
                   reason=f"source [{citation.n}] does not cite {', '.join(missing)}")


def _repair_quotes(sentence: str, cited: list[Passage]) -> str:
    """Replace a near-verbatim quote (a word or two changed, as small models do) with the
    cited source's exact words, so that what the lawyer reads in quotes is the document's
    text. Only long quotes whose words nearly all occur, in order, in one compact stretch of a
    cited source are replaced; anything looser stays as written and fails verification."""
    for quote in QUOTE.findall(sentence):
        wanted = words(quote)
        if len(wanted) < REPAIR_MIN_WORDS or any(
                contains(words(p.text), wanted) >= 0 for p in cited):
            continue
        for passage in cited:
            exact = _nearest_span(passage.text, wanted)
            if exact:
                sentence = sentence.replace(quote, exact, 1)
                break
    return sentence


def _nearest_span(text: str, wanted: list[str]) -> str | None:
    spans = token_spans(text)
    source = words(text)
    blocks = [b for b in SequenceMatcher(None, source, wanted, autojunk=False)
              .get_matching_blocks() if b.size]
    if not blocks or sum(b.size for b in blocks) < REPAIR_SHARE * len(wanted):
        return None
    # Quote words before the first and after the last match were changed, not invented:
    # take as many source words there.
    first = max(blocks[0].a - blocks[0].b, 0)
    tail = len(wanted) - (blocks[-1].b + blocks[-1].size)
    last = min(blocks[-1].a + blocks[-1].size - 1 + tail, len(source) - 1)
    if last - first + 1 > len(wanted) * (2 - REPAIR_SHARE):
        return None  # the matching words are spread out: not one quoted passage
    return " ".join(text[spans[first][0]:spans[last][1]].split())


def _renumber(citation: Citation, sentence: str, quotes: list[str], claim: list[str],
              passages: list[Passage], page_of: Callable[[Passage, str], int]
              ) -> tuple[Citation, str] | None:
    """A statement under the wrong number (a small model's common slip) is pointed at the
    source that has it, so the lawyer is sent to the right page. Only a plain [n] mark is
    changed, and only when exactly one other source has the statement: its quote word for
    word; else the sentence copied word for word; else (no quote) its claim, a short claim
    ("1 year") as a run of words."""
    n = citation.n
    if citation.verified or f"[{n}]" not in sentence:
        return None
    bare = _bare(sentence)
    copied = [] if quotes or len(words(bare)) < 4 else _holding([bare], passages, besides=n)
    if quotes:
        holders, what = _holding(quotes, passages, besides=n), "quote"
    elif copied:
        holders, what, quotes = copied, "sentence", [bare]
    else:
        holders, what = [p for p in passages if p.n != n and _states(p, claim, passages,
                                                                      page_of)], "statement"
    if len(holders) != 1:
        return None
    right = _check(holders[0].n, holders[0], quotes, claim, passages, page_of)
    if not right.verified:
        return None
    right.reason = f"cited as [{n}]; the {what} is in [{right.n}]"
    return right, sentence.replace(f"[{n}]", f"[{right.n}]")


def _states(passage: Passage, claim: list[str], passages: list[Passage],
            page_of: Callable[[Passage, str], int]) -> bool:
    """Whether a source supports a claim made without a quote; a short claim ("1 year")
    only as a run of words, since two loose words occur in many sources."""
    if len(claim) < 3 and contains(words(passage.text), claim) < 0:
        return False
    return _check(passage.n, passage, [], claim, passages, page_of).verified


def _holding(quotes: list[str], passages: list[Passage], besides: int = 0) -> list[Passage]:
    """The sources (other than [besides]) in which one of the quotes occurs word for word."""
    return [p for p in passages if p.n != besides and any(
        contains(words(p.text), words(q)) >= 0 for q in quotes)]


def _check(n: int, passage: Passage, quotes: list[str], claim: list[str],
           passages: list[Passage], page_of: Callable[[Passage, str], int]) -> Citation:
    source = words(passage.text)
    for quote in quotes:
        # A one- or two-word quote ("Term") proves little: the sentence must also be supported.
        short = len(words(quote)) < 3 and claim and len(
            [w for w in claim if w in set(source)]) / len(claim) < CLAIM_SUPPORT
        if contains(source, words(quote)) >= 0 and not short:
            return Citation(n, passage.file, page_of(passage, quote), quote, True,
                            doc_id=passage.doc_id)
    if quotes:
        elsewhere = [p.n for p in _holding(quotes, passages, besides=n)]
        reason = (f"the quote is in source [{elsewhere[0]}], not [{n}]" if elsewhere
                  else f"the quoted words do not occur in source [{n}]")
        return Citation(n, passage.file, passage.page_start, quotes[0], False, reason,
                        doc_id=passage.doc_id)
    quote = _best_sentence(passage, claim)
    if not claim:
        return Citation(n, passage.file, page_of(passage, quote), quote, False,
                        "the sentence states nothing that can be checked", doc_id=passage.doc_id)
    missing_numbers = [w for w in claim if w.isdigit() and w not in set(source)]
    if missing_numbers:
        return Citation(n, passage.file, page_of(passage, quote), quote, False,
                        f"{missing_numbers[0]} does not appear in source [{n}]",
                        doc_id=passage.doc_id)
    share = len([w for w in claim if w in set(source)]) / len(claim)
    if share >= CLAIM_SUPPORT:
        return Citation(n, passage.file, page_of(passage, quote), quote, True,
                        doc_id=passage.doc_id)
    return Citation(n, passage.file, page_of(passage, quote), quote, False,
                    f"only {share:.0%} of the sentence's words appear in source [{n}]",
                    doc_id=passage.doc_id)
