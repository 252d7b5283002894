"""API keys live in the OS keyring, one per server origin, DESK_API_KEY winning; never in
settings.json. An in-memory backend stands in for the keyring, so the tests never touch the
real one."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.core
import pytest
from keyring.backends import fail

from desk.config.secrets import KEY_VARIABLE, KEYRING_SERVICE, api_key, save_api_key
from desk.config.settings import load_settings, save_settings
from desk.core.errors import DeskError
from tests.fakes import MemoryKeyring

KEY = "sk-desk-secret-71c3"


@pytest.fixture
def memory(memory_keyring: MemoryKeyring) -> MemoryKeyring:
    return memory_keyring


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without a keyring (headless Linux): every operation raises."""
    monkeypatch.setattr(keyring.core, "_keyring_backend", keyring.core._keyring_backend)
    keyring.set_keyring(fail.Keyring())


def test_a_saved_key_is_found(memory: MemoryKeyring) -> None:
    save_api_key("http://gpu-box:8080/v1", KEY)
    assert api_key("http://gpu-box:8080/v1") == KEY
    assert list(memory.passwords) == [(KEYRING_SERVICE, "http://gpu-box:8080")]


def test_one_key_per_origin(memory: MemoryKeyring) -> None:
    """The path (and the model) do not matter; another port is another server."""
    save_api_key("http://gpu-box:8080/v1", KEY)
    assert api_key("http://gpu-box:8080/openai/v1") == KEY
    assert api_key("http://gpu-box:8080") == KEY
    assert api_key("http://gpu-box:8081/v1") is None
    assert api_key("https://gpu-box:8080/v1") is None
    assert api_key("http://other-box:8080/v1") is None


@pytest.mark.parametrize(("saved", "asked"), [
    ("http://gpu-box/v1", "http://gpu-box:80/v1"),  # the default port, written or not
    ("https://gpu-box/v1", "https://gpu-box:443/v1"),
    ("http://GPU-Box:8080/v1", "http://gpu-box:8080/v1"),  # host names ignore case
])
def test_the_same_origin_written_differently(memory: MemoryKeyring, saved: str,
                                             asked: str) -> None:
    """server_host() already treats these as one server; the key should follow it."""
    save_api_key(saved, KEY)
    assert api_key(asked) == KEY


def test_the_variable_wins(memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    save_api_key("http://gpu-box:8080/v1", KEY)
    monkeypatch.setenv(KEY_VARIABLE, "from-the-environment")
    assert api_key("http://gpu-box:8080/v1") == "from-the-environment"
    assert api_key("http://never-saved:1/v1") == "from-the-environment"


def test_an_empty_variable_does_not_count(memory: MemoryKeyring,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    save_api_key("http://gpu-box:8080/v1", KEY)
    monkeypatch.setenv(KEY_VARIABLE, "")
    assert api_key("http://gpu-box:8080/v1") == KEY


def test_saving_nothing_forgets(memory: MemoryKeyring) -> None:
    save_api_key("http://gpu-box:8080/v1", KEY)
    save_api_key("http://gpu-box:8080/v1", "")
    assert api_key("http://gpu-box:8080/v1") is None
    assert memory.passwords == {}
    save_api_key("http://gpu-box:8080/v1", "")  # forgetting twice is not an error


@pytest.mark.usefixtures("no_keyring")
def test_without_a_keyring() -> None:
    """No key rather than a crash; saving says what to do instead."""
    assert api_key("http://gpu-box:8080/v1") is None
    with pytest.raises(DeskError, match=KEY_VARIABLE):
        save_api_key("http://gpu-box:8080/v1", KEY)
    with pytest.raises(DeskError, match=KEY_VARIABLE):
        save_api_key("http://gpu-box:8080/v1", "")


@pytest.mark.usefixtures("no_keyring")
def test_without_a_keyring_the_variable_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_VARIABLE, KEY)
    assert api_key("http://gpu-box:8080/v1") == KEY


def test_the_key_is_not_in_the_settings_file(memory: MemoryKeyring, desk_home: Path) -> None:
    settings = load_settings()
    settings.answers_from = "server"
    settings.server.url = "http://gpu-box:8080/v1"
    settings.server.model = "test-model"
    save_api_key(settings.server.url, KEY)
    save_settings(settings)
    files = [p for p in desk_home.rglob("*") if p.is_file()]
    assert files, "save_settings wrote nothing under DESK_HOME"
    for path in files:
        assert KEY not in path.read_text(encoding="utf-8", errors="replace")
    assert load_settings().server.url == "http://gpu-box:8080/v1"
    assert api_key(load_settings().server.url) == KEY
