"""A matter that fails to open (index built differently, vector file unusable) closes the catalog
connection it had opened before raising."""

import sqlite3
from pathlib import Path

import pytest

import desk.index.matter as matter_module
from desk.config.settings import Settings
from desk.core.errors import IndexMismatch
from desk.index.catalog import Catalog
from desk.index.matter import open_matter


@pytest.fixture
def catalogs(monkeypatch: pytest.MonkeyPatch) -> list[Catalog]:
    """Every Catalog a Matter opens from now on."""
    made: list[Catalog] = []

    class RecordingCatalog(Catalog):
        def __init__(self, path: Path) -> None:
            super().__init__(path)
            made.append(self)

    monkeypatch.setattr(matter_module, "Catalog", RecordingCatalog)
    return made


def assert_closed(catalog: Catalog) -> None:
    with pytest.raises(sqlite3.ProgrammingError):
        catalog.db.execute("SELECT 1")


def test_a_fingerprint_mismatch_closes_the_catalog(catalogs: list[Catalog]):
    open_matter("Smith v. Jones").close()  # indexed with the default chunking
    other = Settings()
    other.chunking.size = 700
    with pytest.raises(IndexMismatch, match="rebuild"):
        open_matter("Smith v. Jones", settings=other)
    assert len(catalogs) == 2
    assert_closed(catalogs[1])


def test_a_failing_vector_index_closes_the_catalog(catalogs: list[Catalog]):
    def broken(path: Path, dimension: int):
        raise OSError(f"cannot read {path}")

    with pytest.raises(OSError, match="cannot read"):
        open_matter("Smith v. Jones", vector_index=broken)
    assert len(catalogs) == 1
    assert_closed(catalogs[0])
