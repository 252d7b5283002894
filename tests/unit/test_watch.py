"""Watched folders on a real matter: new, changed, removed and returning PDFs, files still
being written, cheap quiet polls, and `desk watch`."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

import desk.ingest.importer as importer
import desk.ingest.watch as watch
from desk.cli import main
from desk.config.settings import load_settings
from desk.core.errors import Cancelled, DeskError
from desk.core.progress import CancelToken, drive
from desk.index.matter import open_matter
from desk.ingest.watch import (
    PENDING_KEY,
    SIGNATURES_KEY,
    add_folder,
    remove_folder,
    scan,
    settle,
    watch_once,
    watched_folders,
)
from tests.pdfs import CONTRACT_PAGES, make_pdf

NEW_LAW = "18. Governing Law. This Agreement is governed by the laws of New York."


@pytest.fixture
def matter():
    m = open_matter("Watched matter")
    yield m
    m.close()


@pytest.fixture
def folder(tmp_path: Path, matter) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    add_folder(matter.catalog, inbox)
    return inbox.resolve()


def settled_pdf(path: Path, pages: list[str], age: float = 60.0) -> Path:
    """A PDF written a while ago (older than SETTLE_SECONDS): ready for the watcher."""
    make_pdf(path, pages)
    age_file(path, age)
    return path


def age_file(path: Path, age: float) -> None:
    then = time.time() - age
    os.utime(path, (then, then))


def poll(matter, cancel: CancelToken | None = None):
    settings = load_settings()
    return drive(watch_once(matter, settings.chunking.size, settings.chunking.overlap, cancel),
                 lambda _: None)


class Counting:
    """Counts calls to the hashing and to the import job."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.hashes = 0
        self.imports = 0
        real_hash, real_job = importer.file_sha256, watch.ImportJob

        def counted_hash(path: Path) -> str:
            self.hashes += 1
            return real_hash(path)

        def counted_job(*args, **kwargs):
            self.imports += 1
            return real_job(*args, **kwargs)

        monkeypatch.setattr(watch, "file_sha256", counted_hash)
        monkeypatch.setattr(importer, "file_sha256", counted_hash)
        monkeypatch.setattr(watch, "ImportJob", counted_job)


def texts(matter) -> str:
    return " ".join(c.text for c in matter.catalog.chunks(matter.catalog.chunk_ids()).values())


def test_folders_are_added_checked_and_removed(tmp_path: Path, matter):
    assert watched_folders(matter.catalog) == []
    with pytest.raises(DeskError, match="there is no such folder"):
        add_folder(matter.catalog, tmp_path / "nowhere")
    a_file = tmp_path / "note.txt"
    a_file.write_text("x")
    with pytest.raises(DeskError, match="it is a file, not a folder"):
        add_folder(matter.catalog, a_file)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    add_folder(matter.catalog, tmp_path / "a")
    assert add_folder(matter.catalog, tmp_path / "b" / ".." / "b") == [
        (tmp_path / "a").resolve(), (tmp_path / "b").resolve()]
    assert add_folder(matter.catalog, tmp_path / "a") == [
        (tmp_path / "a").resolve(), (tmp_path / "b").resolve()]  # once only
    assert json.loads(matter.catalog.get_meta(watch.FOLDERS_KEY) or "") == [
        str((tmp_path / "a").resolve()), str((tmp_path / "b").resolve())]
    assert remove_folder(matter.catalog, tmp_path / "a") == [(tmp_path / "b").resolve()]
    with pytest.raises(DeskError, match="is not a watched folder"):
        remove_folder(matter.catalog, tmp_path / "a")
    assert watched_folders(matter.catalog) == [(tmp_path / "b").resolve()]


def test_new_pdf_is_imported_and_a_quiet_poll_hashes_nothing(folder: Path, matter,
                                                             monkeypatch):
    pdf = settled_pdf(folder / "sub" / "MSA.PDF", CONTRACT_PAGES)
    (folder / "notes.txt").write_text("not a PDF")
    (folder / "._MSA.pdf").write_bytes(b"\x00\x05\x16\x07 resource fork")
    summary = poll(matter)
    assert summary.new == [str(pdf)]
    assert (summary.changed, summary.removed, summary.failed) == ([], [], [])
    assert summary.text() == "Watched folders: 1 new, 0 changed, 0 removed (flagged)."
    assert [d.path for d in matter.catalog.documents()] == [str(pdf)]
    assert matter.catalog.counts()["pending"] == 0

    counting = Counting(monkeypatch)
    stored = matter.catalog.get_meta(SIGNATURES_KEY)
    assert json.loads(stored or "") == {str(pdf): [pdf.stat().st_size, pdf.stat().st_mtime_ns]}
    summary = poll(matter)
    assert (counting.hashes, counting.imports) == (0, 0)
    assert summary.eventful is False
    assert summary.text() == "Watched folders: 0 new, 0 changed, 0 removed (flagged)."
    assert matter.catalog.get_meta(SIGNATURES_KEY) == stored


