"""Legal citations in page texts and queries (desk.index.citations): keys, resolution, spans,
the plausibility rule on contract text, and robustness on garbage."""

import random
import threading

import pytest

from desk.index import citations as cit
from desk.index.citations import (
    CASE,
    FULL,
    ID,
    OTHER,
    REGULATION,
    SHORT,
    STATUTE,
    SUPRA,
    Citation,
    find_citations,
    query_citations,
)

OPINION = ("Grutter v. Bollinger, 539 U.S. 306, 325 (2003). Id., at 330. The contract says "
           "nothing. Smith v. Jones, 631 F. 3d 213 (CA3 2011). Grutter, 539 U. S., at 328. See "
           "Smith, 631 F. 3d, at 230. Grutter, supra, at 331. Subject to § 4.1, id., at 332. "
           "42 U.S.C. § 1983. Id. § 1988.")

CONTRACT = ("1.1 Definitions. As stated in Section 12.3, the Buyer shall pay the Price. Subject to "
            "§ 4.1 of this Agreement, the Seller may deliver. Sec. 5 Governing Law. See Article "
            "7.2 and clause 3.1. Deliver 10 A. 5 units to Room 101 P. 3 of 10 by the date in "
            "Schedule 2. Docket 2020 WL 5. Payment of 5 F. 3d 10 units; 3 id. 4. Invoice "
            "2017-Ohio-55. Pursuant to Sections 2.1 and 2.2 hereof, §§ 3-4 apply. Id. at 12.")


def _flat(pages: list[str]) -> list[Citation]:
    return [c for page in find_citations(pages) for c in page]


def _one(text: str) -> Citation:
    found = _flat([text])
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("printed", [
    "539 U. S. 306", "539 U.S. 306", "539 US 306", "539 U.\nS. 306", "539\nU. S. 306",
    "539\u00a0U.S.\u00a0306", "539  U.S.  306", "539 U.S.\t306", "539 U.S.\n   306",
])
def test_printed_forms_give_the_typed_key_and_spans_on_the_raw_text(printed):
    text = f"See Grutter v. Bollinger, {printed}, 325 (2003)."
    c = _one(text)
    assert (c.kind, c.key, c.form, c.pin, c.year) == (CASE, "539 U.S. 306", FULL, "325", 2003)
    assert text[c.start:c.end] == printed and "306" in text[c.start:c.end]
    assert c.name == "Grutter v. Bollinger"
    assert query_citations(printed) == ["539 U.S. 306"]


def test_federal_reporter_forms_share_a_key():
    keys = {_one(f"Smith v. Jones, {form} (3d Cir. 2011).").key
            for form in ["631 F. 3d 213", "631 F.3d 213", "631 F3d 213", "631 F.\n3d 213"]}
    assert keys == {"631 F.3d 213"}


def test_short_forms_id_and_supra_resolve_to_their_full_citation():
    found = _flat([OPINION])
    rows = [(c.form, c.key, c.pin, c.name) for c in found]
    grutter, smith = "Grutter v. Bollinger", "Smith v. Jones"
    assert rows == [
        (FULL, "539 U.S. 306", "325", grutter),
        (ID, "539 U.S. 306", "330", grutter),
        (FULL, "631 F.3d 213", "", smith),
        (SHORT, "539 U.S. 306", "328", grutter),
        (SHORT, "631 F.3d 213", "230", smith),
        (SUPRA, "539 U.S. 306", "331", grutter),
        (ID, "539 U.S. 306", "332", grutter),  # the bare "§ 4.1" between does not break Id.
        (FULL, "42 U.S.C. § 1983", "", ""),
        (ID, "42 U.S.C. § 1988", "", ""),  # "Id. § 1988": the same code, another section
    ]
    for c in found:
        assert c.kind == (STATUTE if "U.S.C." in c.key else CASE)
        assert OPINION[c.start:c.end].strip()
    short = found[4]
    assert OPINION[short.start:short.end] == "631 F. 3d, at 230"


def test_a_year_read_past_the_next_citation_is_corrected():
    # eyecite alone gives Grutter the year of Smith's parenthetical (2011) here
    found = _flat([OPINION])
    assert {c.key: c.year for c in found if c.kind == CASE} == {
        "539 U.S. 306": 2003, "631 F.3d 213": 2011}


