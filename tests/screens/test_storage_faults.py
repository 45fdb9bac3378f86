"""The app under storage faults: a database that fails while the home screen reads it is a notification,
not a traceback; a message the database would not take (locked by another process) stays in the input;
an interview open in another live process is refused with a notification."""

from __future__ import annotations

import sqlite3

import storage.db
from storage import StorageError
from tests.helpers import play
from tests.screens.conftest import wait_for
from tui.screens.home import HomeScreen
from tui.screens.interview import InterviewScreen
from tui.widgets import CandidateMessage, ChatInput, InterviewerMessage


def _notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_damaged_database_on_the_home_screen_is_a_notification(app, repo, monkeypatch):
    def damaged(*args, **kwargs):
        raise StorageError("sqlite:///x.db: the database file is damaged (database disk image is malformed)")

    monkeypatch.setattr(repo, "list_interviews", damaged)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: any("damaged" in m for m in _notifications(app)))
        assert app.is_running and isinstance(app.screen, HomeScreen)
        assert app.return_code is None


async def test_a_locked_database_keeps_the_typed_message_in_the_input(app, repo, interviewer_home, monkeypatch):
    session, _ = await play(repo, ["How many users are there?"], end=False)
    session.close()
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", 300)
    repo.engine.dispose()  # new connections wait 0.3 s for a lock, not 15
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await InterviewScreen.resume(app.context, session.interview_id)
        app.push_screen(screen)
        await wait_for(pilot, lambda: app.screen is screen and len(screen.query(".message")) == 3)
        holder = sqlite3.connect(interviewer_home / "interviewer.db", isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        try:
            screen.query_one(ChatInput).load_text("My carefully written answer.")
            screen.query_one(ChatInput).focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: "in use by another process" in str(screen.query_one("#status-line").render()))
            await wait_for(pilot, lambda: not screen._busy())
        finally:
            holder.close()
        assert screen.query_one(ChatInput).text == "My carefully written answer."
        assert len(screen.query(CandidateMessage)) == 1 and len(screen.query(InterviewerMessage)) == 2
        assert app.is_running


async def test_an_interview_open_elsewhere_is_refused_with_a_notification(app, repo):
    session, _ = await play(repo, ["How many users are there?"], end=False)
    session.close()
    repo.acquire_lease(session.interview_id, "elsewhere.example:77")
    repo._held.clear()  # the lease belongs to that other process, not to this one
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.screen.query_one("#interviews").row_count == 1)
        await pilot.press("r")
        await wait_for(pilot, lambda: any("open in another interviewer" in m for m in _notifications(app)))
        assert isinstance(app.screen, HomeScreen)
