"""ServerModel against a server that fails on purpose (tests/faults.py): every failure must end
as a ModelError the lawyer can act on, never showing the API key, and cancel must close the
stream even while the server is silent."""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

import pytest

from desk.config.settings import ServerSettings
from desk.core.errors import ModelError
from desk.core.progress import CancelToken
from desk.llm.model import Generation
from desk.llm.server import ServerModel
from tests.faults import PIECES, SLOW_PIECES, FaultServer, closed_port

KEY = "sk-desk-test-4f9c2a7e"  # distinctive, so a leak into a message cannot hide in a word
QUESTION = [{"role": "user", "content": "q"}]
MADE_UP_HOST = "desk-no-such-host.invalid"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fault server is on 127.0.0.1: a proxy from the environment must not get between."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def server_model(url: str, timeout_s: int = 5, short: bool = False) -> ServerModel:
    """A model on `url`; `short` gives a 1 s client timeout so silent servers fail fast (the
    settings allow no less than 5 s)."""
    model = ServerModel(ServerSettings(url=url, model="test-model", timeout_s=timeout_s),
                        api_key=KEY)
    if short:
        model.client = model.client.with_options(timeout=1.0)
        model.timeout_s = 1
    return model


def failure(model: ServerModel, **kwargs: Any) -> str:
    """The ModelError's message when asking `model` a question."""
    with pytest.raises(ModelError) as caught:
        list(model.stream_chat(QUESTION, 16, **kwargs))
    return str(caught.value)


def header(request: dict[str, Any], name: str) -> str | None:
    """A recorded request's header, whatever case the client wrote it in."""
    return next((v for k, v in request["headers"].items() if k.lower() == name.lower()), None)


# -- each fault, its words ------------------------------------------------------------------
FAULTS = [
    ("401", ["refused the API key (401", "DESK_API_KEY"]),
    ("404", ['no model "test-model"', "(404"]),
    ("429", ["busy (429", "try again in 7 s"]),
    ("500", ["failed (500"]),
    ("503", ["failed (503"]),
    ("400-context", ["too long for the model's context", "maximum context length is 4096"]),
    ("not-stream", ["did not stream", "application/json"]),
    ("not-json", ["not the JSON"]),
    ("html", ["did not stream", "text/html"]),
]


@pytest.mark.parametrize(("mode", "words"), FAULTS, ids=[mode for mode, _ in FAULTS])
def test_each_fault_is_explained(mode: str, words: list[str]) -> None:
    """Asked once (no retries), each failure names the server and what went wrong."""
    with FaultServer(mode) as server:
        message = failure(server_model(server.url))
        chats = server.chat_requests()
    for word in words:
        assert word in message
    assert f"127.0.0.1:{server.port}" in message
    assert len(chats) == 1  # max_retries=0: the lawyer decides whether to ask again
    assert len(server.requests) <= 3  # the question and, at most, two tokenizer probes


@pytest.mark.parametrize("mode", ["hang", "stall-mid-stream"])
def test_a_silent_server_times_out(mode: str) -> None:
    """A server that stops talking (before or during the answer) fails by the timeout."""
    with FaultServer(mode) as server:
        message = failure(server_model(server.url, short=True))
    assert "did not answer within 1 s" in message
    assert len(server.chat_requests()) == 1


def test_a_stall_after_pieces_still_raises() -> None:
    """The pieces already streamed reach the caller before the stall is reported."""
    received: list[str] = []
    with FaultServer("stall-mid-stream") as server:
        model = server_model(server.url, short=True)
        with pytest.raises(ModelError, match="did not answer within"):
            for piece in model.stream_chat(QUESTION, 16):
                received.append(piece)
    assert received == PIECES[:2]


def test_nothing_listening() -> None:
    """A port with no server: connection refused, and asked how to fix it."""
    message = failure(server_model(f"http://127.0.0.1:{closed_port()}/v1"))
    assert "connection refused" in message
    assert "Is the server running" in message


