"""Where Desk keeps matters, models, settings and logs. DESK_HOME overrides the platform default.
Every folder Desk makes here is private to the user (0700 on POSIX; see desk.core.files for
Windows). DESK_HOME may name a folder that also holds the user's own files: only the entries
in DATA_DIR_OWNED are Desk's, and only those are ever tightened."""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

from desk.core.files import private_dir, private_umask, tighten_owned

# The sample matter shipped with Desk (three CUAD contracts); also inside the packaged app.
SAMPLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "samples"

# What Desk itself writes directly into the data folder (glob patterns of entry names): the
# matters and the model store (models/embedders, the exported embedder, included), the
# settings with their `.invalid-*` backups and atomic-write temporaries, the log, and the
# window's QSettings file with its lock and save temporaries (desk.ui.main_window).
DATA_DIR_OWNED = (
    "matters",
    "models",
    "settings.json",
    "settings.json.invalid-*",
    ".settings.json*.tmp",
    "desk.log",
    "window.ini",
    "window.ini.*",
)


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
    (also those SQLite, hnswlib and llama.cpp make), and what an earlier version left readable
    is tightened (chmod only, so large model files cost nothing): the data folder and the
    entries in DATA_DIR_OWNED, nothing else that lives there."""
    private_umask()
    tighten_owned(data_dir(), DATA_DIR_OWNED)


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
