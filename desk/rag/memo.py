"""A conversation as a research memo in Markdown, citations listed as document and page."""

from __future__ import annotations

import time
from typing import Any

from desk.rag.citations import MARK
from desk.rag.turns import NOT_FOUND_IN_MATTER, UNVERIFIED_DRAFT


def memo_markdown(matter: str, title: str, turns: list[tuple[str, dict[str, Any]]]) -> str:
    """turns: (question, answer record) as desk.rag.turns.load_turns reads them."""
    lines = [f"# Research memo: {title}", "",
             f"Matter: {matter}  ", f"Prepared with Desk on {time.strftime('%Y-%m-%d')}", ""]
    for number, (question, answer) in enumerate(turns, 1):
        lines += [f"## {number}. {question}", ""]
        if not answer["found"]:
            lines += [f"_{NOT_FOUND_IN_MATTER}_", ""]
            if answer["draft"] is not None:
                draft = MARK.sub(r"[\1]", answer["draft"])
                lines += [f"_{UNVERIFIED_DRAFT}_", "",
                          *(f"> {line}" for line in draft.splitlines()), ""]
        else:
            lines += [MARK.sub(r"[\1]", answer["answer"]), ""]
        if answer["citations"]:
            lines.append("Sources:")
            lines.append("")
            for c in answer["citations"]:
                state = "verified" if c["verified"] else f"NOT verified: {c['reason']}"
                quote = " ".join(c["quote"].split())
                lines.append(f"- [{c['n']}] {c['file']}, page {c['page']} ({state}): "
                             f"\"{quote}\"")
            lines.append("")
    return "\n".join(lines)
