"""Answers from an OpenAI-compatible chat-completions server (llama-server, vLLM, Ollama, LM
Studio) through the official `openai` client, streaming. Retrieval, the prompt, verification and
the matter stay on this computer: only the messages the service builds (the fixed start, the
history that fits, the evidence passages and the question) are sent.

Every failure becomes a ModelError that names the server and what to do; the API key never
appears in one."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from desk.config.settings import ServerSettings, server_host
from desk.core.errors import ModelError
from desk.core.progress import CancelToken
from desk.llm.model import Generation

CONNECT_TIMEOUT_S = 10.0
MESSAGE_TOKENS = 4  # chat markup per message (role, start and end markers)
CHARS_PER_TOKEN = 3.0  # when the server cannot count: below English BPE's ~4, so budgets hold
TOKENIZE_TIMEOUT_S = 5.0
_COUNT_CACHE = 4096  # token counts kept per text (passages recur across questions)


@dataclass
class ServerCheck:
    """What a connection test found: the server's models and one short answer's timings."""

    host: str
    models: list[str]
    ttft_ms: float = 0.0
    gen_tokens_per_s: float = 0.0
    generated_tokens: int = 0
    context: int = 0  # the model's context: as the server reports it, else the setting's
    context_reported: bool = False
    tokenizer: str = ""  # how prompts are counted: "the server" or an estimate
    reply: str = ""
    notes: list[str] = field(default_factory=list)


class ServerModel:
    """An AnswerModel whose text comes from a server. Temperature 0 with a fixed seed, so the
    same prompt gives the same answer where the server is deterministic."""

    def __init__(self, settings: ServerSettings, api_key: str | None) -> None:
        import httpx2
        import openai

        if not settings.url or not settings.model:
            raise ModelError("Answers from a server need its address and the model's name "
                             "(Optimization ▸ Server, or --server URL --server-model NAME).")
        self.url = settings.url  # normalised by ServerSettings
        self.host = server_host(self.url)
        self.model_name = settings.model
        self.timeout_s = settings.timeout_s
        self.device = f"server {self.host}"
        self._context = settings.n_ctx
        self._context_reported = False
        self._api_key = api_key or ""  # only to send, and to blank out of messages
        # max_retries=0: a failure is reported at once, the lawyer decides whether to ask again
        self.client = openai.OpenAI(
            base_url=self.url, api_key=api_key or "none", max_retries=0,
            timeout=httpx2.Timeout(settings.timeout_s, connect=min(CONNECT_TIMEOUT_S,
                                                                   settings.timeout_s)))
        self._counts: dict[str, int] = {}
        self._tokenizer: str | None = None  # the server's endpoint that counts, once found
        self._prefix_sent: str | None = None
        self._response_format = "json_schema"  # OpenAI's; llama-cpp-python's server wants json_object
        self._lock = threading.Lock()

    # -- what the service asks of a model ---------------------------------------------------
    @property
    def n_ctx(self) -> int:
        return self._context

    def connect(self) -> list[str]:
        """Check the server answers and has the model; learn its context where it says.
        Returns the server's model names."""
        try:
            listed = list(self.client.models.list())
        except Exception as exc:
            raise self.explain(exc) from exc
        names = [str(getattr(m, "id", "")) for m in listed]
        if names and self.model_name not in names:
            raise ModelError(f"The server at {self.host} has no model named "
                             f"\"{self.model_name}\". It has: {', '.join(names[:12])}.")
        for entry in listed:
            if getattr(entry, "id", None) == self.model_name:
                context = _reported_context(entry)
                if context:
                    self._context, self._context_reported = context, True
        return names

    def count_tokens(self, text: str) -> int:
        """Counted by the server's own tokenizer where it offers one (llama-server, vLLM,
        llama-cpp-python's server), so the evidence fits as it does in-process; else an
        estimate that errs long."""
        if text in self._counts:
            return self._counts[text]
        count = self._server_count(text)
        if count is None:
            count = int(len(text) / CHARS_PER_TOKEN) + 1
        if len(self._counts) >= _COUNT_CACHE:
            self._counts.clear()
        self._counts[text] = count
        return count

    def cache_prefix(self, fixed: list[dict[str, str]]) -> int:
        """Send the fixed start once with a one-token answer, so a server that caches prompt
        prefixes (llama-server, vLLM, llama-cpp-python) holds it before the first question.
        The service sends the same messages byte for byte each time, so it stays reusable."""
        key = json.dumps(fixed, ensure_ascii=False)
        tokens = self._prompt_tokens(fixed)
        with self._lock:
            if self._prefix_sent == key:
                return tokens
        for _ in self.stream_chat([*fixed, {"role": "user", "content": "A"}], 1):
            pass
        with self._lock:
            self._prefix_sent = key
        return tokens

    def clear_cache(self) -> None:
        """A server's cache is its own: the next cache_prefix sends the fixed start again."""
        with self._lock:
            self._prefix_sent = None

    def stream_chat(self, messages: list[dict[str, str]], max_tokens: int,
                    cancel: CancelToken | None = None,
                    stats: Generation | None = None,
                    schema: dict[str, Any] | None = None) -> Iterator[str]:
        """Yield the answer as the server streams it. Cancel closes the stream at once, even
        while the server is silent (a watcher closes the connection)."""
        stats = stats or Generation()
        prompt_tokens = self._prompt_tokens(messages)
        budget = min(max_tokens, self.n_ctx - prompt_tokens - 1)
        if budget <= 0:
            raise ModelError(f"The prompt (about {prompt_tokens} tokens) does not fit the "
                             f"model's context of {self.n_ctx} tokens on {self.host}.")
        stats.prompt_tokens = prompt_tokens
        stats.started = time.perf_counter()
        stream = self._open(messages, budget, schema)
        done = threading.Event()
        if cancel is not None:
            threading.Thread(target=self._close_on_cancel, args=(stream, cancel, done),
                             daemon=True, name="desk-server-cancel").start()
        first_at: float | None = None
        counted_by_server = False
        try:
            for chunk in self._chunks(stream, cancel):
                if cancel is not None and cancel.cancelled:
                    stats.cancelled = True
                    break
                usage = getattr(chunk, "usage", None)
                if usage is not None and getattr(usage, "completion_tokens", None):
                    stats.prompt_tokens = int(usage.prompt_tokens or stats.prompt_tokens)
                    stats.generated_tokens = int(usage.completion_tokens)
                    counted_by_server = True
                piece = _delta_text(chunk)
                if not piece:
                    continue
                if first_at is None:
                    first_at = time.perf_counter()
                    stats.ttft_ms = (first_at - stats.started) * 1000
                if not counted_by_server:
                    stats.generated_tokens += 1  # servers stream about a token per chunk
                stats.text += piece
                yield piece
        finally:
            done.set()
            stream.close()
        if cancel is not None and cancel.cancelled:
            stats.cancelled = True
        if first_at is not None and stats.generated_tokens > 1:
            stats.gen_tokens_per_s = (stats.generated_tokens - 1) / max(
                time.perf_counter() - first_at, 1e-9)

    # -- the connection test ---------------------------------------------------------------
    def check(self, sample: str, max_tokens: int = 32) -> ServerCheck:
        """List the server's models and time one short answer about `sample` (text from the
        matter): time to first token and tokens per second as the lawyer will see them."""
        names = self.connect()
        result = ServerCheck(self.host, names, context=self._context,
                             context_reported=self._context_reported)
        stats = Generation()
        messages = [{"role": "system", "content": "Answer in one sentence."},
                    {"role": "user", "content": f"What is this text about?\n\n{sample}"}]
        result.reply = "".join(self.stream_chat(messages, max_tokens, stats=stats)).strip()
        result.ttft_ms, result.gen_tokens_per_s = stats.ttft_ms, stats.gen_tokens_per_s
        result.generated_tokens = stats.generated_tokens
        result.tokenizer = ("the server's tokenizer" if self._tokenizer
                            else f"estimated ({CHARS_PER_TOKEN:g} characters a token)")
        if not self._api_key:
            result.notes.append("no API key set")
        return result

    # -- the requests ----------------------------------------------------------------------
    def _request(self, messages: list[dict[str, str]], max_tokens: int,
                 schema: dict[str, Any] | None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.model_name, "messages": messages, "max_tokens": max_tokens,
            "temperature": 0.0, "seed": 0, "stream": True,
            "stream_options": {"include_usage": True}}
        if schema is not None:
            if self._response_format == "json_schema":
                request["response_format"] = {"type": "json_schema", "json_schema": {
                    "name": "desk", "schema": schema, "strict": True}}
            else:
                request["response_format"] = {"type": "json_object", "schema": schema}
        return request

    def _open(self, messages: list[dict[str, str]], max_tokens: int,
              schema: dict[str, Any] | None) -> Any:
        import openai

        try:
            return self.client.chat.completions.create(
                **self._request(messages, max_tokens, schema))
        except openai.APIStatusError as exc:
            # llama-cpp-python's server knows only {"type": "json_object", "schema": ...} and
            # rejects the OpenAI form (with a 500): ask once more that way, and keep doing so
            if schema is None or self._response_format != "json_schema" or (
                    "response_format" not in str(exc)):
                raise self.explain(exc) from exc
            self._response_format = "json_object"
            return self._open(messages, max_tokens, schema)
        except Exception as exc:
            raise self.explain(exc) from exc

    def _chunks(self, stream: Any, cancel: CancelToken | None) -> Iterator[Any]:
        """The stream's chunks, with its failures explained; a stream closed by cancel ends."""
        content_type = stream.response.headers.get("content-type", "")
        if "text/event-stream" not in content_type:
            raise ModelError(f"The server at {self.host} did not stream its answer (it sent "
                             f"{content_type or 'no content type'}); Desk needs a server that "
                             "streams chat completions.")
        try:
            yield from stream
        except Exception as exc:
            if cancel is not None and cancel.cancelled:
                return  # the watcher closed the connection
            raise self.explain(exc) from exc

    def _close_on_cancel(self, stream: Any, cancel: CancelToken, done: threading.Event) -> None:
        """Closing a socket does not wake a recv() blocked in another thread (Linux), so the
        socket is shut down first: the reader returns at once and the server sees the close."""
        while not done.is_set():
            if cancel.wait(0.1):
                network = stream.response.extensions.get("network_stream")
                sock = network.get_extra_info("socket") if network is not None else None
                if sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass  # already closed
                stream.close()
                return

    # -- counting --------------------------------------------------------------------------
    def _prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        return sum(self.count_tokens(m["content"]) + MESSAGE_TOKENS for m in messages)

    def _server_count(self, text: str) -> int | None:
        if self._tokenizer == "":
            return None  # none found before
        root = _root(self.url)
        endpoints = [self._tokenizer] if self._tokenizer else [
            f"{root}/extras/tokenize/count",  # llama-cpp-python's server
            f"{root}/tokenize",  # llama-server and vLLM
        ]
        for endpoint in endpoints:
            assert endpoint is not None
            count = self._post_count(endpoint, text)
            if count is not None:
                self._tokenizer = endpoint
                return count
        self._tokenizer = ""
        return None

    def _post_count(self, endpoint: str, text: str) -> int | None:
        # "input" (llama-cpp-python), "content" (llama-server), "prompt" (vLLM); special tokens
        # off, as the service's in-process count has none added
        body = json.dumps({"model": self.model_name, "input": text, "content": text,
                           "prompt": text, "add_special": False, "add_special_tokens": False})
        headers = {"Content-Type": "application/json"}
        if self._api_key:  # llama-server with --api-key guards /tokenize too
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(endpoint, body.encode("utf-8"), method="POST",
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TOKENIZE_TIMEOUT_S) as response:
                data = json.loads(response.read(1 << 22))
        except (OSError, ValueError, urllib.error.URLError):
            return None
        if isinstance(data, dict) and isinstance(data.get("count"), int):
            return int(data["count"])
        if isinstance(data, dict) and isinstance(data.get("tokens"), list):
            return len(data["tokens"])
        return None

    # -- failures --------------------------------------------------------------------------
    def explain(self, exc: BaseException) -> ModelError:
        """A failure of the server or the way to it, in words the lawyer can act on; a key the
        server repeats in its error is blanked out."""
        error = self._explain(exc)
        if self._api_key and self._api_key in str(error):
            return ModelError(str(error).replace(self._api_key, "***"))
        return error

    def _explain(self, exc: BaseException) -> ModelError:
        import openai

        where = f"The answer server at {self.host}"
        if isinstance(exc, ModelError):
            return exc
        if isinstance(exc, openai.APITimeoutError):
            return ModelError(f"{where} did not answer within {self.timeout_s} s (or stopped "
                              "sending for that long). It may be busy or too slow for this "
                              "model; try again, or raise the timeout (Optimization ▸ Server).")
        if isinstance(exc, openai.APIConnectionError):
            cause = _root_cause(exc)
            if isinstance(cause, socket.gaierror):
                return ModelError(f"The server name {urlsplit(self.url).hostname} could not be "
                                  "found (DNS). Check the address, or the network to it.")
            if isinstance(cause, ConnectionRefusedError):
                return ModelError(f"Nothing answers at {self.host} (connection refused). Is "
                                  "the server running, and is the address right?")
            return ModelError(f"{where} could not be reached or broke off the answer "
                              f"({cause or exc}).")
        if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError):
            return ModelError(f"{where} sent a reply that is not the JSON of the OpenAI API. Is "
                              "this address an OpenAI-compatible server?")
        if isinstance(exc, openai.APIStatusError):
            status, said = exc.status_code, _server_message(exc)
            if status in (401, 403):
                return ModelError(f"{where} refused the API key ({status}: {said}). Set the key "
                                  "in Optimization ▸ Server (kept in the system keyring) or in "
                                  "DESK_API_KEY.")
            if status == 404:
                return ModelError(f"{where} has no model \"{self.model_name}\" or no chat API "
                                  f"at {self.url} (404: {said}). Check the model's name and "
                                  "that the address ends in the API's path (usually /v1).")
            if status == 429:
                wait = exc.response.headers.get("retry-after")
                return ModelError(f"{where} is busy (429: too many requests)"
                                  + (f"; try again in {wait} s." if wait else "; try again "
                                     "shortly."))
            if status == 400 and _says_too_long(said):
                return ModelError(f"The question and its sources are too long for the model's "
                                  f"context on {self.host} ({said}). Lower the evidence budget "
                                  "(Optimization) or use a model with a longer context.")
            if status >= 500:
                return ModelError(f"{where} failed ({status}: {said}). Try again; if it "
                                  "persists, the server's log says why.")
            return ModelError(f"{where} rejected the request ({status}: {said}).")
        if isinstance(exc, openai.OpenAIError):
            return ModelError(f"{where} failed: {exc}")
        return ModelError(f"{where} failed: {type(exc).__name__}: {exc}")


