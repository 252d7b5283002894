"""Where Desk keeps matters, models, settings and logs. DESK_HOME overrides the platform default."""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

# The sample matter shipped with Desk (three CUAD contracts); also inside the packaged app.
SAMPLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "samples"


def data_dir() -> Path:
    home = os.environ.get("DESK_HOME")
    path = Path(home) if home else Path(platformdirs.user_data_dir("Desk", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def matters_dir() -> Path:
    path = data_dir() / "matters"
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_file() -> Path:
    return data_dir() / "settings.json"


def log_file() -> Path:
    return data_dir() / "desk.log"


def matter_slug(name: str) -> str:
    """A file-system-safe folder name for a matter; different names never share a folder."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-.") or "matter"
    if slug != name:
        import hashlib

        slug = f"{slug}-{hashlib.sha1(name.encode()).hexdigest()[:6]}"
    return slug
