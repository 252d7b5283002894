"""Exporting a review table (desk.review.export): the CSV's long form read back with the csv
module and the workbook with openpyxl, exact contents, marks for unverified, edited and derived
cells, formula injection neutralised, atomic and private files, clear errors."""

import csv
import os
import stat
import sys
from pathlib import Path

import openpyxl
import pytest

from desk.core.errors import DeskError
from desk.review.cells import NOT_FOUND_VALUE, Cell, CellCitation, ReviewRow
from desk.review.export import (
    EDITED_FILL,
    LONG_HEADERS,
    UNVERIFIED_FILL,
    neutralise,
    write_csv,
    write_xlsx,
)

TERMS = ["Governing law", "Notice period", "Effective date", "Term end", "Non-compete",
         "Special"]
EVIL = "=cmd|' /C calc'!A0"
UNICODE = "Zürich — “quoted”"


def cite(file: str, page: int, quote: str, verified: bool = True, reason: str = "") -> CellCitation:
    return CellCitation(file, page, quote, verified, reason)


def make_rows() -> list[ReviewRow]:
    a, b = "alpha.pdf", "beta.pdf"
    alpha = ReviewRow(1, a, brief=[{"text": "A supply agreement.", "citations": []},
                                   {"text": f"Governed by the law of {UNICODE}.",
                                    "citations": []}])
    alpha.cells = {
        "Governing law": Cell(1, a, "Governing law", "Delaware", True,
                              [cite(a, 3, "governed by the laws of Delaware")], route="code"),
        "Notice period": Cell(1, a, "Notice period", "30 days", True,
                              [cite(a, 4, "thirty (30) days' notice", False,
                                    "quote not on page 4")],
                              route="model", reason="quote not on page 4"),
        "Effective date": Cell(1, a, "Effective date", "2014-06-01", True,
                               [cite(a, 1, "effective as of May 8, 2014")], route="code",
                               edited=True, original="2014-05-08"),
        "Term end": Cell(1, a, "Term end", "2016-05-08", True,
                         [cite(a, 1, "effective as of May 8, 2014"),
                          cite(a, 7, "for a term of two (2) years")],
                         route="derived", formula="Effective date + Term",
                         inputs=["Effective date", "Term"]),
        "Non-compete": Cell(1, a, "Non-compete", NOT_FOUND_VALUE, False),
        # "Special" is missing for alpha: skipped in the long form, blank in the table
    }
    beta = ReviewRow(2, b)
    beta.cells = {
        "Governing law": Cell(2, b, "Governing law", UNICODE, True,
                              [cite(b, 2, f"courts of {UNICODE}")], route="model"),
        "Special": Cell(2, b, "Special", EVIL, True, [cite(b, 5, EVIL)], route="model"),
    }
    return [alpha, beta]


EXPECTED_LONG = [
    ["alpha.pdf", "Governing law", "Delaware", "Yes", "Yes", "No", "3",
     "governed by the laws of Delaware", "", "", ""],
    ["alpha.pdf", "Notice period", "30 days", "Yes", "No", "No", "4",
     "thirty (30) days' notice", "quote not on page 4", "", ""],
    ["alpha.pdf", "Effective date", "2014-06-01", "Yes", "Yes", "Yes", "1",
     "effective as of May 8, 2014", "", "", "2014-05-08"],
    ["alpha.pdf", "Term end", "2016-05-08", "Yes", "Yes", "No", "1; 7",
     "effective as of May 8, 2014 … for a term of two (2) years", "", "Effective date + Term",
     ""],
    ["alpha.pdf", "Non-compete", "Not found", "No", "Yes", "No", "", "", "", "", ""],
    ["beta.pdf", "Governing law", UNICODE, "Yes", "Yes", "No", "2", f"courts of {UNICODE}",
     "", "", ""],
    ["beta.pdf", "Special", "'" + EVIL, "Yes", "Yes", "No", "5", "'" + EVIL, "", "", ""],
]


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.reader(fh))


