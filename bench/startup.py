"""Start-up: wall time of `interviewer --help` and `interviewer list` in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Result, temporary_home

ROOT = Path(__file__).resolve().parent.parent


def _wall(args: list[str], repeat: int, env: dict) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, env=env, cwd=ROOT)
        out.append((time.perf_counter() - start) * 1000)
    return out


def startup(quick: bool) -> list[Result]:
    repeat = 3 if quick else 10
    command = [sys.executable, "-c", "import sys; from tui.launcher import main; sys.exit(main())"]
    with temporary_home():
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        subprocess.run([*command, "list"], check=True, capture_output=True, env=env, cwd=ROOT)  # creates the db
        return [
            Result("start-up: interviewer --help", "ms", _wall([*command, "--help"], repeat, env), target=300),
            Result("start-up: interviewer list", "ms", _wall([*command, "list"], repeat, env)),
        ]
