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


def test_int8_embedder_stays_close_to_the_precise_one():
    import numpy as np

    from desk.index.embedder import get_embedder

    texts = [" ".join(page.split()) for page in CONTRACT_PAGES + OTHER]
    precise = get_embedder("all-MiniLM-L6-v2").embed(texts)
    fast = get_embedder("all-MiniLM-L6-v2-int8").embed(texts)
    assert precise.shape == fast.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)
    assert (precise * fast).sum(axis=1).min() > 0.97
    # Reference: the same model through transformers with mean pooling.
    import torch
    from transformers import AutoModel, AutoTokenizer

    from desk.index.embedder import _model_dir

    tok = AutoTokenizer.from_pretrained(str(_model_dir()))
    model = AutoModel.from_pretrained(str(_model_dir())).eval()
    batch = tok(texts[:2], padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1)
    ref = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    ref /= np.linalg.norm(ref, axis=1, keepdims=True)
    assert (ref * precise[:2]).sum(axis=1).min() > 0.9999


def test_large_matter_scores_only_the_rarest_terms_within_the_postings_budget(matter,
                                                                             monkeypatch):
    from desk.index import retriever as retriever_module

    retriever = Retriever(matter, load_settings().retrieval)
    terms = ["agreement", "tenant", "rent", "premises"]
    df = matter.catalog.document_frequencies(terms)
    assert df["agreement"] > df["rent"]
    monkeypatch.setattr(retriever_module, "POSTINGS_BUDGET", 0)
    kept = retriever._selective_terms(terms)
    assert len(kept) == retriever_module.MIN_TERMS and "agreement" not in kept
    monkeypatch.setattr(retriever_module, "POSTINGS_BUDGET", 10**9)
    assert retriever._selective_terms(terms) == terms  # within budget: nothing dropped


def test_follow_up_keeps_the_previous_question_unless_it_names_its_own_document(matter):
    retriever = Retriever(matter, load_settings().retrieval)
    previous = "Consider the Harbor Lease; what is the monthly rent?"
    assert retriever.follow_up_query("And who is the landlord?", previous) == (
        f"{previous} And who is the landlord?")
    own = "Consider the Master Services Agreement Acme; what is the governing law?"
    assert retriever.follow_up_query(own, previous) == own
    assert retriever.follow_up_query(own, None) == own