def test_id_at_the_top_of_page_two_resolves_to_page_one():
    pages = ["Grutter v. Bollinger, 539 U.S. 306 (2003).", "", "Id., at 330. And id."]
    result = find_citations(pages)
    assert len(result) == 3 and result[1] == []
    assert [(c.form, c.key, c.pin, c.name) for c in result[2]] == [
        (ID, "539 U.S. 306", "330", "Grutter v. Bollinger"),
        (ID, "539 U.S. 306", "", "Grutter v. Bollinger")]
    assert pages[2][result[2][0].start:result[2][0].end] == "Id., at 330"


def test_supra_and_short_forms_choose_between_cases_in_one_volume():
    text = ("Grutter v. Bollinger, 539 U.S. 306 (2003); Gratz v. Bollinger, 539 U.S. 244 "
            "(2003). The Court said so. 539 U. S., at 328. Later, 539 U.S., at 250. In Grutter "
            "v. Bollinger, supra, at 330, and Gratz, supra, at 270.")
    rows = [(c.form, c.key, c.pin, c.name) for c in _flat([text]) if c.form != FULL]
    assert rows == [
        (SHORT, "539 U.S. 306", "328", "Grutter v. Bollinger"),  # 328 is past Grutter's 306
        (SHORT, "539 U.S. 244", "250", "Gratz v. Bollinger"),
        (SUPRA, "539 U.S. 306", "330", "Grutter v. Bollinger"),  # "Bollinger" alone is both
        (SUPRA, "539 U.S. 244", "270", "Gratz v. Bollinger"),
    ]


def test_a_short_form_after_a_court_parenthetical_finds_its_case_by_name():
    text = ("Smith v. Jones, 631 F.3d 213 (3d Cir. 2011); Doe v. Roe, 631 F. 3d 500 (3d Cir. "
            "2011). Smith, 631 F. 3d, at 230.")
    short = [c for c in _flat([text]) if c.form == SHORT]
    assert [(c.key, c.pin, c.name) for c in short] == [("631 F.3d 213", "230", "Smith v. Jones")]


@pytest.mark.parametrize(("text", "key", "kind", "pin"), [
    ("42 U.S.C. § 1983", "42 U.S.C. § 1983", STATUTE, ""),
    ("42 U.S.C. §1983(a)", "42 U.S.C. § 1983", STATUTE, "(a)"),
    ("42 USC 1983", "42 U.S.C. § 1983", STATUTE, ""),
    ("42 U.S.C. 1983", "42 U.S.C. § 1983", STATUTE, ""),
    ("42 U.S.C. sec. 1983", "42 U.S.C. § 1983", STATUTE, ""),
    ("42 U.S.C.A. § 1983", "42 U.S.C. § 1983", STATUTE, ""),
    ("42 U. S. C. § 1983", "42 U.S.C. § 1983", STATUTE, ""),
    ("42 U.S.C.\n§ 1983", "42 U.S.C. § 1983", STATUTE, ""),
    ("42 U.S.C. §§ 1981-1983", "42 U.S.C. § 1981", STATUTE, ""),
    ("42 U.S.C. Section 2000e-2(a)(1)", "42 U.S.C. § 2000e-2", STATUTE, "(a)(1)"),
    ("42 U.S.C. § 2000e-\n2(a)", "42 U.S.C. § 2000e-2", STATUTE, "(a)"),
    ("15 U.S.C. §78j(b)", "15 U.S.C. § 78j", STATUTE, "(b)"),
    ("26 U.S.C. § 409A", "26 U.S.C. § 409A", STATUTE, ""),
    ("I.R.C. § 409A(a)", "26 U.S.C. § 409A", STATUTE, "(a)"),
    ("29 C.F.R. § 1630.2(g)", "29 C.F.R. § 1630.2", REGULATION, "(g)"),
    ("29 CFR 1630.2", "29 C.F.R. § 1630.2", REGULATION, ""),
    ("29 CFR § 1630.2", "29 C.F.R. § 1630.2", REGULATION, ""),
    ("29 C.F.R. Part 1630", "29 C.F.R. pt. 1630", REGULATION, ""),
    ("17 C.F.R. § 240.10b-5", "17 C.F.R. § 240.10b-5", REGULATION, ""),
    ("26 C.F.R. sec. 301.6231(a)(3)-1(a)(4)", "26 C.F.R. § 301.6231(a)(3)-1", REGULATION, "(a)(4)"),
    ("Treas. Reg. § 1.409A-1(b)", "Treas. Reg. § 1.409A-1", REGULATION, "(b)"),
    ("82 Fed. Reg. 12345 (Mar. 1, 2017)", "82 FR 12345", REGULATION, ""),
    ("Cal. Civ. Code § 1542", "Cal. Civ. Code § 1542", STATUTE, ""),
    ("Fed. R. Civ. P. 12(b)(6)", "Fed. R. Civ. P. 12", OTHER, "(b)(6)"),
    ("Fed. R. Evid. 702", "Fed. R. Evid. 702", OTHER, ""),
    ("Fed. R. App. P. 4(a)", "Fed. R. App. P. 4", OTHER, "(a)"),
    ("U.S. Const. art. I, § 8, cl. 3", "U.S. Const. art. I, § 8", OTHER, "cl. 3"),
    ("U.S. Const. amend. XIV", "U.S. Const. amend. XIV", OTHER, ""),
    ("Note, 100 Harv. L. Rev. 1, 5 (1987)", "100 Harv. L. Rev. 1", OTHER, "5"),
])
def test_statutes_regulations_and_rules(text, key, kind, pin):
    page = f"The claim arises under {text}. Nothing else."
    c = _one(page)
    assert (c.key, c.kind, c.form, c.pin) == (key, kind, FULL, pin)
    span = " ".join(page[c.start:c.end].split())
    assert span and span in " ".join(text.split()) and key.split()[-1][:3] in span.replace("§", "")


