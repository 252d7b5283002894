"""Read a GGUF file's header: metadata and tensor shapes, without loading the weights."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from desk.core.errors import ModelError

# llama_ftype (general.file_type) -> the precision names llama.cpp's quantize tool uses
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
              10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
              16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}
PRECISION_TO_FTYPE = {v: k for k, v in FILE_TYPES.items()}

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q",
            11: "<q", 12: "<d"}


@dataclass
class GgufInfo:
    path: Path
    version: int
    metadata: dict[str, Any]
    parameters: int
    size_bytes: int

    @property
    def precision(self) -> str:
        ftype = self.metadata.get("general.file_type")
        return FILE_TYPES.get(int(ftype), f"type{ftype}") if ftype is not None else "unknown"

    @property
    def bits_per_weight(self) -> float:
        return self.size_bytes * 8 / self.parameters if self.parameters else 0.0

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def title(self) -> str:
        return str(self.metadata.get("general.name", self.path.stem))

    @property
    def context_length(self) -> int:
        return int(self.metadata.get(f"{self.architecture}.context_length", 0))


def _read(fh: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = fh.read(size)
    if len(data) != size:
        raise EOFError
    return struct.unpack(fmt, data)[0]


def _string(fh: BinaryIO) -> str:
    length = _read(fh, "<Q")
    if length > 1 << 24:
        raise ValueError("implausible string length")
    data = fh.read(length)
    if len(data) != length:
        raise EOFError
    return data.decode("utf-8", errors="replace")


def _value(fh: BinaryIO, vtype: int) -> Any:
    if vtype in _SCALARS:
        return _read(fh, _SCALARS[vtype])
    if vtype == 8:
        return _string(fh)
    if vtype == 9:
        item_type = _read(fh, "<I")
        count = _read(fh, "<Q")
        if item_type in _SCALARS and item_type != 7:
            fh.seek(count * struct.calcsize(_SCALARS[item_type]), 1)  # arrays are not needed
            return f"<array of {count}>"
        for _ in range(count):
            _value(fh, item_type)
        return f"<array of {count}>"
    raise ValueError(f"unknown metadata type {vtype}")


def read_gguf(path: Path) -> GgufInfo:
    """Validate the header and read the metadata; errors name the file and the problem."""
    if not path.exists():
        raise ModelError(f"Model file {path} does not exist.")
    size = path.stat().st_size
    try:
        with path.open("rb") as fh:
            if fh.read(4) != b"GGUF":
                raise ModelError(f"{path.name} is not a GGUF model file (wrong header).")
            version = _read(fh, "<I")
            tensors = _read(fh, "<Q")
            kv_count = _read(fh, "<Q")
            metadata: dict[str, Any] = {}
            for _ in range(kv_count):
                key = _string(fh)
                metadata[key] = _value(fh, _read(fh, "<I"))
            parameters = 0
            max_end = 0
            for _ in range(tensors):
                _string(fh)
                dims = [_read(fh, "<Q") for _ in range(_read(fh, "<I"))]
                _read(fh, "<I")
                offset = _read(fh, "<Q")
                count = 1
                for d in dims:
                    count *= d
                parameters += count
                max_end = max(max_end, offset)
            header_end = fh.tell()
    except (EOFError, ValueError, struct.error) as exc:
        raise ModelError(f"{path.name} is damaged or truncated (cannot read its GGUF header: "
                         f"{exc or 'unexpected end of file'}).") from exc
    if header_end + max_end > size:
        raise ModelError(f"{path.name} is truncated: its tensors extend past the end of the "
                         f"file ({size:,} bytes). Copy or download it again.")
    return GgufInfo(path, version, metadata, parameters, size)
