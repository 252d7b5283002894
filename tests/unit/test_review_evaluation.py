"""Review evaluation (desk.evaluation.review) on small hand-made review sets: presence P/R/F1
and macro F1, value accuracy per answer term, verified and gold-page shares, the keyword
baseline, the report, and loading the set (with the real CUAD set when it is there)."""

import json
from pathlib import Path
from typing import Any

import pytest

from desk.core.errors import DeskError
from desk.evaluation.review import (
    format_report,
    gold_parties,
    keyword_baseline,
    load_review_set,
    score_review,
)
from desk.review.cells import Cell, CellCitation

CUAD_REVIEW = Path("/work/shared/data/cuad-dev/cuad-dev-review.json")

CATEGORIES = {
    "Document Name": "answer", "Parties": "answer", "Agreement Date": "answer",
    "Expiration Date": "answer", "Renewal Term": "answer",
    "Notice Period To Terminate Renewal": "answer", "Governing Law": "answer",
    "Non-Compete": "yes-no", "Audit Rights": "yes-no", "Source Code Escrow": "yes-no",
}


def gold(present: bool, answer: Any = None, pages: list[int] | None = None) -> dict[str, Any]:
    quotes = [{"text": "clause", "pages": pages}] if pages is not None else []
    return {"present": present, "answer": answer, "quotes": quotes}


