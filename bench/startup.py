"""Start-up, each figure from a fresh process started as a user starts the app: ``interviewer --help`` and
``interviewer list`` (wall and CPU), the TUI's first paint and memory, opening a long interview, showing
all its turns, and an interview's first request after the app opened.

The children run with compiled bytecode, as an installed app does (a cache of their own, filled by one
run that is not counted), and with an LLM endpoint configured (the fake server), the default way to use
the app.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench.common import Result, temporary_home

ROOT = Path(__file__).resolve().parent.parent
COMMAND = [sys.executable, "-c", "import sys; from tui.launcher import main; sys.exit(main())"]
LONG_INTERVIEW = 300
"""Turns of the interview that is opened."""


@contextmanager
def user_environment():
    """A throwaway home with an endpoint configured (the fake server in its own process), and a bytecode
    cache the children share."""
    from bench.engine import server_process

    with temporary_home(), server_process() as server, tempfile.TemporaryDirectory(prefix="pycache-") as cache:
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=cache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(INTERVIEWER_BASE_URL=server.base_url, INTERVIEWER_MODEL="fake-model", OPENAI_API_KEY="none")
        subprocess.run([*COMMAND, "list"], check=True, capture_output=True, env=env, cwd=ROOT)  # db, bytecode
        yield env, server.base_url


def _command(args: list[str], repeat: int, env: dict) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds of a command, each run a fresh process."""
    wall, cpu = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, env=env, cwd=ROOT)
        wall.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return wall, cpu


def run_app(env: dict, *args: str) -> dict:
    """One headless run of the app in a fresh process (bench/fresh_app.py); its stamps, and when it began."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.fresh_app", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600
    )
    if done.returncode:
        raise RuntimeError(f"the app failed: {done.stderr[-2000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "started": start}


def seed_long_interview(turns: int = LONG_INTERVIEW) -> int:
    """An interview held through the offline engine (real snapshots, turns as the engine stores them)."""
    from bench.common import play_scripted
    from bench.engine import LINES
    from interviewer.backends import OfflineBackend
    from interviewer.config import load_settings
    from interviewer.content import ContentLibrary
    from interviewer.services import open_repository

    library = ContentLibrary()
    repo = open_repository()
    messages = [LINES[i % len(LINES)] for i in range(turns // 2)]
    asyncio.run(
        play_scripted(
            repo,
            OfflineBackend(load_settings(backend="offline", understanding="lexical")),
            problem=library.problems.get("spam-filter"),
            persona=library.personas.get("mentor"),
            rubric=library.rubrics.get("ml-design"),
            minutes=100_000,
            messages=messages,
        )
    )
    interview_id = repo.list_interviews(limit=1)[0].id
    repo.release_lease(interview_id)
    repo.close()
    return interview_id


def _p50(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def startup(quick: bool) -> list[Result]:
    repeat = 3 if quick else 10
    with user_environment() as (env, server_url):
        help_wall, _ = _command([*COMMAND, "--help"], repeat, env)
        list_wall, list_cpu = _command([*COMMAND, "list"], repeat, env)
        interview_id = seed_long_interview(60 if quick else LONG_INTERVIEW)
        opened = [run_app(env, "open", str(interview_id)) for _ in range(2 if quick else 5)]
        first = [run_app(env, "first-request", server_url) for _ in range(2 if quick else 5)]
    turns = opened[0]["messages"]
    return [
        Result("start-up: interviewer --help", "ms", help_wall, target=300),
        Result(
            "start-up: interviewer list",
            "ms",
            list_wall,
            target=200,
            note=f"fresh process, empty database; CPU p50 {statistics.median(list_cpu):.0f} ms",
        ),
        Result(
            f"TUI: open a {turns}-turn interview",
            "ms",
            [run["opened_ms"] for run in opened],
            target=150,
            note=f"Resume → its screen drawn with the newest turns; CPU p50 {_p50(opened, 'opened_cpu_ms'):.0f} ms",
        ),
        Result(
            f"TUI: show all {turns} turns (Ctrl+L)",
            "ms",
            [run["all_turns_ms"] for run in opened],
            target=300,
            note=f"CPU p50 {_p50(opened, 'all_turns_cpu_ms'):.0f} ms",
        ),
        Result(
            "TUI: first message's Enter → its request on the wire",
            "ms",
            [(run["request_arrived"] - run["submitted"]) * 1000 for run in first],
            note="a fresh app; the interview started 1 s after the first paint, the message sent once it opened",
        ),
    ]
