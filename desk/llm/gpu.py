"""GPU offload for n_gpu_layers = "auto": ask llama.cpp's backends how much device memory is
free right now and offload as many layers as fit, instead of guessing a number per machine.

Layer placement follows the llama.cpp vendored in llama-cpp-python 0.3.36
(src/llama-model.cpp, llama_model_base::load_tensors): of the n_layer + 1 offloadable layers
(the repeating blocks and the output layer), n_gpu_layers = k puts the LAST k on the GPU,
`i_gpu_start = std::max(n_layer_all + 1 - n_gpu_layers, 0)`, so the output layer goes first,
then blocks n_layer-1, n_layer-2, ... The input layer (token_embd) always stays on the CPU."""

from __future__ import annotations

import ctypes
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desk.core.errors import DeskError
from desk.llm.gguf import read_gguf

MiB = 1 << 20
# Free memory left unplanned for what is allocated after the weights and the KV cache: the
# compute buffer (a few hundred MiB at n_ubatch 512, mostly the logits, n_vocab * n_ubatch *
# 4 bytes: 300 MiB for a 152k vocabulary), cuBLAS/Metal workspaces, and other programs' growth
# (the desktop, a browser) while the model is loaded. llama.cpp's own fitter (common/fit.cpp)
# leaves 1 GiB free per device on top of the compute buffers it measures (common/common.h,
# fit_params_target), so 1 GiB including them is not generous; 10% scales it for large cards.
RESERVE_MIN_BYTES = 1024 * MiB
RESERVE_FRACTION = 0.10

# enum ggml_backend_dev_type, vendor/llama.cpp/ggml/include/ggml-backend.h (0.3.36):
# CPU, GPU (dedicated memory), IGPU (integrated, host memory), ACCEL (BLAS, AMX), META.
DEVICE_TYPE_GPU = 1
DEVICE_TYPE_IGPU = 2

_BLOCK = re.compile(r"blk\.(\d+)\.")


@dataclass(frozen=True)
class GpuDevice:
    name: str  # llama.cpp's device name, e.g. "CUDA0", "Metal"
    description: str  # the hardware, e.g. "NVIDIA GeForce RTX 4070"
    free_bytes: int
    total_bytes: int


@functools.cache
def _ggml_functions() -> dict[str, Any]:
    """The backend device functions, typed. The registry lives in libggml, the device calls
    in libggml-base; both are looked up in both since Windows resolves symbols per DLL."""
    import llama_cpp
    from llama_cpp._ctypes_extensions import load_shared_library

    base_path = llama_cpp.llama_cpp._base_path  # honours LLAMA_CPP_LIB_PATH like llama_cpp
    libraries = [load_shared_library(name, base_path) for name in ("ggml", "ggml-base")]
    signatures: dict[str, tuple[list[Any], Any]] = {
        "ggml_backend_dev_count": ([], ctypes.c_size_t),
        "ggml_backend_dev_get": ([ctypes.c_size_t], ctypes.c_void_p),
        "ggml_backend_dev_type": ([ctypes.c_void_p], ctypes.c_int),
        "ggml_backend_dev_name": ([ctypes.c_void_p], ctypes.c_char_p),
        "ggml_backend_dev_description": ([ctypes.c_void_p], ctypes.c_char_p),
        "ggml_backend_dev_memory": ([ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t),
                                     ctypes.POINTER(ctypes.c_size_t)], None),
    }
    functions: dict[str, Any] = {}
    for symbol, (argtypes, restype) in signatures.items():
        function = _find_symbol(libraries, symbol)
        function.argtypes, function.restype = argtypes, restype
        functions[symbol] = function
    return functions


def _find_symbol(libraries: list[ctypes.CDLL], symbol: str) -> Any:
    for library in libraries:
        try:
            return getattr(library, symbol)
        except AttributeError:
            continue
    raise AttributeError(f"{symbol} not found in libggml")


def _text(value: bytes | None) -> str:
    return value.decode("utf-8", errors="replace") if value else ""


def gpu_devices() -> list[GpuDevice]:
    """The devices llama.cpp would offload to, most free memory first: discrete GPUs, or the
    integrated GPUs when there is none (as llama.cpp chooses, src/llama.cpp). Free memory is
    read now, not cached. Any failure means CPU only: returns [], never raises."""
    try:
        import llama_cpp

        llama_cpp.llama_supports_gpu_offload()  # loads the backends if built as modules
        ggml = _ggml_functions()
        discrete: list[GpuDevice] = []
        integrated: list[GpuDevice] = []
        for index in range(ggml["ggml_backend_dev_count"]()):
            device = ggml["ggml_backend_dev_get"](index)
            if not device:
                continue
            kind = ggml["ggml_backend_dev_type"](device)
            name = _text(ggml["ggml_backend_dev_name"](device))
            if kind not in (DEVICE_TYPE_GPU, DEVICE_TYPE_IGPU):
                continue
            if name.startswith("RPC"):  # a remote server's memory, not this machine's
                continue
            free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
            ggml["ggml_backend_dev_memory"](device, ctypes.byref(free), ctypes.byref(total))
            found = GpuDevice(name, _text(ggml["ggml_backend_dev_description"](device)),
                              int(free.value), int(total.value))
            (discrete if kind == DEVICE_TYPE_GPU else integrated).append(found)
        return sorted(discrete or integrated, key=lambda d: d.free_bytes, reverse=True)
    except Exception:  # no library, a missing symbol, a backend failing to initialise
        return []