@pytest.mark.parametrize(("query", "keys"), [
    ("539 U. S. 306", ["539 U.S. 306"]),
    ("539 US 306", ["539 U.S. 306"]),
    ("539 U.S. 306", ["539 U.S. 306"]),
    ("539 u.s. 306", ["539 U.S. 306"]),
    ("539 U.S. 306, 328", ["539 U.S. 306"]),
    ("Grutter v. Bollinger, 539 U.S. 306, 328 (2003)", ["539 U.S. 306"]),
    ("631 F. 3d 213", ["631 F.3d 213"]),
    ("631 F3d 213", ["631 F.3d 213"]),
    ("631 f.3d 213", ["631 F.3d 213"]),
    ("42 U.S.C. § 1983", ["42 U.S.C. § 1983"]),
    ("42 USC 1983", ["42 U.S.C. § 1983"]),
    ("42 usc 1983", ["42 U.S.C. § 1983"]),
    ("42 U.S.C. Sec. 1983", ["42 U.S.C. § 1983"]),
    ("42 U.S.C. section 1983", ["42 U.S.C. § 1983"]),
    ("42 U.S.C. § 1983(a)", ["42 U.S.C. § 1983"]),
    ("26 usc 409a", ["26 U.S.C. § 409A"]),
    ("29 CFR 1630.2", ["29 C.F.R. § 1630.2"]),
    ("29 C.F.R. § 1630.2", ["29 C.F.R. § 1630.2"]),
    ("29 cfr 1630.2(g)", ["29 C.F.R. § 1630.2"]),
    ("FRCP 12(b)(6)", ["Fed. R. Civ. P. 12"]),
    ("us const amend 14", ["U.S. Const. amend. XIV"]),
    ("does 539 US 306 apply to 42 USC 1983 claims?", ["539 U.S. 306", "42 U.S.C. § 1983"]),
    ("termination for convenience", []),
    ("Section 12.3", []),
    ("", []),
    ("§", []),
])
def test_query_citations(query, keys):
    assert sorted(query_citations(query)) == sorted(keys)


def test_document_and_query_keys_meet():
    page = ("Grutter v. Bollinger, 539 U. S. 306 (2003); 42 U.S.C. § 1983(a); 29 C.F.R. "
            "§ 1630.2(g); Smith v. Jones, 631 F. 3d 213 (3d Cir. 2011).")
    doc_keys = {c.key for c in _flat([page])}
    typed = ["539 US 306", "42 USC 1983", "29 CFR 1630.2", "631 F3d 213"]
    assert doc_keys == {k for q in typed for k in query_citations(q)}


def test_contract_numbering_is_not_a_citation():
    assert find_citations([CONTRACT, CONTRACT.upper(), CONTRACT.replace(". ", ".\n")]) == [
        [], [], []]


