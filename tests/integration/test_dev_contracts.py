"""Real CUAD contracts through the real CLI: known clauses on the right page, JSON contract,
and a kill in the middle of an import that the next run repairs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DEV_DATA

DELTA = "DeltathreeInc_19991102_S-1A_EX-10.19_6227850_EX-10.19_Co-Branding Agreement_ Service Agreement.pdf"
PAPA = "PapaJohnsInternationalInc_20190617_8-K_EX-10.1_11707365_EX-10.1_Endorsement Agreement.pdf"
WESTERN = "WESTERN COPPER - NON-COMPETITION AGREEMENT.PDF"

pytestmark = pytest.mark.skipif(not (DEV_DATA / "pdf").exists(), reason="dev set not present")


def desk(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "desk.cli", *args], capture_output=True,
                            text=True, env=os.environ.copy(), timeout=600)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def contracts(tmp_path: Path) -> Path:
    folder = tmp_path / "contracts"
    folder.mkdir()
    for name in (DELTA, PAPA, WESTERN):
        shutil.copy(DEV_DATA / "pdf" / name, folder / name)
    return folder


def _gold(file: str) -> dict:
    data = json.loads((DEV_DATA / "cuad-dev.json").read_text())
    return next(t for t in data["tests"] if t["snippets"][0]["file"] == file)


def test_index_search_and_find_known_clause_on_its_page(contracts: Path):
    summary = json.loads(desk("index", "--matter", "dev", "--json", str(contracts)).stdout)
    assert summary["added"] == 3 and summary["failed"] == [] and summary["chunks"] > 50
    assert set(summary) >= {"added", "skipped", "failed", "pages", "chunks", "seconds"}

    test = _gold(DELTA)
    hits = json.loads(desk("search", "--matter", "dev", "--json", "--k", "8",
                           test["query"]).stdout)
    assert all(set(h) == {"file", "page_start", "page_end", "text", "score"} for h in hits)
    gold = test["snippets"][0]
    assert any(h["file"] == DELTA and any(h["page_start"] <= p <= h["page_end"]
                                          for p in gold["pages"]) for h in hits)

    queries = "\n".join([test["query"], "governing law", _gold(PAPA)["query"]]) + "\n"
    batch = subprocess.run([sys.executable, "-m", "desk.cli", "search", "--matter", "dev",
                            "--batch", "-", "--k", "3"], input=queries, capture_output=True,
                           text=True, check=True)
    lines = [json.loads(line) for line in batch.stdout.splitlines()]
    assert len(lines) == 3 and all(len(hits) == 3 for hits in lines)
    assert lines[2][0]["file"] == PAPA

    again = json.loads(desk("index", "--matter", "dev", "--json", str(contracts)).stdout)
    assert again["added"] == 0 and again["skipped"] == 3


def test_kill_during_import_is_repaired_on_next_run(contracts: Path):
    env = os.environ.copy()
    proc = subprocess.Popen([sys.executable, "-m", "desk.cli", "index", "--matter", "crash",
                             str(contracts)], stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    deadline = time.monotonic() + 300
    for line in proc.stderr:  # kill as soon as embedding is under way
        if line.startswith("[embed]") or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    from desk.index.matter import open_matter

    matter = open_matter("crash", create=False)
    assert matter.catalog.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    counts = matter.catalog.counts()
    assert counts["documents"] >= 1 and counts["pending"] > 0
    # Keyword search works on what was extracted before the kill.
    matter.close()

    summary = json.loads(desk("index", "--matter", "crash", "--json", str(contracts)).stdout)
    assert summary["failed"] == []
    matter = open_matter("crash", create=False)
    counts = matter.catalog.counts()
    assert counts["documents"] == 3 and counts["pending"] == 0
    assert matter.vectors.ids() == set(matter.catalog.chunk_ids())
    matter.close()
    hits = json.loads(desk("search", "--matter", "crash", "--json", "non-competition").stdout)
    assert hits