def test_changed_pdf_is_reimported_and_a_touched_one_is_not(folder: Path, matter,
                                                            monkeypatch):
    pdf = settled_pdf(folder / "MSA.pdf", CONTRACT_PAGES, age=120)
    poll(matter)
    old = matter.catalog.document_by_path(str(pdf))
    assert old is not None

    counting = Counting(monkeypatch)
    age_file(pdf, 90)  # touched: the signature moves, the content does not
    summary = poll(matter)
    assert (counting.hashes, counting.imports, summary.eventful) == (1, 0, False)
    assert matter.catalog.document_by_path(str(pdf)) == old

    settled_pdf(pdf, CONTRACT_PAGES[:2] + [NEW_LAW], age=60)
    summary = poll(matter)
    assert (summary.new, summary.changed) == ([], [str(pdf)])
    assert summary.text() == "Watched folders: 0 new, 1 changed, 0 removed (flagged)."
    assert counting.imports == 1
    docs = matter.catalog.documents()
    assert len(docs) == 1 and docs[0].sha256 != old.sha256 and docs[0].id != old.id
    assert "New York" in texts(matter) and "Delaware" not in texts(matter)
    assert matter.vectors.count == matter.catalog.counts()["chunks"]


def test_removed_file_is_flagged_not_deleted_and_the_flag_clears_when_it_is_back(
        tmp_path: Path, folder: Path, matter, monkeypatch):
    pdf = settled_pdf(folder / "Lease.pdf", CONTRACT_PAGES)
    poll(matter)
    kept = tmp_path / "kept.pdf"
    shutil.move(pdf, kept)

    before = time.time()
    summary = poll(matter)
    after = time.time()
    assert (summary.removed, summary.missing, summary.new) == ([str(pdf)], [str(pdf)], [])
    assert summary.text() == "Watched folders: 0 new, 0 changed, 1 removed (flagged)."
    doc = matter.catalog.document_by_path(str(pdf))
    assert doc is not None and doc.missing_since is not None
    assert before <= doc.missing_since <= after
    assert matter.catalog.counts()["chunks"] > 0  # still searchable

    summary = poll(matter)  # still gone: flagged once, not reported again
    assert (summary.removed, summary.missing, summary.eventful) == ([], [str(pdf)], False)
    assert matter.catalog.document_by_path(str(pdf)).missing_since == doc.missing_since

    counting = Counting(monkeypatch)
    shutil.move(kept, pdf)
    summary = poll(matter)
    assert (summary.restored, summary.missing, summary.new, summary.changed) == (
        [str(pdf)], [], [], [])
    assert summary.text() == ("Watched folders: 0 new, 0 changed, 0 removed (flagged), "
                              "1 back.")
    back = matter.catalog.document_by_path(str(pdf))
    assert back is not None and back.id == doc.id and back.missing_since is None
    assert (counting.hashes, counting.imports) == (1, 0)  # confirmed by hash, not re-imported


def test_a_folder_that_is_not_there_flags_nothing(tmp_path: Path, folder: Path, matter):
    pdf = settled_pdf(folder / "Lease.pdf", CONTRACT_PAGES)
    poll(matter)
    folder.rename(tmp_path / "unplugged")
    summary = poll(matter)
    assert (summary.removed, summary.unavailable) == ([], [str(folder)])
    assert summary.text() == ("Watched folders: 0 new, 0 changed, 0 removed (flagged); "
                              "1 folder(s) not available.")
    assert matter.catalog.document_by_path(str(pdf)).missing_since is None


