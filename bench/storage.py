"""Storage benchmarks in a user's conditions, on SQLite and PostgreSQL side by side (PostgreSQL where one
runs: the URL .ci/postgres.sh writes, or INTERVIEWER_TEST_PG_URL).

Every interview carries the built-in content's real snapshots, and the turns, state, metadata, events
and scorecard are the ones the engine writes: recorded from an interview played with the default
settings (the LLM analyst and grader, against the fake OpenAI server) and replayed through the same
repository calls. Each figure is wall time; its note gives the CPU time this process spent.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from bench.common import Result, percentile_text, play_scripted, temporary_home

PG_URL_FILE = Path("/tmp/interviewer-pg-url")
CANDIDATE_SCRIPT = Path(__file__).resolve().parent.parent / "tests" / "data" / "spam-strong.txt"
RECORDED_TURNS = 30
"""Candidate turns in the recorded interview (the engine's state grows with them)."""


def postgres_url() -> str | None:
    url = os.environ.get("INTERVIEWER_TEST_PG_URL")
    if not url and PG_URL_FILE.exists():
        url = PG_URL_FILE.read_text().strip()
    return url or None


@contextmanager
def _fresh_postgres(url: str) -> Iterator[str]:
    """A throwaway database on the server, dropped afterwards."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ----------------------------------------------------------------------------- what the engine writes


@dataclass
class Recording:
    snapshots: dict[str, dict]
    """problem, persona, rubric: as the engine stores them."""
    writes: list[tuple[str, str, dict[str, Any]]]
    """Each ``add_turn`` call in order: role, text, keyword arguments."""
    state: dict[str, Any]
    """The engine's state at the end."""
    scorecard: dict[str, Any]
    """``add_scorecard``'s keyword arguments for the grading."""


def record_interview() -> Recording:
    from bench.engine import _settings
    from interviewer.backends.openai_backend import OpenAIBackend
    from interviewer.content import ContentLibrary
    from interviewer.grading.base import grade_interview
    from interviewer.services import open_repository
    from tests.fakes.openai_server import FakeOpenAI

    lines = [line for line in CANDIDATE_SCRIPT.read_text().splitlines() if line.strip()]
    library = ContentLibrary()
    content = {
        "problem": library.problems.get("spam-filter"),
        "persona": library.personas.get("mentor"),
        "rubric": library.rubrics.get("ml-design"),
    }
    writes: list[tuple[str, str, dict[str, Any]]] = []
    with temporary_home(), FakeOpenAI() as server:
        repo = open_repository()
        add_turn = repo.add_turn

        def recording_add_turn(interview_id: int, role: str, text: str, **kwargs: Any) -> Any:
            writes.append((role, text, kwargs))
            return add_turn(interview_id, role, text, **kwargs)

        repo.add_turn = recording_add_turn  # type: ignore[method-assign]
        backend = OpenAIBackend(_settings(server))
        messages = [lines[i % len(lines)] for i in range(RECORDED_TURNS)]
        session = asyncio.run(play_scripted(repo, backend, **content, minutes=600, messages=messages, end=True))
        asyncio.run(grade_interview(repo, session.interview_id, backend.grader()))
        [card] = repo.get_scorecards(session.interview_id)
        state = repo.get_interview(session.interview_id).state
        repo.close()
    return Recording(
        snapshots={kind: item.model_dump(mode="json") for kind, item in content.items()},
        writes=writes,
        state=state,
        scorecard={
            "rubric_id": card.rubric_id,
            "grader": card.grader,
            "overall": card.overall,
            "recommendation": card.recommendation,
            "data": card.data,
        },
    )


# ----------------------------------------------------------------------------- measuring


@dataclass
class Measured:
    wall: list[float]
    cpu: list[float]


def measure(fn: Callable[[], object], repeat: int) -> Measured:
    """Milliseconds per call, wall and this process's CPU."""
    out = Measured([], [])
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        out.cpu.append((time.process_time() - cpu) * 1000)
        out.wall.append((time.perf_counter() - wall) * 1000)
    return out


def _replay(repo: Any, recording: Recording, turns: int | None = None) -> tuple[int, Measured, Measured]:
    """The recorded interview's writes into a new held interview (cycled to ``turns`` if given), each
    timed: (interview id, candidate writes, interviewer writes)."""
    interview = repo.create_interview(
        **recording.snapshots, backend="openai", budget_minutes=45, model="fake-model", hold=True
    )
    timings = {"candidate": Measured([], []), "interviewer": Measured([], [])}
    total = turns or len(recording.writes)
    for index in range(total):
        role, text_, kwargs = recording.writes[index % len(recording.writes)]
        offset = index - index % len(recording.writes)  # earlier rounds' turns, when cycling
        if kwargs.get("set_meta"):
            kwargs = {**kwargs, "set_meta": {seq + offset: meta for seq, meta in kwargs["set_meta"].items()}}
        one = measure(lambda: repo.add_turn(interview.id, role, text_, **kwargs), 1)  # noqa: B023
        timings[role].wall += one.wall
        timings[role].cpu += one.cpu
    repo.release_lease(interview.id)
    return interview.id, timings["candidate"], timings["interviewer"]


def _seed_interviews(repo: Any, recording: Recording, count: int, *, graded: bool) -> None:
    """``count`` ended interviews like the recorded one, in bulk (with its scorecard if ``graded``)."""
    from storage.models import Interview, Scorecard

    first = repo.create_interview(**recording.snapshots, backend="openai", budget_minutes=45, state=recording.state)
    template = {
        "status": "ended",
        "problem_id": first.problem_id,
        "persona_id": first.persona_id,
        "rubric_id": first.rubric_id,
        "title": first.title,
        "problem_digest": first.problem_digest,
        "persona_digest": first.persona_digest,
        "rubric_digest": first.rubric_digest,
        "backend": "openai",
        "model": "fake-model",
        "budget_minutes": 45.0,
        "state": recording.state,
        "elapsed_seconds": recording.state.get("elapsed_seconds", 0.0),
        "turn_count": len(recording.writes),
        "last_overall": recording.scorecard["overall"],
        "last_recommendation": recording.scorecard["recommendation"],
    }
    for start in range(0, count - 1, 5_000):
        size = min(5_000, count - 1 - start)
        with repo.writing() as session:
            ids = session.scalars(insert(Interview).returning(Interview.id), [template] * size).all()
            if graded:
                session.execute(insert(Scorecard), [{"interview_id": i, **recording.scorecard} for i in ids])
    if graded:
        repo.add_scorecard(first.id, **recording.scorecard)


# ----------------------------------------------------------------------------- one database


def _run(url: str, recording: Recording, quick: bool) -> dict[str, Measured]:
    from interviewer.progress import compute_progress
    from storage import Repository

    repo = Repository.open(url)
    candidate, interviewer = Measured([], []), Measured([], [])
    for _ in range(2 if quick else 10):
        _, one_candidate, one_interviewer = _replay(repo, recording)
        candidate.wall += one_candidate.wall
        candidate.cpu += one_candidate.cpu
        interviewer.wall += one_interviewer.wall
        interviewer.cpu += one_interviewer.cpu
    out = {
        "add a turn": Measured(candidate.wall + interviewer.wall, candidate.cpu + interviewer.cpu),
        "add a candidate turn": candidate,
        "add an interviewer turn": interviewer,
    }

    long_id, _, _ = _replay(repo, recording, turns=1_000)
    out["load a 1,000-turn transcript"] = measure(lambda: repo.get_turns(long_id), 5 if quick else 20)

    listed = 1_000 if quick else 10_000
    _seed_interviews(repo, recording, listed - repo.count_interviews(), graded=False)
    out[f"list {listed:,} interviews"] = measure(lambda: repo.list_interviews(limit=listed), 5 if quick else 20)

    graded = 2_000 if quick else 100_000
    _seed_interviews(repo, recording, graded - repo.count_interviews(), graded=True)
    out[f"progress screen, {graded:,} interviews"] = measure(lambda: compute_progress(repo), 5 if quick else 20)
    repo.close()
    return out


TARGETS = {
    "add a turn": 2,
    "add a candidate turn": 2,
    "add an interviewer turn": 2,
    "load a 1,000-turn transcript": 50,
    "list 10,000 interviews": 100,
    "progress screen, 100,000 interviews": 100,
}


def _cpu_note(measured: Measured) -> str:
    return f"CPU p50 {percentile_text(statistics.median(measured.cpu))} ms"


def storage(quick: bool) -> list[Result]:
    recording = record_interview()
    with temporary_home() as home:
        sqlite = _run(f"sqlite:///{home / 'bench.db'}", recording, quick)
    postgres: dict[str, Measured] = {}
    why_not = ""
    url = postgres_url()
    if url is None:
        why_not = "no server (run .ci/postgres.sh)"
    else:
        try:
            with _fresh_postgres(url) as database:
                postgres = _run(database, recording, quick)
        except Exception as exc:  # the server is not reachable: say so in the table, keep SQLite's figures
            why_not = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    results = []
    for figure, measured in sqlite.items():
        note = _cpu_note(measured)
        if figure in postgres:
            ratio = statistics.median(postgres[figure].wall) / max(statistics.median(measured.wall), 1e-9)
            note += f"; PostgreSQL p50 {percentile_text(statistics.median(postgres[figure].wall))} ms ({ratio:.1f}×)"
        results.append(
            Result(f"storage (SQLite): {figure}", "ms", measured.wall, target=TARGETS.get(figure), note=note)
        )
        if figure in postgres:
            results.append(
                Result(f"storage (PostgreSQL): {figure}", "ms", postgres[figure].wall, note=_cpu_note(postgres[figure]))
            )
    if why_not:
        results.append(Result(f"storage (PostgreSQL): skipped, {why_not}", "", [0.0]))
    return results
