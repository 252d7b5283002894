"""A real OpenAI-compatible server for tests and benchmarks: llama-cpp-python's own
(`python -m llama_cpp.server`) serving a GGUF on 127.0.0.1, started in a subprocess and
stopped when done."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

START_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def llama_server(model: Path, alias: str, n_ctx: int = 4096, threads: int = 0,
                 log: Path | None = None) -> Iterator[str]:
    """Serve `model` as `alias` on a free loopback port; yields the base URL (…/v1)."""
    port = free_port()
    threads = threads or os.cpu_count() or 1
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
               "--model_alias", alias, "--host", "127.0.0.1", "--port", str(port),
               "--n_ctx", str(n_ctx), "--n_threads", str(threads),
               "--n_threads_batch", str(threads), "--verbose", "False"]
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {process.returncode}"
                                   + (f" (log: {log})" if log else ""))
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                    if alias in json.loads(response.read())["data"][0]["id"]:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not start in {START_TIMEOUT_S} s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log:
            out.close()  # type: ignore[union-attr]
