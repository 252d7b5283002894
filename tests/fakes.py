"""A deterministic answering model for tests about the flow and the window, not the model.

By default it quotes the first words of source [1] of the prompt and cites it, which the
verifier must accept; `reply` replaces that with a fixed text or a function of the messages.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from desk.core.progress import CancelToken, Progress
from desk.llm.model import Generation

SOURCE = re.compile(r"^\[(\d+)\][^\n]*:\n(.+)$", re.MULTILINE)


def quote_first_source(messages: list[dict[str, str]], words: int = 8) -> str:
    """`"<first words of source 1>" [1].` — an answer the verifier can check."""
    sources = {int(n): text for n, text in SOURCE.findall(messages[-1]["content"])}
    if 1 not in sources:
        return "NOT FOUND"
    quote = " ".join(sources[1].split()[:words]).strip(" ,;:")
    return f'The sources say "{quote}" [1].'


EXCERPT = re.compile(r"^\[(\d+)\] \(p\. \d+\) (.+)$", re.MULTILINE)


def pick_first_excerpt(messages: list[dict[str, str]], schema: dict) -> str:
    """A review cell's JSON: sentence 1 of the excerpts answers, the value being its first
    three words (which the clause check accepts); none when there are no excerpts."""
    excerpts = EXCERPT.findall(messages[-1]["content"])
    properties = schema.get("properties", {})
    if not excerpts:
        reply: dict = {"sentences": [], "present": False, "found": False, "value": "",
                       "parties": []}
    else:
        words = " ".join(excerpts[0][1].split()[:3])
        reply = {"sentences": [1], "present": True, "found": True, "value": words,
                 "parties": [words]}
    return json.dumps({k: v for k, v in reply.items() if k in properties})


class FakeModel:
    """Implements desk.llm.model.AnswerModel. Records what it was asked."""

    device = "CPU"

    def __init__(self, reply: str | Callable[[list[dict[str, str]]], str] = quote_first_source,
                 piece_delay_s: float = 0.0, n_ctx: int = 4096,
                 hold_after_first_s: float = 0.0,
                 json_reply: Callable[[list[dict[str, str]], dict], str] = pick_first_excerpt
                 ) -> None:
        self.reply = reply
        self.json_reply = json_reply  # what it answers when asked for JSON (a schema)
        self.schemas: list[dict] = []
        self.piece_delay_s = piece_delay_s
        # After the first piece, wait (up to this long) for a cancel: a stop test then never
        # races the generation.
        self.hold_after_first_s = hold_after_first_s
        self._n_ctx = n_ctx
        self.prompts: list[list[dict[str, str]]] = []
        self.prefix_evaluations = 0  # like LlamaRuntime: only when the prefix changed
        self.cache_prefix_calls = 0  # every call, to catch a caller that asks per question
        self._cached: list[dict[str, str]] | None = None
        self.started = threading.Event()  # set when a generation yields its first piece

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def cache_prefix(self, fixed: list[dict[str, str]]) -> int:
        self.cache_prefix_calls += 1
        if self._cached != fixed:
            self._cached = list(fixed)
            self.prefix_evaluations += 1
        return sum(self.count_tokens(m["content"]) for m in fixed)

    def clear_cache(self) -> None:
        self._cached = None

    def stream_chat(self, messages: list[dict[str, str]], max_tokens: int,
                    cancel: CancelToken | None = None,
                    stats: Generation | None = None, schema: dict | None = None
                    ) -> Iterator[str]:
        stats = stats or Generation()
        self.prompts.append(messages)
        stats.prompt_tokens = sum(self.count_tokens(m["content"]) for m in messages)
        if schema is not None:
            self.schemas.append(schema)
            text = self.json_reply(messages, schema)
        else:
            text = self.reply(messages) if callable(self.reply) else self.reply
        pieces = re.findall(r"\S+\s*", text)[:max_tokens]
        stats.started = time.perf_counter()
        for index, piece in enumerate(pieces):
            if cancel and cancel.cancelled:
                stats.cancelled = True
                return
            if index == 0:
                stats.ttft_ms = (time.perf_counter() - stats.started) * 1000
                self.started.set()
            stats.generated_tokens += 1
            stats.text += piece
            yield piece
            if index == 0 and self.hold_after_first_s:
                deadline = time.monotonic() + self.hold_after_first_s
                while not (cancel and cancel.cancelled) and time.monotonic() < deadline:
                    time.sleep(0.01)
            if self.piece_delay_s:
                time.sleep(self.piece_delay_s)
        stats.gen_tokens_per_s = float(len(pieces))


def fake_loader(model: FakeModel) -> Callable[..., Generator[Progress, None, FakeModel]]:
    """A model loader for the window (same shape as desk.llm.model.prepare_model)."""

    def load(settings: object, cancel: CancelToken | None = None
             ) -> Generator[Progress, None, FakeModel]:
        yield Progress("model", 0, 1, "Loading the model…")
        return model

    return load


class CountingLoader:
    """fake_loader, counting how often the window asks for the model."""

    def __init__(self, model: FakeModel) -> None:
        self.model, self.loads = model, 0
        self._load = fake_loader(model)

    def __call__(self, settings: object, cancel: CancelToken | None = None
                 ) -> Generator[Progress, None, FakeModel]:
        self.loads += 1
        return (yield from self._load(settings, cancel))


class MemoryVectorStore:
    """An exact, in-memory VectorIndex (desk.index.vectors): nothing on disk, for tests that
    need a matter without hnswlib's approximation or files."""

    def __init__(self, path: object, dimension: int) -> None:
        import numpy as np

        self._np = np
        self.dimension = dimension
        self._rows: dict[int, object] = {}
        self.saves = 0

    @property
    def count(self) -> int:
        return len(self._rows)

    def ids(self) -> set[int]:
        return set(self._rows)

    def __contains__(self, label: int) -> bool:
        return label in self._rows

    def add(self, ids: list[int], vectors) -> None:
        for label, vector in zip(ids, vectors):
            self._rows[label] = vector / max(float(self._np.linalg.norm(vector)), 1e-12)

    def remove(self, ids: list[int]) -> None:
        for label in ids:
            self._rows.pop(label, None)

    def needs_compaction(self) -> bool:
        return False

    def compact(self) -> None:
        pass

    def vectors(self, ids: list[int]):
        if not ids:
            return self._np.zeros((0, self.dimension), dtype=self._np.float32)
        return self._np.stack([self._rows[i] for i in ids]).astype(self._np.float32)

    def search(self, vector, k: int) -> list[tuple[int, float]]:
        if not self._rows:
            return []
        labels = list(self._rows)
        sims = self.vectors(labels) @ (vector / max(float(self._np.linalg.norm(vector)), 1e-12))
        order = self._np.argsort(-sims)[:k]
        return [(labels[i], float(sims[i])) for i in order]

    def save(self) -> None:
        self.saves += 1

    def reset(self) -> None:
        self._rows.clear()


class MemoryKeyring(KeyringBackend):
    """A keyring in a dict (every test gets one, tests/conftest.py): what a test stores
    disappears with it, and the machine's real keyring is never asked."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")
