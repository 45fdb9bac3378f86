"""Snapshot tests of the main screens at 80x24 and 120x40 (update with --snapshot-update)."""

from __future__ import annotations

import pytest

from interviewer.grading import grade_interview
from interviewer.grading.offline import OfflineGrader
from tests.conftest import DATA
from tests.helpers import play
from tests.screens.conftest import freeze_dates, settle
from tui.screens.interview import InterviewScreen
from tui.screens.replay import ReplayScreen
from tui.screens.scorecard import ScorecardScreen

SIZES = [(80, 24), (120, 40)]


def _lines(name: str) -> list[str]:
    return [line for line in (DATA / name).read_text().splitlines() if line.strip()]


@pytest.fixture
async def graded(repo) -> int:
    session, _ = await play(repo, _lines("spam-strong.txt")[:4])
    await grade_interview(repo, session.interview_id, OfflineGrader())
    freeze_dates(repo)
    return session.interview_id


@pytest.fixture
async def active(repo) -> int:
    session, _ = await play(
        repo,
        [
            "How many users are there? What is the latency budget?",
            "I would start with logistic regression because it is cheap to serve.",
        ],
        end=False,
    )
    freeze_dates(repo)
    return session.interview_id


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_home_empty(app, snap_compare, size):
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_home_with_interviews(app, graded, active, snap_compare, size):
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_interview(app, context, active, snap_compare, size):
    async def open_it(pilot):
        app.push_screen(await InterviewScreen.resume(context, active))
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=open_it)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_scorecard(app, graded, snap_compare, size):
    async def open_it(pilot):
        app.push_screen(ScorecardScreen(graded))
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=open_it)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_replay(app, graded, snap_compare, size):
    async def open_it(pilot):
        app.push_screen(ReplayScreen(graded, focus=3))
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=open_it)
