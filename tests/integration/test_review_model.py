"""Review cells and a brief with the real small model (SmolLM2-135M) through llama.cpp's
JSON-schema grammar over a real PDF: what the 135M model decides is not asserted, that its
output is always the schema's JSON, that quotes are the page's words and that citations are
checked on their pages is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desk.config.settings import load_settings
from desk.core.progress import drive
from desk.core.text import tokens
from desk.index.matter import open_matter
from desk.ingest.importer import ImportJob
from desk.llm.model import Generation
from desk.llm.runtime import load_runtime
from desk.llm.store import ModelStore
from desk.rag.citations import contains
from desk.review.brief import make_briefs
from desk.review.extract import PARTIES_SCHEMA, VALUE_SCHEMA, YES_NO_SCHEMA
from desk.review.job import run_review
from desk.review.terms import resolve_terms
from tests.unit.test_review_job import SUPPLY

SMOL = "smollm2-135m-instruct-q4_1"


@pytest.fixture
def settings():
    s = load_settings()
    s.llm.n_ctx = 2048
    return s


@pytest.fixture
def runtime(settings):
    return load_runtime(ModelStore().path(SMOL), settings.llm)


@pytest.fixture
def matter(tmp_path: Path):
    m = open_matter("supply")
    for _ in ImportJob(m, [make_pdf_path(tmp_path)], 500, 100).run():
        pass
    yield m
    m.close()


def make_pdf_path(tmp_path: Path) -> Path:
    from tests.pdfs import make_pdf

    return make_pdf(tmp_path / "Supply Orion.pdf", SUPPLY)


@pytest.mark.parametrize("schema", [YES_NO_SCHEMA, VALUE_SCHEMA, PARTIES_SCHEMA])
def test_the_grammar_makes_the_small_model_write_the_schemas_json(runtime, schema):
    messages = [{"role": "user", "content": "[1] (p. 1) Neither party may assign this "
                 "Agreement.\n\nQuestion: Who are the parties? Answer in JSON."}]
    text = "".join(runtime.stream_chat(messages, 120, None, Generation(), schema=schema))
    reply = json.loads(text)
    assert set(schema["required"]) <= set(reply)
    assert all(isinstance(n, int) for n in reply["sentences"])


def test_a_model_review_stores_json_cells_whose_quotes_are_checked_on_their_pages(
        matter, runtime, settings):
    terms = resolve_terms(["Anti-Assignment", "Insurance", "Parties",
                           "What must the supplier deliver?"])
    rows = drive(run_review(matter, runtime, settings, terms, route="model"), lambda _: None)
    cells = rows[0].cells
    assert set(cells) == {t.name for t in terms}
    for cell in cells.values():
        assert cell.route == "model"
        assert not cell.reason.startswith("the model's reply was not JSON"), cell.reason
        for citation in cell.citations:
            page = matter.catalog.page(cell.doc_id, citation.page)
            on_page = contains(tokens(page.text), tokens(citation.quote)) >= 0
            assert on_page or not citation.verified
            assert citation.verified or citation.reason


def test_a_brief_with_the_small_model_is_cited_and_checked(matter, runtime, settings):
    rows = drive(run_review(matter, runtime, settings, resolve_terms(["Governing Law"])),
                 lambda _: None)
    rows = drive(make_briefs(matter, runtime, settings, rows), lambda _: None)
    brief = rows[0].brief
    assert brief is not None and brief
    assert brief[0]["text"].startswith("SUPPLY AGREEMENT, dated 2014-03-03")
    for sentence in brief:
        assert sentence["citations"]
        for citation in sentence["citations"]:
            page = matter.catalog.page(rows[0].doc_id, citation["page"])
            assert citation["verified"] == (contains(tokens(page.text),
                                                      tokens(citation["quote"])) >= 0)
