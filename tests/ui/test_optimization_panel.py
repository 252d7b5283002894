"""Drive the optimization panel: benchmark a SmolLM2 ladder, pick a variant, apply it."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desk.config.settings import load_settings
from desk.core.progress import drive
from desk.llm.quantize import quantize
from desk.llm.store import ModelStore
from desk.ui.main_window import MainWindow

FAMILY = "smollm2-135m-instruct"


def test_panel_benchmarks_recommends_and_applies_a_variant(qtbot):
    store = ModelStore()
    for precision in ("F16", "Q8_0", "Q2_K"):
        drive(quantize(store, FAMILY, precision), lambda p: None)
    settings = load_settings()
    settings.llm.model = "smollm2-135m-instruct-q4_1"
    settings.llm.n_ctx = 2048  # the lowest context Desk allows
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    window.optimize_action.trigger()
    panel = window.panel
    assert panel is not None and panel.isVisible()
    assert panel.family.currentText() == FAMILY
    names = [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
    assert names[0] == "smollm2-135m-instruct-f16" and "smollm2-135m-instruct-q2_k" in names

    qtbot.mouseClick(panel.bench_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.job_cancel is None and panel.bench_button.isEnabled(),
                    timeout=300_000)
    kl = {panel.table.item(r, 0).text(): panel.table.item(r, 8).text()
          for r in range(panel.table.rowCount())}
    assert float(kl["smollm2-135m-instruct-f16"]) == 0.0
    assert float(kl["smollm2-135m-instruct-q8_0"]) < float(kl["smollm2-135m-instruct-q2_k"])
    assert "Recommended" in panel.recommendation.text()

    row = names.index("smollm2-135m-instruct-q8_0")
    panel.table.selectRow(row)
    panel.kv_type.setCurrentText("q8_0")
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "q8_0 · Q8_0" in window.model_label.text()
                    and "loaded" in window.model_label.text(), timeout=120_000)
    assert load_settings().llm.model == "smollm2-135m-instruct-q8_0"
    assert load_settings().llm.kv_cache_type == "q8_0"
    window.close()
