"""Stored turns read back in the current answer shape, older records included."""

import json

from desk.rag.turns import NOT_FOUND_TEXT, UNVERIFIED_DRAFT, answer_record


def test_current_record_is_read_as_stored():
    stored = {"answer": "Delaware [1].", "found": True, "draft": None, "unsupported": [],
              "citations": [{"n": 1, "file": "a.pdf", "page": 3, "quote": "Delaware",
                             "verified": True, "reason": ""}], "timings": {}}
    assert answer_record(json.dumps(stored)) == stored


def test_record_of_an_earlier_version_gets_its_draft_and_reason_fields():
    legacy = {"answer": f"{NOT_FOUND_TEXT} {UNVERIFIED_DRAFT}\n\nNotice is \"45 weeks\" [1].",
              "found": False, "timings": {},
              "citations": [{"n": 1, "file": "a.pdf", "page": 2, "quote": "45 weeks",
                             "verified": False}]}
    record = answer_record(json.dumps(legacy))
    assert record["answer"] == NOT_FOUND_TEXT
    assert record["draft"] == 'Notice is "45 weeks" [1].'
    assert record["unsupported"] == []
    assert record["citations"][0]["reason"].startswith("not recorded")
    found = answer_record(json.dumps({"answer": "Yes [1].", "found": True, "timings": {},
                                      "citations": [{"n": 1, "file": "a.pdf", "page": 1,
                                                     "quote": "Yes", "verified": True}]}))
    assert found["draft"] is None and found["answer"] == "Yes [1]."
    assert found["citations"][0]["reason"] == ""
