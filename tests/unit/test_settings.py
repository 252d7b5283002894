import json
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from desk.config.paths import matter_slug, settings_file
from desk.config.settings import (
    SCHEMA_VERSION,
    LlmSettings,
    Settings,
    bounds,
    choices,
    load_settings,
    save_settings,
)


def test_settings_round_trip_and_migration():
    s = Settings()
    s.chunking.size = 640
    save_settings(s)
    assert load_settings().chunking.size == 640
    settings_file().write_text(json.dumps({"chunking": {"size": 321}, "unknown": 1}))
    loaded = load_settings()
    assert loaded.schema_version == SCHEMA_VERSION and loaded.chunking.size == 321


def test_corrupt_settings_fall_back_to_defaults():
    settings_file().write_text("{not json")
    assert load_settings() == Settings()


def test_matter_slug_is_safe_and_distinct():
    assert matter_slug("Smith v. Jones (2021)") != matter_slug("Smith v Jones 2021")
    assert "/" not in matter_slug("a/b") and matter_slug("plain") == "plain"


# -- pydantic validation -------------------------------------------------------------------


def _backups():
    return sorted(settings_file().parent.glob("settings.json.invalid-*"))


def test_full_round_trip_keeps_every_field():
    s = Settings()
    s.llm.model, s.llm.n_ctx, s.llm.kv_cache_type, s.llm.n_gpu_layers = "m", 8192, "q4_0", -1
    s.retrieval.lexical_weight, s.last_matter = 1.25, "Smith v. Jones"
    save_settings(s)
    loaded = load_settings()
    assert loaded == s and loaded.load_problem == ""
    assert json.loads(settings_file().read_text())["llm"]["kv_cache_type"] == "q4_0"


def test_migration_from_version_0_keeps_values():
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text(json.dumps({"llm": {"n_ctx": 2048}, "last_matter": "acme"}))
    loaded = load_settings()
    assert loaded.schema_version == SCHEMA_VERSION and loaded.load_problem == ""
    assert loaded.llm.n_ctx == 2048 and loaded.last_matter == "acme"
    assert loaded.chunking == Settings().chunking


def test_unknown_keys_from_a_newer_version_are_ignored():
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text(json.dumps({"schema_version": 1, "future": {"x": 1},
                                           "llm": {"n_ctx": 8192, "speculative": True}}))
    loaded = load_settings()
    assert loaded.llm.n_ctx == 8192 and loaded.load_problem == "" and not _backups()


def test_invalid_json_is_backed_up_and_reported(caplog):
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="desk"):
        loaded = load_settings()
    assert loaded == Settings()
    [backup] = _backups()
    assert backup.read_text() == "{not json"
    assert str(settings_file()) in loaded.load_problem and "not valid JSON" in loaded.load_problem
    assert str(backup) in loaded.load_problem
    assert loaded.load_problem in caplog.text
    # the repaired file is written back: the next load is clean and makes no second backup
    again = load_settings()
    assert again.load_problem == "" and len(_backups()) == 1


def test_out_of_range_values_are_named_and_the_rest_kept():
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text(json.dumps({
        "schema_version": 1, "last_matter": "acme",
        "llm": {"n_ctx": "big", "n_threads": -3, "kv_cache_type": "q2", "n_batch": 256},
        "chunking": {"size": 300, "overlap": 400}}))
    loaded = load_settings()
    problem = loaded.load_problem
    for name in ("llm.n_ctx", "llm.n_threads", "llm.kv_cache_type", "chunking"):
        assert name in problem
    assert "'big'" in problem and "-3" in problem and str(_backups()[0]) in problem
    assert loaded.llm.n_ctx == 4096 and loaded.llm.n_threads == 0
    assert loaded.llm.kv_cache_type == "f16" and loaded.chunking == Settings().chunking
    assert loaded.llm.n_batch == 256 and loaded.last_matter == "acme"  # the valid rest


