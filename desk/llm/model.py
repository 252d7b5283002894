"""What Desk needs of an answering model, whoever runs it: llama.cpp in this process today, a
server speaking the OpenAI API next. The service and the window depend on this, not on llama.cpp."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from desk.core.progress import CancelToken


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
