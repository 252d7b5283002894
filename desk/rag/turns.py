"""Conversation turns as stored in a matter's catalog, read back in the current answer shape
(`Answer.to_json`). Records written before the answer carried `draft` and citation reasons are
upgraded on reading, so older conversations still show their drafts."""

from __future__ import annotations

import json
from typing import Any

from desk.index.catalog import Catalog

NOT_FOUND_TEXT = "Not found in the documents."  # the answer's text when nothing was found
NOT_FOUND_IN_MATTER = "Not found in the documents of this matter."  # as the lawyer reads it
# Why a citation is unverified when the record does not say (it always does since `reason`
# is stored; older records get this).
UNKNOWN_REASON = "not recorded (answered by an earlier version of Desk)"
# How a draft none of whose statements could be verified is introduced under the verdict;
# earlier versions stored it inside `answer`, after the verdict and this sentence.
UNVERIFIED_DRAFT = ("The model drafted the answer below, but none of its statements could be "
                    "verified in the sources:")


def answer_record(stored: str) -> dict[str, Any]:
    """One stored answer (JSON text) as a dict with every field of the current shape."""
    record: dict[str, Any] = json.loads(stored)
    if "draft" not in record:
        verdict, mark, draft = record.get("answer", "").partition(UNVERIFIED_DRAFT)
        record["draft"] = draft.strip() if mark else None
        if mark:
            record["answer"] = verdict.strip() or NOT_FOUND_TEXT
    record.setdefault("unsupported", [])
    for citation in record.get("citations", []):
        citation.setdefault("reason", "" if citation.get("verified") else UNKNOWN_REASON)
    return record


def load_turns(catalog: Catalog, conversation_id: int) -> list[tuple[str, dict[str, Any]]]:
    """(question, answer record) pairs of a conversation, oldest first."""
    return [(question, answer_record(stored))
            for question, stored in catalog.turns(conversation_id)]