def test_wrong_shapes_never_crash():
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    for text in ("[1, 2]", '{"llm": 5}', '{"schema_version": "one"}', "\xff\xfe"):
        settings_file().write_text(text, encoding="latin-1")
        loaded = load_settings()
        assert loaded.load_problem and loaded.llm == LlmSettings()


def test_assignment_is_validated():
    s = Settings()
    with pytest.raises(ValidationError, match="n_ctx"):
        s.llm.n_ctx = 10**9
    with pytest.raises(ValidationError):
        s.llm.kv_cache_type = "q2"  # type: ignore[assignment]
    with pytest.raises(ValidationError, match="overlap"):
        s.chunking.overlap = s.chunking.size
    assert s == Settings()


def test_the_budgets_must_fit_the_context():
    llm = LlmSettings()
    assert llm.evidence_tokens + llm.max_answer_tokens + 600 <= bounds(LlmSettings, "n_ctx")[0]
    with pytest.raises(ValidationError, match="n_ctx"):
        LlmSettings(n_ctx=1024)  # below the bound: the default budgets would not fit
    s = Settings()
    s.llm.n_ctx = 2048
    with pytest.raises(ValidationError, match=r"evidence_tokens \(1500\).*n_ctx \(2048\)"):
        s.llm.evidence_tokens = 1500
    with pytest.raises(ValidationError, match="must fit in n_ctx"):
        s.llm.max_answer_tokens = 1200
    s.llm.evidence_tokens = 1000  # 1000 + 384 + 600 fits 2048
    assert (s.llm.n_ctx, s.llm.evidence_tokens, s.llm.max_answer_tokens) == (2048, 1000, 384)
    s.llm.n_ctx = 8192  # raising the context first lets both budgets grow
    s.llm.evidence_tokens, s.llm.max_answer_tokens = 4000, 2000
    with pytest.raises(ValidationError, match="must fit in n_ctx"):
        s.llm.n_ctx = 4096  # a rejected assignment leaves the settings as they were
    assert (s.llm.n_ctx, s.llm.evidence_tokens, s.llm.max_answer_tokens) == (8192, 4000, 2000)


def test_a_file_whose_budgets_do_not_fit_falls_back_and_says_why():
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text(json.dumps({"last_matter": "acme",
                                           "llm": {"n_ctx": 2048, "evidence_tokens": 3000}}))
    loaded = load_settings()
    assert "must fit in n_ctx (2048)" in loaded.load_problem and _backups()
    assert loaded.llm == LlmSettings() and loaded.last_matter == "acme"


def test_an_unreadable_settings_file_is_never_overwritten(monkeypatch, caplog):
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    mine = json.dumps({"last_matter": "acme", "llm": {"n_ctx": 8192}})
    settings_file().write_text(mine)
    real_read_bytes = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path == settings_file():
            raise PermissionError(13, "Permission denied", str(path))
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with caplog.at_level(logging.WARNING, logger="desk"):
        loaded = load_settings()
        assert loaded == Settings() and "could not be read" in loaded.load_problem
        loaded.last_matter = "other"
        save_settings(loaded)  # refused: the defaults would replace the user's file
    assert settings_file().read_text() == mine and not _backups()
    assert "Not saving the settings" in caplog.text
    monkeypatch.setattr(Path, "read_bytes", real_read_bytes)
    assert load_settings().last_matter == "acme"  # readable again: the user's values are back
    fresh = Settings()
    save_settings(fresh)  # settings not loaded from the unreadable file are saved as usual
    assert load_settings() == fresh


def test_bounds_and_choices_come_from_the_fields():
    assert bounds(LlmSettings, "n_ctx") == (2048, 131072)
    assert bounds(LlmSettings, "n_gpu_layers") == (-1, 1000)  # or "auto"
    assert choices(LlmSettings, "kv_cache_type") == ["f16", "q8_0", "q4_0"]
    with pytest.raises(ValueError):
        bounds(LlmSettings, "model")
