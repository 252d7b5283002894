"""What Desk needs of an answering model, whoever runs it: llama.cpp in this process today, a
server speaking the OpenAI API next. The service and the window depend on this, not on llama.cpp."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from desk.config.settings import Settings, server_host
from desk.core.progress import CancelToken, Progress


@dataclass
class Generation:
    """Timings of one generation, filled in as it streams."""

    prompt_tokens: int = 0
    generated_tokens: int = 0
    ttft_ms: float = 0.0
    gen_tokens_per_s: float = 0.0
    cancelled: bool = False
    text: str = ""
    started: float = field(default_factory=time.perf_counter)


@runtime_checkable
class AnswerModel(Protocol):
    """A chat model that streams. `device` is what the status bar shows ("CPU", "GPU", a host)."""

    device: str

    @property
    def n_ctx(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def cache_prefix(self, fixed: list[dict[str, str]]) -> int:
        """Make the fixed start of every prompt cheap to reuse; return its length in tokens.
        Calling it again with the same messages must cost nothing."""
        ...

    def clear_cache(self) -> None:
        """Forget reused state, so the next prompt is measured from scratch."""
        ...

    def stream_chat(self, messages: list[dict[str, str]], max_tokens: int,
                    cancel: CancelToken | None = None,
                    stats: Generation | None = None,
                    schema: dict[str, Any] | None = None) -> Iterator[str]:
        """Yield the answer piece by piece (deterministic), filling `stats`; stop on cancel.
        With a JSON `schema`, the output is constrained to JSON matching it (llama.cpp: a
        grammar; an OpenAI server: response_format), so callers never parse free text."""
        ...


def answer_source(settings: Settings) -> str:
    """What answers under these settings, as one key: the local model's name, or the server
    and the model it serves. A loaded model is reused while this stays the same."""
    if settings.answers_from == "server":
        return f"{settings.server.model} at {settings.server.url}"
    return settings.llm.model


def describe_source(settings: Settings, model: AnswerModel | None = None) -> dict[str, Any]:
    """Where answers come from, for --json output ("backend") and the logs: never the key."""
    if settings.answers_from == "server":
        return {"answers_from": "server", "url": settings.server.url,
                "host": server_host(settings.server.url), "model": settings.server.model}
    described: dict[str, Any] = {"answers_from": "local", "model": settings.llm.model}
    if model is not None:
        described["device"] = model.device
    return described


def prepare_model(settings: Settings, cancel: CancelToken | None = None
                  ) -> Generator[Progress, None, AnswerModel]:
    """The model that answers under these settings, ready: llama.cpp on this computer (its
    file materialised and loaded once), or a server, connected and checked to have the model."""
    if settings.answers_from == "server":
        from desk.config.secrets import api_key
        from desk.llm.server import open_server

        yield Progress("model", 0, 1, f"Connecting to {server_host(settings.server.url)}…")
        return open_server(settings.server, api_key(settings.server.url))
    from desk.llm.runtime import prepare_runtime

    return (yield from prepare_runtime(settings.llm.model, settings.llm, cancel))
