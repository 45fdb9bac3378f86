"""The benchmarks run (quick mode proves they work; it judges no time)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def test_every_benchmark_runs_and_prints_its_table(tmp_path, cli_env):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=cli_env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(out.read_text())
    figures = {row["figure"] for row in rows}
    for expected in (  # the start of each figure's name
        "engine overhead per turn (turn 100, resumed, analyst=llm",
        "model's first token → first text shown (30 words/s)",
        "offline reply (submit → reply stored)",
        "requests per grading",
        "storage (SQLite): add a turn",
        "storage (SQLite): load a 1,000-turn transcript",
        "TUI: CPU per streamed chunk, 200-turn interview",
        "TUI: Textual's MarkdownStream, same screen",
        "TUI: ours / naive per chunk (200-turn interview)",
        "prompt tokens: analyst, 10-turn interview",
        "prompt tokens: grader, 10-turn interview",
        "start-up: interviewer --help",
    ):
        assert any(figure.startswith(expected) for figure in figures), expected
    assert all(row["samples"] >= 1 and row["p50"] >= 0 for row in rows)
    assert next(r for r in rows if r["figure"] == "requests per grading")["p50"] == 1
    assert "figure" in result.stdout and "target" in result.stdout
