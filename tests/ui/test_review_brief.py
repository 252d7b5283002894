"""Briefs in the Review tab, in the real window, offscreen: Brief makes the selected
document's brief in the background with the fake model; the pane below the table shows its
sentences with citation links that open the viewer; the file column's tooltip shows it;
a brief cut short by Cancel is not kept."""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QMessageBox

from desk.ui.review import BRIEF_CHOOSE, BRIEF_HINT, UNVERIFIED_TEXT, ReviewTab, clock
from tests.fakes import EXCERPT, FakeModel, pick_first_excerpt
from tests.ui import test_review_tab
from tests.ui.test_review_tab import (
    ALPHA,
    BETA,
    BETA_LAW,
    click_to_view,
    doc_id,
    reviewed_matter,
    shown,
    store_of,
)

make_window = test_review_tab.make_window  # the Review tab tests' window fixture

PREAMBLE = ("SUPPLY AGREEMENT This Supply Agreement is dated as of March 1, 2020 and made "
            "between Alpha Foods Inc. and Beta Retail LLC.")  # the heading joins its clause
PREAMBLE_START = ("SUPPLY AGREEMENT This Supply Agreement is dated as of March 1, 2020 and "
                  "made between…")
# The identity sentence from the review's cells (the fake model's Parties value is the
# first three words of its sentence), then the fake's one point: sentence 1 in its own words.
IDENTITY = "SUPPLY AGREEMENT, dated 2020-03-01, with SUPPLY AGREEMENT This."
ALPHA_BRIEF = [IDENTITY, PREAMBLE]
PANE = f"{IDENTITY} [p. 1]\n{PREAMBLE} [p. 1]"
LINK = "#0000ff"  # Qt's link colour (the palette's), for a verified citation
PLAIN = "#000000"  # no colour of its own


def brief_reply(messages: list[dict[str, str]], schema: dict) -> str:
    """The brief's points: sentence 1 of the excerpts in its own words; else a cell's JSON."""
    if "points" in schema.get("properties", {}):
        excerpts = EXCERPT.findall(messages[-1]["content"])
        return json.dumps({"points": [{"sentence": 1, "summary": excerpts[0][1]}]})
    return pick_first_excerpt(messages, schema)


class HoldingPoints:
    """brief_reply; while `hold` is set, the points' generation waits for Cancel (and only
    it: the identity cells the brief reviews first are not held)."""

    def __init__(self) -> None:
        self.hold = False
        self.model: FakeModel | None = None

    def __call__(self, messages: list[dict[str, str]], schema: dict) -> str:
        points = "points" in schema.get("properties", {})
        assert self.model is not None
        self.model.hold_after_first_s = 60 if self.hold and points else 0
        return brief_reply(messages, schema)


def select(tab: ReviewTab, file: str) -> None:
    tab.table.setCurrentIndex(tab.view_index(file, "File"))


def pane_fragments(tab: ReviewTab) -> list[list[tuple[str, str, str, str]]]:
    """Per paragraph of the brief pane: (text, link, tooltip, colour) of each fragment."""
    blocks = []
    block = tab.brief_pane.document().begin()
    while block.isValid():
        fragments = []
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            form = fragment.charFormat()
            fragments.append((fragment.text(), form.anchorHref(), form.toolTip(),
                              form.foreground().color().name()))
            it += 1
        blocks.append(fragments)
        block = block.next()
    return blocks


def link_point(tab: ReviewTab, href: str) -> QPoint:
    """Where the citation link `href` is in the pane's viewport."""
    document = tab.brief_pane.document()
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().anchorHref() == href:
                cursor = QTextCursor(document)
                cursor.setPosition(fragment.position() + 2)  # inside "[p. 1]"
                return tab.brief_pane.cursorRect(cursor).center()
            it += 1
        block = block.next()
    raise AssertionError(f"no link {href}")


