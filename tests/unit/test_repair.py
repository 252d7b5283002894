"""The vector file and the catalog disagree after a crash; opening the matter repairs it."""

import shutil
from pathlib import Path

from desk.config.settings import load_settings
from desk.index.matter import open_matter
from desk.ingest.importer import ImportJob
from tests.pdfs import CONTRACT_PAGES, make_pdf


def _import(matter, path):
    s = load_settings()
    for _ in ImportJob(matter, [path], s.chunking.size, s.chunking.overlap).run():
        pass


def test_older_vector_file_is_detected_and_missing_vectors_re_embedded(tmp_path: Path):
    matter = open_matter("m")
    _import(matter, make_pdf(tmp_path / "a.pdf", CONTRACT_PAGES))
    old_copy = tmp_path / "old.hnsw"
    shutil.copy(matter.vectors.path, old_copy)
    _import(matter, make_pdf(tmp_path / "b.pdf", ["Escrow agent fees are paid by Buyer."] * 2))
    matter.close()
    shutil.copy(old_copy, matter.vectors.path)  # as if the last save never happened

    matter = open_matter("m")
    assert matter.repaired > 0 and matter.catalog.count_pending() == matter.repaired
    for _ in matter.embed_pending():
        pass
    assert matter.vectors.ids() == set(matter.catalog.chunk_ids())
    matter.close()


def test_vectors_of_deleted_chunks_are_dropped_and_damaged_file_rebuilt(tmp_path: Path):
    matter = open_matter("m")
    _import(matter, make_pdf(tmp_path / "a.pdf", CONTRACT_PAGES))
    ids = matter.catalog.chunk_ids()
    with matter.catalog.transaction() as db:  # crash after the catalog delete, before vectors
        db.execute("DELETE FROM chunks")
    matter.close()
    matter = open_matter("m")
    assert matter.vectors.ids().isdisjoint(ids)
    matter.close()

    matter.vectors.path.write_bytes(b"\x00" * 100)
    matter = open_matter("m")
    assert matter.vectors.count == 0
    matter.close()
