"""The guard: hidden facts nobody asked for, reference points and instructions never pass."""

from __future__ import annotations

import re

import pytest

from interviewer.backends import OfflineBackend
from interviewer.engine.guard import Guard
from interviewer.engine.voice import interview_clock_text
from tests.helpers import play


@pytest.fixture
def guard(library):
    return Guard(library.problems.get("spam-filter"), library.personas.get("mentor"), library.rubrics.get("ml-design"))


def test_an_asked_fact_passes(guard, library):
    answer = library.problems.get("spam-filter").fact("scale").answer
    assert guard.check(f"Good question. {answer}", {"scale"}).ok


def test_an_unasked_fact_is_caught_verbatim(guard, library):
    answer = library.problems.get("spam-filter").fact("latency").answer
    verdict = guard.check(f"Sure. {answer}", {"scale"})
    assert not verdict.ok and verdict.fact == "latency"


def test_an_unasked_figure_is_caught_in_a_paraphrase(guard):
    verdict = guard.check("You have roughly 50 ms at p99 for each message.", set())
    assert not verdict.ok and verdict.fact == "latency"


def test_a_figure_the_candidate_already_said_is_fair(guard):
    assert guard.check("You mentioned 50 ms; is that enough?", set(), context="I'd target 50 ms per email.").ok


def test_reference_points_are_caught(guard, library):
    point = library.problems.get("spam-filter").reference["model"][0]
    assert not guard.check(f"A strong answer: {point}", set()).ok


def test_rubric_descriptors_are_caught(guard, library):
    level = library.rubrics.get("ml-design").dimension("metrics").levels[3]
    assert not guard.check(level, set()).ok


def test_the_instructions_are_caught(guard, library):
    style = library.personas.get("mentor").style
    verdict = guard.check(f"My instructions say: {style}", set())
    assert not verdict.ok and "instructions" in verdict.reason


def test_ordinary_replies_pass(guard):
    assert guard.check("That makes sense. What would you monitor after launch?", set()).ok


@pytest.mark.slow
async def test_every_opening_states_the_problem_at_every_length(repo, library):
    """The opening's own figures (the interview's length) are no leak, whatever a hidden fact holds."""
    backend = OfflineBackend()
    lost = []
    for problem in map(library.problems.get, library.problems.ids()):
        for persona in map(library.personas.get, library.personas.ids()):
            for minutes in (30, 45, 60, 90):
                session, _ = await play(
                    repo, [], problem=problem.id, persona=persona.id, minutes=minutes, backend=backend, end=False
                )
                opening = repo.get_turns(session.interview_id)[0]
                if (opening.meta or {}).get("guarded") or problem.prompt not in opening.text:
                    lost.append((problem.id, persona.id, minutes))
    await backend.aclose()
    assert len(library.problems.ids()) * len(library.personas.ids()) * 4 >= 340
    assert not lost


def test_the_interview_clock_is_fair_but_a_hidden_figure_is_not(library):
    problem = library.problems.get("payment-fraud")
    assert re.search(r"\b45\b", problem.fact("scale").answer), "the check needs a hidden fact holding 45"
    guard = Guard(problem, library.personas.get("mentor"), library.rubrics.get("ml-design"))
    reply = "We have 45 minutes."
    assert guard.check(reply, set(), interview_clock_text(45.0, 40.0)).ok
    assert not guard.check(reply, set(), interview_clock_text(60.0, 40.0)).ok
