"""llama.cpp runtime: a GGUF model loaded once per settings, streaming, cancellable generation."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

from desk.config.settings import LlmSettings
from desk.core.errors import ModelError
from desk.core.progress import CancelToken, Progress
from desk.llm.gguf import GgufInfo, read_gguf
from desk.llm.gpu import plan_offload
from desk.llm.model import Generation

KV_TYPES = {"f16": 1, "q8_0": 8, "q4_0": 2}  # ggml type ids


class LlamaRuntime:
    """One loaded model (an AnswerModel). Generation is serialised: llama.cpp contexts are not
    thread-safe."""

    def __init__(self, path: Path, settings: LlmSettings) -> None:
        self.info: GgufInfo = read_gguf(path)  # clear errors for missing/truncated/non-GGUF
        self.path = path
        self.settings = settings
        import llama_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        threads = settings.n_threads or os.cpu_count() or 1
        # measured before loading: "auto" fits the layers into the GPU's free memory now
        self.offload = plan_offload(path, settings.n_gpu_layers, settings.n_ctx,
                                    settings.kv_cache_type)
        kv_type = KV_TYPES.get(settings.kv_cache_type)
        if kv_type is None:
            raise ModelError(f"Unknown KV cache precision {settings.kv_cache_type!r}; use "
                             f"{', '.join(KV_TYPES)}.")
        started = time.perf_counter()
        try:
            self.llm = llama_cpp.Llama(
                model_path=str(path), n_ctx=settings.n_ctx, n_threads=threads,
                n_threads_batch=threads, n_batch=settings.n_batch, n_gpu_layers=self.offload.layers,
                type_k=kv_type, type_v=kv_type,
                # llama.cpp needs flash attention for a quantized V cache
                flash_attn=settings.kv_cache_type != "f16", verbose=False)
        except Exception as exc:  # llama.cpp reports load failures as ValueError/RuntimeError
            raise ModelError(f"llama.cpp could not load {path.name}: {exc}") from exc
        self.load_seconds = time.perf_counter() - started
        self.device = self.offload.label  # "CPU", "GPU (all 28 layers, …)"
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelError(f"{path.name} has no chat template; Desk needs an instruct model.")
        eos = self.llm.detokenize([self.llm.token_eos()], special=True).decode("utf-8", "ignore")
        bos = self.llm.detokenize([self.llm.token_bos()], special=True).decode("utf-8", "ignore")
        self._formatter = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos,
                                              stop_token_ids=[self.llm.token_eos()])
        self._lock = threading.Lock()
        self._grammars: dict[str, Any] = {}
        self.prefix_evaluations = 0  # how often cache_prefix had to evaluate (once per load)

    @property
    def n_ctx(self) -> int:
        return int(self.llm.n_ctx())

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def format_chat(self, messages: list[dict[str, str]]) -> tuple[str, list[str]]:
        response = self._formatter(messages=messages)  # type: ignore[arg-type]
        stops = response.stop if isinstance(response.stop, list) else [response.stop]
        return response.prompt, [s for s in stops if s]

    def cache_prefix(self, fixed: list[dict[str, str]]) -> int:
        """Evaluate the fixed start of every prompt (rules, worked examples) now, so the first
        question only pays for its own evidence. llama.cpp keeps the state, and each later
        prompt that starts with the same tokens reuses it. Returns the tokens cached.

        Idempotent: when the model's state already starts with these tokens (cached before, or
        left by the last answer, whose prompt began with them) nothing is evaluated."""
        prompts = [self.format_chat([*fixed, {"role": "user", "content": text}])[0]
                   for text in "AB"]
        a, b = (self.llm.tokenize(p.encode("utf-8"), add_bos=False, special=True)
                for p in prompts)
        common = 0
        while common < min(len(a), len(b)) and a[common] == b[common]:
            common += 1
        prefix = a[:common]
        with self._lock:
            if self.evaluated_prefix(len(prefix)) == prefix:
                return common
            self.clear_cache()
            self.llm.eval(prefix)
            self.prefix_evaluations += 1
        return common

    def _grammar(self, schema: dict[str, Any]) -> Any:
        """The grammar for a JSON schema, compiled once per schema."""
        import llama_cpp

        key = json.dumps(schema)  # property order matters: the model writes them in this order
        if key not in self._grammars:
            try:
                self._grammars[key] = llama_cpp.LlamaGrammar.from_json_schema(key, verbose=False)
            except Exception as exc:  # llama.cpp rejects schemas it cannot express
                raise ModelError(f"llama.cpp cannot constrain output to this schema: {exc}"
                                 ) from exc
        return self._grammars[key]

    def evaluated_prefix(self, n: int) -> list[int]:
        """The first n tokens whose state llama.cpp holds now."""
        held = self.llm.n_tokens
        return [int(t) for t in self.llm.input_ids[:min(n, held)]]

    def clear_cache(self) -> None:
        """Forget evaluated tokens (for measuring a prompt without any reuse); the next
        evaluation overwrites the KV cache from position 0."""
        self.llm.reset()

    def stream_chat(self, messages: list[dict[str, str]], max_tokens: int,
                    cancel: CancelToken | None = None,
                    stats: Generation | None = None,
                    schema: dict[str, Any] | None = None) -> Iterator[str]:
        """Yield answer text piece by piece (temperature 0); stop when cancelled. A JSON
        schema constrains the output through a llama.cpp grammar."""
        prompt, stops = self.format_chat(messages)
        grammar = self._grammar(schema) if schema is not None else None
        stats = stats or Generation()
        tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        stats.prompt_tokens = len(tokens)
        budget = min(max_tokens, self.n_ctx - len(tokens) - 1)
        if budget <= 0:
            raise ModelError(f"The prompt ({len(tokens)} tokens) does not fit the model's "
                             f"context of {self.n_ctx} tokens.")
        with self._lock:
            stats.started = time.perf_counter()
            first_at = None
            stream = self.llm.create_completion(prompt=tokens, max_tokens=budget,
                                                temperature=0.0, top_k=1, stream=True,
                                                stop=stops, grammar=grammar)
            try:
                for chunk in stream:
                    if cancel and cancel.cancelled:
                        stats.cancelled = True
                        break
                    piece = chunk["choices"][0]["text"]  # type: ignore[index]
                    if first_at is None:
                        first_at = time.perf_counter()
                        stats.ttft_ms = (first_at - stats.started) * 1000
                    stats.generated_tokens += 1
                    stats.text += piece
                    yield piece
            finally:
                close = getattr(stream, "close", None)
                if close:
                    close()
            if first_at is not None and stats.generated_tokens > 1:
                stats.gen_tokens_per_s = (stats.generated_tokens - 1) / max(
                    time.perf_counter() - first_at, 1e-9)


_loaded: dict[tuple, LlamaRuntime] = {}
_loaded_lock = threading.Lock()


def prepare_runtime(name: str, settings: LlmSettings, cancel: CancelToken | None = None
                    ) -> Generator[Progress, None, LlamaRuntime]:
    """The named model ready to answer: its file materialised in the store (with progress) and
    loaded (once; later calls with the same settings return the loaded model)."""
    from desk.llm.store import ModelStore

    store = ModelStore()
    yield from store.ensure(name, cancel)
    yield Progress("model", 0, 1, "Loading the model…")
    return load_runtime(Path(store.get(name).path), settings)


def load_runtime(path: Path, settings: LlmSettings) -> LlamaRuntime:
    """Load a model once and reuse it; a different model or settings replace it."""
    key = (str(path), settings.n_ctx, settings.n_threads, settings.n_batch, settings.n_gpu_layers,
           settings.kv_cache_type)
    with _loaded_lock:
        if key not in _loaded:
            _loaded.clear()  # keep one model in memory at a time
            _loaded[key] = LlamaRuntime(path, settings)
        return _loaded[key]
