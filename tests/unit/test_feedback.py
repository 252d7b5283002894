"""Feedback on answers (desk.rag.feedback) over a real matter (real PDFs, real embedder, the
fake model): turn ids, one row per turn, validation against the matter's documents, the export
as an evaluation set that `desk eval` runs, and the `desk feedback` command."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from desk.cli import main
from desk.config.settings import load_settings
from desk.core.errors import DeskError
from desk.evaluation.retrieval import evaluate_retrieval, load_set
from desk.index.catalog import Catalog
from desk.index.matter import open_matter
from desk.ingest.importer import ImportJob
from desk.rag.feedback import (
    Feedback,
    export_case,
    export_feedback,
    feedback_for,
    rated_turns,
    record_feedback,
)
from desk.rag.service import AnswerService
from desk.rag.turns import NOT_FOUND_TEXT
from tests.fakes import FakeModel
from tests.pdfs import CONTRACT_PAGES, make_pdf

HOSTING = [
    "SITE DEVELOPMENT AND HOSTING AGREEMENT between Nimbus Web LLC and Pioneer Outfitters Corp.",
    "11. Governing Law. This Hosting Agreement shall be governed by and construed in accordance "
    "with the laws of the State of New York, without regard to conflict of laws principles.",
]
NOTICE = "How much notice is needed to terminate for convenience?"
LAW = "Which state's law governs the Master Services Agreement?"
FEES = "What must the Customer pay upon termination?"
WARRANTY = "What is the warranty period of the Master Services Agreement?"
AUDIT = "Does the Supplier have audit rights?"
PARTIES = "Who are the parties to the Master Services Agreement?"
DELAWARE = "The laws of the State of Delaware govern it."
FEEDBACK_COLUMNS = "turn_id, rating, correct_answer, file, page, not_in_documents"


@pytest.fixture
def matter(tmp_path: Path):
    matter = open_matter("msa")
    job = ImportJob(matter, [make_pdf(tmp_path / "MSA Acme.pdf", CONTRACT_PAGES),
                             make_pdf(tmp_path / "Hosting.pdf", HOSTING)], 500, 100)
    for _ in job.run():
        pass
    yield matter
    matter.close()


@pytest.fixture
def settings():
    s = load_settings()
    s.llm.evidence_tokens = 700
    return s


def ask(matter, settings, conversation: int, question: str, reply=None) -> int:
    """Answer and store a turn; return its id."""
    model = FakeModel() if reply is None else FakeModel(reply)
    AnswerService(matter, model, settings).ask(question, conversation)
    return matter.catalog.turn_rows(conversation)[-1][0]


def stored_rows(catalog: Catalog) -> list[tuple]:
    return catalog.db.execute(f"SELECT {FEEDBACK_COLUMNS} FROM feedback ORDER BY turn_id"
                              ).fetchall()


def answer_of(catalog: Catalog, turn_id: int) -> dict:
    found = catalog.turn(turn_id)
    assert found is not None
    return json.loads(found[2])


def doc_id(catalog: Catalog, name: str) -> int:
    [doc] = [d for d in catalog.documents() if d.file_name == name]
    return doc.id


# -- turn ids -------------------------------------------------------------------------------
def test_add_turn_returns_the_id_that_turn_rows_and_turn_report(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    try:
        first = catalog.new_conversation("One")
        second = catalog.new_conversation("Two")
        a = catalog.add_turn(first, "Q1", '{"answer": "A1"}')
        b = catalog.add_turn(second, "Q2", '{"answer": "A2"}')
        c = catalog.add_turn(first, "Q3", '{"answer": "A3"}')
        assert (a, b, c) == (1, 2, 3)
        assert catalog.turn_rows(first) == [(1, "Q1", '{"answer": "A1"}'),
                                            (3, "Q3", '{"answer": "A3"}')]
        assert catalog.turns(first) == [("Q1", '{"answer": "A1"}'), ("Q3", '{"answer": "A3"}')]
        assert catalog.turn(2) == (second, "Q2", '{"answer": "A2"}')
        assert catalog.turn(4) is None
    finally:
        catalog.close()


# -- storage --------------------------------------------------------------------------------
def test_one_row_per_turn_replaced_when_the_lawyer_changes_it(matter, settings):
    catalog = matter.catalog
    conversation = catalog.new_conversation("Notice")
    notice = ask(matter, settings, conversation, NOTICE)
    law = ask(matter, settings, conversation, LAW)
    other = catalog.new_conversation("Other")
    parties = ask(matter, settings, other, PARTIES)

    assert feedback_for(catalog, conversation) == {}
    up = record_feedback(catalog, notice, 1)
    assert up == Feedback(notice, 1)
    assert up.at > 0
    record_feedback(catalog, law, 1)
    changed = record_feedback(catalog, law, -1, "  " + DELAWARE + "\n", "MSA Acme.pdf", 3)
    record_feedback(catalog, parties, -1, file="MSA", page=1)  # the name may be a part

    assert changed == Feedback(law, -1, DELAWARE, "MSA Acme.pdf", 3, False)
    assert stored_rows(catalog) == [(notice, 1, None, None, None, 0),
                                    (law, -1, DELAWARE, "MSA Acme.pdf", 3, 0),
                                    (parties, -1, None, "MSA Acme.pdf", 1, 0)]
    assert feedback_for(catalog, conversation) == {
        notice: Feedback(notice, 1), law: Feedback(law, -1, DELAWARE, "MSA Acme.pdf", 3)}
    assert feedback_for(catalog, other) == {parties: Feedback(parties, -1, None,
                                                              "MSA Acme.pdf", 1)}


def test_not_found_as_the_correct_answer_means_not_in_the_documents(matter, settings):
    catalog = matter.catalog
    conversation = catalog.new_conversation("Warranty")
    turn = ask(matter, settings, conversation, WARRANTY)
    assert record_feedback(catalog, turn, -1, "Not Found.") == Feedback(
        turn, -1, "Not Found.", None, None, True)
    assert record_feedback(catalog, turn, -1, file="Hosting.pdf", not_in_documents=True) == (
        Feedback(turn, -1, None, "Hosting.pdf", None, True))
    assert stored_rows(catalog) == [(turn, -1, None, "Hosting.pdf", None, 1)]


def test_feedback_is_checked_against_the_matter(matter, settings):
    catalog = matter.catalog
    conversation = catalog.new_conversation("Notice")
    turn = ask(matter, settings, conversation, NOTICE)
    problems = {
        (0,): "A rating is +1 (thumbs up) or -1 (thumbs down), not 0.",
        (2,): "A rating is +1 (thumbs up) or -1 (thumbs down), not 2.",
        (True,): "A rating is +1 (thumbs up) or -1 (thumbs down), not True.",
        (-1, None, "Lease.pdf", 1): "'Lease.pdf' is not a document of this matter.",
        (-1, None, ".pdf", 1): "'.pdf' names several documents of this matter (Hosting.pdf, "
                               "MSA Acme.pdf); give the whole file name.",
        (-1, "ninety days", "MSA Acme.pdf", 4): "MSA Acme.pdf has no page 4 (it has 3 pages).",
        (-1, "ninety days", "MSA Acme.pdf", 0): "MSA Acme.pdf has no page 0 (it has 3 pages).",
        (-1, "ninety days", None, 2): "Say which document the page is in.",
        (-1, "ninety days", "MSA Acme.pdf"): "Give the page of MSA Acme.pdf where the correct "
                                             "answer is.",
        (-1, "not found", "MSA Acme.pdf", 2): "An answer that is not in the documents has no "
                                              "page; leave the page out (the document may "
                                              "stay: the one it is absent from).",
    }
    for args, message in problems.items():
        with pytest.raises(DeskError) as caught:
            record_feedback(catalog, turn, *args)  # type: ignore[arg-type]
        assert str(caught.value) == message
    with pytest.raises(DeskError) as caught:
        record_feedback(catalog, turn + 1, 1)
    assert str(caught.value) == f"There is no answer {turn + 1} in this matter."
    assert feedback_for(catalog, conversation) == {}
    assert stored_rows(catalog) == []


def test_a_matter_made_before_feedback_gets_the_table_and_keeps_its_turns(tmp_path):
    path = tmp_path / "catalog.sqlite"
    old = Catalog(path)
    conversation = old.new_conversation("Old")
    turn = old.add_turn(conversation, "Q", json.dumps({"answer": "A", "found": False}))
    old.close()
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "feedback" not in tables and "turns" in tables

    catalog = Catalog(path)
    try:
        assert feedback_for(catalog, conversation) == {}
        record_feedback(catalog, turn, 1)
        assert stored_rows(catalog) == [(turn, 1, None, None, None, 0)]
        assert catalog.turns(conversation) == [("Q", '{"answer": "A", "found": false}')]
    finally:
        catalog.close()


def test_feedback_goes_with_its_conversation(matter, settings):
    catalog = matter.catalog
    conversation = catalog.new_conversation("Notice")
    turn = ask(matter, settings, conversation, NOTICE)
    record_feedback(catalog, turn, 1)
    with catalog.transaction() as db:
        db.execute("DELETE FROM conversations WHERE id=?", (conversation,))
    assert stored_rows(catalog) == []


# -- export ---------------------------------------------------------------------------------
@pytest.fixture
def rated(matter, settings) -> dict[str, int]:
    """One answer for each way feedback is exported (or left out), by name."""
    catalog = matter.catalog
    conversation = catalog.new_conversation("Review")
    turns = {
        "approved": ask(matter, settings, conversation, NOTICE),
        "corrected": ask(matter, settings, conversation, LAW),
        "page_only": ask(matter, settings, conversation, FEES),
        "absent": ask(matter, settings, conversation, WARRANTY),
        "confirmed_absent": ask(matter, settings, conversation, AUDIT, reply="NOT FOUND"),
        "down_only": ask(matter, settings, conversation, PARTIES),
    }
    record_feedback(catalog, turns["approved"], 1)
    record_feedback(catalog, turns["corrected"], -1, DELAWARE, "MSA Acme.pdf", 3)
    record_feedback(catalog, turns["page_only"], -1, file="MSA Acme.pdf", page=2)
    record_feedback(catalog, turns["absent"], -1, "not found")
    record_feedback(catalog, turns["confirmed_absent"], 1)
    record_feedback(catalog, turns["down_only"], -1)
    return turns


def test_export_makes_tests_and_negatives_in_the_evaluation_set_shape(matter, rated):
    catalog = matter.catalog
    approved = answer_of(catalog, rated["approved"])
    assert approved["found"] is True
    verified = [c for c in approved["citations"] if c["verified"]]
    assert [c["file"] for c in verified] == ["MSA Acme.pdf"]
    absent = answer_of(catalog, rated["absent"])
    assert absent["found"] is True and absent["citations"][0]["verified"] is True
    assert answer_of(catalog, rated["confirmed_absent"])["answer"] == NOT_FOUND_TEXT
    page_2 = catalog.page(doc_id(catalog, "MSA Acme.pdf"), 2)
    assert page_2 is not None
    conversation = catalog.turn(rated["approved"])[0]  # type: ignore[index]

    def origin(name: str, rating: int) -> dict:
        return {"conversation": conversation, "turn": rated[name], "rating": rating}

    data = export_feedback(catalog, "msa")
    assert data == {
        "name": "msa feedback",
        "source": "Lawyer feedback on Desk's answers in matter 'msa'",
        "documents": ["Hosting.pdf", "MSA Acme.pdf"],
        "tests": [
            {"id": f"feedback-{rated['approved']:04d}", "query": NOTICE, "question": NOTICE,
             "answer": approved["answer"],
             "snippets": [{"file": "MSA Acme.pdf", "pages": [c["page"]], "text": c["quote"]}
                          for c in verified]} | origin("approved", 1),
            {"id": f"feedback-{rated['corrected']:04d}", "query": LAW, "question": LAW,
             "answer": DELAWARE,
             "snippets": [{"file": "MSA Acme.pdf", "pages": [3], "text": DELAWARE}]}
            | origin("corrected", -1),
            {"id": f"feedback-{rated['page_only']:04d}", "query": FEES, "question": FEES,
             "snippets": [{"file": "MSA Acme.pdf", "pages": [2], "text": page_2.text.strip()}]}
            | origin("page_only", -1),
        ],
        "negatives": [
            {"id": f"feedback-neg-{rated['absent']:04d}", "query": WARRANTY,
             "question": WARRANTY, "file": absent["citations"][0]["file"]}
            | origin("absent", -1),
            {"id": f"feedback-neg-{rated['confirmed_absent']:04d}", "query": AUDIT,
             "question": AUDIT} | origin("confirmed_absent", 1),
        ],
    }
    cases = {name: export_case(catalog, turn)
             for name, turn in zip(rated, rated_turns(catalog), strict=True)}
    assert [(name, c.kind, c.reason) for name, c in cases.items()] == [
        ("approved", "test", ""), ("corrected", "test", ""), ("page_only", "test", ""),
        ("absent", "negative", ""), ("confirmed_absent", "negative", ""),
        ("down_only", "skipped",
         "thumbs down without the correct page (give it with Correct…)")]


def test_export_leaves_out_feedback_the_matter_no_longer_supports(matter, settings):
    catalog = matter.catalog
    conversation = catalog.new_conversation("Law")
    law = ask(matter, settings, conversation, LAW)
    found_absent = ask(matter, settings, conversation, NOTICE)
    record_feedback(catalog, law, -1, file="Hosting.pdf", page=2)
    record_feedback(catalog, found_absent, 1, not_in_documents=True)
    with catalog.transaction() as db:
        catalog.delete_document(db, doc_id(catalog, "Hosting.pdf"))
    assert [(c.kind, c.reason) for c in map(lambda r: export_case(catalog, r),
                                            rated_turns(catalog))] == [
        ("skipped", "Hosting.pdf, page 2 is no longer in the matter"),
        ("skipped", 'the rating contradicts "not in the documents"')]
    assert export_feedback(catalog, "msa")["tests"] == []


def test_an_exported_set_runs_in_the_retrieval_evaluation(matter, rated, tmp_path):
    out = tmp_path / "exported.json"
    out.write_text(json.dumps(export_feedback(matter.catalog, "msa")), encoding="utf-8")
    data = load_set(out)
    result = evaluate_retrieval(matter, data["tests"], ks=(1, 64))
    # The lawyer's own words ("The laws of the State of Delaware govern it.") are not on the
    # page: that test counts for document and page recall, not for character overlap.
    assert (result.questions, result.located) == (3, 2)
    assert result.rows[64]["doc_recall"] == 1.0
    assert result.rows[64]["page_recall"] == 1.0
    assert result.rows[64]["char_recall"] == 1.0


# -- the command line ----------------------------------------------------------------------
def test_feedback_export_and_list_commands(matter, rated, tmp_path, capsys):
    out = tmp_path / "sets" / "exported.json"
    assert main(["feedback", "export", "--matter", "msa", "--out", str(out)]) == 0
    assert capsys.readouterr().out == (
        f"Wrote 3 tests and 2 negatives to {out}; 1 rated answers left out "
        "(see `desk feedback list`).\n")
    assert json.loads(out.read_text(encoding="utf-8")) == export_feedback(matter.catalog, "msa")
    assert out.stat().st_mode & 0o077 == 0

    assert main(["feedback", "export", "--matter", "msa", "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"out": str(out), "tests": 3,
                                                   "negatives": 2, "left_out": 1}

    assert main(["feedback", "list", "--matter", "msa", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["turn"], r["question"], r["rating"], r["correct_answer"], r["file"], r["page"],
             r["not_in_documents"], r["exports_as"]) for r in rows] == [
        (rated["approved"], NOTICE, 1, None, None, None, False, "test"),
        (rated["corrected"], LAW, -1, DELAWARE, "MSA Acme.pdf", 3, False, "test"),
        (rated["page_only"], FEES, -1, None, "MSA Acme.pdf", 2, False, "test"),
        (rated["absent"], WARRANTY, -1, "not found", None, None, True, "negative"),
        (rated["confirmed_absent"], AUDIT, 1, None, None, None, False, "negative"),
        (rated["down_only"], PARTIES, -1, None, None, None, False, "skipped")]
    assert rows[4]["found"] is False and rows[4]["answer"] == NOT_FOUND_TEXT

    assert main(["feedback", "list", "--matter", "msa"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [f"turn {rated['approved']} (thumbs up): {NOTICE}",
                         "    exports as a test",
                         f"turn {rated['corrected']} (thumbs down): {LAW}"]
    assert lines[-2:] == [f"turn {rated['down_only']} (thumbs down): {PARTIES}",
                          "    left out: thumbs down without the correct page (give it with "
                          "Correct…)"]
    assert "    correct: not in the documents" in lines
    assert "    correct: (the page) (MSA Acme.pdf, p. 2)" in lines

    # `desk eval` runs on the exported set as it runs on the shipped one.
    assert main(["eval", "--matter", "msa", "--set", str(out), "--k", "1,64", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["hybrid"]["questions"] == 3 and report["hybrid"]["gold_located"] == 2


def test_feedback_export_without_exportable_feedback_is_an_error(matter, tmp_path, capsys):
    out = tmp_path / "exported.json"
    assert main(["feedback", "export", "--matter", "msa", "--out", str(out)]) == 2
    assert capsys.readouterr().err == ("desk: No feedback in matter 'msa' can become a test "
                                       "(0 rated answers; see `desk feedback list`).\n")
    assert not out.exists()
    assert main(["feedback", "export", "--matter", "msa"]) == 2
    assert capsys.readouterr().err == (
        "desk: Usage: desk feedback export [--matter M] --out FILE.json\n")
    assert main(["feedback", "list", "--matter", "msa"]) == 0
    assert capsys.readouterr().out == "No rated answers in matter 'msa'.\n"
