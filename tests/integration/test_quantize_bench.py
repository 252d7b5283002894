"""A precision ladder built from SmolLM2 in-process, and measurements that are real and consistent."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk.config.settings import LlmSettings
from desk.core.errors import Cancelled, ModelError
from desk.core.progress import CancelToken, drive
from desk.llm.bench import bench_models, load_results, sample_text
from desk.llm.gguf import read_gguf
from desk.llm.quantize import quantize
from desk.llm.store import ModelStore
from tests.pdfs import CONTRACT_PAGES

FAMILY = "smollm2-135m-instruct"


def run(generator):
    return drive(generator, lambda progress: None)


def test_ladder_sizes_shrink_and_quality_is_ordered():
    store = ModelStore()
    f16 = run(quantize(store, FAMILY, "F16"))
    assert f16.requantized and f16.parent == "smollm2-135m-instruct-q4_1"
    ladder = [f16] + [run(quantize(store, FAMILY, p)) for p in ("Q8_0", "Q4_K_M", "Q2_K")]
    assert [e.parent for e in ladder[1:]] == [f16.name] * 3  # from the highest precision present
    assert [read_gguf(Path(e.path)).precision for e in ladder] == ["F16", "Q8_0", "Q4_K_M", "Q2_K"]
    sizes = [Path(e.path).stat().st_size for e in ladder]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == 4

    text = sample_text(CONTRACT_PAGES * 4)
    results = {r["name"]: r for r in run(bench_models(store, [e.name for e in ladder], text,
                                                      LlmSettings(n_ctx=2048)))}
    teacher, q8, q2 = (results[e.name] for e in (ladder[0], ladder[1], ladder[3]))
    assert teacher["kl_vs_reference"] == 0.0 and teacher["top1_agreement"] == 1.0
    assert 0 < q8["kl_vs_reference"] < q2["kl_vs_reference"]
    assert q2["top1_agreement"] < 1.0
    for r in results.values():
        assert r["reference"] == f16.name
        assert r["prompt_tokens_per_s"] > 0 and r["gen_tokens_per_s"] > 0
        assert r["perplexity"] > 1 and r["load_s"] > 0 and r["kv_cache_mb"] > 0
    assert set(load_results(store)) >= set(results)  # kept with the store

    with pytest.raises(ModelError, match="already in the store"):
        run(quantize(store, FAMILY, "Q8_0"))
    with pytest.raises(ModelError, match="Unknown precision"):
        run(quantize(store, FAMILY, "Q9_X"))


def test_cancelled_quantization_leaves_nothing_behind():
    store = ModelStore()
    cancel = CancelToken()
    job = quantize(store, FAMILY, "Q6_K", cancel=cancel)
    next(job)  # materialising / first progress
    cancel.cancel()
    with pytest.raises(Cancelled):
        run(job)
    assert not list(store.root.glob("*.partial"))
    assert "smollm2-135m-instruct-q6_k" not in {e.name for e in store.entries()}