def test_plausibility_is_per_case():
    # A bare repeat of a named case stays; a bare citation near a plausible one (a string of
    # citations, subsequent history) stays; a bare one on its own goes, and so does its Id.
    text = ("Waters v. Commissioner, 978 F.2d 1310, 1316 (2d Cir. 1992), aff'g T.C. Memo. "
            "1991-462. The Court returned to 978 F.2d 1310 later.\n\nElsewhere, deliver 10 A. 5 "
            "units. Id. at 7.")
    rows = [(c.form, c.key) for c in _flat([text])]
    assert rows == [(FULL, "978 F.2d 1310"), (FULL, "T.C. Memo. 1991-462"),
                    (FULL, "978 F.2d 1310")]
    # A short form pointing to a bare citation makes it plausible.
    rows = [(c.form, c.key) for c in _flat(["See 12 F.3d 100. Later, 12 F.3d, at 104."])]
    assert rows == [(FULL, "12 F.3d 100"), (SHORT, "12 F.3d 100")]


def test_id_after_a_dropped_citation_is_dropped():
    assert _flat(["Deliver 10 A. 5 units. Id. at 7."]) == []


def test_id_with_a_page_after_a_code_section_is_of_something_else():
    rows = [(c.form, c.key, c.pin) for c in _flat([
        "42 U.S.C. § 1983. Id. at 5. Compare 83 Stat. 86. Id., at 88."])]
    assert rows == [(FULL, "42 U.S.C. § 1983", ""), (FULL, "83 Stat. 86", ""),
                    (ID, "83 Stat. 86", "88")]


def test_parallel_citations_and_in_re_names():
    text = ("Brown v. Board of Education, 347 U.S. 483, 495, 74 S. Ct. 686, 98 L. Ed. 873 "
            "(1954). In re Smith, 123 B.R. 456 (Bankr. D. Del. 1990).")
    rows = [(c.key, c.name, c.year) for c in _flat([text])]
    brown = "Brown v. Board of Education"
    assert rows == [("347 U.S. 483", brown, 1954), ("74 S. Ct. 686", brown, 1954),
                    ("98 L. Ed. 873", brown, 1954), ("123 B.R. 456", "In re Smith", 1990)]


def test_reporter_first_and_slip_citations():
    rows = [(c.key, c.form) for c in _flat([
        "Carpenter v. United States, 585 U.S. ___ (2018). Knudsen v. Commissioner, T.C. Memo. "
        "2007-340. Brand v. Commissioner, 81 T.C. 821 (1983). Brand v. Commissioner, 81 T.C. "
        "at 828. Id. at 823."])]
    assert rows == [("585 U.S. ___", FULL), ("T.C. Memo. 2007-340", FULL), ("81 T.C. 821", FULL),
                    ("81 T.C. 821", SHORT), ("81 T.C. 821", ID)]


def test_garbage_never_raises():
    rng = random.Random(7)
    garbage = [bytes(rng.randrange(256) for _ in range(3000)).decode("latin-1"),
               bytes(rng.randrange(256) for _ in range(500)).decode("utf-8", "replace"),
               "539 U.S.", "U.S. 306", "§", "§§", "", "   ", "\f", "Id.", "supra", "Id. at",
               "v. , 1 U.S. 1 (", "42 U.S.C. §", "29 C.F.R.", "(((((", "Grutter, supra, at",
               "539 U. S., at", "\x00\x01\ufeff\u200b\u00ad", "9" * 5000, "U.S. " * 2000]
    result = find_citations(garbage)
    assert len(result) == len(garbage)
    assert find_citations([]) == []
    for text in garbage:
        assert isinstance(query_citations(text), list)
    assert find_citations([None]) == [[]]  # type: ignore[list-item]


def test_a_long_page_is_read_in_pieces_with_spans_on_the_page():
    filler = "The parties met and the court considered the matter at length. " * 120
    page = filler + "Grutter v. Bollinger, 539 U.S. 306 (2003). " + filler + "Id., at 330."
    found = _flat([page])
    assert len(page) > 2 * cit._MAX_CHUNK
    assert [(c.form, c.key) for c in found] == [(FULL, "539 U.S. 306"), (ID, "539 U.S. 306")]
    assert page[found[0].start:found[0].end] == "539 U.S. 306"
    assert page[found[1].start:found[1].end] == "Id., at 330"


