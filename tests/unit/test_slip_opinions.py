"""Slip opinions and matters an older Desk made: the document's own "Cite as" head is no
authority it cites; cases not yet paginated ("567 U.S. ___") stay apart by name and can be
searched; documents imported before citations were found get them at the next import, at the
window's opening (an import of nothing) or from `desk authorities`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desk.cli import main
from desk.index.citations import FINDER_VERSION, OWN, find_citations, query_citations
from desk.index.matter import open_matter
from desk.index.retriever import Retriever
from desk.ingest.importer import ImportJob
from desk.review.authorities import cited_by, table_of_authorities
from tests.pdfs import make_pdf

HEAD = "Cite as: 570 U. S. ____ (2013)\n\nOpinion of the Court\n\n"
SLIP_PAGES = [
    HEAD + "We granted certiorari. 565 U. S. ___ (2012). Compare Arizona v. United States, "
    "567 U. S. ___ (2012), with National Federation of Independent Business v. Sebelius, "
    "567 U. S. ___, ___ (2012). The Court in Grutter v. Bollinger, 539 U. S. 306, 325 "
    "(2003), held that diversity is a compelling interest.",
    HEAD + "Id., at 330. Arizona, 567 U. S., at ___, concerned a state's immigration law; "
    "Sebelius, 567 U. S., at ___, the taxing power. The preemption analysis in Arizona "
    "is not repeated here.",
    HEAD + "The judgment is vacated. Grutter, 539 U. S., at 343.",
]


@pytest.fixture
def slip(tmp_path: Path):
    m = open_matter("slip")
    for _ in ImportJob(m, [make_pdf(tmp_path / "Fisher.pdf", SLIP_PAGES)], 500, 100).run():
        pass
    yield m
    m.close()


def test_the_documents_own_citation_is_kept_once_and_points_nothing_else_to_it():
    pages = find_citations(SLIP_PAGES)
    own = [(n, c.key) for n, page in enumerate(pages, 1) for c in page if c.form == OWN]
    assert own == [(1, "570 U.S. ___")]  # the running head of every page, stored once
    # the Id. right after page 2's head is Grutter's, not the opinion's own citation
    page_two = [(c.key, c.form, c.pin) for c in pages[1]]
    assert page_two[0] == ("539 U.S. 306", "id", "330")
    assert all(c.key != "570 U.S. ___" for page in pages for c in page if c.form != OWN)


def test_cases_of_one_volume_without_pages_stay_apart_by_name():
    pages = find_citations(SLIP_PAGES)
    shorts = [(c.name, SLIP_PAGES[1][c.start:c.end]) for c in pages[1] if c.form == "short"]
    assert shorts == [("Arizona v. United States", "567 U. S., at ___"),
                      ("National Federation of Independent Business v. Sebelius",
                       "567 U. S., at ___")]


def test_the_table_lists_each_unpaginated_case_and_not_the_document_itself(slip):
    doc = slip.catalog.documents()[0]
    cases = [(a.label, a.pages) for a in table_of_authorities(slip.catalog, doc).section("case")]
    assert cases == [
        ("Arizona v. United States, 567 U.S. ___", [1, 2]),
        ("Grutter v. Bollinger, 539 U.S. 306", [1, 2, 3]),
        ("National Federation of Independent Business v. Sebelius, 567 U.S. ___", [1, 2]),
        ("565 U.S. ___", [1]),  # unnamed: after the named cases
    ]
    assert "570 U.S. ___" not in {row["citation"] for row in cited_by(slip.catalog)}


@pytest.mark.parametrize("query", ["567 U.S. ___", "567 U. S. ___ (2012)", "567 us ___"])
def test_an_unpaginated_citation_can_be_searched(query):
    assert query_citations(query) == ["567 U.S. ___"]


def test_a_search_by_the_documents_own_citation_finds_its_first_page(slip):
    hits = Retriever(slip).search("570 U.S. ___", k=3)
    assert (hits[0].file, hits[0].page_start) == ("Fisher.pdf", 1)


def test_a_name_with_an_unpaginated_citation_finds_that_case_only(slip):
    catalog = slip.catalog
    arizona = catalog.citing_pages(["567 U.S. ___"], None, "Arizona v. United States")
    both = catalog.citing_pages(["567 U.S. ___"])
    assert sum(r[2] for r in arizona) == 2 and sum(r[2] for r in both) == 4
    hits = Retriever(slip).search("Arizona v. United States, 567 U.S. ___", k=2)
    assert {h.page_start for h in hits} == {1, 2}


def _as_if_imported_by_an_older_desk(matter) -> None:
    with matter.catalog.transaction() as db:
        db.execute("DELETE FROM citations")
        db.execute("UPDATE documents SET citations_version=0")


def test_an_import_finds_the_citations_of_documents_an_older_desk_imported(slip):
    found = slip.catalog.citations()
    _as_if_imported_by_an_older_desk(slip)
    assert slip.catalog.documents_to_cite() == [slip.catalog.documents()[0].id]
    job = ImportJob(slip, [], 500, 100)  # what the window runs when it opens the matter
    stages = [p.stage for p in job.run()]
    assert "citations" in stages
    assert slip.catalog.citations() == found
    assert slip.catalog.documents_to_cite() == []
    assert slip.catalog.db.execute("SELECT citations_version FROM documents").fetchone()[0] \
        == FINDER_VERSION


def test_desk_authorities_finds_them_first(slip, capsys):
    _as_if_imported_by_an_older_desk(slip)
    slip.close()
    assert main(["authorities", "--matter", "slip", "--document", "Fisher.pdf", "--json"]) == 0
    out = capsys.readouterr()
    assert "older Desk" in out.err
    cases = json.loads(out.out)["cases"]
    assert {c["citation"] for c in cases} == {"567 U.S. ___", "539 U.S. 306", "565 U.S. ___"}


def test_a_matter_from_before_the_version_column_gets_it(tmp_path):
    import sqlite3

    from desk.index.catalog import Catalog

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE documents (id INTEGER PRIMARY KEY AUTOINCREMENT, file_name TEXT "
               "NOT NULL, path TEXT NOT NULL UNIQUE, sha256 TEXT NOT NULL, page_count INTEGER "
               "NOT NULL DEFAULT 0, status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', "
               "pages_needing_ocr INTEGER NOT NULL DEFAULT 0, added_at REAL NOT NULL, "
               "missing_since REAL)")
    db.execute("INSERT INTO documents(file_name, path, sha256, status, added_at) "
               "VALUES ('a.pdf', '/a.pdf', 'x', 'indexed', 0)")
    db.commit()
    db.close()
    catalog = Catalog(path)
    assert catalog.documents_to_cite() == [1]
    catalog.close()


@pytest.mark.parametrize("query, expected", [
    ("cal civ code 1542", ["Cal. Civ. Code § 1542"]),
    ("what does n.y. gen. bus. law 349 require", ["N.Y. Gen. Bus. Law § 349"]),
    ("cal civ code 15420", []),  # another section
    ("cal civ code", []),  # no number: not a citation
])
def test_a_state_law_typed_loosely_matches_the_key_the_matter_holds(query, expected):
    from desk.index.citations import keys_typed_in

    held = ["Cal. Civ. Code § 1542", "N.Y. Gen. Bus. Law § 349", "539 U.S. 306"]
    assert keys_typed_in(query, held) == expected


def test_a_state_law_typed_in_lower_case_finds_the_page_citing_it(tmp_path):
    m = open_matter("state law")
    pages = ["The release waives the protection of Cal. Civ. Code § 1542 in full.",
             "Nothing on this page cites any law; it speaks of civil codes in general."]
    for _ in ImportJob(m, [make_pdf(tmp_path / "Release.pdf", pages)], 500, 100).run():
        pass
    hits = Retriever(m).search("cal civ code 1542", k=2)
    assert (hits[0].page_start, hits[0].score >= 1.0) == (1, True)
    m.close()


def test_id_skips_the_authorities_of_quoting_and_citing_parentheticals():
    page = ("A claim must be plausible. Ashcroft v. Iqbal, 556 U.S. 662, 678 (2009) (quoting "
            "Bell Atl. Corp. v. Twombly, 550 U.S. 544, 570 (2007)). It asks for more than a "
            "possibility. Id. (citing Twombly, 550 U.S. at 556). The facts are taken as true. "
            "Id. Compare Smith v. Jones, 123 F.3d 456, 460 (2d Cir. 1997) (internal quotation "
            "marks omitted) (quoting Doe v. Roe, 99 F.3d 1, 5 (1st Cir. 1996)). Id. at 461.")
    found = [(c.form, c.key, c.name) for c in find_citations([page])[0]]
    iqbal, smith = ("556 U.S. 662", "Ashcroft v. Iqbal"), ("123 F.3d 456", "Smith v. Jones")
    assert found == [("full", *iqbal), ("full", "550 U.S. 544", "Bell Atl. Corp. v. Twombly"),
                     ("id", *iqbal), ("short", "550 U.S. 544", "Bell Atl. Corp. v. Twombly"),
                     ("id", *iqbal), ("full", *smith), ("full", "99 F.3d 1", "Doe v. Roe"),
                     ("id", *smith)]


def test_the_reporters_page_markers_are_the_documents_own():
    pages = ["the statute. [590 F.Supp.3d 868] Under Purcell v. Gonzalez, 549 U.S. 1 (2006), "
             "courts wait.", "[590 F.Supp.3d 869] Id. at 4. More text."]
    found = [(n, c.form, c.key) for n, page in enumerate(find_citations(pages), 1)
             for c in page]
    assert found == [(1, OWN, "590 F. Supp. 3d 868"), (1, "full", "549 U.S. 1"),
                     (2, "id", "549 U.S. 1")]


def test_id_after_parallel_citations_is_keyed_by_the_first():
    page = ("Ashcroft v. Iqbal, 556 U.S. 662, 678, 129 S. Ct. 1937, 173 L. Ed. 2d 868 (2009). "
            "The facts are taken as true. Id. at 679.")
    assert [(c.form, c.key) for c in find_citations([page])[0]] == [
        ("full", "556 U.S. 662"), ("full", "129 S. Ct. 1937"), ("full", "173 L. Ed. 2d 868"),
        ("id", "556 U.S. 662")]


def test_id_to_a_pleadings_paragraph_is_not_the_rule_before_it():
    page = "Under Fed. R. Civ. P. 15(a), leave is freely given. (Compl. ¶ 3.) ( Id. ¶ 35.)"
    assert [(c.form, c.key) for c in find_citations([page])[0]] == [
        ("full", "Fed. R. Civ. P. 15")]
