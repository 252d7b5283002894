"""Evidence passages and the prompt that numbers them; fitted to the context window by tokens."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from desk.core.types import Hit

SYSTEM_PROMPT = (
    "You are a careful legal research assistant. Answer the question using only the numbered "
    "sources. Quote the exact words of the source that answer the question inside double "
    "quotes and put the source number in square brackets after each statement. Keep the "
    "answer short. If the sources do not contain the answer, reply only: NOT FOUND."
)

# Worked examples shown before every question. A 1.5B model follows a demonstration far
# better than a rule (with rules alone it answered NOT FOUND to most answerable questions, and
# copied an inline example's words into answers). They are part of the fixed prompt start the
# runtime evaluates once, so they cost no time per question. Invented documents, so that no
# example can leak into an answer about the lawyer's files.
EXAMPLES = (
    ("supply.pdf",
     ((4, "7.1 Invoices. Supplier shall invoice Customer monthly in arrears. Customer shall pay "
          "each undisputed invoice within thirty (30) days of receipt."),
      (9, "15. Notices. All notices shall be in writing and delivered by hand or by courier.")),
     "When must the customer pay invoices?",
     'Customer must pay each undisputed invoice "within thirty (30) days of receipt" [1].'),
    ("nda.pdf",
     ((2, "3. Confidentiality. Each Party shall hold the other Party's Confidential Information "
          "in strict confidence and shall not disclose it to any third party."),
      (3, "6. Term. This Agreement remains in force for two (2) years.")),
     "Is there a confidentiality obligation in this agreement?",
     "Yes. \"Each Party shall hold the other Party's Confidential Information in strict "
     "confidence\" [1]."),
    ("lease.pdf",
     ((1, "2. Premises. Landlord leases to Tenant the premises at 12 Harbour Road."),
      (5, "9. Repairs. Tenant shall keep the interior of the premises in good repair.")),
     "Does the lease give the tenant an option to buy the premises?",
     "NOT FOUND"),
)


def fixed_messages() -> list[dict[str, str]]:
    """The start of every prompt: the rules and the worked examples."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for file, pages, question, answer in EXAMPLES:
        passages = [Passage(n, 0, file, page, page, text, [])
                    for n, (page, text) in enumerate(pages, 1)]
        messages.append({"role": "user", "content": _ask(passages, question)})
        messages.append({"role": "assistant", "content": answer})
    return messages


def _ask(passages: list[Passage], question: str) -> str:
    """Numbered sources, then the question. When all come from one file it is named once
    (long file names repeated for every passage cost prompt time and say nothing new)."""
    files = {p.file for p in passages}
    if len(files) == 1:
        sources = "\n\n".join(p.render(with_file=False) for p in passages)
        return f"Sources, all from {files.pop()}:\n{sources}\n\nQuestion: {question}"
    sources = "\n\n".join(p.render() for p in passages)
    return f"Sources:\n{sources}\n\nQuestion: {question}"


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

    def render(self, with_file: bool = True) -> str:
        where = f"{self.file}, {self.pages_label}" if with_file else self.pages_label
        return f"[{self.n}] {where}:\n{' '.join(self.text.split())}"


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
    """The fixed start (which the runtime evaluates once), earlier turns, then the sources and
    the question."""
    messages = fixed_messages()
    for earlier_question, earlier_answer in history:
        messages.append({"role": "user", "content": earlier_question})
        messages.append({"role": "assistant", "content": earlier_answer})
    messages.append({"role": "user", "content": _ask(passages, question)})
    return messages
