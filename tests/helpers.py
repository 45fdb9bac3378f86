"""Helpers shared by the tests: drive a session to completion and collect its events."""

from __future__ import annotations

from interviewer.backends import Backend, OfflineBackend
from interviewer.content import ContentLibrary
from interviewer.engine.clock import ScriptedClock
from interviewer.engine.session import InterviewSession


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
