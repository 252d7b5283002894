"""The review job over a real matter (PyMuPDF PDFs, the real embedder, SQLite) with the
deterministic fake model: code extraction, model cells from JSON, verification, derived
columns, storage as cells finish, resume after cancel and after a kill, corrections kept,
whole-matter questions answered from the review column, and the CLI's JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desk.config.settings import load_settings
from desk.core.errors import Cancelled
from desk.core.progress import CancelToken, Progress, drive
from desk.index.matter import open_matter
from desk.ingest.importer import ImportJob
from desk.rag.service import AnswerService
from desk.review.cells import Cell
from desk.review.extract import Extractor, model_cell
from desk.review.job import run_review
from desk.review.questions import answer_question, question_term
from desk.review.store import ReviewStore
from desk.review.terms import BY_NAME, resolve_terms
from tests.fakes import EXCERPT, FakeModel
from tests.pdfs import make_pdf

SUPPLY = [
    "SUPPLY AGREEMENT\nThis Supply Agreement is made and entered into as of March 3, 2014 by "
    "and between Orion Foods Inc., a Texas corporation, and Pioneer Grocers LLC.\n"
    "1. Term. The term of this Agreement shall commence on the Effective Date and continue "
    "for a period of three (3) years from the Effective Date. This Agreement shall "
    "automatically renew for successive one (1) year periods unless either party gives "
    "notice of non-renewal at least ninety (90) days prior to the end of the then-current "
    "term.",
    "7. Assignment. Neither party may assign this Agreement without the prior written "
    "consent of the other party.\n12. Governing Law. This Agreement shall be governed by and "
    "construed in accordance with the laws of the State of New York, without regard to its "
    "conflict of laws principles.",
]
HOSTING = [
    "HOSTING SERVICES AGREEMENT\nThis Hosting Services Agreement is dated June 1, 2019 "
    "between Nimbus Web LLC and Harbor Retail Corp.\n2. Services. Nimbus shall host the "
    "website of Harbor.",
    "9. Governing Law. This Agreement is governed by the laws of the State of Delaware.",
]
TERMS = ["Agreement Date", "Expiration Date", "Renewal Term",
         "Notice Period To Terminate Renewal", "Governing Law", "Anti-Assignment",
         "Last Day To Give Notice Of Non-Renewal"]


@pytest.fixture
def settings():
    return load_settings()


@pytest.fixture
def matter(tmp_path: Path):
    m = open_matter("deals")
    paths = [make_pdf(tmp_path / "Supply Orion.pdf", SUPPLY),
             make_pdf(tmp_path / "Hosting Nimbus.pdf", HOSTING)]
    for _ in ImportJob(m, paths, 500, 100).run():
        pass
    yield m
    m.close()


def _doc(matter, prefix: str):
    return next(d for d in matter.catalog.documents() if d.file_name.startswith(prefix))


def _review(matter, settings, model, names=TERMS, **kw):
    return drive(run_review(matter, model, settings, resolve_terms(names),
                            today=dt.date(2016, 1, 1), **kw), lambda _: None)


def test_code_reads_dates_durations_and_governing_law_and_code_computes_the_rest(
        matter, settings):
    rows = {r.file: r.cells for r in _review(matter, settings, FakeModel(), route="code")}
    supply = rows["Supply Orion.pdf"]
    assert supply["Agreement Date"].value == "2014-03-03"
    assert supply["Agreement Date"].typed == {"type": "date", "iso": "2014-03-03"}
    assert supply["Governing Law"].value == "New York"
    assert supply["Governing Law"].route == "code"
    assert supply["Governing Law"].citations[0].page == 2
    assert supply["Governing Law"].verified is True
    assert supply["Renewal Term"].value == "1 year, renews automatically"
    assert supply["Notice Period To Terminate Renewal"].value == "90 days"
    # Three years from the Effective Date: the effective date is not stated, so the
    # agreement date is the start, and the sum is computed by code with its formula.
    expiration = supply["Expiration Date"]
    assert expiration.value == "2017-03-03"
    assert expiration.route == "derived"
    assert expiration.formula == "Agreement Date (2014-03-03) + 3 years"
    deadline = supply["Last Day To Give Notice Of Non-Renewal"]
    assert deadline.value == "2016-12-03"
    assert deadline.formula == ("Expiration Date (2017-03-03) − Notice Period To Terminate "
                                "Renewal (90 days) = 2016-12-03")
    assert deadline.verified is True
    hosting = rows["Hosting Nimbus.pdf"]
    assert hosting["Governing Law"].value == "Delaware"
    assert hosting["Agreement Date"].value == "2019-06-01"
    assert hosting["Renewal Term"].present is False
    assert hosting["Last Day To Give Notice Of Non-Renewal"].reason == (
        "needs Expiration Date and Notice Period To Terminate Renewal")
    # code only: a yes-no term needs the model, so it is not found by code
    assert supply["Anti-Assignment"].present is False


def cite_the_sentence_with(word: str):
    """A fake review reply: present, citing the excerpt sentence that holds `word`."""

    def reply(messages: list[dict[str, str]], schema: dict) -> str:
        numbers = [int(n) for n, text in EXCERPT.findall(messages[-1]["content"])
                   if word in text]
        return json.dumps({"present": bool(numbers), "sentences": numbers[:1]})

    return reply


def test_model_cells_quote_the_page_and_are_asked_for_json(matter, settings):
    model = FakeModel(json_reply=cite_the_sentence_with("assign"))
    rows = _review(matter, settings, model, ["Anti-Assignment", "Governing Law"])
    cells = {r.file: r.cells for r in rows}
    cell = cells["Supply Orion.pdf"]["Anti-Assignment"]
    assert cell.route == "model" and cell.value == "Yes" and cell.present is True
    assert cell.verified is True
    assert cell.citations[0].quote == ("7. Assignment. Neither party may assign this Agreement "
                                       "without the prior written consent of the other party.")
    page = matter.catalog.page(cell.doc_id, cell.citations[0].page)
    assert cell.citations[0].quote in " ".join(page.text.split())
    assert cells["Hosting Nimbus.pdf"]["Anti-Assignment"].present is False
    # governing law came from code in both documents: the model was asked only yes-no
    assert len(model.schemas) == 2
    assert all(s["required"] == ["present", "sentences"] for s in model.schemas)


def test_a_value_not_in_the_cited_clause_or_a_made_up_sentence_is_not_found(matter):
    """As for answers: what no cited clause supports is not a finding; the model's draft is
    kept in the reason for the lawyer to judge."""
    doc = _doc(matter, "Supply")
    extractor = Extractor(matter, None, load_settings())
    sentences = extractor.evidence(doc, BY_NAME["Governing Law"])
    wrong = model_cell(doc, BY_NAME["Governing Law"], sentences,
                       {"found": True, "value": "California", "sentences": [1]})
    assert (wrong.value, wrong.present) == ("Not found", False)
    assert wrong.reason == ("not found: the model answered 'California' but the clause it "
                            "cited does not state that")
    invented = model_cell(doc, BY_NAME["Anti-Assignment"], sentences,
                          {"present": True, "sentences": [99]})
    assert (invented.value, invented.present) == ("No", False)
    assert invented.reason == ("not found: the model answered 'Yes' but cited sentence 99, "
                               "which it was not shown")
    numbers = [s.n for s in sentences]
    off_topic = model_cell(doc, BY_NAME["Insurance"], sentences,
                           {"present": True, "sentences": numbers[:1]})
    assert off_topic.present is False
    assert off_topic.reason.endswith("but the clause it cited is not about insurance")
    law = next(s.n for s in sentences if "governed" in s.text)
    right = model_cell(doc, BY_NAME["Governing Law"], sentences,
                       {"found": True, "value": "New York", "sentences": [law, 99]})
    assert right.present is True and len(right.citations) == 1


def test_a_reply_that_is_not_json_is_an_empty_cell_with_the_reason(matter, settings):
    model = FakeModel(json_reply=lambda messages, schema: "Yes, there is.")
    rows = _review(matter, settings, model, ["Anti-Assignment"])
    cell = rows[0].cells["Anti-Assignment"]
    assert cell.present is False
    assert cell.reason == "the model's reply was not JSON: 'Yes, there is.'"


def test_cells_are_stored_as_they_finish_and_a_cancelled_run_resumes(matter, settings):
    cancel = CancelToken()
    seen: list[Progress] = []

    def on(progress: Progress) -> None:
        seen.append(progress)
        if progress.done == 3:
            cancel.cancel()

    job = run_review(matter, FakeModel(), settings, resolve_terms(TERMS), cancel=cancel)
    with pytest.raises(Cancelled):
        drive(job, on)
    store = ReviewStore(matter.catalog)
    assert sum(len(c) for c in store.cells().values()) == 3
    assert seen[0].total == 12  # 2 documents x 6 extracted terms (the derived one is free)
    model = FakeModel()
    progress: list[Progress] = []
    drive(run_review(matter, model, settings, resolve_terms(TERMS)), progress.append)
    assert progress[0].total == 9  # only what the cancelled run had not finished
    assert sum(len(c) for c in store.cells().values()) == 12


def test_a_new_column_fills_only_its_cells_and_a_correction_survives_a_rerun(
        matter, settings):
    _review(matter, settings, FakeModel(), ["Governing Law"])
    store = ReviewStore(matter.catalog)
    doc = _doc(matter, "Supply")
    corrected = store.correct(doc.id, "Governing Law", "New York (and federal law)")
    assert corrected.edited is True and corrected.original == "New York"
    progress: list[Progress] = []
    drive(run_review(matter, FakeModel(), settings, resolve_terms(["Governing Law",
                                                                    "Insurance"])),
          progress.append)
    assert progress[0].total == 2  # Insurance for two documents; Governing Law is done
    store.forget()  # a re-run from scratch keeps the lawyer's correction
    rows = _review(matter, settings, FakeModel(), ["Governing Law"])
    kept = {r.file: r.cells for r in rows}["Supply Orion.pdf"]["Governing Law"]
    assert (kept.value, kept.edited, kept.original) == (
        "New York (and federal law)", True, "New York")


def test_a_changed_document_fills_only_its_row(matter, settings, tmp_path):
    _review(matter, settings, FakeModel(), ["Governing Law"])
    changed = list(HOSTING)
    changed[1] = "9. Governing Law. This Agreement is governed by the laws of the State of Ohio."
    for _ in ImportJob(matter, [make_pdf(tmp_path / "Hosting Nimbus.pdf", changed)], 500,
                       100).run():
        pass
    progress: list[Progress] = []
    rows = drive(run_review(matter, FakeModel(), settings, resolve_terms(["Governing Law"])),
                 progress.append)
    assert progress[0].total == 1
    assert {r.file: r.cells["Governing Law"].value for r in rows} == {
        "Hosting Nimbus.pdf": "Ohio", "Supply Orion.pdf": "New York"}


def test_a_kill_mid_review_loses_at_most_the_cell_in_progress(matter, settings, tmp_path):
    matter_name = matter.name
    matter.close()
    script = tmp_path / "slow_review.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
        "from desk.config.settings import load_settings\n"
        "from desk.core.progress import drive\n"
        "from desk.index.matter import open_matter\n"
        "from desk.review.job import run_review\n"
        "from desk.review.terms import resolve_terms\n"
        "from tests.fakes import FakeModel\n"
        f"m = open_matter({matter_name!r}, create=False)\n"
        "def said(p):\n"
        "    print(p.done, flush=True)\n"
        f"drive(run_review(m, FakeModel(piece_delay_s=0.3), load_settings(), "
        f"resolve_terms({TERMS!r})), said)\n")
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ})
    assert child.stdout is not None
    done = 0
    deadline = time.monotonic() + 120
    while done < 4 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        done = int(line)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert done == 4
    reopened = open_matter(matter_name, create=False)
    try:
        stored = sum(len(c) for c in ReviewStore(reopened.catalog).cells().values())
        assert stored in (4, 5)  # the cell being written when killed may or may not be in
        assert reopened.catalog.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        progress: list[Progress] = []
        drive(run_review(reopened, FakeModel(), settings, resolve_terms(TERMS)),
              progress.append)
        assert progress[0].total == 12 - stored
    finally:
        reopened.close()


def test_whole_matter_questions_map_to_review_terms():
    assert question_term("Which of these agreements are governed by the laws of New York?"
                         ).name == "Governing Law"
    assert question_term("How many contracts have a change of control clause?"
                         ).name == "Change Of Control"
    assert question_term("List the agreements that can be terminated for convenience"
                         ).name == "Termination For Convenience"
    assert question_term("Which agreements contain a non-compete?").name == "Non-Compete"
    assert question_term("What is the governing law?") is None  # one document, not the set
    assert question_term("Which of these agreements mention pizza toppings?") is None


def test_a_whole_matter_question_is_answered_from_the_review_column(matter, settings):
    model = FakeModel()
    service = AnswerService(matter, model, settings)
    conversation = matter.catalog.new_conversation("set question")
    items: list[object] = []
    answer = drive(answer_question(service, "Which of these agreements are governed by the "
                                   "laws of New York?", conversation), items.append)
    assert answer.text.splitlines() == [
        "1 of 2 documents: Governing Law is New York.",
        "- Supply Orion.pdf: New York [1]"]
    assert [(c.file, c.page, c.verified) for c in answer.citations] == [
        ("Supply Orion.pdf", 2, True)]
    assert any(isinstance(i, Progress) and i.stage == "review" for i in items)
    assert model.prompts == []  # code read the clauses; nothing asked of the model
    stored = matter.catalog.turns(conversation)
    assert json.loads(stored[0][1])["answer"] == answer.text
    # and the cells it filled are now the Review tab's
    assert set(ReviewStore(matter.catalog).cells()[_doc(matter, "Hosting").id]) == {
        "Governing Law"}


def test_review_cli_prints_the_json_contract(matter, settings, capsys):
    from desk.cli import main

    name = matter.name
    matter.close()
    assert main(["review", "--matter", name, "--route", "code", "--terms",
                 "Governing Law,Agreement Date", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    cells = {d["file"]: d["cells"] for d in data["documents"]}
    law = cells["Hosting Nimbus.pdf"]["Governing Law"]
    assert {k: law[k] for k in ("value", "present", "verified")} == {
        "value": "Delaware", "present": True, "verified": True}
    assert law["citations"] == [{"file": "Hosting Nimbus.pdf", "page": 2, "quote": (
        "9. Governing Law. This Agreement is governed by the laws of the State of Delaware."),
        "verified": True, "reason": ""}]


def test_cells_round_trip_through_storage(matter):
    store = ReviewStore(matter.catalog)
    doc = _doc(matter, "Supply")
    cell = Cell(doc.id, doc.file_name, "Governing Law", "New York", True, typed={
        "type": "place", "name": "New York"}, route="code", seconds=1.25)
    store.put(cell)
    assert store.get(doc.id, "Governing Law") == cell


def test_corrections_export_as_a_review_set_that_eval_scores(matter, settings, tmp_path):
    from desk.cli import main
    from desk.evaluation.review import load_review_set, score_review

    _review(matter, settings, FakeModel(), ["Governing Law"])
    ReviewStore(matter.catalog).correct(_doc(matter, "Hosting").id, "Governing Law", "Ohio")
    name = matter.name
    out = tmp_path / "corrections.json"
    assert main(["review", "corrections", "--matter", name, "--out", str(out)]) == 0
    data = load_review_set(out)
    assert data["categories"] == {"Governing Law": "answer"}
    assert data["documents"] == [{"file": "Hosting Nimbus.pdf", "terms": {"Governing Law": {
        "present": True, "answer": "Ohio", "quotes": [{"text": (
            "9. Governing Law. This Agreement is governed by the laws of the State of "
            "Delaware."), "pages": [2]}]}}}]

    def scored(value: str) -> int:
        cell = Cell(1, "Hosting Nimbus.pdf", "Governing Law", value, True,
                    typed={"type": "place", "name": value})
        report = score_review(data, {"Hosting Nimbus.pdf": {"Governing Law": cell}},
                              ["Governing Law"])
        return report["values"]["Governing Law"]["correct"]

    assert (scored("Delaware"), scored("Ohio")) == (0, 1)


def test_a_present_clause_cited_off_topic_cites_the_terms_own_best_clause(matter, settings):
    """Shown one block for several terms, a model may judge rightly and cite another term's
    sentence: the cell then cites the term's best-matching sentence and says so."""
    model = FakeModel()  # always "present", always sentence 1 (the title sentence)
    rows = {r.file: r.cells for r in _review(matter, settings, model,
                                             ["Anti-Assignment", "Insurance"])}
    cell = rows["Supply Orion.pdf"]["Anti-Assignment"]
    assert (cell.value, cell.present, cell.verified) == ("Yes", True, True)
    assert cell.citations[0].quote.startswith("7. Assignment. Neither party may assign")
    assert cell.reason == "the model cited another clause; this is the best match for the term"
    # nothing mentions insurance, so nothing can be cited for it
    assert rows["Supply Orion.pdf"]["Insurance"].present is False
    assert rows["Hosting Nimbus.pdf"]["Anti-Assignment"].present is False
