"""What a newcomer meets in the app, at both sizes: focus where the keys work, nothing cut off, nothing lost."""

from __future__ import annotations

import pytest
from textual.widgets import ListView, Select

from tests.helpers import play
from tests.screens.conftest import wait_for
from tests.screens.test_flows import _graded, start_interview
from tui.modals import RegradeDialog
from tui.screens.new import NewInterviewScreen
from tui.screens.replay import ReplayScreen
from tui.screens.scorecard import ScorecardScreen


def _shown(container, widget) -> bool:
    """The widget is on screen inside the scrolling container (not scrolled out of its view)."""
    view = container.content_region
    return widget.region.overlaps(view) and widget.region.y >= view.y and widget.region.y < view.bottom


async def test_play_mode_keeps_the_turn_it_shows_in_view(app, repo):
    interview_id = await _graded(repo)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ReplayScreen(interview_id))
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.cards)
        replay = app.screen
        await pilot.press("space")
        await wait_for(pilot, lambda: not replay.playing)
        await pilot.pause()
        turns = replay.query_one("#turns")
        last = replay.cards[-1]
        assert replay.index == len(replay.cards) - 1
        assert f"Turn {last.turn.seq} of {last.turn.seq}" in str(replay.query_one("#replay-status").render())
        assert _shown(turns, last), "the counter says the last turn, and the view shows it"
        assert not _shown(turns, replay.cards[0])


async def test_the_new_interview_form_starts_on_the_first_choice_not_on_start(app, repo):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewInterviewScreen))
        assert app.focused is app.screen.query_one("#problem", Select)
        await pilot.press("enter")  # opens the problem list; nothing starts
        await pilot.pause()
        assert isinstance(app.screen, NewInterviewScreen) and repo.list_interviews() == []


async def test_the_agenda_keeps_a_space_between_each_stage_and_its_depth(app):
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await start_interview(pilot)
        agenda = screen.query_one("#agenda")
        text = str(agenda.render())
        assert "Problem clarification not yet" in text
        assert all(len(line) <= agenda.content_region.width for line in text.splitlines())


async def test_the_scorecard_opens_with_the_keys_working(app, repo):
    interview_id = await _graded(repo)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ScorecardScreen(interview_id))
        await wait_for(pilot, lambda: isinstance(app.screen, ScorecardScreen) and app.screen.query("EvidenceItem"))
        scorecard = app.screen
        evidence = scorecard.query_one("#evidence", ListView)
        await wait_for(pilot, lambda: app.focused is evidence)
        card = scorecard.query_one("#card")
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: card.scroll_y > 0)
        await pilot.press("pageup")
        await wait_for(pilot, lambda: card.scroll_y == 0)
        assert not scorecard.query_one("#gradings", Select).expanded
        first = evidence.children[0]
        await pilot.press("enter")  # the first item, without pressing Down first
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.cards)
        assert app.screen.cards[app.screen.index].turn.seq == first.turn


async def test_the_debrief_lists_what_was_left_and_opens_the_moment_it_could_have_come_up(app, repo):
    interview_id = await _graded(repo)
    card = repo.get_scorecards(interview_id)[-1].data
    placed = [item for item in card["debrief"] if item["turn"] is not None]
    assert placed, "the graded interview leaves something on the table"
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ScorecardScreen(interview_id))
        await wait_for(pilot, lambda: isinstance(app.screen, ScorecardScreen) and app.screen.query("DebriefItem"))
        debrief = app.screen.query_one("#debrief", ListView)
        shown = list(app.screen.query("DebriefItem"))
        assert len(shown) == len(card["debrief"])
        target = next(index for index, item in enumerate(debrief.children) if getattr(item, "turn", None))
        debrief.focus()
        debrief.index = target
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.cards)
        assert app.screen.cards[app.screen.index].turn.seq == debrief.children[target].turn


def _footer_keys_on_screen(screen) -> set[str]:
    """The keys the footer shows whole, inside the screen's width."""
    from textual.widgets._footer import FooterKey

    width = screen.size.width
    return {key.key_display for key in screen.query(FooterKey) if key.region.width and key.region.right <= width}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_replay_footer_shows_every_key(app, repo, size):
    interview_id = await _graded(repo)
    async with app.run_test(size=size) as pilot:
        app.push_screen(ReplayScreen(interview_id))
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.cards)
        await pilot.pause()
        assert {"esc", "space", "a", "e", "d", "f", "x"} <= _footer_keys_on_screen(app.screen)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_interview_footer_shows_every_key(app, size):
    async with app.run_test(size=size) as pilot:
        screen = await start_interview(pilot)
        await pilot.pause()
        assert {"esc", "^r", "^g", "^b", "^o"} <= _footer_keys_on_screen(screen)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_home_table_shows_every_column_whole_with_one_status_word(app, repo, size):
    from textual.widgets import DataTable

    await _graded(repo)
    await play(repo, ["How many users are there?"], end=False)
    async with app.run_test(size=size) as pilot:
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 2)
        statuses = [str(table.get_row_at(i)[-1]) for i in range(2)]
        assert statuses == ["in progress", "ended"]
        # Every column fits inside the table's view: nothing scrolls off to the right.
        assert table.virtual_size.width <= table.scrollable_content_region.width
        titles = [str(table.get_row_at(i)[2]) for i in range(2)]
        assert all(title.startswith("Spam filter") for title in titles)