def press_brief(qtbot, tab: ReviewTab) -> None:
    with qtbot.waitSignal(tab.sig_brief_finished, timeout=120_000):
        qtbot.mouseClick(tab.brief_button, Qt.MouseButton.LeftButton)
        assert tab.worker is not None and tab.running_kind == "brief"
        assert not tab.brief_button.isEnabled() and not tab.review_button.isEnabled()
        assert tab.cancel_button.isEnabled() and not tab.columns_button.isEnabled()
    assert tab.worker is None and tab.running_kind is None
    assert tab.brief_button.isEnabled() and tab.review_button.isEnabled()
    assert not tab.cancel_button.isEnabled()


def test_brief_makes_the_selected_documents_brief_and_its_citations_open_the_viewer(
        qtbot, make_window, tmp_path):
    window, tab, loader = reviewed_matter(qtbot, make_window, tmp_path,
                                          FakeModel(json_reply=brief_reply))
    assert tab.selected_docs() == [] and not tab.brief_button.isEnabled()
    assert tab.brief_pane.toPlainText() == BRIEF_CHOOSE
    select(tab, ALPHA)
    assert tab.selected_docs() == [doc_id(window, ALPHA)] and tab.brief_button.isEnabled()
    assert tab.brief_pane.toPlainText() == BRIEF_HINT
    assert shown(tab, ALPHA, "File", Qt.ItemDataRole.ToolTipRole) == ALPHA

    press_brief(qtbot, tab)
    step = tab.last_brief_step
    assert step is not None and (step.done, step.total, step.file) == (1, 1, ALPHA)
    assert tab.status.text() == f"Briefed 1 / 1 document in {clock(step.elapsed_seconds)}."
    assert loader.loads == 1 and window.models.current() is loader.model
    assert window.findChild(QMessageBox, "error_box") is None

    # Stored: the identity sentence (from the cells the brief reviewed) and the point,
    # every citation checked on its page.
    stored = store_of(window).brief(doc_id(window, ALPHA))
    assert stored is not None
    assert [s["text"] for s in stored] == ALPHA_BRIEF
    assert [s["verified"] for s in stored] == [True, True]
    assert [[(c["file"], c["page"], c["quote"], c["verified"]) for c in s["citations"]]
            for s in stored] == [[(ALPHA, 1, PREAMBLE, True)] * 3, [(ALPHA, 1, PREAMBLE, True)]]
    assert shown(tab, ALPHA, "Document Name") == "SUPPLY AGREEMENT"  # the table shows them
    assert shown(tab, ALPHA, "Agreement Date") == "2020-03-01"
    assert IDENTITY.startswith(shown(tab, ALPHA, "Document Name") + ", dated ")

    # The pane (the selection kept over the reload): each sentence, then its citation
    # marks, one per quote, as links whose tooltip is the page and the quote's start.
    assert tab.selected_docs() == [doc_id(window, ALPHA)]
    assert tab.brief_pane.toPlainText() == PANE
    assert pane_fragments(tab) == [
        [(f"{IDENTITY} ", "", "", PLAIN), ("[p. 1]", "cite:0:0", f"p. 1: {PREAMBLE_START}", LINK)],
        [(f"{PREAMBLE} ", "", "", PLAIN), ("[p. 1]", "cite:1:0", f"p. 1: {PREAMBLE_START}", LINK)],
    ]
    assert shown(tab, ALPHA, "File", Qt.ItemDataRole.ToolTipRole) == (
        f"{ALPHA}\n\n{IDENTITY}\n"
        "SUPPLY AGREEMENT This Supply Agreement is dated as of March 1, 2020 and made between "
        "Alpha\nFoods Inc. and Beta Retail LLC.")

    # A click on a citation opens the viewer at its page with its quote highlighted.
    assert window.viewer is None
    viewer = click_to_view(qtbot, window, tab.brief_pane.viewport(), link_point(tab, "cite:1:0"))
    assert (viewer.path.name, viewer.page_number, viewer.quote) == (ALPHA, 1, PREAMBLE)
    assert viewer.highlights and viewer.status.text() == "Quote highlighted."

    # Another document without a brief: the hint; back: the brief.
    select(tab, BETA)
    assert tab.brief_pane.toPlainText() == BRIEF_HINT
    assert shown(tab, BETA, "File", Qt.ItemDataRole.ToolTipRole) == BETA
    assert store_of(window).brief(doc_id(window, BETA)) is None
    select(tab, ALPHA)
    assert tab.brief_pane.toPlainText() == PANE
    tab.table.clearSelection()
    assert tab.brief_pane.toPlainText() == BRIEF_CHOOSE and not tab.brief_button.isEnabled()


