import json

from desk.config.paths import matter_slug, settings_file
from desk.config.settings import SCHEMA_VERSION, Settings, load_settings, save_settings


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
