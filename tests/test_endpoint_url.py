"""A bad endpoint URL (``OPENAI_BASE_URL='http://[::1'``, a port out of range, not http) is one line from
``run`` and a failed check in ``doctor``, never a traceback; an endpoint that cannot be reached ends a
headless run with the grader's one-line error and no stray traceback from the analyst's reading."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "interviewer", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )


def _one_clear_line(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode != 0 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr[-3000:]
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999/v1", "ftp://example.com"])
def test_a_bad_endpoint_url_is_one_line(url, cli_env, tmp_path: Path):
    env = dict(cli_env, OPENAI_BASE_URL=url)
    script = tmp_path / "answers.txt"
    script.write_text("How many users are there?\n", encoding="utf-8")
    run = _cli(["run", "--problem", "spam-filter", "--candidate", str(script)], env)
    _one_clear_line(run, "OPENAI_BASE_URL", url)
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