def test_an_unverified_sentence_and_citation_look_different_and_say_why(
        qtbot, make_window, tmp_path):
    window, tab, _ = reviewed_matter(qtbot, make_window, tmp_path,
                                     FakeModel(json_reply=brief_reply))
    why = "the quote is not on page 2"
    store_of(window).put_brief(doc_id(window, BETA), [
        {"text": "A services agreement.", "verified": False, "citations": [
            {"file": BETA, "page": 2, "quote": "Words not on the page.", "verified": False,
             "reason": why}]},
        {"text": "It is governed by Delaware law.", "verified": True, "citations": [
            {"file": BETA, "page": 3, "quote": BETA_LAW, "verified": True, "reason": ""}]},
    ])
    tab.reload()
    select(tab, BETA)
    assert tab.brief_pane.toPlainText() == (
        "A services agreement. [p. 2]\nIt is governed by Delaware law. [p. 3]")
    assert pane_fragments(tab) == [
        [("A services agreement.", "", f"Not verified: {why}", UNVERIFIED_TEXT),
         (" ", "", "", PLAIN),
         ("[p. 2]", "cite:0:0", f"Not verified: {why}\np. 2: Words not on the page.",
          UNVERIFIED_TEXT)],
        [("It is governed by Delaware law. ", "", "", PLAIN),
         ("[p. 3]", "cite:1:0", f"p. 3: {BETA_LAW}", LINK)],
    ]
    assert shown(tab, BETA, "File", Qt.ItemDataRole.ToolTipRole) == (
        f"{BETA}\n\nA services agreement.\nIt is governed by Delaware law.")
    viewer = click_to_view(qtbot, window, tab.brief_pane.viewport(), link_point(tab, "cite:1:0"))
    assert (viewer.path.name, viewer.page_number, viewer.quote) == (BETA, 3, BETA_LAW)


def test_cancel_keeps_no_brief_cut_short(qtbot, make_window, tmp_path):
    reply = HoldingPoints()
    model = FakeModel(json_reply=reply)
    reply.model = model
    window, tab, _ = reviewed_matter(qtbot, make_window, tmp_path, model)
    alpha = doc_id(window, ALPHA)

    def cancel_in_the_points() -> None:
        reply.hold = True
        model.schemas.clear()
        select(tab, ALPHA)
        tab.start_brief()
        qtbot.waitUntil(lambda: any("points" in s["properties"] for s in model.schemas),
                        timeout=60_000)
        qtbot.mouseClick(tab.cancel_button, Qt.MouseButton.LeftButton)
        assert tab.status.text() == "Cancelling the brief…"
        assert not tab.cancel_button.isEnabled()
        qtbot.waitUntil(lambda: tab.worker is None, timeout=30_000)
        assert tab.status.text() == "Cancelled: 0 / 1 briefed; a brief cut short is not kept."
        assert window.findChild(QMessageBox, "error_box") is None
        reply.hold = False

    # No brief before: none after (the identity cells it reviewed are kept).
    cancel_in_the_points()
    assert store_of(window).brief(alpha) is None
    assert tab.brief_pane.toPlainText() == BRIEF_HINT
    assert shown(tab, ALPHA, "Document Name") == "SUPPLY AGREEMENT"

    press_brief(qtbot, tab)
    made = store_of(window).brief(alpha)
    assert made is not None and [s["text"] for s in made] == ALPHA_BRIEF
    assert tab.brief_pane.toPlainText() == PANE

    # A brief before: it stays.
    cancel_in_the_points()
    assert store_of(window).brief(alpha) == made
    assert tab.brief_pane.toPlainText() == PANE
