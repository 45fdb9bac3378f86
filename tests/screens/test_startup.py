"""What start-up leaves for later still happens: the engine line fills in once the backend is built on a
worker thread, and an interview opens on one read of its transcript."""

from __future__ import annotations

import threading

from sqlalchemy import event

from interviewer.usage import totals
from tests.helpers import play
from tests.screens.conftest import settle, wait_for
from tui.screens.home import HomeScreen
from tui.screens.interview import HISTORY_WINDOW, InterviewScreen


async def test_the_home_screen_names_the_engine_once_the_backend_is_built_off_the_event_loop(app, context):
    built_on = []
    backend_factory = context.backend_factory

    def factory():
        built_on.append(threading.current_thread())
        return backend_factory()

    context.backend_factory = factory
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, HomeScreen))
        await settle(pilot)
        line = str(app.screen.query_one("#engine-line").render())
        assert line == f"Engine: {context.backend.label}"
    assert len(built_on) == 1
    assert built_on[0] is not threading.main_thread()


def test_the_backend_is_built_once_when_the_warm_up_and_a_screen_ask_for_it_together(context):
    started, release = threading.Event(), threading.Event()
    backend_factory = context.backend_factory
    built = []

    def slow_factory():
        started.set()
        release.wait(5)
        built.append(backend_factory())
        return built[-1]

    context.backend_factory = slow_factory
    warm_up = threading.Thread(target=context.warm_up)
    warm_up.start()
    started.wait(5)
    asked = []
    screen = threading.Thread(target=lambda: asked.append(context.backend))
    screen.start()
    release.set()
    warm_up.join(5)
    screen.join(5)
    assert len(built) == 1
    assert asked == built


async def test_opening_a_long_interview_reads_its_transcript_once(app, repo):
    session, _ = await play(repo, [], end=False)
    for index in range(60):
        repo.add_turn(session.interview_id, "candidate", f"Point {index} about the data and the labels.")
        repo.add_turn(session.interview_id, "interviewer", "Go on.", kind="acknowledge")
    session.close()
    transcript_reads = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM turns" in statement:
            transcript_reads.append(statement)

    event.listen(repo.engine, "before_cursor_execute", count)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            app.push_screen(await InterviewScreen.resume(app.context, session.interview_id))
            await wait_for(pilot, lambda: isinstance(app.screen, InterviewScreen) and app.screen.query(".message"))
            await settle(pilot)
            screen = app.screen
            assert [m.seq for m in screen.query(".message")] == list(range(122 - HISTORY_WINDOW, 122))
    finally:
        event.remove(repo.engine, "before_cursor_execute", count)
    assert len(transcript_reads) == 1, transcript_reads
    assert screen.usage == totals(repo.get_turns(session.interview_id))
