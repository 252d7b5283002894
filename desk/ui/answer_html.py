"""The conversation as HTML for the answer view: a pure function of the turns (no Qt), so what
the lawyer sees of a citation (verified, unverified and why, a draft under "not found") is
tested without a window. Links are `cite:TURN:N`; `citation_at` resolves one. A stored answer
also gets the lawyer's feedback links `feedback:TURN:up|down|correct` (`feedback_link`)."""

from __future__ import annotations

import html
import re
from typing import Any

from desk.rag.citations import MARK
from desk.rag.feedback import Feedback
from desk.rag.turns import NOT_FOUND_IN_MATTER, UNKNOWN_REASON, UNVERIFIED_DRAFT

Turn = tuple[str, dict[str, Any]]  # (question, answer JSON as stored, or pending)

STYLE = ("<style>a.ok{color:#1a7f37;text-decoration:none;font-weight:bold}"
         "a.bad{color:#b42318;text-decoration:underline dotted}"
         ".q{font-weight:bold;margin-top:12px}.nf{color:#6e6e6e;font-style:italic}"
         ".src{color:#555;font-size:small}.fb{color:#555;font-size:small}"
         "a.fb{text-decoration:none}</style>")
EMPTY = ("<p class='nf'>Ask a question about the documents of this matter. Every answer cites "
         "document and page; click a citation to open the page.</p>")
NOT_FOUND = f"<p class='nf'>{NOT_FOUND_IN_MATTER}</p>"
_LINK = re.compile(r"^cite:(\d+):(\d+)$")
_FEEDBACK_LINK = re.compile(r"^feedback:(\d+):(up|down|correct)$")


def render_conversation(turns: list[Turn],
                        feedback: dict[int, Feedback | None] | None = None) -> str:
    """Every turn: the question, then the answer with its citations as links. Turns whose
    index is in `feedback` (stored answers) get the feedback links, and what was recorded."""
    parts = [STYLE]
    if not turns:
        parts.append(EMPTY)
    for index, (question, answer) in enumerate(turns):
        parts.append(f"<p class='q'>Q: {html.escape(question)}</p>")
        parts.append(render_answer(index, answer))
        if feedback is not None and index in feedback and not answer.get("pending"):
            parts.append(feedback_controls(index, feedback[index]))
    return "".join(parts)


def feedback_controls(index: int, feedback: Feedback | None) -> str:
    """👍 / 👎 / Correct… for one answer, then what the lawyer recorded."""
    links = (f"<a class='fb' href='feedback:{index}:up' title='A good answer'>👍</a> "
             f"<a class='fb' href='feedback:{index}:down' title='A wrong answer'>👎</a> "
             f"<a class='fb' href='feedback:{index}:correct' "
             "title='Give the correct answer and page'>Correct…</a>")
    return f"<p class='fb'>{links}{feedback_summary(feedback)}</p>"


def feedback_summary(feedback: Feedback | None) -> str:
    if feedback is None:
        return ""
    text = " · 👍 recorded" if feedback.rating == 1 else " · 👎 recorded"
    if feedback.not_in_documents:
        text += ": not in the documents" + (f" ({feedback.file})" if feedback.file else "")
    elif feedback.correct_answer or feedback.file:
        text += ": correct answer"
        if feedback.correct_answer:
            text += f" “{feedback.correct_answer}”"
        if feedback.file:
            text += f" ({feedback.file}, p. {feedback.page})"
    return html.escape(text)


def feedback_link(link: str) -> tuple[int, str] | None:
    """(turn index, "up" | "down" | "correct") of a feedback link, or None (another link)."""
    match = _FEEDBACK_LINK.match(link)
    return (int(match.group(1)), match.group(2)) if match else None


def render_answer(index: int, answer: dict[str, Any]) -> str:
    if answer.get("failed"):
        # the question stays; what failed is said, with any text that arrived before
        partial = answer.get("answer", "")
        return (f"<p class='nf'>The answer failed: {html.escape(answer['failed'])}</p>"
                + (f"<blockquote style='color:#667085'>{html.escape(partial)}</blockquote>"
                   if partial else ""))
    if answer.get("pending"):
        return f"<p>{html.escape(answer.get('answer', '')) or '…'}</p>"
    if answer.get("found"):
        return _cited(index, answer["answer"], answer.get("citations", []))
    draft = answer.get("draft")
    if not draft:
        return NOT_FOUND
    # The model's draft, none of it verifiable: shown below the verdict, marked.
    return (f"{NOT_FOUND}<p class='nf'>{html.escape(UNVERIFIED_DRAFT)}</p>"
            f"<blockquote style='color:#667085'>"
            f"{_cited(index, draft, answer.get('citations', []))}</blockquote>")


def _cited(index: int, text: str, citations: list[dict[str, Any]]) -> str:
    by_n = {c["n"]: c for c in citations}

    def link(match: re.Match[str]) -> str:
        out = []
        for number in (int(x) for x in match.group(1).replace(";", ",").split(",")):
            c = by_n.get(number)
            if c is None:
                out.append(f"[{number}]")  # a mark with no citation behind it stays plain
                continue
            css = "ok" if c["verified"] else "bad"
            out.append(f"<a class='{css}' href='cite:{index}:{number}'>[{number}]</a>")
        return "".join(out)

    body = MARK.sub(link, html.escape(text).replace("\n", "<br>"))
    # dict: one line per source and state (two quotes from one page under one number are
    # one source line)
    lines = dict.fromkeys(
        f"<br>[{c['n']}] {html.escape(c['file'])}, p. {c['page']}"
        + (" <span style='color:#1a7f37'>✓ verified</span>" if c["verified"] else
           " <span style='color:#b42318'>(unverified: "
           f"{html.escape(c.get('reason') or UNKNOWN_REASON)})</span>")
        for c in citations)
    return f"<p>{body}</p><p class='src'>{''.join(lines)}</p>"


def citation_at(turns: list[Turn], link: str) -> dict[str, Any] | None:
    """The citation a `cite:TURN:N` link points to, or None (another link, a stale turn)."""
    match = _LINK.match(link)
    if match is None:
        return None
    turn, number = int(match.group(1)), int(match.group(2))
    if turn >= len(turns):
        return None
    return next((c for c in turns[turn][1].get("citations", []) if c["n"] == number), None)


def citation_tooltip(citation: dict[str, Any]) -> str:
    state = ("Verified: the quote is on this page." if citation["verified"] else
             f"Not verified: {citation.get('reason') or UNKNOWN_REASON}.")
    return f"{citation['file']}, page {citation['page']}\n{state}"
