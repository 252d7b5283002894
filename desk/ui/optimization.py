"""The optimization panel: the precision ladder of a model family, measured on this machine,
with the trade between size, speed and quality shown as a table and as charts."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk.config.settings import (
    LlmSettings,
    Settings,
    bounds,
    choices,
    save_settings,
)
from desk.core.progress import CancelToken, Progress
from desk.llm.bench import bench_models, kv_cache_bytes, load_results, sample_text
from desk.llm.choice import DEFAULT_MAX_KL, available_memory, fit, recommend
from desk.llm.gpu import supports_gpu_offload
from desk.llm.quantize import quantize, rank
from desk.llm.store import ModelEntry, ModelStore
from desk.ui.server import ServerSection, sample_from
from desk.ui.workers import Workers

CREATABLE = ["F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K"]
COLUMNS = ["Variant", "Size MB", "Bits/w", "Fits in RAM", "RSS MB", "KV MB", "Prompt tok/s",
           "Gen tok/s", "KL vs teacher", "Top-1", "Perplexity", "Note"]


def _context_choices(current: int) -> list[int]:
    """Powers of two within the n_ctx bounds, plus the current value if it is not one."""
    lo, hi = bounds(LlmSettings, "n_ctx")
    sizes = [2**k for k in range(32) if lo <= 2**k <= hi]
    if lo <= current <= hi and current not in sizes:
        sizes = sorted([*sizes, current])
    return sizes


class TradeChart(QWidget):
    """Two scatter plots: size vs quality loss, and generation speed vs quality loss."""

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumHeight(210)
        self.points: list[dict[str, Any]] = []
        self.recommended: str | None = None

    def set_points(self, points: list[dict[str, Any]], recommended: str | None) -> None:
        self.points = [p for p in points if p.get("kl_vs_reference") is not None]
        self.recommended = recommended
        self.update()

    def paintEvent(self, event: Any) -> None:  # noqa: N802 (Qt naming)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        half = self.width() / 2
        self._plot(painter, QRectF(50, 10, half - 70, self.height() - 50),
                   "size (MB)", lambda p: p["size_bytes"] / 2**20)
        self._plot(painter, QRectF(half + 40, 10, half - 60, self.height() - 50),
                   "generation tokens/s", lambda p: p["gen_tokens_per_s"])
        painter.end()

    def _plot(self, painter: QPainter, area: QRectF, x_label: str,
              x_of: Callable[[dict[str, Any]], float]) -> None:
        painter.setPen(QPen(QColor("#888")))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(area)
        painter.drawText(QRectF(area.left(), area.bottom() + 4, area.width(), 18),
                         Qt.AlignmentFlag.AlignCenter, x_label)
        painter.save()
        painter.translate(area.left() - 36, area.bottom())
        painter.rotate(-90)
        painter.drawText(QRectF(0, 0, area.height(), 18), Qt.AlignmentFlag.AlignCenter,
                         "quality loss: log10(KL + 1e-4)")
        painter.restore()
        if not self.points:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "Run Benchmark to measure")
            return
        xs = [x_of(p) for p in self.points]
        ys = [math.log10(p["kl_vs_reference"] + 1e-4) for p in self.points]
        x0, x1 = min(xs), max(xs)
        y0, y1 = min(ys), max(ys)
        for p, x, y in zip(self.points, xs, ys):
            px = area.left() + 12 + (x - x0) / ((x1 - x0) or 1) * (area.width() - 70)
            py = area.bottom() - 12 - (y - y0) / ((y1 - y0) or 1) * (area.height() - 24)
            best = p["name"] == self.recommended
            painter.setPen(QPen(QColor("#1a7f37" if best else "#1f4e9e"), 2))
            painter.setBrush(QColor("#1a7f37" if best else "#1f4e9e"))
            painter.drawEllipse(QPointF(px, py), 5, 5)
            painter.setPen(QColor("#222"))
            painter.drawText(QPointF(px + 7, py - 6), p["precision"])


class OptimizationPanel(QDialog):
    # the settings were saved: the window loads the model (or connects to the server) again
    sig_model_applied = Signal()

    def __init__(self, settings: Settings, workers: Workers, parent: QWidget | None = None,
                 bench_texts: Callable[[], list[str]] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Optimization panel: model precision and where answers come from")
        self.resize(1180, 820)
        self.settings = settings
        self.workers = workers
        self.store = ModelStore()
        self.bench_texts = bench_texts or (lambda: [])
        self.job_cancel: CancelToken | None = None

        self.family = QComboBox()
        self.family.setObjectName("family")
        self.family.currentTextChanged.connect(lambda _: self.refresh())
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("variants")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.chart = TradeChart()
        self.max_kl = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=5.0, singleStep=0.01)
        self.max_kl.setValue(DEFAULT_MAX_KL)
        self.max_kl.setToolTip("Largest acceptable mean KL divergence from the highest-precision "
                               "variant. Lower keeps answers closer to the full model.")
        self.max_kl.valueChanged.connect(lambda _: self.refresh())
        self.recommendation = QLabel()
        self.recommendation.setObjectName("recommendation")

        self.precision = QComboBox()
        self.precision.addItems(CREATABLE)
        self.create_button = QPushButton("Create variant")
        self.create_button.clicked.connect(self.create_variant)
        self.bench_button = QPushButton("Benchmark")
        self.bench_button.clicked.connect(self.benchmark)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_job)
        self.progress = QProgressBar()
        self.status = QLabel()
        self.status.setWordWrap(True)

        knobs = QGroupBox("Runtime")
        form = QFormLayout(knobs)
        llm = settings.llm
        # ranges and choices come from the settings model, so the panel cannot offer a value
        # that validation would reject
        self.threads = QSpinBox()
        self.threads.setRange(*bounds(LlmSettings, "n_threads"))
        self.threads.setValue(llm.n_threads)
        self.threads.setSpecialValueText("all cores")  # shown for the minimum, 0
        self.threads.setToolTip("CPU threads; 0 uses every core.")
        self.context = QComboBox()
        self.context.addItems([str(n) for n in _context_choices(llm.n_ctx)])
        self.context.setCurrentText(str(llm.n_ctx))
        self.context.setToolTip("Tokens the model sees at once: evidence, history and answer. "
                                "The KV cache grows with it.")
        self.kv_type = QComboBox()
        self.kv_type.addItems(choices(LlmSettings, "kv_cache_type"))
        self.kv_type.setCurrentText(llm.kv_cache_type)
        self.kv_type.setToolTip("Precision of the attention cache: q8_0 halves its memory with "
                                "little loss; q4_0 quarters it.")
        self.batch = QSpinBox(singleStep=32)
        self.batch.setRange(*bounds(LlmSettings, "n_batch"))
        self.batch.setValue(llm.n_batch)
        self.batch.setToolTip("Prompt tokens processed per step; larger is faster on a GPU, "
                              "uses more memory.")
        self.offload = supports_gpu_offload()
        self.gpu_layers = QSpinBox()
        self.gpu_layers.setRange(*bounds(LlmSettings, "n_gpu_layers"))
        if self.gpu_layers.minimum() == -1:
            self.gpu_layers.setSpecialValueText("all")  # llama.cpp: -1 offloads every layer
        self.gpu_auto = QCheckBox("auto")
        self.gpu_auto.setObjectName("gpu_auto")
        self.gpu_auto.setToolTip("As many layers as fit in the GPU's free memory, measured when "
                                 "the model loads.")
        self.gpu_auto.toggled.connect(lambda auto: self.gpu_layers.setEnabled(
            self.offload and not auto))
        self.gpu_auto.setChecked(llm.n_gpu_layers == "auto")
        self.gpu_layers.setValue(0 if llm.n_gpu_layers == "auto" else int(llm.n_gpu_layers))
        self.gpu_layers.setEnabled(self.offload and llm.n_gpu_layers != "auto")
        self.gpu_auto.setEnabled(self.offload)
        self.gpu_layers.setToolTip("Layers offloaded to the GPU (-1: all)." if self.offload else
                                   "This llama.cpp build has no GPU support (see README).")
        gpu = QHBoxLayout()
        gpu.addWidget(self.gpu_layers, 1)
        gpu.addWidget(self.gpu_auto)
        form.addRow("Threads", self.threads)
        form.addRow("Context length", self.context)
        form.addRow("KV cache precision", self.kv_type)
        form.addRow("Batch size", self.batch)
        form.addRow("GPU layers", gpu)
        self.apply_button = QPushButton("Use selected variant with these settings")
        self.apply_button.setObjectName("apply")
        self.apply_button.clicked.connect(self.apply)
        self.server = ServerSection(settings, workers, lambda: sample_from(self.bench_texts()))
        self.server.sig_applied.connect(self.sig_model_applied)

        top = QHBoxLayout()
        top.addWidget(QLabel("Model family"))
        top.addWidget(self.family, 1)
        top.addWidget(QLabel("Quality threshold (max KL)"))
        top.addWidget(self.max_kl)
        actions = QHBoxLayout()
        actions.addWidget(QLabel("New variant at"))
        actions.addWidget(self.precision)
        actions.addWidget(self.create_button)
        actions.addWidget(self.bench_button)
        actions.addWidget(self.progress, 1)
        actions.addWidget(self.cancel_button)
        right = QVBoxLayout()
        right.addWidget(self.server)
        right.addWidget(knobs)
        right.addWidget(self.apply_button)
        right.addStretch(1)
        middle = QHBoxLayout()
        middle.addWidget(self.chart, 3)
        middle.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.recommendation)
        layout.addLayout(middle, 2)
        layout.addLayout(actions)
        layout.addWidget(self.status)
        self._load_families()

    # -- data ---------------------------------------------------------------------------
    def _load_families(self) -> None:
        families = sorted({e.family for e in self.store.entries()})
        current = self.store.get(self.settings.llm.model).family if any(
            e.name == self.settings.llm.model for e in self.store.entries()) else None
        self.family.blockSignals(True)
        self.family.clear()
        self.family.addItems(families)
        if current:
            self.family.setCurrentText(current)
        self.family.blockSignals(False)
        self.refresh()

    def variants(self) -> list[ModelEntry]:
        entries = self.store.family(self.family.currentText())
        return sorted(entries, key=lambda e: -rank(e.precision))

    def refresh(self) -> None:
        results = load_results(self.store)
        available = available_memory()
        variants = self.variants()
        measured = [results[e.name] for e in variants if e.name in results and e.available]
        best = recommend(measured, available, self.max_kl.value())
        self.table.setRowCount(len(variants))
        for row, entry in enumerate(variants):
            r = results.get(entry.name, {})
            kv = (kv_cache_bytes(Path(entry.path), self.settings.llm.n_ctx)
                  if entry.available else 0)
            note = []
            if entry.name == self.settings.llm.model:
                note.append("in use")
            if entry.name == best:
                note.append("recommended")
            if entry.requantized:
                note.append(f"re-quantized from {entry.parent or 'a quantized file'}")
            if not entry.available:
                note.append("prepared on first use")
            values = [entry.name, f"{entry.size_bytes / 2**20:.0f}", r.get("bits_per_weight", ""),
                      fit(entry.size_bytes, kv, available), r.get("rss_mb", ""),
                      f"{kv / 2**20:.0f}" if kv else "", r.get("prompt_tokens_per_s", ""),
                      r.get("gen_tokens_per_s", ""), r.get("kl_vs_reference", ""),
                      r.get("top1_agreement", ""), r.get("perplexity", ""), "; ".join(note)]
            for col, value in enumerate(values):
                item = QTableWidgetItem(str(value) if value is not None else "")
                item.setData(Qt.ItemDataRole.UserRole, entry.name)
                if entry.name == best:
                    item.setBackground(QColor("#e6f4ea"))
                if col == 3 and value == "won't fit":
                    item.setForeground(QColor("#b42318"))
                self.table.setItem(row, col, item)
        self.chart.set_points(measured, best)
        self.recommendation.setText(
            f"Recommended: <b>{best}</b>, the fastest variant within KL ≤ "
            f"{self.max_kl.value():.3f} that fits in {available / 2**30:.1f} GB of free memory."
            if best else "No recommendation yet: benchmark the variants (quality is measured "
            "against the highest-precision one present).")

    def selected(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    # -- jobs ---------------------------------------------------------------------------
    def _run(self, job: Callable[[CancelToken], Generator[Progress, None, Any]],
             done_message: str) -> None:
        for button in (self.create_button, self.bench_button, self.apply_button):
            button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        # its own pool: imports and answers go on meanwhile
        worker = self.workers.bench(job, on_item=self._progress,
                                    on_done=lambda _: self.status.setText(done_message),
                                    on_error=self.status.setText,
                                    on_finished=self._job_finished)
        self.job_cancel = worker.cancel

    def _progress(self, progress: Progress) -> None:
        self.progress.setMaximum(max(progress.total, 1))
        self.progress.setValue(progress.done)
        self.status.setText(progress.message)

    def _job_finished(self) -> None:
        for button in (self.create_button, self.bench_button, self.apply_button):
            button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.job_cancel = None
        self.store = ModelStore()
        self.refresh()

    def cancel_job(self) -> None:
        if self.job_cancel is not None:
            self.job_cancel.cancel()

    def create_variant(self) -> None:
        family, precision, store = self.family.currentText(), self.precision.currentText(), self.store
        self._run(lambda cancel: quantize(store, family, precision, cancel=cancel),
                  f"Created the {precision} variant.")

    def benchmark(self) -> None:
        names = [e.name for e in self.variants() if e.available]
        if not names:
            self.status.setText("No variant of this family is in the store yet.")
            return
        text = sample_text(self.bench_texts())
        store, llm = self.store, self.settings.llm
        self._run(lambda cancel: bench_models(store, names, text, llm, cancel),
                  f"Measured {len(names)} variant(s) on this machine.")

    def apply(self) -> None:
        name = self.selected() or self.settings.llm.model
        chosen = {"model": name, "n_threads": self.threads.value(),
                  "n_ctx": int(self.context.currentText()),
                  "kv_cache_type": self.kv_type.currentText(), "n_batch": self.batch.value(),
                  "n_gpu_layers": "auto" if self.gpu_auto.isChecked()
                  else self.gpu_layers.value()}
        try:  # validated as a whole, then swapped in at once: a running answer sees old or new
            llm = LlmSettings.model_validate({**self.settings.llm.model_dump(), **chosen})
        except ValidationError as exc:
            self.status.setText(f"Not applied: {exc.errors()[0]['msg']}")
            return
        self.settings.llm = llm
        self.settings.answers_from = "local"  # a variant chosen to use answers from here
        self.server.set_local()
        save_settings(self.settings)
        self.status.setText(f"Using {name}; the model reloads in the background.")
        self.refresh()
        self.sig_model_applied.emit()
