"""Helpers shared by the tests: drive a session to completion and collect its events."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from interviewer.backends import Backend, OfflineBackend
from interviewer.content import ContentLibrary
from interviewer.engine.clock import ScriptedClock
from interviewer.engine.session import InterviewSession
from tests.conftest import ROOT


async def collect(stream) -> list:
    return [event async for event in stream]


async def play(
    repo,
    messages: list[str],
    *,
    problem: str = "spam-filter",
    persona: str = "mentor",
    rubric: str = "ml-design",
    minutes: float = 45.0,
    max_turns: int | None = None,
    backend: Backend | None = None,
    end: bool = True,
) -> tuple[InterviewSession, list]:
    """Start an interview, send each message until it ends, and (by default) end it."""
    library = ContentLibrary()
    session = InterviewSession.start(
        repo,
        problem=library.problems.get(problem),
        persona=library.personas.get(persona),
        rubric=library.rubrics.get(rubric),
        backend=backend or OfflineBackend(),
        minutes=minutes,
        max_turns=max_turns,
        clock=ScriptedClock(),
    )
    events = await collect(session.open())
    for text in messages:
        if session.finished:
            break
        events += await collect(session.submit(text))
    if end and not session.finished:
        events += await collect(session.end())
    return session, events


def interviewer_kinds(repo, interview_id: int) -> list[str]:
    return [t.kind for t in repo.get_turns(interview_id) if t.role == "interviewer"]


def replies_as_shown(events) -> list[str]:
    """The concatenated ReplyDelta text of each reply, in order: exactly what the user saw."""
    from interviewer.engine.events import ReplyDelta, ReplyStarted

    shown: list[str] = []
    for event in events:
        if isinstance(event, ReplyStarted):
            shown.append("")
        elif isinstance(event, ReplyDelta):
            shown[-1] += event.text
    return shown


def schema_of(engine) -> dict:
    """Tables with their columns, indexes, unique constraints and foreign keys, for comparing schemas."""
    from sqlalchemy import inspect

    inspector = inspect(engine)
    return {
        table: (
            sorted((c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)),
            sorted(tuple(i["column_names"]) for i in inspector.get_indexes(table)),
            sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            sorted((tuple(f["constrained_columns"]), f["referred_table"]) for f in inspector.get_foreign_keys(table)),
        )
        for table in inspector.get_table_names()
    }


def run_cli(
    args: list[str], env: dict[str, str], *, timeout: float = 120, **kwargs: Any
) -> subprocess.CompletedProcess:
    """``python -m interviewer ARGS`` from the repository, with its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "interviewer", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        **kwargs,
    )


def one_clear_line(result: subprocess.CompletedProcess, *words: str) -> None:
    """The command failed with one line on stderr, naming ``words``, and no traceback."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Error:" not in result.stderr.replace("interviewer:", "")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr[-3000:]
    for word in words:
        assert word in lines[0], lines[0]