def test_csv_is_the_long_form_with_a_bom(tmp_path):
    path = tmp_path / "review.csv"
    write_csv(path, make_rows(), TERMS)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the BOM
    assert raw.count(b"\r\n") == len(EXPECTED_LONG) + 1
    assert UNICODE.encode("utf-8") in raw
    lines = read_csv(path)
    assert lines[0] == LONG_HEADERS == ["File", "Term", "Value", "Present", "Verified",
                                        "Edited", "Page(s)", "Quote", "Reason", "Formula",
                                        "Original"]
    assert lines[1:] == EXPECTED_LONG


def test_csv_quotes_every_field(tmp_path):
    path = tmp_path / "review.csv"
    write_csv(path, make_rows(), TERMS)
    first = path.read_bytes().decode("utf-8-sig").split("\r\n")[1]
    assert first.startswith('"alpha.pdf","Governing law","Delaware","Yes"')


def test_csv_keeps_line_breaks_inside_a_quote(tmp_path):
    row = ReviewRow(1, "a.pdf", {"T": Cell(1, "a.pdf", "T", "x", True,
                                          [cite("a.pdf", 1, "line one\nline two")])})
    path = tmp_path / "one.csv"
    write_csv(path, [row], ["T"])
    assert read_csv(path)[1][7] == "line one\nline two"


def test_empty_review_writes_only_headers(tmp_path):
    path = tmp_path / "empty.csv"
    write_csv(path, [], TERMS)
    assert read_csv(path) == [LONG_HEADERS]
    xlsx = tmp_path / "empty.xlsx"
    write_xlsx(xlsx, [], TERMS)
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Review", "Citations"]
    assert [c.value for c in wb["Review"][1]] == ["File", *TERMS]


@pytest.mark.parametrize("text, expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Delaware", "Delaware"), ("", ""), ("a=b", "a=b"),
    ("'already", "'already"),
])
def test_neutralise(text, expected):
    assert neutralise(text) == expected


def test_injection_is_neutralised_in_file_names_and_terms_too(tmp_path):
    row = ReviewRow(1, "=HYPERLINK(x).pdf",
                    {"@term": Cell(1, "=HYPERLINK(x).pdf", "@term", "+1", True,
                                   [cite("=HYPERLINK(x).pdf", 1, "-2")])})
    path = tmp_path / "evil.csv"
    write_csv(path, [row], ["@term"])
    assert read_csv(path)[1][:3] == ["'=HYPERLINK(x).pdf", "'@term", "'+1"]
    xlsx = tmp_path / "evil.xlsx"
    write_xlsx(xlsx, [row], ["@term"])
    wb = openpyxl.load_workbook(xlsx)
    assert [c.value for c in wb["Review"][1]] == ["File", "'@term"]
    assert [c.value for c in wb["Review"][2]] == ["'=HYPERLINK(x).pdf", "'+1"]
    for sheet in wb.worksheets:
        for line in sheet.iter_rows():
            assert all(c.data_type != "f" for c in line)


def load(tmp_path: Path) -> openpyxl.Workbook:
    path = tmp_path / "review.xlsx"
    write_xlsx(path, make_rows(), TERMS)
    return openpyxl.load_workbook(path)


def values(sheet) -> list[list[object]]:
    return [[c.value for c in line] for line in sheet.iter_rows()]


def test_xlsx_review_sheet(tmp_path):
    wb = load(tmp_path)
    assert wb.sheetnames == ["Review", "Citations", "Briefs"]
    ws = wb["Review"]
    assert values(ws) == [
        ["File", *TERMS],
        ["alpha.pdf", "Delaware", "30 days", "2014-06-01", "2016-05-08", "Not found", None],
        ["beta.pdf", UNICODE, None, None, None, None, "'" + EVIL],
    ]
    assert ws.freeze_panes == "B2"
    assert all(c.font.bold for c in ws[1])
    assert not ws["A2"].font.bold
    assert all(c.alignment.wrap_text for line in ws.iter_rows() for c in line)
    for col in "ABCDEFG":
        assert 10 <= ws.column_dimensions[col].width <= 50


