"""Where answers come from, in the optimization panel: this computer (llama.cpp) or a server
speaking the OpenAI API, with a connection test; and the confirmation, once per host, before
any question or passage is sent to one."""

from __future__ import annotations

import copy
from collections.abc import Callable, Generator

from pydantic import ValidationError
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desk.config.secrets import api_key, save_api_key
from desk.config.settings import (
    ServerSettings,
    Settings,
    bounds,
    normalise_server_url,
    save_settings,
    server_host,
)
from desk.core.errors import DeskError
from desk.core.progress import CancelToken, Progress
from desk.llm.server import ServerCheck, ServerModel
from desk.ui.workers import Workers

SAMPLE_CHARS = 600  # the connection test's prompt: a short piece of the matter


def ask_to_send(parent: QWidget | None, host: str) -> bool:
    """The first-use question for a host (a function of its own, so tests can answer it)."""
    answer = QMessageBox.question(
        parent, "Send questions to a server?",
        f"Answers will come from the server at <b>{host}</b>.<br><br>To answer, Desk sends it "
        "each question, the earlier turns of the conversation that fit, and the passages of "
        "this matter found as evidence. The matter's files and its index stay on this "
        f"computer.<br><br>Send them to {host}?")
    return answer == QMessageBox.StandardButton.Yes


def confirm_server(parent: QWidget | None, settings: Settings) -> bool:
    """True when answers stay on this computer, or the lawyer has agreed (now or before) to
    send text to the server's host; the agreement is remembered in the settings."""
    if settings.answers_from != "server":
        return True
    host = server_host(settings.server.url)
    if host in settings.server.confirmed_hosts:
        return True
    if not ask_to_send(parent, host):
        return False
    settings.server.confirmed_hosts = [*settings.server.confirmed_hosts, host]
    save_settings(settings)
    return True


def check_job(server: ServerSettings, key: str | None, sample: str
              ) -> Callable[[CancelToken], Generator[Progress, None, ServerCheck]]:
    """The connection test on a worker, over copies."""
    server = copy.deepcopy(server)

    def job(cancel: CancelToken) -> Generator[Progress, None, ServerCheck]:
        yield Progress("server", 0, 1, f"Testing {server_host(server.url)}…")
        return ServerModel(server, key).check(sample)

    return job


def describe_check(check: ServerCheck) -> str:
    models = ", ".join(check.models[:6]) + (" …" if len(check.models) > 6 else "")
    lines = [f"Connected to {check.host}: {len(check.models)} model(s) ({models or 'none listed'})."]
    lines.append(f"First token {check.ttft_ms / 1000:.2f} s, {check.gen_tokens_per_s:.1f} "
                 f"tokens/s over {check.generated_tokens} tokens.")
    context = (f"Context {check.context} tokens" if check.context_reported else
               f"Context not reported: {check.context} tokens assumed (server.n_ctx)")
    lines.append(f"{context}; prompts counted by {check.tokenizer}"
                 + (f"; {', '.join(check.notes)}" if check.notes else "") + ".")
    return "\n".join(lines)