def supports_gpu_offload() -> bool:
    """Whether this llama.cpp build can offload at all (a CPU-only wheel cannot)."""
    try:
        import llama_cpp

        return bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:
        return False


def offload_reserve(free_bytes: int) -> int:
    """Device memory kept out of the plan; see RESERVE_MIN_BYTES."""
    return max(RESERVE_MIN_BYTES, int(free_bytes * RESERVE_FRACTION))


def layers_that_fit(free_bytes: int, layer_bytes: list[int], output_bytes: int,
                    kv_bytes_per_layer: int, reserve_bytes: int) -> int:
    """The n_gpu_layers value that fits in free_bytes less reserve_bytes: 0 (nothing), or
    1 + the number of repeating layers, len(layer_bytes) + 1 meaning everything. llama.cpp
    offloads the output layer first and then the blocks from the last one backwards, so that
    is the order in which they are summed; each offloaded block brings its KV cache along."""
    budget = free_bytes - reserve_bytes - output_bytes
    if budget < 0:
        return 0
    offloaded = 1
    for size in reversed(layer_bytes):
        budget -= size + kv_bytes_per_layer
        if budget < 0:
            break
        offloaded += 1
    return offloaded


def _split_tensors(path: Path) -> tuple[list[int], dict[str, int]]:
    info = read_gguf(path)
    arch = info.metadata.get("general.architecture", "")
    per_layer = [0] * int(info.metadata.get(f"{arch}.block_count", 0))
    rest: dict[str, int] = {}
    for name, size in info.tensor_bytes.items():
        block = _BLOCK.match(name)
        if block is None:
            rest[name] = size
            continue
        index = int(block.group(1))
        if index >= len(per_layer):
            per_layer.extend([0] * (index + 1 - len(per_layer)))
        per_layer[index] += size
    return per_layer, rest


def model_layer_bytes(path: Path) -> tuple[list[int], int]:
    """Bytes of each repeating layer's tensors (blk.N.*) and of all the others (token_embd,
    output, output_norm), from the GGUF tensor table (the weights are not read)."""
    per_layer, rest = _split_tensors(path)
    return per_layer, sum(rest.values())


def output_layer_bytes(path: Path) -> int:
    """What the output layer puts on the GPU: every non-block tensor except the input
    embedding, which llama.cpp keeps on the CPU; a model without output.weight (tied
    embeddings) uses a second copy of token_embd as its output (TENSOR_DUPLICATED)."""
    _, rest = _split_tensors(path)
    if "output.weight" in rest:
        rest.pop("token_embd.weight", None)
    return sum(rest.values())


def kv_bytes_per_layer(path: Path, n_ctx: int, kv_type: str) -> int:
    """The KV cache of one layer, which sits on the same device as the layer."""
    from desk.llm.bench import kv_cache_bytes  # numpy and settings: imported only when planning

    layers = len(model_layer_bytes(path)[0])
    return kv_cache_bytes(path, n_ctx, kv_type) // layers if layers else 0


@dataclass(frozen=True)
class Offload:
    layers: int  # the n_gpu_layers to pass to llama.cpp: 0 .. total_layers + 1
    total_layers: int  # repeating layers (block_count); the output layer is one more
    device: str

    @property
    def label(self) -> str:
        """For the status bar. n_gpu_layers = k holds the output layer and k - 1 blocks."""
        if self.layers <= 0:
            return "CPU"
        if self.layers > self.total_layers:
            return f"GPU (all {self.total_layers} layers, {self.device})"
        return f"GPU ({self.layers - 1} of {self.total_layers} layers + output, {self.device})"


def _requested_layers(requested: int | str, total: int) -> int | None:
    """An explicit n_gpu_layers clamped to what exists, or None for "auto"."""
    if isinstance(requested, str):
        text = requested.strip().lower()
        if text == "auto":
            return None
        try:
            requested = int(text)
        except ValueError:
            raise DeskError(f'GPU layers must be "auto", -1 (all), 0 (CPU) or a number of '
                            f'layers, not "{requested}".') from None
    if requested < 0:
        return total + 1
    return min(requested, total + 1)


def plan_offload(path: Path, requested: int | str, n_ctx: int, kv_type: str,
                 devices: list[GpuDevice] | None = None,
                 supports_offload: bool | None = None) -> Offload:
    """How many layers of the model at path to offload: "auto" measures the free memory of
    the device with the most, 0 is CPU, -1 is all, n is at most all. Without a GPU or with
    a CPU-only llama.cpp build the answer is CPU whatever was requested. devices and
    supports_offload default to asking llama.cpp (tests pass fakes)."""
    per_layer, _ = model_layer_bytes(path)
    total = len(per_layer)
    cpu = Offload(0, total, "CPU")
    if supports_offload is None:
        supports_offload = supports_gpu_offload()
    if not supports_offload:
        return cpu
    if devices is None:
        devices = gpu_devices()
    if not devices:
        return cpu
    device = max(devices, key=lambda d: d.free_bytes)
    layers = _requested_layers(requested, total)
    if layers is None:
        layers = layers_that_fit(device.free_bytes, per_layer, output_layer_bytes(path),
                                 kv_bytes_per_layer(path, n_ctx, kv_type),
                                 offload_reserve(device.free_bytes))
    if layers == 0:
        return cpu
    return Offload(layers, total, device.description or device.name)

