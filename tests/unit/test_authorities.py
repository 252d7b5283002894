"""Citations found at import, searched in any form, and the table of authorities: a PDF made
here holds citations as the Court prints them and as lawyers type them, one broken across
lines, short forms, Id., supra, a statute and a regulation; a contract beside it holds section
numbers that must not become citations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document as WordDocument

from desk.cli import main
from desk.index.matter import open_matter
from desk.index.retriever import Retriever
from desk.ingest.importer import ImportJob
from desk.review.authorities import table_of_authorities, to_markdown, write_docx
from tests.pdfs import CONTRACT_PAGES, OPINION_PAGES, make_pdf


@pytest.fixture
def matter(tmp_path: Path):
    m = open_matter("cases")
    paths = [make_pdf(tmp_path / "Opinion.pdf", OPINION_PAGES),
             make_pdf(tmp_path / "MSA.pdf", CONTRACT_PAGES)]
    for _ in ImportJob(m, paths, 500, 100).run():
        pass
    yield m
    m.close()


def _doc(matter, name: str):
    return next(d for d in matter.catalog.documents() if d.file_name == name)


def test_citations_are_found_in_both_forms_and_short_forms_resolve(matter):
    cited = {(page, key, form) for _, page, key, _kind, form, *_ in
             matter.catalog.citations(_doc(matter, "Opinion.pdf").id)}
    assert {(1, "539 U.S. 306", "full"), (1, "631 F.3d 213", "full"),
            (1, "42 U.S.C. § 1983", "full"), (1, "29 C.F.R. § 1630.2", "full"),
            (2, "631 F.3d 213", "short"), (2, "539 U.S. 306", "supra"),
            (2, "42 U.S.C. § 1983", "full")} <= cited
    assert any(page == 2 and form == "id" for page, _, form in cited)
    assert not [c for c in cited if c[0] == 3]  # section numbers and garbage are not citations
    # the contract cites one statute, and none of its section numbers
    assert [(page, key, kind) for _, page, key, kind, *_ in
            matter.catalog.citations(_doc(matter, "MSA.pdf").id)] == [
        (3, "42 U.S.C. § 1983", "statute")]


@pytest.mark.parametrize("query, page", [
    ("539 U. S. 306", {1, 2}), ("539 US 306", {1, 2}), ("631 F. 3d 213", {1, 2}),
    ("631 F3d 213", {1, 2}), ("42 USC 1983", {1, 2}), ("42 U.S.C. section 1983", {1, 2}),
    ("29 CFR 1630.2", {1}), ("Grutter v. Bollinger", {1, 2}), ("Grutter", {1, 2}),
])
def test_a_citation_or_case_name_in_any_form_finds_the_pages_citing_it(matter, query, page):
    hits = Retriever(matter).search(query, k=4)
    assert hits[0].file == "Opinion.pdf" and hits[0].page_start in page


def test_a_contract_section_number_is_searched_as_before(matter):
    hits = Retriever(matter).search("Section 12.3", k=4)
    assert all(h.score < 1.0 for h in hits)  # no citation match: the hybrid ranking alone


def test_table_of_authorities_groups_sorts_and_lists_every_page(matter, tmp_path):
    table = table_of_authorities(matter.catalog, _doc(matter, "Opinion.pdf"))
    cases = table.section("case")
    assert [a.key for a in cases] == ["631 F.3d 213", "539 U.S. 306"]  # Fisher, then Grutter
    assert [a.pages for a in cases] == [[1, 2], [1, 2]]
    assert cases[1].name == "Grutter v. Bollinger"
    assert [(a.key, a.pages) for a in table.section("statute")] == [("42 U.S.C. § 1983", [1, 2])]
    assert [(a.key, a.pages) for a in table.section("regulation")] == [
        ("29 C.F.R. § 1630.2", [1])]
    markdown = to_markdown(table)
    assert "## Cases" in markdown and "| Grutter v. Bollinger, 539 U.S. 306 | 1, 2 |" in markdown

    out = tmp_path / "toa.docx"
    write_docx(table, out)
    word = WordDocument(str(out))
    texts = [p.text for p in word.paragraphs]
    assert texts[0] == "Table of Authorities: Opinion.pdf"
    assert [t for t in texts if t in ("Cases", "Statutes", "Regulations")] == [
        "Cases", "Statutes", "Regulations"]
    assert "Grutter v. Bollinger, 539 U.S. 306\t1, 2" in texts
    assert "42 U.S.C. § 1983\t1, 2" in texts


def test_desk_authorities_cli(matter, tmp_path, capsys):
    matter.close()
    assert main(["authorities", "--matter", "cases", "--document", "Opinion.pdf",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["citation"] for a in data["statutes"]] == ["42 U.S.C. § 1983"]
    assert main(["authorities", "--matter", "cases", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["authorities"]
    grutter = next(r for r in rows if r["citation"] == "539 U.S. 306")
    assert grutter["documents"] == [{"file": "Opinion.pdf", "references": grutter["references"]}]
    assert main(["authorities", "--matter", "cases", "--document", "Opinion.pdf",
                 "--docx", str(tmp_path / "t.docx"), "--md", str(tmp_path / "t.md")]) == 0
    assert (tmp_path / "t.md").read_text().startswith("# Table of authorities: Opinion.pdf")
    assert (tmp_path / "t.docx").stat().st_size > 0


def test_what_the_court_held_in_a_case_comes_from_the_page_discussing_it(matter):
    """Page 2 refers to Grutter twice (Id., supra), page 1 once: the discussion comes first."""
    hits = Retriever(matter).search("What did the court hold in Grutter?", k=4)
    assert (hits[0].file, hits[0].page_start) == ("Opinion.pdf", 2)


def test_parallel_citations_are_one_entry_of_the_table(tmp_path):
    pages = ["Ashcroft v. Iqbal, 556 U.S. 662, 678, 129 S. Ct. 1937, 173 L. Ed. 2d 868 (2009), "
             "sets the standard. Id. at 679.",
             "The standard is demanding. Iqbal, 129 S. Ct., at 1950. See also Bell Atl. Corp. v. "
             "Twombly, 550 U.S. 544 (2007)."]
    m = open_matter("parallel")
    for _ in ImportJob(m, [make_pdf(tmp_path / "Brief.pdf", pages)], 500, 100).run():
        pass
    table = table_of_authorities(m.catalog, _doc(m, "Brief.pdf"))
    assert [(a.label, a.pages, a.references) for a in table.section("case")] == [
        ("Ashcroft v. Iqbal, 556 U.S. 662, 129 S. Ct. 1937, 173 L. Ed. 2d 868", [1, 2], 5),
        ("Bell Atl. Corp. v. Twombly, 550 U.S. 544", [2], 1)]
    assert "| Ashcroft v. Iqbal, 556 U.S. 662, 129 S. Ct. 1937, 173 L. Ed. 2d 868 | 1, 2 |" \
        in to_markdown(table)
    out = tmp_path / "toa.docx"
    write_docx(table, out)
    lines = [p.text for p in WordDocument(str(out)).paragraphs]
    assert "Ashcroft v. Iqbal, 556 U.S. 662, 129 S. Ct. 1937, 173 L. Ed. 2d 868\t1, 2" in lines
    from desk.review.authorities import cited_by

    iqbal = next(r for r in cited_by(m.catalog) if r["citation"] == "556 U.S. 662")
    assert (iqbal["parallel"], iqbal["references"]) == (["129 S. Ct. 1937", "173 L. Ed. 2d 868"],
                                                        5)
    # each citation still finds its own pages
    assert {page for _, page, *_ in m.catalog.citing_pages(["129 S. Ct. 1937"])} == {1, 2}
    assert Retriever(m).search("129 S. Ct. 1937", k=2)[0].score >= 1.0
    m.close()