def _delta_text(chunk: Any) -> str:
    """The text a streamed chunk adds; chunks without choices (usage) add none."""
    choices = getattr(chunk, "choices", None) or []
    if not choices:
        return ""
    delta = getattr(choices[0], "delta", None)
    text = getattr(delta, "content", None) if delta is not None else None
    return text if isinstance(text, str) else ""


def _reported_context(entry: Any) -> int | None:
    """The context a /v1/models entry reports: vLLM's max_model_len, llama-server's meta."""
    extra = getattr(entry, "model_extra", None) or {}
    for value in (extra.get("max_model_len"), (extra.get("meta") or {}).get("n_ctx")):
        if isinstance(value, int) and value > 0:
            return value
    return None


def _root(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path[:-3] if parts.path.endswith("/v1") else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


def _root_cause(exc: BaseException) -> BaseException | None:
    seen: BaseException | None = exc.__cause__ or exc.__context__
    last = None
    while seen is not None and seen is not last:
        last = seen
        if isinstance(seen, socket.gaierror | ConnectionRefusedError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return last


def _server_message(exc: Any) -> str:
    """What the server said, briefly: the error's message from its JSON, else its text."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else error
        if message:
            return " ".join(str(message).split())[:300]
        detail = body.get("detail")
        if detail:
            return " ".join(str(detail).split())[:300]
    try:
        text = exc.response.text
    except Exception:
        text = ""
    return " ".join(str(text or exc.message).split())[:300]


def _says_too_long(message: str) -> bool:
    lowered = message.lower()
    return any(words in lowered for words in (
        "context length", "context window", "maximum context", "too long", "exceeds the",
        "exceed context", "n_ctx", "context size"))


def open_server(settings: ServerSettings, api_key: str | None) -> ServerModel:
    """A server model, connected: the server answered and has the model."""
    model = ServerModel(settings, api_key)
    model.connect()
    return model
