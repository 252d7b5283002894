"""A small OpenAI-compatible server that fails on purpose, for the answer-server tests.

It listens on 127.0.0.1 only (a free port), runs in a daemon thread, and is bounded: bodies over
1 MB are refused, each connection has a socket timeout, it answers at most `max_requests`
requests, and a "hang" never outlives the server. Every request is recorded, so tests wait on
what the server saw instead of sleeping.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 1 << 20
MODEL = "test-model"
PIECES = ["The ", "notice ", "is ", "30 days."]
MODES = ("ok", "401", "404", "429", "500", "503", "400-context", "not-stream", "not-json",
         "html", "hang", "slow-stream", "stall-mid-stream")
FAIL_EVERYTHING = ("401",)  # a wrong key is refused on every path, the model list too
HANG_LIMIT_S = 30.0  # a silent handler gives up by then even if the test forgets to stop it
SLOW_STEP_S = 0.2
SLOW_PIECES = 200

_ERRORS: dict[str, tuple[int, dict[str, Any], dict[str, str]]] = {
    # the message repeats the key received, as OpenAI's API once did ({key} is filled in)
    "401": (401, {"error": {"message": "Incorrect API key provided: {key}.",
                            "type": "invalid_request_error", "code": "invalid_api_key"}}, {}),
    "404": (404, {"error": {"message": f"The model `{MODEL}` does not exist.",
                            "type": "invalid_request_error", "code": "model_not_found"}}, {}),
    "429": (429, {"error": {"message": "Rate limit reached.", "type": "rate_limit_error"}},
            {"Retry-After": "7"}),
    "500": (500, {"error": {"message": "internal failure", "type": "server_error"}}, {}),
    "503": (503, {"error": {"message": "model is loading", "type": "server_error"}}, {}),
    "400-context": (400, {"error": {
        "message": "This model's maximum context length is 4096 tokens. However, you "
                   "requested 9000 tokens", "type": "invalid_request_error"}}, {}),
}


def closed_port() -> int:
    """A 127.0.0.1 port with nothing listening: bound for a moment to get a free one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    """One streamed chunk in exactly OpenAI's shape."""
    return {"id": "chatcmpl-fault", "object": "chat.completion.chunk", "created": 1700000000,
            "model": MODEL, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def completion(text: str) -> dict[str, Any]:
    """A whole (not streamed) chat completion, for the "not-stream" mode."""
    return {"id": "chatcmpl-fault", "object": "chat.completion", "created": 1700000000,
            "model": MODEL, "choices": [{"index": 0, "finish_reason": "stop", "message": {
                "role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}}


class FaultServer:
    """`with FaultServer("429") as server: server.url` is "http://127.0.0.1:PORT/v1"."""

    def __init__(self, mode: str, max_requests: int = 20) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown fault mode {mode!r}")
        self.mode = mode
        self.max_requests = max_requests
        self.requests: list[dict[str, Any]] = []
        self.disconnected = threading.Event()  # a client closed the connection mid-stream
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not running"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def chat_requests(self) -> list[dict[str, Any]]:
        """The chat-completion requests, in order (token counting may probe other paths)."""
        with self._lock:
            return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def __enter__(self) -> FaultServer:
        handler = type("Handler", (_Handler,), {"fault": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name=f"fault-server-{self.mode}")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()  # silent handlers return at their next step
        assert self._httpd is not None and self._thread is not None
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _record(self, request: dict[str, Any]) -> int:
        with self._lock:
            self.requests.append(request)
            return len(self.requests)


class _Handler(BaseHTTPRequestHandler):
    """Answers as the server's mode says; `fault` is set on the subclass FaultServer makes."""

    fault: FaultServer
    timeout = 10  # seconds a connection may sit idle before the handler gives up on it
    protocol_version = "HTTP/1.0"  # one request a connection: the end of a stream is the close

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # quiet: pytest shows the failures that matter

    # -- requests -------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self._take(None) is None:
            return
        if self.fault.mode in FAIL_EVERYTHING:
            self._chat(self.fault.mode)
        elif self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
        else:
            self._json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._json(413, {"error": {"message": "a bad Content-Length, or a body over 1 MB"}})
            return
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if self._take(body, raw) is None:
            return
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        self._chat(self.fault.mode)

    def _take(self, body: Any, raw: bytes = b"") -> int | None:
        """Record the request; None (after a 503) when the server has answered its limit."""
        count = self.fault._record({"method": self.command, "path": self.path,
                                    "headers": dict(self.headers.items()), "body": body,
                                    "raw": raw})
        if count > self.fault.max_requests:
            self._json(503, {"error": {"message": "the fault server's request limit is reached"}})
            return None
        return count

    def _chat(self, mode: str) -> None:
        if mode in _ERRORS:
            status, body, headers = _ERRORS[mode]
            key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            self._json(status, json.loads(json.dumps(body).replace("{key}", key)), headers)
        elif mode == "ok":
            self._stream(PIECES)
        elif mode == "not-stream":
            self._json(200, completion("".join(PIECES)))
        elif mode == "not-json":
            self._start(200, "text/event-stream")
            self._write(b"data: this is not json\n\n")
        elif mode == "html":
            self._send(200, "text/html; charset=utf-8",
                       b"<!doctype html><html><body><h1>Welcome</h1></body></html>")
        elif mode == "hang":
            self._stay_silent()
        elif mode == "slow-stream":
            self._stream([f"p{n} " for n in range(SLOW_PIECES)], step=SLOW_STEP_S)
        elif mode == "stall-mid-stream":
            if self._stream(PIECES[:2], done=False):
                self._stay_silent()

    # -- answers --------------------------------------------------------------------------
    def _stream(self, pieces: list[str], step: float = 0.0, done: bool = True) -> bool:
        """SSE chunks as OpenAI sends them: the role, one chunk a piece, the finish, [DONE].
        False when the client went away (noted on the server)."""
        self._start(200, "text/event-stream")
        if not self._event(chunk({"role": "assistant", "content": ""})):
            return False
        for n, piece in enumerate(pieces):
            if n and step and self.fault.stopping.wait(step):
                return False
            if not self._event(chunk({"content": piece})):
                return False
        if done:
            return self._event(chunk({}, "stop")) and self._write(b"data: [DONE]\n\n")
        return True

    def _event(self, data: dict[str, Any]) -> bool:
        return self._write(f"data: {json.dumps(data)}\n\n".encode())

    def _stay_silent(self) -> None:
        """Say nothing until the server stops (or HANG_LIMIT_S), noting a client that leaves."""
        deadline = time.monotonic() + HANG_LIMIT_S
        while time.monotonic() < deadline and not self.fault.stopping.wait(0.05):
            if self._client_left():
                self.fault.disconnected.set()
                return

    def _client_left(self) -> bool:
        """True once the client closed its end (the socket reads as EOF or fails)."""
        try:
            self.connection.setblocking(False)
            try:
                return self.connection.recv(1, socket.MSG_PEEK) == b""
            finally:
                self.connection.setblocking(True)
                self.connection.settimeout(self.timeout)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, "application/json", json.dumps(body).encode(), headers)

    def _send(self, status: int, content_type: str, data: bytes,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self._write(data)

    def _start(self, status: int, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.flush()

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
            return True
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.fault.disconnected.set()
            self.close_connection = True
            return False
