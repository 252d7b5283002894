"""Build the double-clickable bundle and run its self-test offline (slow; `pytest -m slow`)."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bundle_builds_and_passes_its_self_test_offline():
    build = subprocess.run([str(ROOT / "packaging" / "build.sh")], capture_output=True,
                           text=True, timeout=3600)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    desk = ROOT / "dist" / "Desk" / "Desk"
    command = [str(desk), "--self-test"]
    if shutil.which("unshare"):
        command = ["unshare", "-n", *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verified citation" in result.stdout
