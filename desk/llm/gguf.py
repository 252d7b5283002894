"""Read a GGUF file's header: metadata and tensor shapes, without loading the weights; check
that every tensor's data is in the file. Parsed once per file version and cached."""

from __future__ import annotations

import functools
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from desk.core.errors import ModelError

# llama_ftype (general.file_type) -> the precision names llama.cpp's quantize tool uses
FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1",
              10: "Q2_K", 11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M",
              16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K", 32: "BF16"}
PRECISION_TO_FTYPE = {v: k for k, v in FILE_TYPES.items()}


@dataclass
class GgufInfo:
    path: Path
    version: int
    metadata: dict[str, Any]
    parameters: int
    size_bytes: int
    tensor_bytes: dict[str, int] = field(default_factory=dict)  # data bytes, by tensor name

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


_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_SCALARS = {t: struct.Struct(f) for t, f in {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I",
                                              5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q",
                                              12: "<d"}.items()}
_STRING, _ARRAY = 8, 9
DEFAULT_ALIGNMENT = 32  # GGUF's data section alignment when general.alignment is absent
_FIRST_READ = 1 << 20  # SmolLM2's header is 1.8 MB, Qwen2.5's (151k tokens) about 6 MB
_CACHE_SIZE = 32


class _Header:
    """The start of the file in memory, read further on demand (no mmap: a file shortened
    while mapped would crash the process instead of raising)."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh = fh
        self.start = fh.tell()
        self.left = size - self.start  # bytes of the file from the buffer's start
        self.buf = bytearray(fh.read(_FIRST_READ))
        self.pos = 0

    def _need(self, n: int) -> None:
        if self.pos + n > self.left:  # a damaged count or length: fail without reading it
            raise EOFError("unexpected end of file")
        while self.pos + n > len(self.buf):
            more = self.fh.read(min(max(self.pos + n - len(self.buf), len(self.buf)), 64 << 20))
            if not more:
                raise EOFError("unexpected end of file")
            self.buf += more

    def unpack(self, fmt: struct.Struct) -> Any:
        self._need(fmt.size)
        value = fmt.unpack_from(self.buf, self.pos)[0]
        self.pos += fmt.size
        return value

    def string(self) -> str:
        length = self.unpack(_U64)
        if length > 1 << 24:
            raise ValueError("implausible string length")
        self._need(length)
        start, self.pos = self.pos, self.pos + length
        return self.buf[start:self.pos].decode("utf-8", errors="replace")

    def _skip_strings(self, count: int) -> None:
        """The vocabulary (50k to 150k strings) is not needed: a tight loop steps over it."""
        buf, pos, unpack = self.buf, self.pos, _U64.unpack_from
        for _ in range(count):
            if pos + 8 > len(buf):
                self.pos = pos
                self._need(8)
                buf = self.buf
            length = unpack(buf, pos)[0]
            if length > 1 << 24:
                raise ValueError("implausible string length")
            pos += 8 + length
        self.pos = pos
        self._need(0)  # the last string is in the file too

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            item_type = self.unpack(_U32)
            count = self.unpack(_U64)
            if item_type in _SCALARS:
                size = count * _SCALARS[item_type].size  # arrays are not needed: skipped
                self._need(size)
                self.pos += size
            elif item_type == _STRING:
                self._skip_strings(count)
            else:
                for _ in range(count):
                    self.value(item_type)
            return f"<array of {count}>"
        raise ValueError(f"unknown metadata type {vtype}")


@functools.cache
def _type_sizes() -> dict[int, tuple[int, int]]:
    """ggml type -> (elements per block, bytes per block), from the gguf package."""
    from gguf.constants import GGML_QUANT_SIZES

    return {int(t): (int(block), int(size)) for t, (block, size) in GGML_QUANT_SIZES.items()}


def _parse(path: Path, size: int) -> GgufInfo:
    sizes = _type_sizes()
    try:
        with path.open("rb") as fh:
            if fh.read(4) != b"GGUF":
                raise ModelError(f"{path.name} is not a GGUF model file (wrong header).")
            head = _Header(fh, size)
            version = head.unpack(_U32)
            tensors = head.unpack(_U64)
            kv_count = head.unpack(_U64)
            metadata: dict[str, Any] = {}
            for _ in range(kv_count):
                key = head.string()
                metadata[key] = head.value(head.unpack(_U32))
            parameters = 0
            tensor_bytes: dict[str, int] = {}
            data_end = 0  # relative to the data section
            for _ in range(tensors):
                name = head.string()
                n_dims = head.unpack(_U32)
                if n_dims > 8:
                    raise ValueError(f"tensor {name!r} has an implausible {n_dims} dimensions")
                count = 1
                for _ in range(n_dims):
                    count *= head.unpack(_U64)
                ggml_type = head.unpack(_U32)
                offset = head.unpack(_U64)
                parameters += count
                block, block_bytes = sizes.get(ggml_type, (1, 0))  # a type newer than gguf's
                if count % block:
                    raise ValueError(f"tensor {name!r} has {count} elements, not a multiple of "
                                     f"its type's block of {block}")
                tensor_bytes[name] = count // block * block_bytes
                data_end = max(data_end, offset + tensor_bytes[name])
            header_end = head.start + head.pos
    except (EOFError, ValueError, struct.error) as exc:
        raise ModelError(f"{path.name} is damaged or truncated (cannot read its GGUF header: "
                         f"{exc or 'unexpected end of file'}).") from exc
    except OSError as exc:
        raise ModelError(f"Model file {path} cannot be read: {exc.strerror or exc}.") from exc
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise ModelError(f"{path.name} is damaged (its data alignment {alignment!r} is not a "
                         "power of two).")
    end = -(-header_end // alignment) * alignment + data_end
    if end > size:
        raise ModelError(f"{path.name} is truncated: its tensors end at byte {end:,} but the "
                         f"file has {size:,} bytes. Copy or download it again.")
    return GgufInfo(path, version, metadata, parameters, size, tensor_bytes)


_cache: dict[Path, tuple[tuple[int, int, int], GgufInfo]] = {}
_cache_lock = threading.Lock()


def read_gguf(path: Path) -> GgufInfo:
    """Validate the header and the data's extent and read the metadata; errors name the file
    and the problem. A file already read (same size, mtime and inode) is not opened again: the
    same GgufInfo is returned, so treat it as read-only."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ModelError(f"Model file {path} does not exist.") from None
    except OSError as exc:
        raise ModelError(f"Model file {path} cannot be read: {exc.strerror or exc}.") from exc
    key, stamp = path.absolute(), (st.st_size, st.st_mtime_ns, st.st_ino)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    info = _parse(path, st.st_size)
    with _cache_lock:
        _cache.pop(key, None)
        _cache[key] = (stamp, info)
        while len(_cache) > _CACHE_SIZE:
            del _cache[next(iter(_cache))]  # the one parsed longest ago
    return info
