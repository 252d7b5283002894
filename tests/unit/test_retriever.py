"""Hybrid retrieval on real PDFs with the real embedder."""


import pytest

from desk.config.settings import load_settings
from desk.core.errors import DeskError
from desk.index.matter import open_matter
from desk.index.retriever import Retriever
from desk.ingest.importer import ImportJob
from tests.pdfs import CONTRACT_PAGES, make_pdf

OTHER = [
    "LEASE AGREEMENT between Harbor Properties LP (\"Landlord\") and Quill & Ink LLP "
    "(\"Tenant\") for the premises at 10 Water Street.",
    "5. Rent. Tenant shall pay monthly rent of $12,000. 6. Termination. Landlord may terminate "
    "this Lease upon material default by Tenant after thirty days notice.",
]


@pytest.fixture(scope="module")
def matter(tmp_path_factory):
    import os

    home = tmp_path_factory.mktemp("home")
    old = os.environ.get("DESK_HOME")
    os.environ["DESK_HOME"] = str(home)
    docs = tmp_path_factory.mktemp("docs")
    make_pdf(docs / "Master Services Agreement Acme.pdf", CONTRACT_PAGES)
    make_pdf(docs / "Harbor Lease.pdf", OTHER)
    m = open_matter("retrieval")
    settings = load_settings()
    for _ in ImportJob(m, [docs], settings.chunking.size, settings.chunking.overlap).run():
        pass
    yield m
    m.close()
    if old is not None:
        os.environ["DESK_HOME"] = old


@pytest.mark.parametrize("query, page", [
    ("2:21-cv-01234", 3),
    ("§ 1983", 3),
    ("Section 12.3", 2),
    ('"Confidential Information"', 1),
    ("How much notice is needed to end the contract without cause?", 2),
])
def test_hybrid_finds_identifiers_and_meaning(matter, query, page):
    hits = Retriever(matter).search(query, k=2)
    assert hits[0].file == "Master Services Agreement Acme.pdf"
    assert hits[0].page_start <= page <= hits[0].page_end


def test_scope_to_one_document(matter):
    hits = Retriever(matter).search("termination notice", k=10, document="Harbor Lease.pdf")
    assert hits and {h.file for h in hits} == {"Harbor Lease.pdf"}
    with pytest.raises(DeskError, match="No document"):
        Retriever(matter).search("x", document="nope.pdf")


def test_question_naming_a_document_is_focused_on_it(matter):
    r = Retriever(matter)
    focus = r.focus("Consider the Lease Agreement between Harbor Properties and Quill & Ink; "
                    "When may the contract be terminated?")
    assert matter.catalog.document(focus.doc_id).file_name == "Harbor Lease.pdf"
    assert focus.question == "When may the contract be terminated?"
    hits = r.search("Consider the Lease Agreement between Harbor Properties and Quill & Ink; "
                    "When may the contract be terminated?", k=3)
    assert {h.file for h in hits} == {"Harbor Lease.pdf"}
    assert r.focus("When may the contract be terminated?").doc_id is None


def test_modes_and_json_shape(matter):
    for mode in ("dense", "lexical", "hybrid"):
        hits = Retriever(matter, mode=mode).search("governing law Delaware", k=3)
        assert hits
        data = hits[0].to_json()
        assert set(data) == {"file", "page_start", "page_end", "text", "score"}
        assert isinstance(data["page_start"], int) and data["page_start"] >= 1
