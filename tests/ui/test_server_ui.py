"""The window answering through a server: the panel's server section (connection test, the
key kept in the keyring and never in settings.json), the status bar saying where the text
goes, the confirmation once per host before anything is sent, and a failed answer kept in the
conversation with its question. The server is the loopback fault server (tests/faults.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desk.config.paths import settings_file
from desk.config.secrets import KEYRING_SERVICE
from desk.config.settings import ServerSettings, load_settings, save_settings
from desk.ui.main_window import MainWindow
from desk.ui.optimization import OptimizationPanel
from desk.ui.workers import Workers
from tests.faults import FaultServer
from tests.pdfs import contract_matter

KEY = "sk-window-test-5d21"
QUESTION = "How much notice is needed to terminate for convenience?"


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first-use question, answered yes; the hosts it was asked about."""
    hosts: list[str] = []

    def ask(parent, host: str) -> bool:
        hosts.append(host)
        return True

    monkeypatch.setattr("desk.ui.server.ask_to_send", ask)
    return hosts


@pytest.fixture
def window(qtbot, tmp_path: Path):
    contract_matter(tmp_path, "MSA.pdf").close()
    made: list[MainWindow] = []

    def make(server: FaultServer) -> MainWindow:
        settings = load_settings()
        settings.last_matter = "msa"
        settings.answers_from = "server"
        settings.server = ServerSettings(url=server.url, model="test-model", timeout_s=10)
        save_settings(settings)
        win = MainWindow(load_settings())  # the real loader: it connects to the server
        qtbot.addWidget(win)
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()
        assert not win.workers.running


def ask_and_wait(qtbot, window: MainWindow, question: str) -> None:
    window.question.setText(question)
    qtbot.keyClick(window.question, Qt.Key.Key_Return)
    if window.ask_worker is not None:
        qtbot.waitUntil(lambda: window.ask_worker is None, timeout=60_000)


def test_the_server_section_tests_the_connection_and_keeps_the_key_in_the_keyring(
        qtbot, asked, memory_keyring):
    settings = load_settings()
    workers = Workers()
    with FaultServer("ok") as server:
        panel = OptimizationPanel(settings, workers, bench_texts=lambda: [
            "This Master Services Agreement is made between Acme and Beta."])
        qtbot.addWidget(panel)
        section = panel.server
        assert section.local.isChecked() and not section.fields.isEnabled()
        section.remote.setChecked(True)
        section.url.setText(f"http://127.0.0.1:{server.port}")  # "/v1" is added
        section.model.setCurrentText("test-model")
        section.key.setText(KEY)
        qtbot.mouseClick(section.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: section.result.text().startswith("Connected"), timeout=30_000)
        host = f"127.0.0.1:{server.port}"
        assert asked == [host]  # the matter's text goes out only after the lawyer agreed
        assert section.result.text().splitlines()[0] == (
            f"Connected to {host}: 1 model(s) (test-model).")
        assert "tokens/s over 4 tokens" in section.result.text()
        sent = server.chat_requests()[-1]
        assert "Acme and Beta" in sent["body"]["messages"][-1]["content"]
        headers = {name.lower(): value for name, value in sent["headers"].items()}
        assert headers["authorization"] == f"Bearer {KEY}"

        applied: list[bool] = []
        panel.sig_model_applied.connect(lambda: applied.append(True))
        qtbot.mouseClick(section.use_button, Qt.MouseButton.LeftButton)
    assert applied == [True]
    saved = load_settings()
    assert (saved.answers_from, saved.server.url, saved.server.model) == (
        "server", f"http://{host}/v1", "test-model")
    assert saved.server.confirmed_hosts == [host]
    assert KEY not in settings_file().read_text()
    assert memory_keyring.passwords == {(KEYRING_SERVICE, f"http://{host}"): KEY}
    assert section.key.text() == "" and section.key.placeholderText() == (
        "kept in the system keyring")
    workers.shutdown()


def test_asking_through_a_server_confirms_once_and_says_where_the_text_goes(
        qtbot, window, asked):
    with FaultServer("ok") as server:
        win = window(server)
        host = f"127.0.0.1:{server.port}"
        assert win.model_label.text() == (
            f"Answers from test-model on {host}: questions and passages are sent there")
        ask_and_wait(qtbot, win, QUESTION)
        assert asked == [host]
        answer = win.turns[-1][1]
        # the fault server's reply quotes nothing of [1]: an unverified draft under not found
        assert answer["found"] is False and answer["draft"] == "The notice is 30 days. [1]"
        question_sent = server.chat_requests()[-1]["body"]["messages"][-1]["content"]
        assert QUESTION in question_sent and "MSA.pdf" in question_sent
        ask_and_wait(qtbot, win, "And the governing law?")
        assert asked == [host]  # once per host
        assert load_settings().server.confirmed_hosts == [host]
        assert win.model_label.text().startswith(f"Answers from test-model on {host}")


def test_declining_sends_nothing_and_keeps_the_question(qtbot, window, monkeypatch):
    monkeypatch.setattr("desk.ui.server.ask_to_send", lambda parent, host: False)
    with FaultServer("ok") as server:
        win = window(server)
        ask_and_wait(qtbot, win, QUESTION)
        assert win.ask_worker is None and win.turns == []
        assert win.question.text() == QUESTION
        assert server.chat_requests() == []


def test_a_failed_answer_keeps_the_question_and_says_why(qtbot, window, asked):
    with FaultServer("500") as server:
        win = window(server)
        ask_and_wait(qtbot, win, QUESTION)
    question, answer = win.turns[-1]
    assert question == QUESTION
    assert answer["failed"].startswith(f"The answer server at 127.0.0.1:{server.port} failed "
                                       "(500")
    assert "The answer failed: The answer server at" in win.answer_view.toPlainText()
    assert win.question.text() == QUESTION  # back in the box, to ask again
    assert win.ask_button.isEnabled()
