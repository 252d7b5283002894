"""A setting given on the command line that fails validation is a one-line `desk:` error with
exit code 2, not a traceback."""

import json
from pathlib import Path

import pytest

from desk.cli import main
from desk.index.matter import open_matter


@pytest.fixture
def eval_args(tmp_path: Path) -> list[str]:
    open_matter("x").close()
    questions = tmp_path / "set.json"
    questions.write_text(json.dumps({"tests": []}))
    return ["eval", "--matter", "x", "--set", str(questions), "--ttft", "1"]


def test_evidence_tokens_below_the_bound_is_a_readable_error(eval_args, capsys):
    assert main([*eval_args, "--evidence-tokens", "50"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("desk: ") and "\n" not in err and "Traceback" not in err
    assert "evidence_tokens" in err and "greater than or equal to 100" in err and "50" in err


def test_evidence_tokens_that_do_not_fit_the_context_is_a_readable_error(eval_args, capsys):
    assert main([*eval_args, "--evidence-tokens", "5000"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("desk: ") and "\n" not in err
    assert "evidence_tokens (5000)" in err and "n_ctx (4096)" in err
