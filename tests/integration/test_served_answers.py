"""Answers through a real OpenAI-compatible server: llama-cpp-python's server on 127.0.0.1
serving SmolLM2. The same retrieval, prompt and verification as in-process; only the model
runs elsewhere. What the 135M model says is not judged, except that it says the same as the
same model in-process (greedy decoding of the same prompt)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desk.cli import main
from desk.config.settings import ServerSettings, load_settings, save_settings
from desk.llm.model import AnswerModel, Generation
from desk.llm.runtime import load_runtime
from desk.llm.server import open_server
from desk.llm.store import ModelStore
from desk.rag.prompt import fixed_messages
from desk.rag.service import AnswerService
from tests.pdfs import contract_matter
from tests.served import llama_server

SMOL = "smollm2-135m-instruct-q4_1"
N_CTX = 2048


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One server for the module (starting one takes a few seconds)."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    with llama_server(ModelStore().path(SMOL), "smollm2", n_ctx=N_CTX, log=log) as url:
        yield url


@pytest.fixture
def settings(served):
    s = load_settings()
    s.llm.model = SMOL
    s.llm.n_ctx = N_CTX
    s.llm.max_answer_tokens = 48
    s.llm.evidence_tokens = 700
    s.server = ServerSettings(url=served, model="smollm2", n_ctx=N_CTX, timeout_s=60)
    return s


@pytest.fixture
def matter(tmp_path: Path):
    m = contract_matter(tmp_path)
    yield m
    m.close()


def test_a_served_model_answers_like_the_same_model_in_process(matter, settings):
    server = open_server(settings.server, None)
    assert isinstance(server, AnswerModel)
    assert server.device == f"server {settings.server.url.split('//')[1].split('/')[0]}"
    question = "How much notice is needed to terminate for convenience?"

    served = AnswerService(matter, server, settings)
    job = served.prepare(question)
    assert job.passages
    text = "".join(served.stream(job))
    assert job.answer is not None and text == job.generation.text
    assert job.generation.ttft_ms > 0 and job.generation.generated_tokens > 0
    # the server's own tokenizer counted the evidence, as llama.cpp does in-process
    assert server._tokenizer and server._tokenizer.endswith("/extras/tokenize/count")

    local = AnswerService(matter, load_runtime(ModelStore().path(SMOL), settings.llm), settings)
    local_job = local.prepare(question)
    assert [p.hits[0].chunk_id for p in local_job.passages] == [
        p.hits[0].chunk_id for p in job.passages]  # the same evidence chosen by the same counts
    assert local_job.messages == job.messages
    assert "".join(local.stream(local_job)) == text  # greedy, same prompt: the same answer


def test_the_prompt_start_is_cached_once_and_json_comes_through_a_schema(settings):
    server = open_server(settings.server, None)
    fixed = fixed_messages()
    tokens = server.cache_prefix(fixed)
    assert tokens > 100 and server.cache_prefix(fixed) == tokens  # the second call sends nothing
    schema = {"type": "object", "properties": {"present": {"type": "boolean"},
                                               "sentences": {"type": "array",
                                                             "items": {"type": "integer"}}},
              "required": ["present", "sentences"]}
    stats = Generation()
    reply = "".join(server.stream_chat(
        [{"role": "user", "content": "Is there a notice period? Answer in JSON."}], 40,
        stats=stats, schema=schema))
    data = json.loads(reply)  # constrained by the server (json_object + schema here)
    assert set(data) == {"present", "sentences"} and isinstance(data["present"], bool)
    assert server._response_format == "json_object"  # llama-cpp-python's server's dialect


def test_desk_ask_through_the_server_reports_the_backend(matter, settings, capsys):
    save_settings(settings)
    matter.close()
    code = main(["ask", "--matter", "msa", "--server", settings.server.url,
                 "--server-model", "smollm2", "--json",
                 "How much notice is needed to terminate for convenience?"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["backend"] == {"answers_from": "server", "url": settings.server.url,
                               "host": settings.server.url.split("//")[1].split("/")[0],
                               "model": "smollm2"}
    assert data["timings"]["prompt_tokens"] > 0
    assert "the evidence passages are sent there" in err
    assert load_settings().answers_from == "local"  # --server is for this run only


def test_a_server_that_lacks_the_model_is_refused_by_name(matter, settings, capsys):
    matter.close()
    code = main(["ask", "--matter", "msa", "--server", settings.server.url,
                 "--server-model", "gpt-17", "x"])
    assert code == 2
    assert 'has no model named "gpt-17". It has: smollm2.' in capsys.readouterr().err
