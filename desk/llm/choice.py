"""Choosing a precision: will a variant fit in memory, and which one to recommend."""

from __future__ import annotations

from typing import Any

import psutil

OVERHEAD_BYTES = 300 * 2**20  # compute buffers and the runtime around the weights
DEFAULT_MAX_KL = 0.05  # mean KL (nats) vs the teacher that a lawyer accepts by default


def available_memory() -> int:
    return int(psutil.virtual_memory().available)


def fit(size_bytes: int, kv_bytes: int, available: int) -> str:
    """'fits', 'tight' or "won't fit", leaving room for the rest of the machine."""
    need = size_bytes + kv_bytes + OVERHEAD_BYTES
    if need <= 0.6 * available:
        return "fits"
    if need <= 0.9 * available:
        return "tight"
    return "won't fit"


def recommend(results: list[dict[str, Any]], available: int,
              max_kl: float = DEFAULT_MAX_KL) -> str | None:
    """The fastest variant (generation tokens/s) that fits and loses at most max_kl."""
    candidates = [r for r in results
                  if r.get("kl_vs_reference") is not None and r["kl_vs_reference"] <= max_kl
                  and fit(r["size_bytes"], int(r.get("kv_cache_mb", 0) * 2**20),
                          available) != "won't fit"]
    if not candidates:
        return None
    return max(candidates, key=lambda r: (r["gen_tokens_per_s"], -r["kl_vs_reference"]))["name"]
