"""The Authorities tab: a document's table of authorities from the citation index, a click
opening the cited page in the viewer with the citation highlighted, and the whole matter's
"cited by"."""

from __future__ import annotations

from pathlib import Path

from desk.config.settings import load_settings, save_settings
from desk.index.matter import open_matter
from desk.ingest.importer import ImportJob
from desk.ui.main_window import MainWindow
from tests.fakes import FakeModel, fake_loader
from tests.pdfs import OPINION_PAGES, make_pdf


def _opinion_matter(name: str, folder: Path):
    matter = open_matter(name)
    for _ in ImportJob(matter, [make_pdf(folder / "Opinion.pdf", OPINION_PAGES)], 500,
                       100).run():
        pass
    return matter


def _window_on(name: str, qtbot) -> MainWindow:
    settings = load_settings()
    settings.last_matter = name
    save_settings(settings)
    window = MainWindow(load_settings(), model_loader=fake_loader(FakeModel()))
    qtbot.addWidget(window)
    return window


def test_the_table_of_authorities_opens_the_citing_page_highlighted(qtbot, tmp_path: Path):
    _opinion_matter("cases", tmp_path).close()
    window = _window_on("cases", qtbot)
    tab = window.authorities
    window.tabs.setCurrentWidget(tab)
    # the whole matter first: every authority, the most cited first, with who cites it
    assert tab.status.text() == "4 authorities cited in this matter."
    top = tab.tree.topLevelItem(0)
    assert top.text(0) == "Grutter v. Bollinger, 539 U.S. 306"
    assert (top.child(0).text(0), top.child(0).text(1)) == ("Opinion.pdf", "3")
    tab.document.setCurrentText("Opinion.pdf")
    sections = [tab.tree.topLevelItem(i).text(0) for i in range(tab.tree.topLevelItemCount())]
    assert sections == ["Cases (2)", "Statutes (1)", "Regulations (1)"]
    cases = tab.tree.topLevelItem(0)
    grutter = cases.child(1)
    assert (grutter.text(0), grutter.text(1)) == ("Grutter v. Bollinger, 539 U.S. 306", "1, 2")
    tab._open(grutter)
    viewer = window.navigator.viewer
    assert viewer is not None and viewer.page_number == 1
    assert viewer.highlights  # the citation's words, boxed on the page
    assert "539 U." in viewer.quote and "306" in viewer.quote  # as printed, across the break
    window.close()


def test_opening_a_matter_an_older_desk_made_finds_its_citations(qtbot, tmp_path: Path):
    matter = _opinion_matter("old cases", tmp_path)
    with matter.catalog.transaction() as db:  # as an older Desk left it: no citations
        db.execute("DELETE FROM citations")
        db.execute("UPDATE documents SET citations_version=0")
    matter.close()
    window = _window_on("old cases", qtbot)
    assert window.progress_label.text() == (
        "Finding the citations of 1 document(s) an older Desk imported…")
    qtbot.waitUntil(lambda: window.import_worker is None, timeout=120_000)
    qtbot.waitUntil(lambda: window.authorities.status.text()
                    == "4 authorities cited in this matter.", timeout=10_000)
    window.close()