def test_a_file_still_being_written_waits_for_the_next_poll(folder: Path, matter):
    pdf = make_pdf(folder / "Draft.pdf", CONTRACT_PAGES)  # modified just now
    summary = poll(matter)
    assert (summary.waiting, summary.new) == ([str(pdf)], [])
    assert matter.catalog.documents() == []
    assert json.loads(matter.catalog.get_meta(PENDING_KEY) or "") == {
        str(pdf): [pdf.stat().st_size, pdf.stat().st_mtime_ns]}

    # a copy that keeps the source's old date: the size grew since the last poll, so wait
    copy = folder / "Later copy.pdf"
    data = pdf.read_bytes()
    copy.write_bytes(data[: len(data) // 2])
    age_file(pdf, 60)
    found = scan(matter.catalog, [folder])
    assert (found.waiting, [c.path for c in found.new]) == ([str(copy)], [str(pdf)])
    assert settle(matter.catalog, found).not_imported == [str(pdf)]  # so not confirmed
    copy.write_bytes(data[: len(data) // 2 + 100])
    age_file(copy, 60)
    assert scan(matter.catalog, [folder]).waiting == [str(copy)]  # grew between two polls
    copy.write_bytes(data)
    age_file(copy, 60)
    assert scan(matter.catalog, [folder]).waiting == [str(copy)]  # whole now: must hold still

    summary = poll(matter)
    assert (summary.waiting, summary.new, summary.not_imported) == ([], [str(pdf)], [])
    assert summary.duplicates == [{"file": "Later copy.pdf", "path": str(copy),
                                   "same_as": "Draft.pdf"}]
    assert [d.path for d in matter.catalog.documents()] == [str(pdf)]
    assert matter.catalog.get_meta(PENDING_KEY) == "{}"


def test_duplicates_failures_and_a_cancelled_import(folder: Path, matter, monkeypatch):
    pdf = settled_pdf(folder / "MSA.pdf", CONTRACT_PAGES)
    broken = folder / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj <<>> garbage")
    age_file(broken, 60)

    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        poll(matter, cancel)
    assert matter.catalog.documents() == []

    summary = poll(matter)  # what the cancelled import did not reach is tried again
    assert summary.new == [str(pdf)]
    assert [(f["file"], f["path"]) for f in summary.failed] == [("broken.pdf", str(broken))]
    assert summary.text() == ("Watched folders: 1 new, 0 changed, 0 removed (flagged), "
                              "1 failed.")

    copy = folder / "MSA copy.pdf"
    shutil.copy(pdf, copy)
    age_file(copy, 60)
    counting = Counting(monkeypatch)
    summary = poll(matter)
    assert summary.duplicates == [{"file": "MSA copy.pdf", "path": str(copy),
                                   "same_as": "MSA.pdf"}]
    assert summary.text() == ("Watched folders: 0 new, 0 changed, 0 removed (flagged), "
                              "1 already in the matter.")
    assert (counting.hashes, counting.imports) == (1, 0)  # the broken file is not retried
    summary = poll(matter)
    assert (summary.eventful, counting.hashes, counting.imports) == (False, 1, 0)


def test_desk_watch_command(tmp_path: Path, capsys):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert main(["watch", "--matter", "Cli", "--add", str(inbox), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"matter": "Cli",
                                                   "folders": [str(inbox.resolve())]}
    pdf = settled_pdf(inbox / "MSA.pdf", CONTRACT_PAGES)
    assert main(["watch", "--matter", "Cli", "--once"]) == 0
    assert capsys.readouterr().out == "Watched folders: 1 new, 0 changed, 0 removed (flagged).\n"

    pdf.unlink()
    assert main(["watch", "--matter", "Cli", "--once", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["removed"] == [{"file": "MSA.pdf", "path": str(pdf.resolve())}]
    assert (out["new"], out["changed"], out["missing"]) == (
        [], [], [{"file": "MSA.pdf", "path": str(pdf.resolve())}])
    assert main(["watch", "--matter", "Cli", "--once"]) == 0
    assert capsys.readouterr().out == (
        "Watched folders: 0 new, 0 changed, 0 removed (flagged).\n"
        f"  MISSING MSA.pdf: {pdf.resolve()}\n")

    assert main(["watch", "--matter", "Cli", "--remove", str(inbox)]) == 0
    assert capsys.readouterr().out == ("Matter 'Cli' watches no folders. Add one: desk watch "
                                       "--matter \"Cli\" --add FOLDER\n")
    assert main(["watch", "--matter", "Cli", "--once"]) == 2
    assert "watches no folders" in capsys.readouterr().err
    assert main(["watch", "--matter", "Cli", "--add", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == (f"desk: Cannot watch {str(tmp_path / 'nowhere')!r}: "
                                       "there is no such folder.\n")
