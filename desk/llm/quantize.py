"""Make a precision variant of a model in-process with llama.cpp, atomically, with progress.

llama_model_quantize cannot be interrupted, so it runs in a child process: cancel kills the
child and removes the partial file; progress is the output's size against its expected size.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Generator
from pathlib import Path

from desk.core.errors import Cancelled, ModelError
from desk.core.files import replace_atomically
from desk.core.progress import CancelToken, Progress
from desk.llm.gguf import PRECISION_TO_FTYPE, read_gguf
from desk.llm.store import ModelEntry, ModelStore

# Highest precision first; approximate bits per weight, for progress and size estimates.
PRECISIONS = {"F32": 32.0, "F16": 16.0, "BF16": 16.0, "Q8_0": 8.5, "Q6_K": 6.6, "Q5_K_M": 5.7,
              "Q5_K_S": 5.5, "Q5_1": 6.0, "Q5_0": 5.5, "Q4_K_M": 4.9, "Q4_1": 5.0,
              "Q4_K_S": 4.6, "Q4_0": 4.5, "Q3_K_L": 4.3, "Q3_K_M": 3.9, "Q3_K_S": 3.5,
              "Q2_K": 3.0}
FULL_PRECISION = {"F32", "F16", "BF16"}


def rank(precision: str) -> float:
    return PRECISIONS.get(precision, 0.0)


def highest_precision(entries: list[ModelEntry]) -> ModelEntry:
    present = [e for e in entries if e.available or e.origin == "bundled"]  # bundled: on demand
    if not present:
        raise ModelError("No variant of this model family is present in the store.")
    # Prefer an original file over a re-quantized one at the same precision.
    return max(present, key=lambda e: (rank(e.precision), not e.requantized))


def variant_name(family: str, precision: str) -> str:
    return f"{family}-{precision.lower()}"


def quantize(store: ModelStore, family: str, precision: str, source: str | None = None,
             cancel: CancelToken | None = None) -> Generator[Progress, None, ModelEntry]:
    precision = precision.upper()
    if precision not in PRECISION_TO_FTYPE or precision not in PRECISIONS:
        raise ModelError(f"Unknown precision {precision!r}; choose one of "
                         f"{', '.join(p for p in PRECISIONS if p in PRECISION_TO_FTYPE)}.")
    src = store.get(source) if source else highest_precision(store.family(family))
    yield from store.ensure(src.name, cancel)
    name = variant_name(src.family, precision)
    if any(e.name == name and e.available for e in store.entries()):
        raise ModelError(f"{name} is already in the store.")
    target = store.root / f"{name}.gguf"
    partial = target.with_suffix(".partial")
    info = read_gguf(Path(src.path))
    expected = info.parameters * PRECISIONS[precision] / 8
    progress = Progress("quantize", 0, 100, f"{src.precision} → {precision}")
    log = tempfile.TemporaryFile(mode="w+")  # llama.cpp logs every tensor: never a pipe
    child = subprocess.Popen([sys.executable, "-m", "desk.llm.quantize", src.path, str(partial),
                              str(PRECISION_TO_FTYPE[precision])],
                             stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        while child.poll() is None:
            if cancel and cancel.cancelled:
                child.kill()
                child.wait()
                raise Cancelled("Quantization cancelled.")
            size = partial.stat().st_size if partial.exists() else 0
            progress.done = min(99, int(100 * size / max(expected, 1)))
            yield progress
            time.sleep(0.2)
        if child.returncode != 0:
            log.seek(0)
            error = log.read().strip().splitlines()
            raise ModelError(f"llama.cpp could not quantize {src.name} to {precision}: "
                             f"{error[-1] if error else 'exit code ' + str(child.returncode)}")
        read_gguf(partial)  # a complete, readable file before it enters the store
        replace_atomically(partial, target)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        partial.unlink(missing_ok=True)
        log.close()
    progress.done = 100
    yield progress
    requantized = src.precision not in FULL_PRECISION or src.requantized
    return store.add(target, name=name, family=src.family, origin="quantized", parent=src.name,
                     requantized=requantized)


def _run(source: str, target: str, ftype: int) -> int:
    import os

    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = os.cpu_count() or 1
    params.allow_requantize = True  # from a quantized source: allowed, and labelled so
    return int(llama_cpp.llama_model_quantize(source.encode(), target.encode(), params))


if __name__ == "__main__":
    sys.exit(_run(sys.argv[1], sys.argv[2], int(sys.argv[3])))
