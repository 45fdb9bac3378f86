"""The TUI shows hostile text inert: what the app would write to the terminal for the interview, replay
and scorecard screens, and for a notification, carries no escape sequence from a reply, a server error
or the database, and markup and Markdown links are shown as typed."""

from __future__ import annotations

from interviewer.engine.voice import VoiceFailure
from tests.helpers import play
from tests.screens.conftest import wait_for
from tests.test_terminal_safety import HOSTILE, OBEYED, OSC52, hostile_interview
from tui.screens.interview import InterviewScreen
from tui.screens.replay import ReplayScreen
from tui.screens.scorecard import ScorecardScreen
from tui.widgets import InterviewerMessage


def _frame(app) -> str:
    """What the app would write to the terminal for the whole current screen."""
    return app.screen._compositor.render_full_update().render_segments(app.console)


def _assert_safe(frame: str) -> None:
    found = OBEYED.search(frame)
    assert found is None, f"the terminal would obey {frame[max(0, found.start() - 40) : found.end() + 40]!r}"


async def test_replay_and_scorecard_screens_show_hostile_text_inert(app, repo):
    interview = hostile_interview(repo)
    async with app.run_test(size=(120, 60)) as pilot:
        app.push_screen(ReplayScreen(interview))
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen) and len(app.screen.cards) == 2)
        frame = _frame(app)
        _assert_safe(frame)
        assert "[b]bold?[/b]" in frame, "markup is shown as typed"
        assert "http://evil.example/x" in frame, "a link shows its address"
        app.push_screen(ScorecardScreen(interview))
        await wait_for(pilot, lambda: isinstance(app.screen, ScorecardScreen))
        await wait_for(pilot, lambda: "NO HIRE" in str(app.screen.query_one("#summary").render()))
        _assert_safe(_frame(app))
        app.notify(HOSTILE, title=f"T{OSC52}")
        await pilot.pause()
        _assert_safe(_frame(app))


async def test_a_hostile_reply_and_error_in_the_interview_screen(app, repo, backend, monkeypatch):
    session, _ = await play(repo, ["How many users are there?"], end=False)
    voice = backend.scripted_voice
    plan: list[str] = ["reply", "fail"]

    async def hostile(request):
        step = plan.pop(0) if plan else "reply"
        for piece in (HOSTILE[:9], HOSTILE[9:30], HOSTILE[30:]):  # a sequence split across chunks
            yield piece
        if step == "fail":
            raise VoiceFailure(f"the endpoint failed: {OSC52}\x1b[2J [b]x[/b]")

    monkeypatch.setattr(voice, "stream", hostile)
    async with app.run_test(size=(120, 50)) as pilot:
        screen = await InterviewScreen.resume(app.context, session.interview_id)
        app.push_screen(screen)
        await wait_for(pilot, lambda: app.screen is screen and len(screen.query(".message")) == 3)
        for text in ("What is the latency budget?", "And the label source?"):
            before = len(screen.query(InterviewerMessage))
            screen.query_one("#input").load_text(text)
            screen.query_one("#input").focus()
            await pilot.press("enter")
            await wait_for(
                pilot, lambda n=before: len(screen.query(InterviewerMessage)) == n + 1 and not screen._busy()
            )
            frame = _frame(app)
            _assert_safe(frame)
            assert "done" in frame or "Sure." in frame
        assert "[b]x[/b]" in str(screen.query_one("#status-line").render())