def test_a_name_that_does_not_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS failure, simulated in socket.getaddrinfo (which httpx2 and urllib both resolve
    through, via socket.create_connection) so nothing leaves the machine."""
    asked: list[str] = []

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(str(host))
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    message = failure(server_model(f"http://{MADE_UP_HOST}:8080/v1"))
    assert f"{MADE_UP_HOST} could not be found (DNS)" in message
    assert asked and set(asked) == {MADE_UP_HOST}


def test_connect_with_a_refused_key() -> None:
    """The model list fails the same way as a question (a wrong key is refused everywhere)."""
    with FaultServer("401") as server:
        model = server_model(server.url)
        with pytest.raises(ModelError, match=r"refused the API key \(401"):
            model.connect()


ALL_MODES = [mode for mode, _ in FAULTS] + ["hang"]


@pytest.mark.parametrize("mode", ALL_MODES)
def test_the_key_never_appears_in_a_message(mode: str) -> None:
    """The fault server's 401 repeats the key it received, as OpenAI's API once did: the
    message shows what the server said, but never the key."""
    with FaultServer(mode) as server:
        message = failure(server_model(server.url, short=mode == "hang"))
    assert KEY not in message
    assert KEY[-8:] not in message


def test_the_key_never_appears_when_unreachable() -> None:
    message = failure(server_model(f"http://127.0.0.1:{closed_port()}/v1"))
    assert KEY not in message


# -- a good answer ----------------------------------------------------------------------------
def test_ok_streams_the_pieces_and_fills_the_stats() -> None:
    stats = Generation()
    with FaultServer("ok") as server:
        model = server_model(server.url)
        assert model.connect() == ["test-model"]
        pieces = list(model.stream_chat(QUESTION, 16, stats=stats))
    assert pieces == PIECES
    assert stats.text == "".join(PIECES)
    assert stats.generated_tokens == 4
    assert stats.ttft_ms > 0
    assert stats.prompt_tokens > 0
    assert not stats.cancelled


def test_a_schema_request() -> None:
    """A schema goes as OpenAI's response_format, at temperature 0, with the key as a bearer
    token (and only there)."""
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    with FaultServer("ok") as server:
        list(server_model(server.url).stream_chat(QUESTION, 16, schema=schema))
        (request,) = server.chat_requests()
    body = request["body"]
    assert body["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "desk", "schema": schema, "strict": True}}
    assert body["temperature"] == 0
    assert body["stream"] is True
    assert body["model"] == "test-model"
    assert header(request, "Authorization") == f"Bearer {KEY}"


def test_token_counting_sends_the_key() -> None:
    """llama-server started with --api-key guards /tokenize (only /health and /models are
    public): a probe without the key gets 401 and counting falls back to the estimate."""
    with FaultServer("ok") as server:
        server_model(server.url).count_tokens("The notice period is 30 days.")
        probes = [r for r in server.requests if "tokenize" in r["path"]]
    assert probes
    assert all(header(r, "Authorization") == f"Bearer {KEY}" for r in probes)


def _prefix_bytes(raw: bytes) -> bytes:
    """The raw bytes of `messages` up to its last message (the question), as sent."""
    start = raw.index(b'"messages":[')
    end = raw.rindex(b'{"role":"user"')
    return raw[start:end]


def test_the_fixed_start_is_sent_byte_identical() -> None:
    """A server's prompt cache only helps if the fixed start is the same bytes every time;
    the second cache_prefix must cost nothing."""
    fixed = [{"role": "system", "content": "You answer from the sources. § 12 — Frist: ‘30 Tage’."},
             {"role": "user", "content": "Source [1]: The notice period is 30 days."},
             {"role": "assistant", "content": "Understood."}]
    with FaultServer("ok") as server:
        model = server_model(server.url)
        tokens = model.cache_prefix(fixed)
        for question in ("question one", "question two"):
            list(model.stream_chat([*fixed, {"role": "user", "content": question}], 16))
        before = len(server.requests)
        assert model.cache_prefix(fixed) == tokens
        assert len(server.requests) == before  # nothing sent the second time
        chats = server.chat_requests()
    assert len(chats) == 3
    assert [c["body"]["messages"][-1]["content"] for c in chats] == [
        "A", "question one", "question two"]
    assert chats[0]["body"]["max_tokens"] == 1
    sent = {json.dumps(c["body"]["messages"][:len(fixed)], ensure_ascii=False) for c in chats}
    assert sent == {json.dumps(fixed, ensure_ascii=False)}
    assert len({_prefix_bytes(c["raw"]) for c in chats}) == 1
    assert len(server.requests) <= 6


# -- cancel -----------------------------------------------------------------------------------
def test_cancel_while_streaming_closes_the_stream() -> None:
    """Cancelled from another thread after two pieces: the loop ends and the server sees the
    connection go."""
    token, stats = CancelToken(), Generation()
    received: list[str] = []
    with FaultServer("slow-stream") as server:
        model = server_model(server.url, timeout_s=30)
        for piece in model.stream_chat(QUESTION, 1000, cancel=token, stats=stats):
            received.append(piece)
            if len(received) == 2:
                canceller = threading.Thread(target=token.cancel, daemon=True)
                canceller.start()
                canceller.join()
        assert server.disconnected.wait(5)
    assert 2 <= len(received) < SLOW_PIECES
    assert stats.cancelled


def test_cancel_while_the_server_is_silent() -> None:
    """The server sends two pieces, then nothing. Cancel must close the connection at once,
    through the watcher, not when the read times out: the client's timeout (12 s) is longer
    than the server is given to see the close (0.5 s + 5 s), so only the watcher can do it."""
    token, stats = CancelToken(), Generation()
    received: list[str] = []
    seen: list[bool] = []
    with FaultServer("stall-mid-stream") as server:
        model = server_model(server.url, timeout_s=12)

        def cancel_then_watch() -> None:
            token.cancel()
            seen.append(server.disconnected.wait(5))

        timer = threading.Timer(0.5, cancel_then_watch)
        timer.daemon = True
        for piece in model.stream_chat(QUESTION, 1000, cancel=token, stats=stats):
            received.append(piece)
            if len(received) == 2:
                timer.start()
        timer.join()
    assert received == PIECES[:2]  # ended without raising
    assert stats.cancelled
    assert seen == [True], "the connection stayed open after cancel until the read timed out"
