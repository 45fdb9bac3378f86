"""The guard: hidden facts nobody asked for, reference points and instructions never pass."""

from __future__ import annotations

import pytest

from interviewer.engine.guard import Guard


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
