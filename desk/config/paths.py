"""Where Desk keeps matters, models, settings and logs. DESK_HOME overrides the platform default.
Every folder here is private to the user (0700 on POSIX; see desk.core.files for Windows)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

from desk.core.files import private_dir, private_umask, tighten_tree

# The sample matter shipped with Desk (three CUAD contracts); also inside the packaged app.
SAMPLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "samples"


def data_dir() -> Path:
    home = os.environ.get("DESK_HOME")
    path = Path(home) if home else Path(platformdirs.user_data_dir("Desk", appauthor=False))
    return private_dir(path)


def matters_dir() -> Path:
    return private_dir(data_dir() / "matters")


def models_dir() -> Path:
    return private_dir(data_dir() / "models")


def secure_data_dir() -> None:
    """Called first at Desk's entry points: files this process creates from now on are private
    (also those SQLite, hnswlib and llama.cpp make), and a data folder left readable by an
    earlier version is tightened (chmod only, so large model files cost nothing)."""
    private_umask()
    tighten_tree(data_dir())


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
