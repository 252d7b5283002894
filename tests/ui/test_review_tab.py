"""The Review tab in the real window, offscreen: review two real PDFs with the fake model,
read the cells (values, colours, tooltips), filter and sort, open a cell's clause, correct a
cell, choose columns, cancel and resume, export, switch matters."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from desk.config.settings import load_settings
from desk.review.cells import Cell, CellCitation
from desk.review.store import ReviewStore
from desk.review.terms import CUAD_TERMS, DEFAULT_TERM_NAMES, DERIVED_TERMS
from desk.ui.main_window import MainWindow
from desk.ui.review import (
    EDITED_COLOR,
    UNVERIFIED_COLOR,
    ReviewStep,
    ReviewTab,
    quote_start,
    step_text,
    value_matches,
)
from tests.fakes import CountingLoader, FakeModel, pick_first_excerpt
from tests.pdfs import CONTRACT_PAGES, make_pdf

ALPHA, BETA = "Alpha Supply.pdf", "Beta Services.pdf"
ALPHA_PAGES = [
    "SUPPLY AGREEMENT\n\nThis Supply Agreement is dated as of March 1, 2020 and made between "
    "Alpha Foods Inc. and Beta Retail LLC.\n\n2. Term. The term of this Agreement shall "
    "commence on the date above and continue until December 31, 2030. This Agreement shall "
    "automatically renew for successive one (1) year terms unless either party gives written "
    "notice of non-renewal at least sixty (60) days prior to the expiration of the "
    "then-current term.",
    "9. Governing Law. This Agreement shall be governed by the laws of the State of New York."
    "\n\n10. Assignment. Neither party may assign this Agreement without the prior written "
    "consent of the other party.",
]
ALPHA_LAW = ("9. Governing Law. This Agreement shall be governed by the laws of the State of "
             "New York.")
BETA_LAW = "18. Governing Law. This Agreement shall be governed by the laws of the State of Delaware."
CELLS = 2 * len(DEFAULT_TERM_NAMES)
LAST_DAY = "Last Day To Give Notice Of Non-Renewal"
QUESTION = "Is there a warranty of title?"
Role = Qt.ItemDataRole


def cites_an_unseen_sentence_for_exclusivity(messages: list[dict[str, str]], schema: dict
                                             ) -> str:
    """The fake's review reply, except that Exclusivity cites a sentence it was not shown
    (so that cell is not found, with the model's draft in the reason)."""
    if "exclusive dealing" in messages[-1]["content"]:
        return json.dumps({"sentences": [99], "present": True})
    return pick_first_excerpt(messages, schema)


@pytest.fixture
def make_window(qtbot) -> Iterator[Callable[..., MainWindow]]:
    made: list[MainWindow] = []

    def make(loader: CountingLoader) -> MainWindow:
        settings = load_settings()
        settings.llm.model = "smollm2-135m-instruct-q4_1"
        window = MainWindow(settings, model_loader=loader)
        qtbot.addWidget(window)
        window.resize(1400, 860)
        window.show()
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()
        assert not window.workers.running
        assert all(pool.activeThreadCount() == 0 for pool in window.workers.pools())


def reviewed_matter(qtbot, make_window, tmp_path: Path, model: FakeModel | None = None
                    ) -> tuple[MainWindow, ReviewTab, CountingLoader]:
    """A window with the two contracts imported and the Review tab shown (not run yet)."""
    loader = CountingLoader(model or FakeModel(json_reply=cites_an_unseen_sentence_for_exclusivity))
    window = make_window(loader)
    folder = tmp_path / "contracts"
    make_pdf(folder / ALPHA, ALPHA_PAGES)
    make_pdf(folder / BETA, CONTRACT_PAGES)
    window.import_paths([folder])
    qtbot.waitUntil(lambda: window.import_worker is None, timeout=120_000)
    window.tabs.setCurrentWidget(window.review)
    return window, window.review, loader


def run_review(qtbot, tab: ReviewTab) -> list[ReviewStep]:
    """Click Review and wait for the run's end; the steps it reported."""
    steps: list[ReviewStep] = []
    tab.sig_step.connect(steps.append)
    try:
        with qtbot.waitSignal(tab.sig_run_finished, timeout=120_000):
            qtbot.mouseClick(tab.review_button, Qt.MouseButton.LeftButton)
            assert tab.worker is not None and not tab.review_button.isEnabled()
            assert tab.cancel_button.isEnabled()
    finally:
        tab.sig_step.disconnect(steps.append)
    assert tab.worker is None
    assert tab.review_button.isEnabled() and not tab.cancel_button.isEnabled()
    return steps


def index(tab: ReviewTab, file: str, term: str) -> QModelIndex:
    found = tab.view_index(file, term)
    assert found.isValid()
    return found


def shown(tab: ReviewTab, file: str, term: str, role: int = Role.DisplayRole):
    return index(tab, file, term).data(role)


def visible_files(tab: ReviewTab) -> list[str]:
    return [tab.proxy.index(r, 0).data() for r in range(tab.proxy.rowCount())]


def cell_centre(tab: ReviewTab, file: str, term: str) -> QPoint:
    where = index(tab, file, term)
    tab.table.scrollTo(where)
    return tab.table.visualRect(where).center()


def store_of(window: MainWindow) -> ReviewStore:
    assert window.matter is not None
    return ReviewStore(window.matter.catalog)


def doc_id(window: MainWindow, file: str) -> int:
    assert window.matter is not None
    return window.matter.catalog.find_documents(file)[0].id



def click_to_view(qtbot, window, viewport, pos):
    """Click at `pos` and return the source viewer the click opened (shown, with a file)."""
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.waitUntil(lambda: window.viewer is not None and window.viewer.isVisible(),
                    timeout=10_000)
    viewer = window.viewer
    assert viewer is not None and viewer.path is not None
    return viewer

def test_formatting_helpers():
    assert step_text(ReviewStep(12, 48, 65.2, 30.0)) == "12 / 48 cells · ETA 1:05"
    assert step_text(ReviewStep(0, 48, None, 0.0)) == "0 / 48 cells · ETA –:––"
    assert value_matches("New York", "new york") is True
    assert value_matches("State of New York", "York") is True
    assert value_matches("Not found", "no") is False
    assert value_matches("No", "NO") is True
    assert quote_start("word " * 30) == "word " * 17 + "word…"


def test_review_fills_the_table_filters_sorts_and_opens_the_cited_clause(
        qtbot, make_window, tmp_path):
    window, tab, loader = reviewed_matter(qtbot, make_window, tmp_path)
    model = tab.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["File", *DEFAULT_TERM_NAMES]
    assert visible_files(tab) == [ALPHA, BETA]
    assert {shown(tab, f, t) for f in (ALPHA, BETA) for t in DEFAULT_TERM_NAMES} == {""}
    assert shown(tab, ALPHA, "Governing Law", model.CellRole) is None
    assert tab.count.text() == "2 documents"

    changed: list[int] = []
    model.dataChanged.connect(lambda *_: changed.append(1))
    steps = run_review(qtbot, tab)
    assert [(s.done, s.total) for s in steps] == [(n, CELLS) for n in range(CELLS + 1)]
    assert len(changed) == CELLS  # each cell was shown as it finished
    assert tab.status.text().startswith(f"{CELLS} / {CELLS} cells · done in 0:")
    assert loader.loads == 1 and window.models.current() is loader.model

    # Governing law is read by code, cited and verified.
    assert shown(tab, ALPHA, "Governing Law") == "New York"
    assert shown(tab, BETA, "Governing Law") == "Delaware"
    law = shown(tab, BETA, "Governing Law", model.CellRole)
    assert isinstance(law, Cell) and law.route == "code" and law.verified is True
    assert [(c.file, c.page, c.quote) for c in law.citations] == [(BETA, 3, BETA_LAW)]
    # the next clause's number ("10.") goes with the next clause, not into the quote
    assert shown(tab, ALPHA, "Governing Law", model.CellRole).citations[0].quote == ALPHA_LAW
    assert shown(tab, ALPHA, "Governing Law", Role.ToolTipRole) == f"p. 2: {ALPHA_LAW}"
    assert shown(tab, ALPHA, "Governing Law", Role.BackgroundRole) is None
    assert shown(tab, ALPHA, "Governing Law", Role.FontRole) is None
    assert shown(tab, ALPHA, "Expiration Date") == "2030-12-31"
    assert shown(tab, ALPHA, "Notice Period To Terminate Renewal") == "60 days"
    # A clause the model claims but cannot cite is not a finding; the tooltip says why.
    assert shown(tab, ALPHA, "Exclusivity") == "No"
    assert shown(tab, ALPHA, "Exclusivity", Role.BackgroundRole) is None
    assert shown(tab, ALPHA, "Exclusivity", Role.ToolTipRole) == (
        "Not in this document (not found: the model answered 'Yes' but cited sentence 99, "
        "which it was not shown).")
    # A present cell whose quote is not on its page (the document changed under it, say)
    # looks different and says why.
    store = ReviewStore(window.matter.catalog)
    insurance = store.get(law.doc_id, "Insurance")
    assert insurance is not None
    insurance.present, insurance.value, insurance.reason = True, "Yes", ""
    insurance.citations = [CellCitation(BETA, 1, "a quote that is not on the page", False,
                                        "the quote is not on page 1")]
    store.put(insurance)
    tab.reload()
    assert shown(tab, BETA, "Insurance", Role.BackgroundRole) == UNVERIFIED_COLOR
    assert shown(tab, BETA, "Insurance", Role.ToolTipRole).startswith(
        "Not verified: the quote is not on page 1")

    # Filters: the value contains the text (any case); all filters must hold.
    tab.filter_term.setCurrentText("Governing Law")
    tab.filter_text.setText("new york")
    qtbot.mouseClick(tab.add_filter_button, Qt.MouseButton.LeftButton)
    assert visible_files(tab) == [ALPHA]
    assert tab.count.text() == "1 of 2 documents"
    tab.add_filter("Document Name", "agreement")
    assert visible_files(tab) == [ALPHA]
    tab.add_filter("File", "beta")
    assert visible_files(tab) == []
    assert tab.chip_texts() == ["Governing Law = new york  ✕",
                                "Document Name = agreement  ✕", "File = beta  ✕"]
    qtbot.mouseClick(tab.chip_buttons()[0], Qt.MouseButton.LeftButton)  # removes that one
    assert visible_files(tab) == [BETA]
    assert tab.chip_texts() == ["Document Name = agreement  ✕", "File = beta  ✕"]
    qtbot.mouseClick(tab.clear_filters_button, Qt.MouseButton.LeftButton)
    assert visible_files(tab) == [ALPHA, BETA] and tab.chip_texts() == []
    assert tab.count.text() == "2 documents"

    # Sorting: a click on a header sorts by it, a second click reverses.
    header = tab.table.horizontalHeader()
    column = model.column_of("Governing Law")
    tab.table.scrollTo(index(tab, ALPHA, "Governing Law"))
    at = QPoint(header.sectionViewportPosition(column) + header.sectionSize(column) // 2,
                header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert visible_files(tab) == [BETA, ALPHA]  # Delaware before New York
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert visible_files(tab) == [ALPHA, BETA]

    # A click on a cell opens its first citation's page with the quote highlighted.
    assert window.viewer is None
    viewer = click_to_view(qtbot, window, tab.table.viewport(),
                           cell_centre(tab, BETA, "Governing Law"))
    assert (viewer.path.name, viewer.page_number, viewer.quote) == (BETA, 3, BETA_LAW)
    assert viewer.highlights and viewer.status.text() == "Quote highlighted."


def test_a_correction_shows_as_edited_survives_a_rerun_and_is_exported(
        qtbot, make_window, tmp_path):
    window, tab, _ = reviewed_matter(qtbot, make_window, tmp_path)
    run_review(qtbot, tab)
    model = tab.model

    # Double-click: the correction dialog, with the value and "clause present".
    where = cell_centre(tab, ALPHA, "Governing Law")
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    dialog = tab.correction
    assert dialog is not None and dialog.isVisible()
    assert dialog.value_edit.text() == "New York" and dialog.present_box.isChecked()
    dialog.value_edit.setText("New Jersey")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert tab.correction is None
    assert shown(tab, ALPHA, "Governing Law") == "✎ New Jersey"
    assert shown(tab, ALPHA, "Governing Law", Role.BackgroundRole) == EDITED_COLOR
    assert shown(tab, ALPHA, "Governing Law", Role.ToolTipRole) == (
        "Edited; Desk found: New York")
    stored = store_of(window).get(doc_id(window, ALPHA), "Governing Law")
    assert stored is not None
    assert (stored.value, stored.present, stored.edited, stored.original) == (
        "New Jersey", True, True, "New York")
    qtbot.wait(QApplication.doubleClickInterval() + 100)
    assert window.viewer is None  # a double-click corrects; it does not open the clause

    # The context menu's "Correct…" does the same; "clause present" checked.
    assert shown(tab, BETA, "Change Of Control") == "No"
    tab.correct(index(tab, BETA, "Change Of Control"))
    assert tab.correction is not None
    tab.correction.value_edit.setText("Yes")
    tab.correction.present_box.setChecked(True)
    tab.correction.accept()
    assert shown(tab, BETA, "Change Of Control") == "✎ Yes"
    stored = store_of(window).get(doc_id(window, BETA), "Change Of Control")
    assert stored is not None and (stored.value, stored.present, stored.edited) == (
        "Yes", True, True)

    # Everything else is reviewed again; the corrections stay.
    store_of(window).forget()
    tab.reload()
    assert shown(tab, BETA, "Governing Law") == ""
    steps = run_review(qtbot, tab)
    assert (steps[-1].done, steps[-1].total) == (CELLS - 2, CELLS - 2)
    assert shown(tab, ALPHA, "Governing Law") == "✎ New Jersey"
    assert shown(tab, BETA, "Change Of Control") == "✎ Yes"
    assert shown(tab, BETA, "Governing Law") == "Delaware"

    # Columns…: CUAD's 41 terms and the derived ones; a question of one's own.
    qtbot.mouseClick(tab.columns_button, Qt.MouseButton.LeftButton)
    columns = tab.columns_dialog
    assert columns is not None
    items = columns.items()
    assert [i.data(Role.UserRole) for i in items] == [
        t.name for t in (*CUAD_TERMS, *DERIVED_TERMS)]
    assert len(items) == 43
    checked = [i.data(Role.UserRole) for i in items if i.checkState() == Qt.CheckState.Checked]
    assert sorted(checked) == sorted(DEFAULT_TERM_NAMES)
    next(i for i in items if i.data(Role.UserRole) == LAST_DAY).setCheckState(
        Qt.CheckState.Checked)
    columns.question.setText(QUESTION)
    qtbot.mouseClick(columns.add_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(columns.save_button, Qt.MouseButton.LeftButton)
    names = [*DEFAULT_TERM_NAMES, LAST_DAY, QUESTION]
    assert store_of(window).columns() == names
    assert [model.headerData(c, Qt.Orientation.Horizontal)
            for c in range(model.columnCount())] == ["File", *names]

    # The derived column is computed by code at once, italic, its formula as tooltip.
    formula = ("Expiration Date (2030-12-31) − Notice Period To Terminate Renewal (60 days) "
               "= 2030-11-01")
    assert shown(tab, ALPHA, LAST_DAY) == "2030-11-01"
    assert shown(tab, ALPHA, LAST_DAY, Role.FontRole).italic() is True
    assert shown(tab, ALPHA, LAST_DAY, Role.ToolTipRole) == formula
    assert shown(tab, ALPHA, QUESTION) == ""
    steps = run_review(qtbot, tab)  # only the new question's cells
    assert (steps[-1].done, steps[-1].total) == (2, 2)
    custom = shown(tab, ALPHA, QUESTION, model.CellRole)
    assert isinstance(custom, Cell) and custom.route == "model"
    assert custom.value == " ".join(custom.citations[0].quote.split()[:3])

    # Export: CSV (long form) and Excel (the table), re-read.
    assert tab.export_csv(tmp_path / "review.csv") is True
    with open(tmp_path / "review.csv", encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    by_cell = {(line["File"], line["Term"]): line for line in lines}
    assert len(lines) == 2 * len(names)
    law = by_cell[(ALPHA, "Governing Law")]
    assert (law["Value"], law["Edited"], law["Original"], law["Page(s)"]) == (
        "New Jersey", "Yes", "New York", "2")
    assert by_cell[(BETA, "Governing Law")]["Value"] == "Delaware"
    assert by_cell[(BETA, "Governing Law")]["Quote"] == BETA_LAW
    assert (by_cell[(ALPHA, LAST_DAY)]["Value"], by_cell[(ALPHA, LAST_DAY)]["Formula"]) == (
        "2030-11-01", formula)

    assert tab.export_xlsx(tmp_path / "review.xlsx") is True
    sheet = openpyxl.load_workbook(tmp_path / "review.xlsx")["Review"]
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    assert table[0] == ["File", *names]
    rows = {row[0]: dict(zip(names, row[1:])) for row in table[1:]}
    assert sorted(rows) == [ALPHA, BETA]
    assert rows[ALPHA]["Governing Law"] == "New Jersey"
    assert rows[BETA]["Governing Law"] == "Delaware"
    assert rows[ALPHA][LAST_DAY] == "2030-11-01"
    assert window.progress_label.text() == (
        f"Exported 2 documents × {len(names)} terms to {tmp_path / 'review.xlsx'}.")


def test_cancel_keeps_the_finished_cells_and_review_resumes_with_the_rest(
        qtbot, make_window, tmp_path):
    model = FakeModel(hold_after_first_s=60)  # the first model cell waits for Cancel
    window, tab, loader = reviewed_matter(qtbot, make_window, tmp_path, model)
    tab.start()
    assert model.started.wait(60)
    # Document Name (by code) finished before Parties (the model) began.
    qtbot.waitUntil(lambda: tab.last_step is not None and tab.last_step.done == 1,
                    timeout=10_000)
    assert shown(tab, ALPHA, "Document Name") == "SUPPLY AGREEMENT"
    assert tab.status.text().startswith(f"1 / {CELLS} cells · ETA ")
    assert tab.cancel_button.isEnabled() and not tab.columns_button.isEnabled()
    assert window.busy(changing=True) == "A review is running."
    qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.worker is None, timeout=30_000)
    assert tab.status.text() == f"Cancelled: 1 / {CELLS} cells done; Review resumes with the rest."
    assert window.findChild(QMessageBox, "error_box") is None
    stored = store_of(window).cells()
    assert {d: sorted(c) for d, c in stored.items()} == {doc_id(window, ALPHA): ["Document Name"]}
    first = stored[doc_id(window, ALPHA)]["Document Name"]

    model.hold_after_first_s = 0
    steps = run_review(qtbot, tab)
    assert (steps[0].done, steps[0].total) == (0, CELLS - 1)
    assert (steps[-1].done, steps[-1].total) == (CELLS - 1, CELLS - 1)
    stored = store_of(window).cells()
    assert sum(len(c) for c in stored.values()) == CELLS
    assert stored[doc_id(window, ALPHA)]["Document Name"] == first  # kept, not made again
    assert shown(tab, BETA, "Governing Law") == "Delaware"
    assert loader.loads == 1  # the review loaded the model once; the window kept it


def test_the_tab_follows_the_open_matter(qtbot, make_window, tmp_path):
    model = FakeModel(hold_after_first_s=60)
    window, tab, _ = reviewed_matter(qtbot, make_window, tmp_path, model)
    tab.start()
    assert model.started.wait(60)
    tab.correct(index(tab, ALPHA, "Governing Law"))
    assert tab.correction is not None
    window.select_matter("Other", create=True)  # stops the review of the first matter
    assert tab.correction is None  # its document is not in this matter
    qtbot.waitUntil(lambda: tab.worker is None, timeout=30_000)
    assert window.progress_label.text() == (
        "The review of “Untitled matter” was stopped; its finished cells are kept and "
        "Review resumes it.")
    assert tab.model.rowCount() == 0 and tab.body.isEnabled()
    assert tab.hint.isVisible()
    assert tab.hint.text() == "Import documents into this matter to review them."

    window.select_matter("Untitled matter")
    assert visible_files(tab) == [ALPHA, BETA] and not tab.hint.isVisible()
    assert shown(tab, ALPHA, "Document Name") == "SUPPLY AGREEMENT"
    assert shown(tab, ALPHA, "Parties") == ""

    window.close_matter()
    assert tab.model.rowCount() == 0 and not tab.body.isEnabled()
    assert tab.hint.isVisible()
    assert tab.hint.text() == "Open or create a matter to review its documents."
    assert not tab.review_button.isEnabled()