def test_a_higher_overall_that_reads_lower_is_explained_by_the_dimension_minimum():
    from interviewer.content import ContentLibrary

    rubric = ContentLibrary().rubrics.get("ml-design")
    ids = [d.id for d in rubric.dimensions]
    held_back = dict(zip(ids, [3, 3, 3, 3, 1, 3, 3, 3], strict=True))  # Deployment at 1
    even = dict(zip(ids, [3, 3, 2, 3, 3, 2, 3, 2], strict=True))
    assert rubric.overall(held_back) > rubric.overall(even)
    assert rubric.recommend(rubric.overall(held_back), held_back) == "lean no hire"
    assert rubric.recommend(rubric.overall(even), even) == "lean hire"
    why = rubric.explain(rubric.overall(held_back), held_back)
    assert "lean hire needs every dimension at 2 or more: Deployment scored 1" in why
    assert rubric.explain(rubric.overall(even), even).startswith("Lean hire: the overall")
    lowest = dict.fromkeys(ids, 1)
    assert (
        rubric.explain(1.0, lowest)
        == "No hire: the overall 1.00 meets no higher bar. Lean no hire needs an overall of 2."
    )


async def test_the_scorecard_says_why_the_recommendation_reads_as_it_does(app, repo):
    interview_id = await _graded(repo)
    card = repo.get_scorecards(interview_id)[-1].data
    rubric = app.context.library.rubrics.get(card["rubric_id"])
    scores = {d["id"]: d["score"] for d in card["dimensions"]}
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ScorecardScreen(interview_id))
        await wait_for(pilot, lambda: isinstance(app.screen, ScorecardScreen) and app.screen.query("EvidenceItem"))
        why = str(app.screen.query_one("#why").render())
        assert " ".join(why.split()) == rubric.explain(card["overall"], scores)
        assert why.startswith(card["recommendation"].capitalize())
        # The re-grade menu names each rubric's level once.
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, RegradeDialog))
        labels = [str(label) for label, _ in app.screen.rubrics]
        assert "ML system design (mid-level)" in labels
        assert not [label for label in labels if label.count("(") > 1]


async def test_progress_shows_one_rubric_at_a_time_and_switches(app, repo):
    from interviewer.grading import grade_interview
    from interviewer.grading.offline import OfflineGrader
    from tui.screens.progress import ProgressScreen

    await _graded(repo, "spam-weak.txt")
    other = await _graded(repo, "spam-strong.txt")
    await grade_interview(repo, other, OfflineGrader(), app.context.library.rubrics.get("ml-design-senior"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, ProgressScreen) and app.screen.query(".trend"))
        screen = app.screen
        line = str(screen.query_one("#rubric-line").render())
        assert "ml-design-senior" in line and "also graded with ml-design (2)" in line
        assert screen.rubric_id == "ml-design-senior"
        await pilot.press("u")
        await wait_for(pilot, lambda: screen.rubric_id == "ml-design" and screen.query("#rubric-line"))
        assert "also graded with ml-design-senior (1)" in str(screen.query_one("#rubric-line").render())
        assert "2 graded interview(s)" in " ".join(str(w.render()) for w in screen.query("Static"))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_home_screen_names_a_broken_persona_file_and_every_problem_in_it(app, interviewer_home, size):
    from interviewer.paths import builtin_content_dir

    folder = interviewer_home / "personas"
    folder.mkdir(exist_ok=True)
    source = (builtin_content_dir("personas") / "mentor.toml").read_text()
    broken = source.replace('id = "mentor"', 'id = "my-mentor"\nmood = "cheerful"').replace(
        "strictness = ", "strictness = 7 #"
    )
    (folder / "my-mentor.toml").write_text(broken)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        box = app.screen.query_one("#content-errors")
        assert box.display
        text = str(box.render())
        assert str(folder / "my-mentor.toml") in " ".join(text.split())
        assert "field 'mood': is not a known field" in text
        assert "field 'strictness'" in text
        assert "more problem" not in text
        # Shown whole, each line wrapped to the width: the box is as tall as its wrapped text.
        assert box.size.height >= len(text.splitlines()) and box.max_scroll_y == 0
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NewInterviewScreen))
        assert "my-mentor" not in app.context.library.personas.items


async def test_the_theme_is_kept_across_restarts(context):
    from tui.app import InterviewerApp

    first = InterviewerApp(context)
    async with first.run_test(size=(80, 24)) as pilot:
        before = first.theme
        await pilot.press("ctrl+t")
        await pilot.pause()
        chosen = first.theme
        assert chosen != before
    again = InterviewerApp(context)
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert again.theme == chosen


async def test_ctrl_q_mid_interview_asks_first_and_says_the_interview_is_saved(app):
    from tui.modals import ConfirmDialog
    from tui.widgets import ChatInput

    async with app.run_test(size=(80, 24)) as pilot:
        screen = await start_interview(pilot)
        screen.query_one(ChatInput).load_text("half an answer")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        question = app.screen.question
        assert f"Interview {screen.session.interview_id} is saved" in question
        assert "interviewer resume" in question and "unsent answer is lost" in question
        assert app.return_code is None
        title = app.screen.query_one(".title")
        assert title.size.height >= 2, "the question wraps inside the dialog instead of running off its edge"
        await pilot.press("escape")  # stay
        await wait_for(pilot, lambda: app.screen is screen)
        assert app.return_code is None and screen.query_one(ChatInput).text == "half an answer"
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("ctrl+q")  # a second Ctrl+Q quits
        await wait_for(pilot, lambda: app.return_code is not None)


async def test_ctrl_q_on_the_home_screen_quits_at_once(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.return_code is not None)


async def test_a_personas_style_reflows_to_the_panel(app):
    from tui.screens.personas import PersonasScreen

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PersonasScreen))
        app.screen.show("bar-raiser")
        await pilot.pause()
        detail = str(app.screen.query_one("#detail").render())
        assert "sits on hiring committees as the bar-raiser. You are polite but exacting." in detail
        assert "Closing early: We'll stop there. Thanks." in detail
