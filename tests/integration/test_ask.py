"""End to end with the real small model (SmolLM2-135M) over a small real PDF."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desk.config.settings import load_settings
from desk.core.progress import CancelToken
from desk.index.matter import open_matter
from desk.ingest.importer import ImportJob
from desk.llm.runtime import load_runtime
from desk.llm.store import ModelStore
from desk.rag import assistant as assistant_module
from desk.rag.assistant import Assistant
from desk.rag.citations import contains, words
from tests.pdfs import CONTRACT_PAGES, make_pdf

SMOL = "smollm2-135m-instruct-q4_1"


@pytest.fixture
def assistant(tmp_path: Path):
    settings = load_settings()
    settings.llm.n_ctx = 2048
    settings.llm.max_answer_tokens = 48
    settings.llm.evidence_tokens = 700
    matter = open_matter("msa")
    job = ImportJob(matter, [make_pdf(tmp_path / "MSA Acme.pdf", CONTRACT_PAGES)],
                    settings.chunking.size, settings.chunking.overlap)
    for _ in job.run():
        pass
    runtime = load_runtime(ModelStore().path(SMOL), settings.llm)
    yield Assistant(matter, runtime, settings)
    matter.close()


def test_streamed_answer_has_timings_evidence_and_checked_citations(assistant):
    job = assistant.prepare("How much notice is needed to terminate for convenience?")
    assert job.passages and job.passages[0].n == 1
    pieces = list(assistant.stream(job))
    answer = job.answer
    assert answer is not None and len(pieces) > 1
    assert "".join(pieces).strip() or not answer.found
    data = answer.to_json()
    assert set(data) == {"answer", "found", "citations", "timings"}
    assert set(data["timings"]) == {"retrieval_ms", "prompt_tokens", "ttft_ms",
                                    "gen_tokens_per_s"}
    assert data["timings"]["prompt_tokens"] > 100
    for citation in answer.citations:
        assert citation.file in ("MSA Acme.pdf", "")
        assert isinstance(citation.verified, bool)
        if citation.verified and citation.quote:
            # A verified quote lies in one of the cited passage's pages.
            texts = assistant.matter.catalog.page_texts(citation.doc_id)
            assert contains(words(" ".join(texts)), words(citation.quote)) >= 0


def test_irrelevant_evidence_is_not_found_without_generation(assistant, monkeypatch):
    monkeypatch.setattr(assistant_module, "MIN_RELEVANCE", 2.0)  # nothing can be relevant
    answer = assistant.ask("What is the warranty period?")
    assert not answer.found and answer.text == assistant_module.NOT_FOUND_TEXT
    assert answer.timings["prompt_tokens"] == 0


def test_model_saying_not_found_is_not_found(assistant):
    answer = assistant.finish("NOT FOUND", [], {})
    assert not answer.found and answer.citations == []


def test_a_draft_with_no_verifiable_statement_is_not_found_but_kept_visible(assistant):
    job = assistant.prepare("How much notice is needed to terminate for convenience?")
    answer = assistant.finish('Notice must be "forty-five (45) weeks" [1].', job.passages, {},
                              job.question)
    assert not answer.found
    assert answer.text.startswith(assistant_module.NOT_FOUND_TEXT)
    assert "forty-five (45) weeks" in answer.text
    assert [c.verified for c in answer.citations] == [False]


def test_clause_naming_the_document_is_left_out_of_the_question_put_to_the_model(
        assistant, tmp_path: Path):
    matter = open_matter("two contracts")
    lease = make_pdf(tmp_path / "Harbor Lease.pdf", [
        "LEASE AGREEMENT between Harbor Properties LLC (Landlord) and Quill & Ink Ltd (Tenant).",
        "4. Rent. Tenant shall pay rent of $4,000 per month. 9. Termination. Either party may "
        "terminate this lease on six (6) months written notice."])
    msa = make_pdf(tmp_path / "MSA Acme.pdf", CONTRACT_PAGES)
    for _ in ImportJob(matter, [msa, lease], 500, 100).run():
        pass
    try:
        two = Assistant(matter, assistant.runtime, assistant.settings)
        job = two.prepare("Consider the Lease Agreement between Harbor Properties and Quill & "
                          "Ink; How much notice is needed to terminate?")
        asked = job.messages[-1]["content"]
        assert asked.startswith("Sources, all from Harbor Lease.pdf:")
        assert asked.endswith("Question: How much notice is needed to terminate?")
        # A question that names no document is put to the model as asked.
        job = two.prepare("How much notice is needed to terminate?")
        assert job.messages[-1]["content"].endswith(
            "Question: How much notice is needed to terminate?")
    finally:
        matter.close()


def test_cancel_stops_generation(assistant):
    job = assistant.prepare("Summarise the termination clause.")
    cancel = CancelToken()
    received = []
    for piece in assistant.stream(job, cancel):
        received.append(piece)
        cancel.cancel()
    assert job.generation.cancelled and len(received) == 1


def test_conversation_keeps_turns_and_uses_them(assistant):
    conversation = assistant.matter.catalog.new_conversation("Termination")
    assistant.ask("Which state's law governs the agreement?", conversation)
    job = assistant.prepare("And how can it be terminated?", conversation)
    contents = [m["content"] for m in job.messages]
    assert "Which state's law governs the agreement?" in contents
    assert len(assistant.matter.catalog.turns(conversation)) == 1


def test_cli_ask_json(tmp_path: Path):
    make_pdf(tmp_path / "docs" / "MSA.pdf", CONTRACT_PAGES)
    env = os.environ.copy()
    run = [sys.executable, "-m", "desk.cli"]
    subprocess.run(run + ["index", "--matter", "m", "--quiet", str(tmp_path / "docs")],
                   check=True, env=env, capture_output=True)
    result = subprocess.run(run + ["ask", "--matter", "m", "--model", SMOL, "--json",
                                   "Which law governs?"], env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"answer", "found", "citations", "timings"}
    for c in data["citations"]:
        assert set(c) == {"n", "file", "page", "quote", "verified"}
    bad = subprocess.run(run + ["ask", "--matter", "nope", "x"], env=env, capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "no matter named 'nope'" in bad.stderr