def test_xlsx_marks_unverified_edited_and_derived_cells(tmp_path):
    ws = load(tmp_path)["Review"]
    verified, unverified, edited, derived, not_found = (ws[f"{c}2"] for c in "BCDEF")
    assert unverified.fill.fill_type == "solid"
    assert unverified.fill.fgColor.rgb == UNVERIFIED_FILL == "FFFFD8A8"
    assert unverified.comment.text == "Not verified: quote not on page 4"
    assert unverified.comment.author == "Desk"
    assert edited.fill.fill_type == "solid"
    assert edited.fill.fgColor.rgb == EDITED_FILL == "FFDDEBF7"
    assert edited.comment.text == "Edited; Desk found: 2014-05-08"
    assert derived.comment.text == "Formula: Effective date + Term"
    for plain in (verified, derived, not_found, ws["A2"], ws["B3"], ws["G3"]):
        assert plain.fill.fill_type is None
        assert plain.fill.fgColor.rgb == "00000000"
    for quiet in (verified, not_found, ws["B3"], ws["G3"]):
        assert quiet.comment is None


def test_xlsx_citations_sheet_is_the_long_form(tmp_path):
    ws = load(tmp_path)["Citations"]
    empty_as_none = [[v or None for v in line] for line in EXPECTED_LONG]  # as Excel keeps them
    assert values(ws) == [LONG_HEADERS, *empty_as_none]
    assert ws.auto_filter.ref == f"A1:K{len(EXPECTED_LONG) + 1}"
    assert all(c.font.bold for c in ws[1])
    assert ws["G5"].value == "1; 7"
    assert ws["H5"].value == "effective as of May 8, 2014 … for a term of two (2) years"


def test_xlsx_briefs_sheet_only_when_there_is_a_brief(tmp_path):
    ws = load(tmp_path)["Briefs"]
    assert values(ws) == [["File", "Brief"],
                          ["alpha.pdf", f"A supply agreement. Governed by the law of {UNICODE}."]]
    rows = make_rows()
    rows[0].brief = None
    path = tmp_path / "no-briefs.xlsx"
    write_xlsx(path, rows, TERMS)
    assert openpyxl.load_workbook(path).sheetnames == ["Review", "Citations"]


def test_xlsx_drops_control_characters_it_cannot_hold(tmp_path):
    row = ReviewRow(1, "a.pdf", {"T": Cell(1, "a.pdf", "T", "page\x0cbreak", True,
                                          [cite("a.pdf", 1, "\x00=x")])})
    path = tmp_path / "ctl.xlsx"
    write_xlsx(path, [row], ["T"])
    wb = openpyxl.load_workbook(path)
    assert wb["Review"]["B2"].value == "pagebreak"
    assert wb["Citations"]["H2"].value == "'=x"


@pytest.mark.parametrize("writer, name", [(write_csv, "r.csv"), (write_xlsx, "r.xlsx")])
def test_missing_folder_is_a_desk_error_naming_the_path(tmp_path, writer, name):
    path = tmp_path / "nowhere" / name
    with pytest.raises(DeskError) as info:
        writer(path, make_rows(), TERMS)
    assert str(path) in str(info.value)
    assert "does not exist" in str(info.value)
    assert not path.parent.exists()


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="POSIX modes; root may write anywhere")
def test_read_only_folder_is_a_desk_error(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        path = folder / "r.csv"
        with pytest.raises(DeskError, match="not writable") as info:
            write_csv(path, make_rows(), TERMS)
        assert str(path) in str(info.value)
    finally:
        folder.chmod(0o700)


def test_a_folder_in_the_way_is_a_desk_error(tmp_path):
    path = tmp_path / "review.xlsx"
    path.mkdir()
    with pytest.raises(DeskError) as info:
        write_xlsx(path, make_rows(), TERMS)
    assert str(path) in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == ["review.xlsx"]  # no temporary left


@pytest.mark.skipif(sys.platform == "win32", reason="the profile folder's ACL keeps it private")
@pytest.mark.parametrize("writer, name", [(write_csv, "r.csv"), (write_xlsx, "r.xlsx")])
def test_files_are_private_and_replace_the_old_one(tmp_path, writer, name):
    old = os.umask(0o022)
    try:
        path = tmp_path / name
        path.write_bytes(b"old")
        path.chmod(0o644)
        writer(path, make_rows(), TERMS)
    finally:
        os.umask(old)
    assert path.read_bytes() != b"old"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary left
