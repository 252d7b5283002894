"""Evidence passages and the prompt that numbers them; fitted to the context window by tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from desk.core.types import Hit

SYSTEM_PROMPT = (
    "You are a careful legal research assistant. Answer the question using only the numbered "
    "sources. Quote the exact words of the source that answer the question inside double "
    "quotes and put the source number in square brackets after each statement, for example: "
    "The agreement lasts \"three (3) years\" [2]. Keep the answer short. If the sources do not "
    "contain the answer, reply only: NOT FOUND."
)


@dataclass
class Passage:
    """One numbered piece of evidence: neighbouring hits of a document merged into one."""

    n: int
    doc_id: int
    file: str
    page_start: int
    page_end: int
    text: str
    hits: list[Hit]

    @property
    def pages_label(self) -> str:
        return (f"p. {self.page_start}" if self.page_start == self.page_end
                else f"pp. {self.page_start}-{self.page_end}")

    def render(self) -> str:
        return f"[{self.n}] {self.file}, {self.pages_label}:\n{' '.join(self.text.split())}"


def _merge(hits: list[Hit]) -> list[tuple[list[Hit], str]]:
    """Merge hits of one document that overlap or touch, in retrieval order of their best hit;
    overlapping text is not sent to the model twice."""
    groups: list[list[Hit]] = []
    for hit in hits:
        for group in groups:
            if any(h.doc_id == hit.doc_id and _touch(h, hit) for h in group):
                group.append(hit)
                break
        else:
            groups.append([hit])
    merged = []
    for group in groups:
        ordered = sorted(group, key=lambda h: (h.page_start, h.char_start))
        text = ordered[0].text
        for prev, cur in zip(ordered, ordered[1:]):
            text = _join(text, prev, cur)
        merged.append((ordered, text))
    return merged


def _touch(a: Hit, b: Hit) -> bool:
    first, second = sorted((a, b), key=lambda h: (h.page_start, h.char_start))
    if second.page_start > first.page_end:
        return False
    return second.page_start < first.page_end or second.char_start <= first.char_end


def _join(text: str, prev: Hit, cur: Hit) -> str:
    if cur.page_start == prev.page_end and cur.char_start < prev.char_end:
        overlap = prev.char_end - cur.char_start
        return text + cur.text[overlap:] if overlap < len(cur.text) else text
    return text + "\n" + cur.text


def select_passages(hits: list[Hit], token_budget: int,
                    count_tokens: Callable[[str], int]) -> list[Passage]:
    """Take merged hits best first while they fit the evidence budget."""
    passages: list[Passage] = []
    used = 0
    for group, text in _merge(hits):
        passage = Passage(len(passages) + 1, group[0].doc_id, group[0].file,
                          min(h.page_start for h in group), max(h.page_end for h in group),
                          text, group)
        cost = count_tokens(passage.render()) + 4
        if used + cost > token_budget:
            if passages:
                break
            continue  # a single oversized passage is skipped rather than cut mid-quote
        passages.append(passage)
        used += cost
    return passages


def build_messages(question: str, passages: list[Passage],
                   history: list[tuple[str, str]]) -> list[dict[str, str]]:
    """System rules first (a fixed prefix the runtime can reuse), earlier turns, then sources
    and the question."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for earlier_question, earlier_answer in history:
        messages.append({"role": "user", "content": earlier_question})
        messages.append({"role": "assistant", "content": earlier_answer})
    sources = "\n\n".join(p.render() for p in passages)
    messages.append({"role": "user", "content": f"Sources:\n{sources}\n\nQuestion: {question}"})
    return messages
