"""The answering service over a real matter (real PDFs, real embedder) with a deterministic fake
model: the flow, what is stored, not-found rules, follow-up scope, cancel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desk.config.settings import load_settings
from desk.core.progress import CancelToken
from desk.index.matter import open_matter
from desk.ingest.importer import ImportJob
from desk.rag import service as service_module
from desk.rag.service import (
    AnswerJob,
    AnswerService,
    answering_service,
    speaks_of_whole_matter,
)
from desk.rag.turns import NOT_FOUND_TEXT
from tests.fakes import FakeModel
from tests.pdfs import CONTRACT_PAGES, make_pdf

NON_COMPETE = [
    "NON-COMPETITION AGREEMENT between Orion Foods Inc. and Daniel Marsh (the Employee).",
    "3. Restricted Period. For two (2) years after the Closing the Employee shall not compete. "
    "7. Governing Law. This Non-Competition Agreement is governed by the laws of the State of "
    "Texas.",
]
HOSTING = [
    "SITE DEVELOPMENT AND HOSTING AGREEMENT between Nimbus Web LLC and Pioneer Outfitters Corp.",
    "11. Governing Law. This Hosting Agreement shall be governed by and construed in accordance "
    "with the laws of the State of New York, without regard to conflict of laws principles.",
]


def _import(matter, paths):
    for _ in ImportJob(matter, paths, 500, 100).run():
        pass


@pytest.fixture
def settings():
    s = load_settings()
    s.llm.evidence_tokens = 700
    return s


@pytest.fixture
def msa(tmp_path: Path):
    matter = open_matter("msa")
    _import(matter, [make_pdf(tmp_path / "MSA Acme.pdf", CONTRACT_PAGES)])
    yield matter
    matter.close()


def test_answer_streams_cites_verifies_and_stores_the_typed_answer(msa, settings):
    model = FakeModel()
    service = AnswerService(msa, model, settings)
    conversation = msa.catalog.new_conversation("Notice")
    flow = service.answer("How much notice is needed to terminate for convenience?",
                          conversation)
    items = []
    while True:
        try:
            items.append(next(flow))
        except StopIteration as done:
            answer = done.value
            break
    assert isinstance(items[0], AnswerJob) and items[0].passages
    assert all(isinstance(piece, str) for piece in items[1:]) and len(items) > 3
    assert answer.found is True
    assert [(c.n, c.file, c.verified, c.reason) for c in answer.citations] == [
        (1, "MSA Acme.pdf", True, "")]
    data = answer.to_json()
    assert set(data) == {"answer", "found", "draft", "citations", "unsupported", "timings"}
    assert data["draft"] is None
    assert set(data["citations"][0]) == {"n", "file", "page", "quote", "verified", "reason"}
    [(question, stored)] = msa.catalog.turns(conversation)
    assert question.startswith("How much notice") and json.loads(stored) == data


def test_unverifiable_draft_is_not_found_and_kept_with_its_reason(msa, settings):
    model = FakeModel('Notice must be "forty-five (45) weeks" [1].')
    service = AnswerService(msa, model, settings)
    conversation = msa.catalog.new_conversation("Notice")
    answer = service.ask("How much notice is needed to terminate for convenience?",
                         conversation)
    assert answer.found is False and answer.text == NOT_FOUND_TEXT
    assert answer.draft == 'Notice must be "forty-five (45) weeks" [1].'
    [citation] = answer.citations
    assert citation.verified is False and citation.reason
    stored = json.loads(msa.catalog.turns(conversation)[0][1])
    assert stored["draft"] == answer.draft
    assert stored["citations"][0]["reason"] == citation.reason


def test_model_saying_not_found_is_not_found(msa, settings):
    service = AnswerService(msa, FakeModel("NOT FOUND"), settings)
    answer = service.ask("How much notice is needed to terminate for convenience?")
    assert (answer.found, answer.text, answer.citations, answer.draft) == (
        False, NOT_FOUND_TEXT, [], None)


def test_irrelevant_evidence_is_not_found_without_asking_the_model(msa, settings, monkeypatch):
    monkeypatch.setattr(service_module, "MIN_RELEVANCE", 2.0)  # nothing can be relevant
    model = FakeModel()
    answer = AnswerService(msa, model, settings).ask("What is the warranty period?")
    assert (answer.found, answer.text) == (False, NOT_FOUND_TEXT)
    assert answer.timings["prompt_tokens"] == 0 and model.prompts == []


def test_cancel_stops_generation(msa, settings):
    reply = " ".join(f"word{i}" for i in range(50))
    model = FakeModel(reply)
    service = AnswerService(msa, model, settings)
    job = service.prepare("Summarise the termination clause.")
    cancel = CancelToken()
    received = []
    for piece in service.stream(job, cancel):
        received.append(piece)
        if len(received) == 3:
            cancel.cancel()
    assert job.generation.cancelled is True
    assert received == ["word0 ", "word1 ", "word2 "]
    assert job.generation.generated_tokens == 3


def test_prefix_is_cached_once_per_service_not_per_question(msa, settings):
    model = FakeModel()
    service = answering_service(msa, model, settings)
    for question in ("Which law governs?", "How can it be terminated?", "Who are the parties?"):
        answering_service(msa, model, settings).ask(question)
    assert answering_service(msa, model, settings) is service
    assert model.cache_prefix_calls == 1 and len(model.prompts) == 3
    assert answering_service(msa, FakeModel(), settings) is not service


def test_conversation_history_reaches_the_model(msa, settings):
    model = FakeModel()
    service = AnswerService(msa, model, settings)
    conversation = msa.catalog.new_conversation("Termination")
    service.ask("Which state's law governs the agreement?", conversation)
    job = service.prepare("And how can it be terminated?", conversation)
    contents = [m["content"] for m in job.messages]
    assert "Which state's law governs the agreement?" in contents
    assert len(msa.catalog.turns(conversation)) == 1


@pytest.mark.parametrize("question", [
    "Which of these agreements are governed by the laws of New York?",
    "Do all the contracts have a cap on liability?",
    "Is any of these agreements assignable?",
    "Are all of them governed by New York law?",
    "Which of the two contracts has the longer term?",
    "How many agreements renew automatically?",
    "List the documents that mention a non-compete.",
    "Does each agreement have a notice period?",
    "Which contracts are governed by Delaware law?",
    "Is there a change of control clause anywhere in the matter?",
])
def test_questions_about_the_documents_as_a_set(question):
    assert speaks_of_whole_matter(question) is True


@pytest.mark.parametrize("question", [
    "And when does it end?",
    "Does it have any cap on liability?",
    "Which state's law governs this agreement?",
    "What notice is needed to terminate?",
    "Who are the parties to the agreement?",
    "Does it supersede all prior agreements?",
    "Does it conflict with any other agreement?",
    "Must the Employee return all confidential documents?",
    "Does termination end all of the obligations?",
    "Consider the Non-Competition Agreement between Orion Foods and Daniel Marsh; does it "
    "supersede all other agreements?",
])
def test_follow_ups_about_the_document_at_hand(question):
    assert speaks_of_whole_matter(question) is False


def test_follow_up_about_these_agreements_searches_the_whole_matter(tmp_path, settings):
    matter = open_matter("six")
    _import(matter, [make_pdf(tmp_path / "Non-Competition Agreement.pdf", NON_COMPETE),
                     make_pdf(tmp_path / "Hosting Agreement.pdf", HOSTING),
                     make_pdf(tmp_path / "MSA Acme.pdf", CONTRACT_PAGES)])
    try:
        service = AnswerService(matter, FakeModel(), settings)
        conversation = matter.catalog.new_conversation("Non-compete")
        first = "Consider the Non-Competition Agreement between Orion Foods and Daniel Marsh; " \
                "what is the restricted period?"
        service.ask(first, conversation)
        follow_up = "Which of these agreements are governed by the laws of New York?"
        job = service.prepare(follow_up, conversation)
        files = [p.file for p in job.passages]
        assert files[0] == "Hosting Agreement.pdf" and len(set(files)) > 1
        assert service.retriever.last_focus.doc_id is None  # searched across the matter
        # A follow-up about the document at hand is still searched with the question before.
        assert service.search_query("And when does it end?", first) == (
            f"{first} And when does it end?")
        job = service.prepare("And which state's law governs it?", conversation)
        assert {p.file for p in job.passages} == {"Non-Competition Agreement.pdf"}
    finally:
        matter.close()


LEASE = ["LEASE AGREEMENT between Harbor Properties LLC (Landlord) and Quill & Ink Ltd (Tenant).",
         "4. Rent. Tenant shall pay rent of $4,000 per month. 9. Termination. Either party may "
         "terminate this lease on six (6) months written notice."]


def test_clause_naming_the_document_is_left_out_of_the_question_put_to_the_model(
        tmp_path, settings):
    matter = open_matter("two contracts")
    _import(matter, [make_pdf(tmp_path / "MSA Acme.pdf", CONTRACT_PAGES),
                     make_pdf(tmp_path / "Harbor Lease.pdf", LEASE)])
    try:
        service = AnswerService(matter, FakeModel(), settings)
        job = service.prepare("Consider the Lease Agreement between Harbor Properties and Quill "
                              "& Ink; How much notice is needed to terminate?")
        asked = job.messages[-1]["content"]
        assert asked.startswith("Sources, all from Harbor Lease.pdf:")
        assert asked.endswith("Question: How much notice is needed to terminate?")
        # A question that names no document is put to the model as asked.
        job = service.prepare("How much notice is needed to terminate?")
        assert job.messages[-1]["content"].endswith(
            "Question: How much notice is needed to terminate?")
    finally:
        matter.close()
