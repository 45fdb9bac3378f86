"""A bad endpoint URL (``OPENAI_BASE_URL='http://[::1'``, a port out of range, not http) is one line from
``run`` and a failed check in ``doctor``, never a traceback; an endpoint that cannot be reached ends a
headless run with the grader's one-line error and no stray traceback from the analyst's reading."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from tests.helpers import one_clear_line, run_cli

_cli = partial(run_cli, timeout=300)


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999/v1", "ftp://example.com"])
def test_a_bad_endpoint_url_is_one_line(url, cli_env, tmp_path: Path):
    env = dict(cli_env, OPENAI_BASE_URL=url)
    script = tmp_path / "answers.txt"
    script.write_text("How many users are there?\n", encoding="utf-8")
    run = _cli(["run", "--problem", "spam-filter", "--candidate", str(script)], env)
    one_clear_line(run, "OPENAI_BASE_URL", url)
    doctor = _cli(["doctor"], env)
    assert doctor.returncode == 1 and "Traceback" not in doctor.stderr + doctor.stdout
    assert f"FAIL  OPENAI_BASE_URL {url!r}" in doctor.stdout


@pytest.mark.slow
def test_an_unreachable_endpoint_ends_a_run_in_one_line(cli_env, tmp_path: Path):
    script = tmp_path / "answers.txt"
    script.write_text("How many users are there?\n", encoding="utf-8")
    env = dict(
        cli_env,
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
        INTERVIEWER_MAX_RETRIES="0",
        INTERVIEWER_CONNECT_TIMEOUT="0.5",
        INTERVIEWER_MODEL="fake-model",
    )
    result = _cli(["run", "--problem", "spam-filter", "--candidate", str(script), "--max-turns", "1"], env)
    assert "Traceback" not in result.stderr and "never retrieved" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 1 and "cannot reach" in result.stderr