def test_the_digit_gated_tokenizer_finds_what_eyecites_own_finds():
    engine = cit._engine()
    texts = [[OPINION], [CONTRACT], ["Brown v. Board of Education, 347 U.S. 483, 495, 74 S. Ct. "
             "686 (1954); Doe v. Roe, 123 F. Supp. 2d 456 (S.D.N.Y. 2000); Cal. Civ. Code § 1542;"
             " 5 U.S. (1 Cranch) 137; 2020 WL 1234567 (S.D.N.Y. Jan. 2, 2020); 2017-Ohio-1234; "
             "Del. Code Ann. tit. 8, § 102(b)(7); Pub. L. No. 111-148, § 1101; 82 Stat. 6."]]
    for pages in texts:
        assert cit._find(pages, engine.stock) == cit._find(pages, engine.tokenizer)


def test_the_faster_court_lookup_answers_as_eyecites_own():
    import eyecite.helpers

    cit._engine()
    ours = eyecite.helpers.get_court_by_paren
    theirs = ours.eyecite_original
    strings = {"", "2d Cir.", "9th Cir. 2010", "CA5", "S.D.N.Y.", "D. Mass.", "Tex. App.", "zz"}
    for court in eyecite.helpers.courts[::7]:
        name = court["citation_string"]
        strings |= {name, name[:3], name[: len(name) // 2], name + "x"}
    assert [ours(s) for s in sorted(strings)] == [theirs(s) for s in sorted(strings)]
    assert ours("2d Cir.") == "ca2"


def test_the_faster_reference_search_finds_what_eyecites_own_finds(monkeypatch):
    import eyecite.find

    cit._engine()
    page = ("In Grutter v. Bollinger, 539 U.S. 306 (2003), the Court upheld it. Later, in "
            "Grutter at 330, it said more, and in Bollinger at 343 (opinion) more still.")
    ours = cit._find([page, OPINION], cit._engine().tokenizer)
    references = [(page[c.start:c.end], c.key, c.form, c.pin) for c in ours[0]
                  if page[c.start].isalpha()]
    assert references == [("Grutter at 330", "539 U.S. 306", SHORT, "330"),
                          ("Bollinger at 343", "539 U.S. 306", SHORT, "343")]
    monkeypatch.setattr(eyecite.find, "extract_pincited_reference_citations",
                        eyecite.find.extract_pincited_reference_citations.eyecite_original)
    assert cit._find([page, OPINION], cit._engine().tokenizer) == ours


def test_threads_get_the_same_answer():
    expected = find_citations([OPINION, CONTRACT])
    results: list[object] = []

    def run():
        results.append(find_citations([OPINION, CONTRACT]))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


def test_each_section_of_a_list_is_its_own_authority():
    page = ("Claims under 42 U.S.C. §§ 1981, 1983, and 1985(3) fail, as do those under "
            "29 C.F.R. §§ 1630.2 and 1630.9. 26 U.S.C. sections 409A and 4999 apply.")
    found = [(c.key, c.pin, page[c.start:c.end]) for c in find_citations([page])[0]]
    assert found == [
        ("42 U.S.C. § 1981", "", "42 U.S.C. §§ 1981"), ("42 U.S.C. § 1983", "", "1983"),
        ("42 U.S.C. § 1985", "(3)", "1985(3)"),
        ("29 C.F.R. § 1630.2", "", "29 C.F.R. §§ 1630.2"), ("29 C.F.R. § 1630.9", "", "1630.9"),
        ("26 U.S.C. § 409A", "", "26 U.S.C. sections 409A"), ("26 U.S.C. § 4999", "", "4999")]
    assert query_citations("42 U.S.C. §§ 1981, 1983") == ["42 U.S.C. § 1981", "42 U.S.C. § 1983"]


@pytest.mark.parametrize("page, keys", [
    ("42 U.S.C. §§ 1981, 28 U.S.C. § 1331", ["42 U.S.C. § 1981", "28 U.S.C. § 1331"]),
    ("under 42 U.S.C. §§ 1981, 12 months later", ["42 U.S.C. § 1981"]),
    ("42 U.S.C. §§ 1983 and 28 U.S.C. § 1988", ["42 U.S.C. § 1983", "28 U.S.C. § 1988"]),
    ("42 U.S.C. § 1983, 1988 is cited", ["42 U.S.C. § 1983"]),  # one "§": no list
    ("28 U.S.C. §§ 1331-1332", ["28 U.S.C. § 1331"]),  # a range: by its first section
])
def test_what_follows_a_list_is_not_read_as_its_sections(page, keys):
    assert [c.key for c in find_citations([page])[0]] == keys
