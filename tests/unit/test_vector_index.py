"""The vector store is passed into the matter: an exact in-memory store stands in for hnswlib
and the import, search and removal paths work through the VectorIndex interface alone."""

from pathlib import Path

from desk.index.matter import open_matter
from desk.index.retriever import Retriever
from desk.ingest.importer import ImportJob, remove_documents
from tests.fakes import MemoryVectorStore
from tests.pdfs import CONTRACT_PAGES, make_pdf


def test_matter_runs_on_a_passed_in_vector_index(tmp_path: Path):
    pdf = make_pdf(tmp_path / "MSA.pdf", CONTRACT_PAGES)
    matter = open_matter("memory", vector_index=MemoryVectorStore)
    try:
        assert isinstance(matter.vectors, MemoryVectorStore)
        for _ in ImportJob(matter, [pdf], 500, 100).run():
            pass
        chunks = set(matter.catalog.chunk_ids())
        assert matter.vectors.ids() == chunks and matter.vectors.saves >= 1
        assert not (matter.path / "vectors.hnsw").exists()
        hits = Retriever(matter, mode="dense").search("termination for convenience notice", k=1)
        assert hits[0].page_start == 2 and "ninety (90) days" in hits[0].text
        remove_documents(matter, ["MSA.pdf"])
        assert matter.vectors.ids() == set()
    finally:
        matter.close()