def review_set(documents: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    return {"name": "test", "categories": CATEGORIES,
            "documents": [{"file": f, "terms": t} for f, t in documents.items()]}


def cell(file: str, term: str, value: str, present: bool = True,
         typed: dict[str, Any] | None = None, citations: list[CellCitation] | None = None,
         route: str = "code") -> Cell:
    return Cell(1, file, term, value, present, citations or [], typed, route)


def absent(file: str, term: str) -> Cell:
    return cell(file, term, "Not found", present=False, route="none")


def yes_no(file: str, term: str, present: bool) -> Cell:
    return cell(file, term, "Yes" if present else "No", present=present, route="model")


def date_cell(file: str, term: str, iso_date: str) -> Cell:
    return cell(file, term, iso_date, typed={"type": "date", "iso": iso_date})


def duration_cell(file: str, term: str, days: int | None, months: int | None) -> Cell:
    return cell(file, term, "x", typed={"type": "duration", "days": days, "months": months,
                                        "text": "x"})


GOLD = review_set({
    "a.pdf": {
        "Document Name": gold(True, "JOINT VENTURE AGREEMEN"),
        "Parties": gold(True, 'Company A, Inc. ("A"); B Corp. ("B"); A and B (collectively '
                              'the "Parties")'),
        "Agreement Date": gold(True, "11/9/05"),
        "Expiration Date": gold(False, "perpetual"),
        "Renewal Term": gold(True, "successive 1 year"),
        "Notice Period To Terminate Renewal": gold(True, "3 months"),
        "Governing Law": gold(True, "Province of Ontario, Canada"),
        "Non-Compete": gold(True, "Yes"),
        "Audit Rights": gold(True, "Yes"),
        "Source Code Escrow": gold(False, "No"),
    },
    "b.pdf": {
        "Document Name": gold(True, "SUPPLY AGREEMENT"),
        "Parties": gold(True, 'X LLC ("X"); Y Ltd ("Y")'),
        "Agreement Date": gold(True, "09/[]/2018"),
        "Expiration Date": gold(True, "2/28/23"),
        "Renewal Term": gold(True, "perpetual"),
        "Notice Period To Terminate Renewal": gold(True, "30 days"),
        "Governing Law": gold(False),
        "Non-Compete": gold(False, "No"),
        "Audit Rights": gold(True, "Yes"),
        "Source Code Escrow": gold(False, "No"),
    },
    "c.pdf": {
        "Document Name": gold(True, "SERVICE AGREEMENT"),
        "Expiration Date": gold(True, "12/31/08"),
        "Renewal Term": gold(False),
        "Notice Period To Terminate Renewal": gold(True, "90 days"),
        "Non-Compete": gold(False, "No"),
        "Audit Rights": gold(False, "No"),
        "Source Code Escrow": gold(False, "No"),
    },
    "not-reviewed.pdf": {"Non-Compete": gold(True, "Yes")},
})

TERMS = list(CATEGORIES) + ["Who pays for shipping?"]  # a custom column: not scored


def rows() -> dict[str, dict[str, Cell]]:
    a, b, c = "a.pdf", "b.pdf", "c.pdf"
    return {
        a: {
            "Document Name": cell(a, "Document Name", "Joint Venture Agreement"),
            "Parties": cell(a, "Parties", "Company A Inc; B Corp."),
            "Agreement Date": date_cell(a, "Agreement Date", "2005-11-09"),
            "Expiration Date": absent(a, "Expiration Date"),
            "Renewal Term": duration_cell(a, "Renewal Term", None, 12),
            "Notice Period To Terminate Renewal": duration_cell(
                a, "Notice Period To Terminate Renewal", 90, None),
            "Governing Law": cell(a, "Governing Law", "Ontario",
                                  typed={"type": "place", "name": "Ontario"}),
            "Non-Compete": yes_no(a, "Non-Compete", True),
            "Audit Rights": yes_no(a, "Audit Rights", True),
            "Source Code Escrow": yes_no(a, "Source Code Escrow", False),
            "Who pays for shipping?": cell(a, "Who pays for shipping?", "Buyer"),
        },
        b: {
            "Document Name": cell(b, "Document Name", "Agreement"),
            "Parties": cell(b, "Parties", "X, LLC"),
            "Agreement Date": date_cell(b, "Agreement Date", "2018-09-01"),
            "Expiration Date": date_cell(b, "Expiration Date", "2023-02-28"),
            "Renewal Term": duration_cell(b, "Renewal Term", None, 12),
            "Notice Period To Terminate Renewal": duration_cell(
                b, "Notice Period To Terminate Renewal", 35, None),
            "Governing Law": cell(b, "Governing Law", "Delaware"),
            "Non-Compete": yes_no(b, "Non-Compete", True),
            "Audit Rights": yes_no(b, "Audit Rights", True),
            "Source Code Escrow": yes_no(b, "Source Code Escrow", False),
        },
        c: {
            "Document Name": cell(c, "Document Name", "License Agreement"),
            "Expiration Date": cell(c, "Expiration Date", "December 31, 2008"),  # not typed
            "Renewal Term": absent(c, "Renewal Term"),
            "Notice Period To Terminate Renewal": absent(c, "Notice Period To Terminate Renewal"),
            "Non-Compete": yes_no(c, "Non-Compete", False),
            "Audit Rights": yes_no(c, "Audit Rights", False),
            "Source Code Escrow": yes_no(c, "Source Code Escrow", False),
        },
    }


def test_presence_metrics_per_term_and_macro_f1() -> None:
    report = score_review(GOLD, rows(), TERMS)
    presence = report["presence"]
    assert list(presence) == ["Non-Compete", "Audit Rights", "Source Code Escrow"]
    assert presence["Non-Compete"] == {"tp": 1, "fp": 1, "fn": 0, "tn": 1, "precision": 0.5,
                                       "recall": 1.0, "f1": 0.6667, "n": 3}
    assert presence["Audit Rights"] == {"tp": 2, "fp": 0, "fn": 0, "tn": 1, "precision": 1.0,
                                        "recall": 1.0, "f1": 1.0, "n": 3}
    # No gold and no predicted positives: no F1, and left out of the macro average.
    assert presence["Source Code Escrow"] == {"tp": 0, "fp": 0, "fn": 0, "tn": 3,
                                              "precision": None, "recall": None, "f1": None,
                                              "n": 3}
    assert report["macro_f1"] == 0.8333  # (2/3 + 1) / 2
    assert report["documents"] == 3
    # 10 cells in a, 10 in b, 7 in c; the custom column and the unreviewed document are out.
    assert report["cells"] == 27


def test_presence_with_gold_but_no_predictions_scores_zero() -> None:
    gold_set = review_set({"a.pdf": {"Non-Compete": gold(True, "Yes")}})
    report = score_review(gold_set, {"a.pdf": {"Non-Compete": yes_no("a.pdf", "Non-Compete",
                                                                       False)}},
                          ["Non-Compete"])
    assert report["presence"]["Non-Compete"]["f1"] == 0.0
    assert report["presence"]["Non-Compete"]["precision"] is None
    assert report["presence"]["Non-Compete"]["recall"] == 0.0
    assert report["macro_f1"] == 0.0


def test_value_accuracy_per_answer_term() -> None:
    values = score_review(GOLD, rows(), TERMS)["values"]

    def summary(term: str) -> tuple[int, int, int]:
        v = values[term]
        return v["correct"], v["total"], v["skipped"]

    # Ontario == "Province of Ontario, Canada"; Delaware where the experts found no clause.
    assert summary("Governing Law") == (1, 2, 0)
    assert values["Governing Law"]["misses"] == [
        {"file": "b.pdf", "gold": None, "value": "Delaware"}]
    assert summary("Agreement Date") == (1, 1, 1)  # "09/[]/2018" has no day: skipped
    # perpetual and absent: right; typed date: right; an untyped date is not a typed value.
    assert summary("Expiration Date") == (2, 3, 0)
    assert values["Expiration Date"]["misses"] == [
        {"file": "c.pdf", "gold": "12/31/08", "value": "December 31, 2008"}]
    assert summary("Renewal Term") == (2, 2, 1)  # "perpetual" renewal: skipped
    # 90 days == 3 months (91 days); 35 days != 30 days; absent where the experts have 90 days.
    assert summary("Notice Period To Terminate Renewal") == (1, 3, 0)
    assert summary("Parties") == (1, 2, 0)
    assert (values["Parties"]["parties_found"], values["Parties"]["parties_total"]) == (3, 4)
    # Containment either way: "Agreement" is in "SUPPLY AGREEMENT".
    assert summary("Document Name") == (2, 3, 0)
    assert values["Document Name"]["accuracy"] == 0.6667


def test_only_requested_terms_and_documents_are_scored() -> None:
    report = score_review(GOLD, {"a.pdf": rows()["a.pdf"]}, ["Governing Law", "Non-Compete"])
    assert list(report["presence"]) == ["Non-Compete"]
    assert list(report["values"]) == ["Governing Law"]
    assert report["cells"] == 2
    assert report["values"]["Governing Law"]["accuracy"] == 1.0


def test_misses_are_capped_at_ten() -> None:
    files = [f"{i}.pdf" for i in range(12)]
    gold_set = review_set({f: {"Governing Law": gold(True, "Delaware")} for f in files})
    cells = {f: {"Governing Law": cell(f, "Governing Law", "Nevada")} for f in files}
    value = score_review(gold_set, cells, ["Governing Law"])["values"]["Governing Law"]
    assert (value["correct"], value["total"], value["accuracy"]) == (0, 12, 0.0)
    assert len(value["misses"]) == 10
    assert value["misses"][0] == {"file": "0.pdf", "gold": "Delaware", "value": "Nevada"}


def test_perpetual_expiration_accepts_a_cell_saying_so() -> None:
    gold_set = review_set({"a.pdf": {"Expiration Date": gold(True, "perpetual")},
                           "b.pdf": {"Expiration Date": gold(True, "perpetual")}})
    cells = {"a.pdf": {"Expiration Date": cell("a.pdf", "Expiration Date", "Perpetual")},
             "b.pdf": {"Expiration Date": date_cell("b.pdf", "Expiration Date", "2020-01-01")}}
    value = score_review(gold_set, cells, ["Expiration Date"])["values"]["Expiration Date"]
    assert (value["correct"], value["total"]) == (1, 2)


def test_verified_and_gold_page_shares() -> None:
    def cite(page: int, verified: bool = True, file: str = "a.pdf") -> CellCitation:
        return CellCitation(file, page, "quote", verified, "" if verified else "not on page")

    gold_set = review_set({"a.pdf": {
        "Non-Compete": gold(True, "Yes", pages=[3]),
        "Audit Rights": gold(True, "Yes", pages=[5, 6]),
        "Source Code Escrow": gold(True, "Yes", pages=[]),  # quote not placed: not counted
        "Governing Law": gold(True, "Delaware", pages=[9]),
    }})
    a = "a.pdf"
    cells = {a: {
        "Non-Compete": cell(a, "Non-Compete", "Yes", citations=[cite(3)]),
        "Audit Rights": cell(a, "Audit Rights", "Yes", citations=[cite(6), cite(7, False)]),
        "Source Code Escrow": cell(a, "Source Code Escrow", "Yes", citations=[cite(1)]),
        # cites page 9, but of another file
        "Governing Law": cell(a, "Governing Law", "Delaware",
                              citations=[cite(9, file="other.pdf")]),
    }}
    report = score_review(gold_set, cells, list(CATEGORIES))
    # verified: Non-Compete, Source Code Escrow, Governing Law; Audit Rights has one failed.
    assert report["verified_share"] == 0.75
    # gold pages cited: Non-Compete, Audit Rights (page 6) of the three with gold pages.
    assert report["cited_gold_page_share"] == 0.6667
    assert report["cells"] == 4


def test_derived_and_absent_cells_are_left_out_of_verified_share() -> None:
    gold_set = review_set({"a.pdf": {"Non-Compete": gold(False, "No"),
                                     "Audit Rights": gold(True, "Yes", pages=[2])}})
    cells = {"a.pdf": {
        "Non-Compete": absent("a.pdf", "Non-Compete"),
        "Audit Rights": cell("a.pdf", "Audit Rights", "Yes", route="derived"),
    }}
    report = score_review(gold_set, cells, ["Non-Compete", "Audit Rights"])
    assert report["verified_share"] is None
    assert report["cited_gold_page_share"] is None  # the only gold-page cell cites nothing


@pytest.mark.parametrize(("answer", "names"), [
    ('Company A, Inc. ("A"); B Corp. ("B"); A and B (collectively the "Parties")',
     ["Company A, Inc", "B Corp"]),
    ('General Electric Capital Corporation together with its successors and assigns, if any '
     '(“Lessor”); Duckwall-Alco Stores, Inc. (the “Company”)',
     ["General Electric Capital Corporation", "Duckwall-Alco Stores, Inc"]),
    ('Jacksonville Jaguars, LLC ("Club"); The ARC Group, Inc. ("Sponser")',
     ["Jacksonville Jaguars, LLC", "ARC Group, Inc"]),
    ('Holiday RV Superstores, Inc. d/b/a Recreation USA ("Company"); Affinity Group, Inc. '
     '("AGI"); Company and AGI (each a "Party" and collectively the "Parties")',
     ["Holiday RV Superstores, Inc", "Affinity Group, Inc"]),
    ('Tate & Lyle Fermentation Products Ltd. ("T&L"); Tate & Lyle PLC; Igene Biotechnology, '
     'Inc. ("Igene"); (collectively "Parties"); (each "Party")',
     ["Tate & Lyle Fermentation Products Ltd", "Tate & Lyle PLC", "Igene Biotechnology, Inc"]),
    ('MJ Syndicated, Inc.; SIMPLY HERBAL; individually and collectively "JVP"',
     ["MJ Syndicated, Inc", "SIMPLY HERBAL"]),
    ('Glamis Gold Ltd. and all of its subsidiaries and other Affiliates ("Glamis"); Western '
     'Copper Corporation and all of its subsidiaries and other Affiliates ("Western Copper")',
     ["Glamis Gold Ltd", "Western Copper Corporation"]),
])
def test_gold_parties(answer: str, names: list[str]) -> None:
    assert gold_parties(answer) == names


def test_parties_match_ignores_case_and_punctuation() -> None:
    gold_set = review_set({"a.pdf": {"Parties": gold(
        True, 'Duckwall-Alco Stores, Inc. (the “Company”); Papa John\'s Marketing Fund, Inc '
              '("PJMF")')}})
    cells = {"a.pdf": {"Parties": cell("a.pdf", "Parties", "x", typed={
        "type": "parties", "names": ["DUCKWALL ALCO STORES INC.", "Papa Johns Marketing Fund"]})}}
    value = score_review(gold_set, cells, ["Parties"])["values"]["Parties"]
    # "Papa Johns" is not "Papa John's" once punctuation splits the words; the rest matches.
    assert (value["parties_found"], value["parties_total"], value["correct"]) == (1, 2, 0)
    cells["a.pdf"]["Parties"] = cell("a.pdf", "Parties", "Duckwall-Alco Stores, Inc. and "
                                     "PAPA JOHN'S MARKETING FUND, INC.")
    value = score_review(gold_set, cells, ["Parties"])["values"]["Parties"]
    assert (value["parties_found"], value["parties_total"], value["correct"]) == (2, 2, 1)


def test_keyword_baseline_scores_presence_like_desk() -> None:
    pages = {"a.pdf": ["The Distributor shall not COMPETE with Supplier.", "Signatures"],
             "b.pdf": ["Supplier's books may be audited once a year."],
             "c.pdf": ["Nothing relevant."]}
    baseline = keyword_baseline(GOLD, pages, ["Non-Compete", "Audit Rights", "Governing Law"])
    assert baseline["documents"] == 3
    assert list(baseline["presence"]) == ["Non-Compete", "Audit Rights"]
    assert baseline["presence"]["Non-Compete"] == {"tp": 1, "fp": 0, "fn": 0, "tn": 2,
                                                   "precision": 1.0, "recall": 1.0, "f1": 1.0,
                                                   "n": 3}
    assert baseline["presence"]["Audit Rights"]["f1"] == 0.6667  # a missed, b found
    assert baseline["macro_f1"] == 0.8333


def test_format_report_lists_terms_values_and_baseline() -> None:
    report = score_review(GOLD, rows(), TERMS)
    baseline = keyword_baseline(GOLD, {"a.pdf": ["compete"], "b.pdf": [""], "c.pdf": [""]},
                                TERMS)
    text = format_report(report, baseline)
    lines = text.splitlines()
    non_compete = next(line for line in lines if line.startswith("Non-Compete"))
    assert non_compete.split() == ["Non-Compete", "0.50", "1.00", "0.67", "1.00", "3"]
    escrow = next(line for line in lines if line.startswith("Source Code Escrow"))
    assert escrow.split()[-3:] == ["-", "-", "3"]
    macro = next(line for line in lines if line.startswith("Macro F1"))
    assert macro.split() == ["Macro", "F1", "0.83", "0.50"]  # baseline: (1 + 0) / 2
    law = next(line for line in lines if line.startswith("Governing Law"))
    assert law.split() == ["Governing", "Law", "1/2", "50%", "0"]
    assert "Present cells verified: 0%" in text
    assert "Present cells citing a gold page: -" in text
    without = format_report(report, None).splitlines()
    non_compete = next(line for line in without if line.startswith("Non-Compete"))
    assert non_compete.split() == ["Non-Compete", "0.50", "1.00", "0.67", "-", "3"]


def test_load_review_set_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(DeskError, match="missing.json"):
        load_review_set(missing)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DeskError, match="bad.json.*not a JSON"):
        load_review_set(bad)
    no_docs = tmp_path / "no-docs.json"
    no_docs.write_text(json.dumps({"categories": {}}), encoding="utf-8")
    with pytest.raises(DeskError, match="no-docs.json.*documents"):
        load_review_set(no_docs)
    no_terms = tmp_path / "no-terms.json"
    no_terms.write_text(json.dumps({"categories": {}, "documents": [{"file": "a.pdf"}]}),
                        encoding="utf-8")
    with pytest.raises(DeskError, match="no-terms.json.*document 1"):
        load_review_set(no_terms)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(GOLD), encoding="utf-8")
    assert load_review_set(good) == GOLD


@pytest.mark.skipif(not CUAD_REVIEW.exists(), reason="the CUAD dev review set is not here")
def test_keyword_baseline_runs_on_the_cuad_review_set() -> None:
    data = load_review_set(CUAD_REVIEW)
    pages = {doc["file"]: [q["text"] for t in doc["terms"].values() for q in t["quotes"]]
             for doc in data["documents"]}
    terms = list(data["categories"])
    yes_no = [t for t, kind in data["categories"].items() if kind == "yes-no"]
    baseline = keyword_baseline(data, pages, terms)
    assert baseline["documents"] == len(data["documents"])
    assert list(baseline["presence"]) == yes_no
    assert 0.0 <= baseline["macro_f1"] <= 1.0
    assert all(m["n"] == len(data["documents"]) for m in baseline["presence"].values())
