"""The real window, offscreen: drop PDFs, ask, follow a citation to its page, stop, restart.

The flow is driven with tests.fakes.FakeModel (a deterministic model the verifier can check);
one test goes through the real loader and SmolLM2 to prove that path end to end."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QToolTip

from desk.config.paths import settings_file
from desk.config.settings import load_settings
from desk.index.catalog import Catalog
from desk.index.matter import matter_path
from desk.rag.turns import NOT_FOUND_TEXT, UNVERIFIED_DRAFT
from desk.ui.documents import DocumentsModel
from desk.ui.main_window import MainWindow
from desk.ui.memo import write_memo
from tests.fakes import CountingLoader, FakeModel, quote_first_source
from tests.pdfs import CONTRACT_PAGES, make_image_pdf, make_pdf

SMOL = "smollm2-135m-instruct-q4_1"
NOTICE = "Termination for Convenience: how many days of prior written notice are required?"
LAW = "Which law governs the agreement?"
WEEKS = '"forty-five (45) weeks" [1]'


def _settings(max_tokens: int = 64):
    settings = load_settings()
    settings.llm.model = SMOL
    settings.llm.n_ctx = 2048
    settings.llm.evidence_tokens = 700
    settings.llm.max_answer_tokens = max_tokens
    return settings


@pytest.fixture
def make_window(qtbot) -> Iterator[Callable[..., MainWindow]]:
    """Windows made by a test are closed after it; none may leave a worker behind."""
    made: list[MainWindow] = []

    def make(model: FakeModel | None = None, real: bool = False, max_tokens: int = 64,
             loader: CountingLoader | None = None) -> MainWindow:
        if loader is None and not real:
            loader = CountingLoader(model or FakeModel())
        win = MainWindow(_settings(max_tokens), model_loader=loader)
        qtbot.addWidget(win)
        win.show()
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()
        assert not win.workers.running
        assert all(pool.activeThreadCount() == 0 for pool in win.workers.pools())


def drop(window: MainWindow, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)


def import_and_wait(qtbot, window: MainWindow, paths: list[Path]) -> None:
    drop(window, paths)
    assert window.import_worker is not None
    qtbot.waitUntil(lambda: window.import_worker is None, timeout=120_000)


def msa(tmp_path: Path, name: str = "MSA.pdf") -> Path:
    folder = tmp_path / "docs"
    make_pdf(folder / name, CONTRACT_PAGES)
    return folder


def ask_and_wait(qtbot, window: MainWindow, question: str) -> dict:
    window.question.setText(question)
    qtbot.keyClick(window.question, Qt.Key.Key_Return)
    assert window.ask_worker is not None
    qtbot.waitUntil(lambda: window.ask_worker is None, timeout=300_000)
    return window.turns[-1][1]


def stored_turns(window: MainWindow) -> list[tuple[str, dict]]:
    assert window.matter is not None and window.conversation_id is not None
    return [(q, json.loads(a)) for q, a in window.matter.catalog.turns(window.conversation_id)]


def prompt_sources(model: FakeModel) -> list[str]:
    """The source headings of the last prompt: "[1] MSA.pdf, p. 2"..."""
    content = model.prompts[-1][-1]["content"]
    return [line.rstrip(":") for line in content.splitlines()
            if line.startswith("[") and line.endswith(":")]


def error_box(window: MainWindow) -> QMessageBox:
    box = window.findChild(QMessageBox, "error_box")
    assert box is not None
    return box


# -- documents ----------------------------------------------------------------------------
def test_welcome_then_drop_imports_and_the_documents_model_shows_failed_files(
        qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    assert window.pages.currentIndex() == 0  # first run: welcome
    folder = tmp_path / "inbox"
    make_pdf(folder / "MSA, Acme (final).PDF", CONTRACT_PAGES)
    make_image_pdf(folder / "scan.pdf", [None, CONTRACT_PAGES[1]])  # a text page, a scan
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    import_and_wait(qtbot, window, [folder])
    assert window.pages.currentIndex() == 1
    assert window.sidebar.list.currentItem().text() == "Untitled matter"

    model = window.documents.model()
    assert isinstance(model, DocumentsModel)
    rows = {model.index(r, 0).data(): r for r in range(model.rowCount())}
    assert set(rows) == {"MSA, Acme (final).PDF", "scan.pdf", "broken.pdf"}

    def cell(name: str, column: int, role=Qt.ItemDataRole.DisplayRole):
        return model.index(rows[name], column).data(role)

    assert [cell("MSA, Acme (final).PDF", c) for c in range(3)] == [
        "MSA, Acme (final).PDF", "3", "indexed"]
    assert cell("scan.pdf", 2) == "OCR 1 p."
    assert re.fullmatch(re.escape(f"{folder / 'scan.pdf'}\nIndexed; 1 page(s) read by OCR, ")
                        + r"mean confidence 9\d%", cell("scan.pdf", 0, Qt.ItemDataRole.ToolTipRole))
    assert cell("broken.pdf", 2) == "failed" and cell("broken.pdf", 1) == ""
    tooltip = cell("broken.pdf", 1, Qt.ItemDataRole.ToolTipRole)
    assert tooltip.startswith(f"{folder / 'broken.pdf'}\nFailed: ")
    for column in range(3):
        assert cell("broken.pdf", column, Qt.ItemDataRole.ForegroundRole) == QColor(
            Qt.GlobalColor.darkRed)
        assert cell("scan.pdf", column, Qt.ItemDataRole.ForegroundRole) is None
    box = error_box(window)
    assert "broken.pdf" in box.text()
    box.close()

    # Remove: a failed row has nothing to remove; an indexed one goes after a confirmation.
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.documents.selectRow(rows["broken.pdf"])
    assert window.documents_panel.selected_paths() == []
    window.documents.selectRow(rows["scan.pdf"])
    qtbot.mouseClick(window.documents_panel.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.documents.model().rowCount() == 2 and not
                    window.workers.running, timeout=30_000)
    names = [window.documents.model().index(r, 0).data() for r in range(2)]
    assert sorted(names) == ["MSA, Acme (final).PDF", "broken.pdf"]


# -- asking -------------------------------------------------------------------------------
def test_answer_has_a_verified_citation_evidence_and_opens_the_page_highlighted(
        qtbot, make_window, tmp_path):
    model = FakeModel()
    window = make_window(model)
    assert window.model_label.text() == (f"Model: {SMOL} · Q4_1 · loads on first question")
    import_and_wait(qtbot, window, [msa(tmp_path)])
    updates: list[int] = []
    window.answer_view.textChanged.connect(lambda: updates.append(1))
    answer = ask_and_wait(qtbot, window, NOTICE)

    assert answer["found"] is True and "pending" not in answer
    assert answer["draft"] is None
    assert answer["answer"] == quote_first_source(model.prompts[-1])
    [citation] = answer["citations"]
    assert citation["n"] == 1 and citation["verified"] is True and citation["reason"] == ""
    assert citation["file"] == "MSA.pdf"
    page_text = window.matter.catalog.page(window.matter.catalog.documents()[0].id,
                                           citation["page"]).text
    assert " ".join(citation["quote"].split()) in " ".join(page_text.split())
    assert set(answer["timings"]) >= {"retrieval_ms", "prompt_tokens", "ttft_ms",
                                      "gen_tokens_per_s"}
    assert len(updates) > 3  # the view was updated while pieces arrived
    assert stored_turns(window) == [(NOTICE, answer)]
    assert window.model_label.text() == f"Model: {SMOL} · Q4_1 · CPU, loaded"
    assert window.progress_label.text().startswith("Answered: first token ")

    # The evidence list shows the passages the model was given, in its order (the prompt
    # names the file once when every source comes from it).
    items = [window.evidence.item(i) for i in range(window.evidence.count())]
    headings = [item.text().split("\n")[0] for item in items]
    assert all(h.startswith(f"[{n}] MSA.pdf, p") for n, h in enumerate(headings, 1))
    assert [h.replace("MSA.pdf, ", "") for h in headings] == prompt_sources(model)
    assert f"[1] MSA.pdf, p. {citation['page']}" in headings[0]

    # The answer view links the citation as verified, with its source line.
    plain = window.answer_view.toPlainText()
    assert f"[1] MSA.pdf, p. {citation['page']} ✓ verified" in plain
    assert "cite:0:1" in window.answer_view.toHtml()

    window.answer_view.highlighted.emit(QUrl("cite:0:1"))  # hovering the link
    assert QToolTip.text() == (f"MSA.pdf, page {citation['page']}\n"
                               "Verified: the quote is on this page.")
    window.answer_view.highlighted.emit(QUrl())  # leaving it
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=5_000)

    window.answer_view.anchorClicked.emit(QUrl("cite:0:1"))
    viewer = window.viewer
    assert viewer is not None and viewer.isVisible()
    assert viewer.page_number == citation["page"]
    assert viewer.highlights and viewer.status.text() == "Quote highlighted."
    assert viewer.image.pixmap() is not None and not viewer.image.pixmap().isNull()

    # A passage of the evidence list opens its page too (without a quote).
    window.evidence.itemActivated.emit(items[-1])
    assert viewer.page_number == items[-1].data(Qt.ItemDataRole.UserRole)[1]
    assert viewer.highlights == []


def test_unverifiable_reply_is_shown_under_not_found_with_the_draft_marked(
        qtbot, make_window, tmp_path):
    window = make_window(FakeModel(WEEKS))
    import_and_wait(qtbot, window, [msa(tmp_path)])
    answer = ask_and_wait(qtbot, window, NOTICE)

    assert answer["found"] is False
    assert answer["answer"] == NOT_FOUND_TEXT and answer["draft"] == WEEKS
    [citation] = answer["citations"]
    assert citation["verified"] is False and citation["reason"]
    plain = window.answer_view.toPlainText()
    assert plain.count("Not found in the documents of this matter.") == 1
    assert UNVERIFIED_DRAFT in plain
    assert plain.index("Not found") < plain.index(UNVERIFIED_DRAFT) < plain.index("forty-five")
    assert f"(unverified: {citation['reason']})" in plain
    assert NOT_FOUND_TEXT not in plain  # the verdict replaces the model's sentence
    assert "cite:0:1" in window.answer_view.toHtml()


def test_stop_cancels_the_answer_and_keeps_what_was_written(qtbot, make_window, tmp_path):
    full = " ".join(f"word{i}" for i in range(200))
    model = FakeModel(full, hold_after_first_s=60)
    window = make_window(model, max_tokens=400)
    import_and_wait(qtbot, window, [msa(tmp_path)])
    window.question.setText(NOTICE)
    window.ask()
    assert window.stop_button.isEnabled() and not window.ask_button.isEnabled()
    assert not window.conversation.conversations.isEnabled()
    qtbot.waitUntil(lambda: window.streaming != "", timeout=60_000)
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.ask_worker is None, timeout=30_000)

    assert window.ask_button.isEnabled() and not window.stop_button.isEnabled()
    assert not window.workers.running
    [(question, stored)] = stored_turns(window)
    assert question == NOTICE and window.turns[-1] == (question, stored)
    written = stored["draft"] or stored["answer"]
    assert written.strip() == "word0"  # generation stopped after the piece shown at Stop


def test_a_matter_cannot_be_switched_while_an_answer_is_written(qtbot, make_window, tmp_path):
    window = make_window(FakeModel(" ".join(["slow"] * 100), piece_delay_s=0.05),
                         max_tokens=400)
    import_and_wait(qtbot, window, [msa(tmp_path)])
    window.select_matter("Other", create=True)
    window.select_matter("Untitled matter")
    window.question.setText(NOTICE)
    window.ask()
    other = window.sidebar.list.findItems("Other", Qt.MatchFlag.MatchExactly)[0]
    window.sidebar.list.setCurrentItem(other)
    assert window.matter.name == "Untitled matter"
    assert window.sidebar.list.currentItem().text() == "Untitled matter"
    box = error_box(window)
    assert box.text().startswith("An answer is still being written.")
    box.close()
    window.stop_answer()
    qtbot.waitUntil(lambda: window.ask_worker is None, timeout=30_000)


def test_model_loads_once_and_the_prefix_is_evaluated_once_across_a_matter_switch(
        qtbot, make_window, tmp_path, monkeypatch):
    import desk.ui.model_status as model_status

    lookups: list[str] = []
    real_store = model_status.ModelStore

    class CountingStore(real_store):  # type: ignore[misc, valid-type]
        def get(self, name):
            lookups.append(name)
            return super().get(name)

    monkeypatch.setattr(model_status, "ModelStore", CountingStore)
    model = FakeModel()
    loader = CountingLoader(model)
    window = make_window(loader=loader)
    import_and_wait(qtbot, window, [msa(tmp_path)])
    first = ask_and_wait(qtbot, window, NOTICE)
    second = ask_and_wait(qtbot, window, LAW)
    assert first["found"] and second["found"]
    assert NOTICE in " ".join(m["content"] for m in model.prompts[1])  # a follow-up

    window.select_matter("Second", create=True)
    make_pdf(tmp_path / "other" / "Lease.pdf", CONTRACT_PAGES[::-1])
    import_and_wait(qtbot, window, [tmp_path / "other"])
    third = ask_and_wait(qtbot, window, LAW)
    assert third["citations"][0]["file"] == "Lease.pdf"
    assert [q for q, _ in window.turns] == [LAW]

    assert len(model.prompts) == 3
    assert loader.loads == 1
    assert model.prefix_evaluations == 1
    # One service per opened matter (here: the imported matter, then "Second" after its
    # import), not one per question.
    assert model.cache_prefix_calls == 2
    assert lookups == [SMOL]  # the precision is read once, not per status update


def test_history_survives_a_restart_with_reasons_and_exports_a_memo(
        qtbot, make_window, tmp_path):
    def reply(messages):
        return WEEKS if "weeks" in messages[-1]["content"] else quote_first_source(messages)

    window = make_window(FakeModel(reply))
    import_and_wait(qtbot, window, [msa(tmp_path)])
    ask_and_wait(qtbot, window, NOTICE)
    ask_and_wait(qtbot, window, "Is the notice period forty-five weeks?")
    before = list(window.turns)
    reason = before[1][1]["citations"][0]["reason"]
    assert reason and before[0][1]["found"] and not before[1][1]["found"]
    window.close()

    again_model = FakeModel()
    again = make_window(again_model)
    assert again.matter is not None and again.matter.name == "Untitled matter"
    assert again.turns == before
    assert again_model.prompts == []  # shown from the catalog, not asked again
    plain = again.answer_view.toPlainText()
    assert f"Q: {NOTICE}" in plain and "✓ verified" in plain
    assert f"(unverified: {reason})" in plain and UNVERIFIED_DRAFT in plain
    assert again.conversation.conversations.currentText() == NOTICE[:80]

    from desk.rag.memo import memo_markdown
    from desk.rag.turns import load_turns

    markdown = memo_markdown(again.matter.name, "Notice",
                             load_turns(again.matter.catalog, again.conversation_id))
    assert f"## 1. {NOTICE}" in markdown
    draft = before[1][1]["draft"]
    assert f"_{UNVERIFIED_DRAFT}_\n\n> {draft}" in markdown
    assert f"(NOT verified: {reason})" in markdown
    write_memo(tmp_path / "memo.md", markdown)
    write_memo(tmp_path / "memo.pdf", markdown)
    assert (tmp_path / "memo.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "memo.md").read_text().startswith("# Research memo")

    again.new_conversation()
    assert again.turns == [] and again.evidence.count() == 0
    assert again.conversation_id is None


# -- closing and settings -----------------------------------------------------------------
def test_a_matter_indexed_by_an_older_embedder_is_rebuilt_from_the_window(
        qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    import_and_wait(qtbot, window, [msa(tmp_path)])
    name = window.matter.name
    chunks = window.matter.catalog.counts()["chunks"]
    window.close_matter()
    catalog = Catalog(matter_path(name) / "catalog.sqlite")
    built = json.loads(catalog.get_meta("fingerprint"))
    built["embedder"] = "all-MiniLM-L6-v2-int8"  # the int8 export before the fused one
    catalog.set_meta("fingerprint", json.dumps(built))
    catalog.close()
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda parent, title, text, *rest: (
        asked.append(text), QMessageBox.StandardButton.Yes)[1])

    window.select_matter(name)
    assert window.matter is None and window.import_worker is not None
    assert asked == [f"Matter {name!r} was indexed with embedder all-MiniLM-L6-v2-int8 "
                     "(384-d), chunks of 500 characters with 100 overlap, chunker "
                     f"v{built['chunker_version']}, but the current settings use embedder "
                     "all-MiniLM-L6-v2-int8-v2 (384-d), chunks of 500 characters with 100 "
                     f"overlap, chunker v{built['chunker_version']}.\n\nRebuild its index "
                     "now? The documents' text is kept; only the passages are embedded again."]
    qtbot.waitUntil(lambda: window.import_worker is None and window.matter is not None,
                    timeout=120_000)
    assert window.matter.name == name
    assert window.matter.catalog.counts()["chunks"] == chunks
    assert window.matter.vectors.count == chunks
    assert json.loads(window.matter.catalog.get_meta("fingerprint"))["embedder"] == \
        "all-MiniLM-L6-v2-int8-v2"
    assert window.progress_label.text() == f"Rebuilt the index of {name}."


def test_closing_during_an_import_shuts_down_cleanly(qtbot, make_window, tmp_path):
    window = make_window()
    for i in range(6):
        make_pdf(tmp_path / "many" / f"doc {i}.pdf", CONTRACT_PAGES * 3)
    drop(window, [tmp_path / "many"])
    assert window.import_worker is not None
    window.close()
    assert not window.workers.running
    QApplication.processEvents()


def test_closing_during_an_answer_shuts_down_cleanly(qtbot, make_window, tmp_path):
    model = FakeModel(" ".join(["slow"] * 200), piece_delay_s=0.05)
    window = make_window(model, max_tokens=400)
    import_and_wait(qtbot, window, [msa(tmp_path)])
    window.question.setText(NOTICE)
    window.ask()
    assert model.started.wait(60)
    window.close()
    assert not window.workers.running
    QApplication.processEvents()


def test_an_invalid_settings_file_is_reported_once_at_start(qtbot, make_window, desk_home):
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text("{not json", encoding="utf-8")
    window = make_window()
    box = error_box(window)
    assert "not valid JSON" in box.text()
    box.close()
    box.deleteLater()
    QApplication.processEvents()
    again = make_window()  # the repaired file was written back: no second warning
    assert again.findChild(QMessageBox, "error_box") is None


# -- the real path ------------------------------------------------------------------------
def test_real_small_model_answers_through_the_real_loader(qtbot, make_window, tmp_path):
    window = make_window(real=True)
    import_and_wait(qtbot, window, [msa(tmp_path)])
    answer = ask_and_wait(qtbot, window, NOTICE)
    assert "pending" not in answer and isinstance(answer["found"], bool)
    assert answer["timings"]["prompt_tokens"] > 0
    assert answer["timings"]["ttft_ms"] > 0
    assert stored_turns(window) == [(NOTICE, answer)]
    assert window.evidence.count() >= 1
    assert "Q4_1" in window.model_label.text() and "loaded" in window.model_label.text()
    assert type(window.models.model).__name__ == "LlamaRuntime"