class ServerSection(QGroupBox):
    """The "Where answers come from" box. `sig_applied` is emitted after the choice is saved,
    so the window connects to the server (or loads the local model) again."""

    sig_applied = Signal()

    def __init__(self, settings: Settings, workers: Workers,
                 sample: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__("Where answers come from", parent)
        self.setObjectName("server_section")
        self.settings = settings
        self.workers = workers
        self.sample = sample
        self.local = QRadioButton("This computer (llama.cpp)")
        self.local.setObjectName("answers_local")
        self.remote = QRadioButton("A server (OpenAI API)")
        self.remote.setObjectName("answers_server")
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.remote)
        server = settings.server
        self.url = QLineEdit(server.url)
        self.url.setObjectName("server_url")
        self.url.setPlaceholderText("http://gpu-box:8080/v1")
        self.model = QComboBox()
        self.model.setObjectName("server_model")
        self.model.setEditable(True)
        self.model.setCurrentText(server.model)
        self.model.setToolTip("The server's name for the model; the test lists them.")
        self.key = QLineEdit()
        self.key.setObjectName("server_key")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.timeout = QSpinBox()
        self.timeout.setRange(*bounds(ServerSettings, "timeout_s"))
        self.timeout.setSuffix(" s")
        self.timeout.setValue(server.timeout_s)
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("server_test")
        self.test_button.clicked.connect(self.test)
        self.use_button = QPushButton("Use")
        self.use_button.setObjectName("server_use")
        self.use_button.clicked.connect(self.apply)
        self.result = QLabel()
        self.result.setObjectName("server_result")
        self.result.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Address", self.url)
        form.addRow("Model", self.model)
        form.addRow("API key", self.key)
        form.addRow("Timeout", self.timeout)
        self.fields = QWidget()
        self.fields.setLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.local)
        layout.addWidget(self.remote)
        layout.addWidget(self.fields)
        layout.addLayout(buttons)
        layout.addWidget(self.result)
        (self.remote if settings.answers_from == "server" else self.local).setChecked(True)
        self.remote.toggled.connect(self._show_fields)
        self.url.editingFinished.connect(self._key_hint)
        self._show_fields()
        self._key_hint()

    def _show_fields(self) -> None:
        self.fields.setEnabled(self.remote.isChecked())
        self.test_button.setEnabled(self.remote.isChecked())

    def _key_hint(self) -> None:
        url = self._url()
        held = bool(url and api_key(url))
        self.key.setPlaceholderText("kept in the system keyring" if held
                                    else "none (kept in the system keyring when set)")

    def _url(self) -> str:
        try:
            return normalise_server_url(self.url.text()) if self.url.text().strip() else ""
        except ValueError:
            return ""

    def chosen(self) -> ServerSettings:
        """The server as entered, validated (a ValidationError says what is wrong)."""
        return ServerSettings.model_validate({
            **self.settings.server.model_dump(), "url": self.url.text(),
            "model": self.model.currentText().strip(), "timeout_s": self.timeout.value()})

    def _key(self, server: ServerSettings) -> str | None:
        return self.key.text() or api_key(server.url)

    def test(self) -> None:
        try:
            server = self.chosen()
        except ValidationError as exc:
            self.result.setText(f"Not tested: {exc.errors()[0]['msg']}")
            return
        trial = self.settings.model_copy(update={"answers_from": "server", "server": server})
        if not confirm_server(self, trial):
            self.result.setText("Not tested: nothing was sent.")
            return
        self.settings.server.confirmed_hosts = trial.server.confirmed_hosts
        self.test_button.setEnabled(False)
        self.result.setText(f"Testing {server_host(server.url)}…")
        self.workers.bench(check_job(server, self._key(server), self.sample()[:SAMPLE_CHARS]),
                           on_done=self._tested, on_error=self._test_failed,
                           on_finished=self._show_fields)

    def _tested(self, check: ServerCheck) -> None:
        current = self.model.currentText()
        self.model.clear()
        self.model.addItems(check.models)
        self.model.setCurrentText(current)
        self.result.setText(describe_check(check))

    def _test_failed(self, message: str) -> None:
        self.result.setText(f"Test failed: {message}")

    def apply(self) -> None:
        """Save the choice (the key to the keyring, never to settings.json) and reload."""
        if self.local.isChecked():
            self.settings.answers_from = "local"
        else:
            try:
                server = self.chosen()
            except ValidationError as exc:
                self.result.setText(f"Not applied: {exc.errors()[0]['msg']}")
                return
            if not server.url or not server.model:
                self.result.setText("Not applied: a server needs its address and the model.")
                return
            if self.key.text():
                try:
                    save_api_key(server.url, self.key.text())
                except DeskError as exc:
                    self.result.setText(f"Not applied: {exc}")
                    return
                self.key.clear()
            self.settings.server = server
            self.settings.answers_from = "server"
        save_settings(self.settings)
        self._key_hint()
        tested = self.result.text() if self.result.text().startswith("Connected") else ""
        where = (f"{server_host(self.settings.server.url)}."
                 if self.settings.answers_from == "server" else "this computer.")
        self.result.setText((f"{tested}\n" if tested else "") + f"Answers now come from {where}")
        self.sig_applied.emit()

    def set_local(self) -> None:
        """A local variant was chosen in the panel: answers come from this computer."""
        self.local.setChecked(True)


def sample_from(texts: list[str]) -> str:
    """The connection test's prompt text: the start of the matter's first text."""
    return " ".join(" ".join(texts[:1]).split())[:SAMPLE_CHARS] if texts else (
        "This Agreement is made between the parties named below.")

