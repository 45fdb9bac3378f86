"""TUI tests: the real app over a temp database, the offline or scripted engine, still frames."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import update

from interviewer.content import ContentLibrary
from interviewer.engine.clock import ScriptedClock
from storage.models import Interview, Scorecard
from tests.fakes.scripted import ScriptedBackend
from tui.app import InterviewerApp
from tui.context import AppContext

FIXED = datetime(2026, 11, 2, 9, 30)


@pytest.fixture
def backend() -> ScriptedBackend:
    return ScriptedBackend()


@pytest.fixture
def context(repo, backend) -> AppContext:
    return AppContext(
        repo=repo, library=ContentLibrary(), backend_factory=lambda: backend, clock_factory=ScriptedClock, live=False
    )


@pytest.fixture
def app(context) -> InterviewerApp:
    return InterviewerApp(context)


def freeze_dates(repo) -> None:
    """Fixed timestamps, so screenshots are the same on every run."""
    with repo.writing() as session:
        session.execute(update(Interview).values(created_at=FIXED, updated_at=FIXED))
        session.execute(update(Scorecard).values(created_at=FIXED))


async def settle(pilot) -> None:
    """Wait until the screen's background work (database reads on worker threads) is done and painted."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_for(pilot, condition, tries: int = 3000) -> None:
    """Wait until ``condition()`` holds (checked between frames), then let the app settle."""
    for _ in range(tries):
        if condition():
            # Let the app finish what the change set off (a new screen's title, say) before going on.
            await pilot.pause()
            return
        await pilot.pause(0.02)
    raise AssertionError("condition never became true")
