"""The answering service end to end with the real small model (SmolLM2-135M) over a real PDF:
what the model says is not asserted (135M parameters), the flow, timings and caching are."""

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
from desk.llm.model import AnswerModel
from desk.llm.runtime import LlamaRuntime, load_runtime
from desk.llm.store import ModelStore
from desk.rag.citations import contains, words
from desk.rag.prompt import fixed_messages
from desk.rag.service import AnswerService, answering_service
from tests.pdfs import CONTRACT_PAGES, contract_matter, make_pdf

SMOL = "smollm2-135m-instruct-q4_1"


@pytest.fixture
def settings():
    s = load_settings()
    s.llm.n_ctx = 2048
    s.llm.max_answer_tokens = 48
    s.llm.evidence_tokens = 700
    return s


@pytest.fixture
def runtime(settings) -> LlamaRuntime:
    return load_runtime(ModelStore().path(SMOL), settings.llm)


@pytest.fixture
def matter(tmp_path: Path):
    m = contract_matter(tmp_path)
    yield m
    m.close()


def test_llama_runtime_is_an_answer_model(runtime):
    assert isinstance(runtime, AnswerModel)


def test_streamed_answer_has_timings_and_checked_citations(matter, runtime, settings):
    service = AnswerService(matter, runtime, settings)
    job = service.prepare("How much notice is needed to terminate for convenience?")
    assert job.passages and job.passages[0].n == 1
    pieces = list(service.stream(job))
    answer = job.answer
    assert answer is not None and len(pieces) > 1
    assert job.generation.generated_tokens == len(pieces)
    assert answer.timings["prompt_tokens"] > 100 and answer.timings["ttft_ms"] > 0
    assert set(answer.timings) == {"retrieval_ms", "prompt_tokens", "ttft_ms",
                                   "gen_tokens_per_s"}
    verified = [c for c in answer.citations if c.verified]
    texts = " ".join(matter.catalog.page_texts(matter.catalog.documents()[0].id))
    for citation in verified:  # whatever the model cited and passed must really be there
        assert contains(words(texts), words(citation.quote)) >= 0
    assert answer.found is bool(verified)


def test_prefix_is_evaluated_once_per_model_load(matter, settings, tmp_path):
    runtime = LlamaRuntime(ModelStore().path(SMOL), settings.llm)  # a load of its own
    service = answering_service(matter, runtime, settings)
    service.ask("Which law governs?")
    service.ask("How can it be terminated?")
    other = open_matter("other")  # another matter, same loaded model: nothing re-evaluated
    for _ in ImportJob(other, [make_pdf(tmp_path / "b.pdf", CONTRACT_PAGES[1:])], 500, 100).run():
        pass
    try:
        answering_service(other, runtime, settings).ask("What notice is needed?")
    finally:
        other.close()
    assert runtime.prefix_evaluations == 1
    # The state left by the last answer still starts with the fixed prompt: caching it again
    # costs nothing.
    assert runtime.cache_prefix(fixed_messages()) == service.fixed_tokens
    assert runtime.prefix_evaluations == 1


def test_cancel_stops_generation(matter, runtime, settings):
    service = AnswerService(matter, runtime, settings)
    job = service.prepare("Summarise the termination clause.")
    cancel = CancelToken()
    received = []
    for piece in service.stream(job, cancel):
        received.append(piece)
        cancel.cancel()
    assert job.generation.cancelled is True
    assert len(received) == 1 and job.generation.generated_tokens == 1


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
    assert set(data) == {"answer", "found", "draft", "citations", "unsupported", "timings",
                         "backend"}
    assert data["backend"] == {"answers_from": "local", "model": SMOL, "device": "CPU"}
    assert isinstance(data["found"], bool) and data["timings"]["prompt_tokens"] > 100
    for c in data["citations"]:
        assert set(c) == {"n", "file", "page", "quote", "verified", "reason"}
        assert c["file"] == "MSA.pdf" and (c["verified"] or c["reason"])
    bad = subprocess.run(run + ["ask", "--matter", "nope", "x"], env=env, capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "no matter named 'nope'" in bad.stderr
