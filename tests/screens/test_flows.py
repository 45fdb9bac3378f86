"""Functional tests: the app driven through whole flows with App.run_test()."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, ListView, Select

from interviewer.grading import grade_interview
from interviewer.grading.offline import OfflineGrader
from tests.conftest import DATA
from tests.helpers import play
from tests.screens.conftest import wait_for
from tui.modals import AnnotationDialog, BusyDialog, ConfirmDialog, ExportDialog, PromptDialog, RegradeDialog
from tui.screens.home import HomeScreen
from tui.screens.interview import InterviewScreen
from tui.screens.new import NewInterviewScreen
from tui.screens.personas import PersonasScreen
from tui.screens.progress import ProgressScreen
from tui.screens.replay import ReplayScreen
from tui.screens.scorecard import EvidenceItem, ScorecardScreen
from tui.widgets import CandidateMessage, ChatInput, InterviewerMessage, LiveReply


async def start_interview(pilot, problem: str = "spam-filter", persona: str = "mentor") -> InterviewScreen:
    app = pilot.app
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(app.screen, NewInterviewScreen))
    app.screen.query_one("#problem", Select).value = problem
    app.screen.query_one("#persona", Select).value = persona
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: isinstance(app.screen, InterviewScreen))
    screen = app.screen
    await wait_for(pilot, lambda: len(screen.query(InterviewerMessage)) == 1 and not screen._busy())
    return screen


async def send(pilot, screen: InterviewScreen, text: str) -> None:
    before = len(screen.query(InterviewerMessage))
    screen.query_one(ChatInput).load_text(text)
    screen.query_one(ChatInput).focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: len(screen.query(InterviewerMessage)) == before + 1 and not screen._busy())


def _lines(name: str) -> list[str]:
    return [line for line in (DATA / name).read_text().splitlines() if line.strip()]


async def test_a_whole_interview_from_home_to_the_evidence_in_the_replay(app, repo):
    messages = []
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        assert isinstance(app.screen, HomeScreen)
        await wait_for(pilot, lambda: app.screen.query_one("#empty").display)  # a newcomer is told what to do
        screen = await start_interview(pilot)
        assert "Design a system that keeps spam out" in screen.query(InterviewerMessage).first().body_text
        await send(pilot, screen, "How many users are there?")
        reply = screen.query(InterviewerMessage).last()
        assert "400 million" in reply.body_text and "fact revealed" in reply.markers
        submitted = {id(m): m.text for m in messages if isinstance(m, ChatInput.Submitted)}  # one message, bubbling up
        assert list(submitted.values()) == ["How many users are there?"]
        await send(pilot, screen, _lines("spam-strong.txt")[2])
        assert screen.query(CandidateMessage).last().seq == 4
        assert "Data" in str(screen.query_one("#agenda").render())
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.click("#yes")
        # The first grading embeds the reference points of every problem (then they are cached on disk).
        await wait_for(pilot, lambda: isinstance(app.screen, ScorecardScreen))
        card = repo.get_scorecards(screen.session.interview_id)[0]
        assert card.data["grader"] == "offline-semantic"
        scorecard = app.screen
        await wait_for(pilot, lambda: len(scorecard.query(EvidenceItem)) > 0)
        first = scorecard.query(EvidenceItem).first()
        evidence = scorecard.query_one("#evidence", ListView)
        evidence.focus()
        evidence.index = 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        replay = app.screen
        await wait_for(pilot, lambda: replay.cards)
        assert replay.cards[replay.index].turn.seq == first.turn
        assert replay.cards[replay.index].has_class("current")
    interview = repo.get_interview(screen.session.interview_id)
    assert interview.status == "ended"


async def test_escape_cancels_a_streaming_reply_and_ctrl_r_retries(app, repo, backend):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_interview(pilot)
        backend.scripted_voice.plan.append("stall")
        screen.query_one(ChatInput).load_text("How many users are there?")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen._busy() and len(screen.query(LiveReply)) == 1)
        await pilot.pause(0.1)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen._busy())
        turns = repo.get_turns(screen.session.interview_id)
        assert turns[1].text == "How many users are there?"
        assert not turns[-1].complete and turns[-1].text.startswith("Let me think")
        assert screen.session.pending
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(screen.query(InterviewerMessage)) == 3 and not screen._busy())
        assert "400 million" in screen.query(InterviewerMessage).last().body_text
        assert not screen.session.pending


async def test_an_error_shows_with_a_retry_and_the_text_is_never_lost(app, repo, backend):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_interview(pilot)
        backend.scripted_voice.plan.append("fail")
        await send(pilot, screen, "How many users are there?")
        failed = screen.query(InterviewerMessage).last()
        assert failed.has_class("failed")
        assert "HTTP 503" in str(screen.query_one("#status-line").render())
        assert repo.get_turns(screen.session.interview_id)[1].text == "How many users are there?"
        # Sending while the reply is owed is refused, and the typed text stays in the box.
        screen.query_one(ChatInput).load_text("Next question")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert screen.query_one(ChatInput).text == "Next question"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: not screen.session.pending and not screen._busy())
        assert "400 million" in screen.query(InterviewerMessage).last().body_text


async def test_a_storage_failure_restores_the_candidates_text(app, repo):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_interview(pilot)
        original = repo.add_turn

        def broken(*args, **kwargs):
            raise OSError("disk full")

        repo.add_turn = broken
        try:
            screen.query_one(ChatInput).load_text("My carefully written answer.")
            await pilot.press("enter")
            await wait_for(pilot, lambda: not screen._busy())
        finally:
            repo.add_turn = original
        assert screen.query_one(ChatInput).text == "My carefully written answer."
        assert not screen.query(CandidateMessage)
        assert "disk full" in str(screen.query_one("#status-line").render())


async def test_time_running_out_asks_to_end_and_grade(app, repo, context):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_interview(pilot)
        screen.session.state.elapsed_seconds = 45 * 60 + 1
        screen.call_later(screen.tick)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.click("#yes")
        await wait_for(pilot, lambda: isinstance(app.screen, ScorecardScreen))
        assert repo.get_interview(screen.session.interview_id).status == "ended"


async def test_resume_from_home_shows_the_history(app, repo):
    _session, _ = await play(repo, ["How many users are there?"], end=False)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, InterviewScreen))
        screen = app.screen
        await wait_for(pilot, lambda: len(screen.query(".message")) == 3)
        await send(pilot, screen, "What is the latency budget?")
        assert "50 ms" in screen.query(InterviewerMessage).last().body_text


async def _graded(repo, script: str = "spam-strong.txt") -> int:
    session, _ = await play(repo, _lines(script))
    await grade_interview(repo, session.interview_id, OfflineGrader())
    return session.interview_id


async def test_scorecard_regrade_with_another_rubric_keeps_earlier_gradings(app, repo):
    interview_id = await _graded(repo)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ScorecardScreen(interview_id))
        await wait_for(pilot, lambda: isinstance(app.screen, ScorecardScreen))
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RegradeDialog))
        app.screen.query_one("#rubric", Select).value = "ml-design-senior"
        await pilot.click("#grade")
        await wait_for(pilot, lambda: len(repo.get_scorecards(interview_id)) == 2)
        await wait_for(pilot, lambda: isinstance(app.screen, ScorecardScreen))
        scorecard = app.screen
        await wait_for(pilot, lambda: scorecard.query_one("#gradings").display)
        assert "ml-design-senior" in str(scorecard.query_one("#summary").render())
        older = repo.get_scorecards(interview_id)[0]
        scorecard.query_one("#gradings", Select).value = older.id
        await wait_for(pilot, lambda: "ml-design ·" in str(scorecard.query_one("#summary").render()))


async def test_replay_annotate_edit_delete_filter_play_and_export(app, repo, tmp_path: Path, monkeypatch):
    interview_id = await _graded(repo)
    monkeypatch.chdir(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ReplayScreen(interview_id))
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.cards)
        replay = app.screen
        await pilot.press("j", "j")
        assert replay.cards[replay.index].turn.seq == 3
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AnnotationDialog))
        app.screen.query_one("#text").load_text("Good: asked about scale first")
        app.screen.query_one("#tag", Select).value = "strength"
        await pilot.click("#save")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen))
        [note] = repo.get_annotations(interview_id)
        assert (note.turn_seq, note.text, note.tag) == (3, "Good: asked about scale first", "strength")

        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, AnnotationDialog))
        app.screen.query_one("#text").load_text("Asked about scale and errors first")
        await pilot.click("#save")
        await wait_for(pilot, lambda: repo.get_annotations(interview_id)[0].text.startswith("Asked about scale and"))

        await pilot.press("f")
        assert [c.turn.seq for c in replay.cards if c.display] == [3]
        await pilot.press("f")
        assert all(c.display for c in replay.cards)

        await pilot.press("home", "space")
        await wait_for(pilot, lambda: not replay.playing)
        assert replay.index == len(replay.cards) - 1 and all(c.display for c in replay.cards)

        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog))
        await pilot.click("#export")
        await wait_for(pilot, lambda: (tmp_path / f"interview-{interview_id}.md").exists())
        exported = (tmp_path / f"interview-{interview_id}.md").read_text()
        assert "Asked about scale and errors first" in exported

        replay.select(next(i for i, c in enumerate(replay.cards) if c.turn.seq == 3))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.click("#yes")
        await wait_for(pilot, lambda: repo.get_annotations(interview_id) == [])


async def test_personas_new_validate_and_try(app, interviewer_home):
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PersonasScreen))
        screen = app.screen
        assert len(screen.query_one("#persona-list", ListView).children) == len(app.context.library.personas.items)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptDialog))
        app.screen.query_one("#value").value = "coach-kim"
        await pilot.press("enter")
        await wait_for(pilot, lambda: (interviewer_home / "personas" / "coach-kim.toml").exists())
        await wait_for(pilot, lambda: "coach-kim" in app.context.library.personas.items)
        assert "coach-kim" in str(screen.query_one("#detail").render())
        await pilot.press("v")
        await pilot.pause(0.1)
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, NewInterviewScreen))
        assert app.screen.query_one("#persona", Select).value == "coach-kim"


async def test_progress_shows_each_dimension_and_the_weakest(app, repo):
    await _graded(repo, "spam-weak.txt")
    await _graded(repo, "spam-strong.txt")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, ProgressScreen) and app.screen.query(".trend"))
        screen = app.screen
        assert len(screen.query(".trend")) == 10  # a header, overall, and eight dimensions
        assert "Practise next" in str(screen.query_one("#weakest").render())


async def test_every_screen_binding_is_a_command_palette_entry(app):
    async with app.run_test(size=(120, 40)) as pilot:
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"New interview", "Personas", "Progress", "Toggle light/dark theme"} <= titles
        before = app.theme
        await pilot.press("ctrl+t")
        assert app.theme != before


async def test_grading_shows_progress_while_it_runs(app, repo, backend):
    import asyncio

    release = asyncio.Event()

    class SlowGrader(OfflineGrader):
        async def grade(self, transcript, rubric, problem):
            await release.wait()
            return self.grade_now(transcript, rubric, problem)

    backend.grader = SlowGrader
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_interview(pilot)
        await send(pilot, screen, "How many users are there?")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.click("#yes")
        await wait_for(pilot, lambda: isinstance(app.screen, BusyDialog))
        release.set()
        await wait_for(pilot, lambda: isinstance(app.screen, ScorecardScreen))


async def test_a_long_interview_keeps_its_latest_turns_on_screen_and_shows_the_rest_on_demand(app, repo):
    from tui.screens.interview import HISTORY_WINDOW

    session, _ = await play(repo, [], end=False)
    for index in range(60):
        repo.add_turn(session.interview_id, "candidate", f"Point {index} about the data and the labels.")
        repo.add_turn(session.interview_id, "interviewer", "Go on.", kind="acknowledge")
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(await InterviewScreen.resume(app.context, session.interview_id))
        await wait_for(pilot, lambda: isinstance(app.screen, InterviewScreen) and app.screen.query(".message"))
        screen = app.screen
        assert len(screen.query(".message")) == HISTORY_WINDOW
        assert "81 earlier turn(s) not shown" in str(screen.query_one("#earlier").render())
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: len(screen.query(".message")) == 121)
        assert [m.seq for m in screen.query(".message")] == list(range(1, 122))
        assert not screen.query_one("#earlier").display


async def test_the_app_keeps_handling_keys_while_another_process_holds_the_write_lock(app, repo):
    import sqlite3
    import time

    from interviewer import paths

    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_interview(pilot)
        holder = sqlite3.connect(paths.database_url().removeprefix("sqlite:///"), isolation_level=None, timeout=1)
        holder.execute("BEGIN IMMEDIATE")  # another process is writing: every writer here must wait
        try:
            screen.query_one(ChatInput).load_text("How many users are there?")
            await pilot.press("enter")
            await wait_for(pilot, lambda: screen._busy() and screen.query(CandidateMessage))
            side = screen.query_one("#side")
            for _ in range(3):  # keys keep working while the candidate's message waits for the lock
                shown = side.display
                await pilot.press("ctrl+b")
                await wait_for(pilot, lambda shown=shown: side.display != shown)
            screen.query_one(ChatInput).insert("typed while waiting")
            await pilot.pause()
            assert screen.query_one(ChatInput).text == "typed while waiting"
            assert screen._busy() and not repo.get_turns(screen.session.interview_id)[1:], "nothing stored yet"
            started = time.monotonic()
            while time.monotonic() - started < 2.0:  # several seconds of the lock, with the app answering keys
                shown = side.display
                await pilot.press("ctrl+b")
                await wait_for(pilot, lambda shown=shown: side.display != shown)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        await wait_for(pilot, lambda: not screen._busy(), tries=1500)
        roles = [turn.role for turn in repo.get_turns(screen.session.interview_id)]
        assert roles == ["interviewer", "candidate", "interviewer"], "the message was stored once the lock was free"
