"""Shared fixtures: offscreen Qt, a fresh DESK_HOME per test, no threads left running."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"



def _find_dev_data() -> Path:
    """The shared CUAD dev set: $DESK_DEV_DATA, else a `shared/` beside a parent folder."""
    if os.environ.get("DESK_DEV_DATA"):
        return Path(os.environ["DESK_DEV_DATA"])
    repo = Path(__file__).resolve().parents[1]
    for folder in [*repo.parents, Path("/work")]:
        candidate = folder / "shared" / "data" / "cuad-dev"
        if candidate.exists():
            return candidate
    return repo / "missing-dev-data"


DEV_DATA = _find_dev_data()


@pytest.fixture(autouse=True)
def desk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "desk-home"
    monkeypatch.setenv("DESK_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def memory_keyring(monkeypatch: pytest.MonkeyPatch):
    """Every test keeps API keys in memory, never in the machine's keyring; a DESK_API_KEY in
    the developer's shell would win over every keyring, so it is removed."""
    import keyring
    import keyring.core

    from tests.fakes import MemoryKeyring

    monkeypatch.delenv("DESK_API_KEY", raising=False)
    # put the previous backend (often not chosen yet) back afterwards without asking for one
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture(autouse=True)
def no_thread_left_running():
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate()
                if t not in before and t.is_alive() and not t.daemon]
    for thread in leftover:
        thread.join(timeout=5)
    still = [t.name for t in leftover if t.is_alive()]
    assert not still, f"test left threads running: {still}"
