"""How the interviewer behaves over whole interviews: what-ifs followed through, a stated plan let run,
and personas that differ in what they do, not only in their words. The director's single decisions
are tables in ``test_director``; the figures over the evaluation set are in ``python -m bench.behaviour``."""

from __future__ import annotations

import pytest

from interviewer.engine.analyst import OfflineAnalyst, offline_analyst
from interviewer.engine.state import InterviewState
from interviewer.grading import grade_interview
from interviewer.grading.offline import OfflineGrader
from interviewer.understanding.encoder import load_encoder
from interviewer.understanding.lexicon import Lexicon
from interviewer.understanding.patterns import sounds_stuck
from interviewer.understanding.plan import stated_plan
from tests.helpers import interviewer_kinds, play

SEMANTIC = not isinstance(load_encoder(), str)
needs_model = pytest.mark.skipif(not SEMANTIC, reason="the semantic extra is not installed")

# ----------------------------------------------------------------------------- reading the candidate


@pytest.mark.parametrize(
    ("message", "plan"),
    [
        (
            "I'll start by clarifying the requirements, then talk about data and labels, the model, how we'd "
            "serve it, and finish with monitoring.",
            ["clarification", "data", "model", "deployment", "monitoring"],
        ),
        (
            "ok so plan is: scope it, then modelling, eval, serving at the end",
            ["clarification", "model", "metrics", "deployment"],
        ),
        (
            "Let me structure this:\n1. goals\n2. training data\n3. model\n4. monitoring",
            ["clarification", "data", "model", "monitoring"],
        ),
        ("I would collect the spam reports that users send as the training data for the model.", []),
        (
            "For the model, a simple baseline first, then more capable approaches, each justified by measurable gains.",
            [],
        ),
        ("I'll start with data, then the model.", []),
    ],
)
def test_a_stated_plan_is_read_in_the_candidates_order(message, plan):
    assert stated_plan(message) == plan


@pytest.mark.parametrize(
    ("message", "stuck"),
    [
        ("hmm, I'm not sure where to go from here", True),
        ("no idea tbh", True),
        ("Honestly I'm stuck on the model part", True),
        ("any hints?", True),
        ("I'm not sure the model will fit in memory, so I'd quantise it to int8.", False),
        ("I don't know the exact number but I'll assume 10M users a day.", False),
    ],
)
def test_a_stuck_candidate_is_told_apart_from_a_hedging_one(message, stuck):
    assert sounds_stuck(message) is stuck


TAKES_UP = "On a 1 GB phone I'd ship a tiny quantised linear model on the device and sync a blocklist when online."
GOES_ON = "For metrics I'd track precision at a very low false positive rate, since losing real mail hurts most."


def _reply_reading(analyst: OfflineAnalyst, text: str) -> bool | None:
    state = InterviewState(what_if_open="low-end-mobile")
    return analyst.reply_to_what_if(text, analyst.analyze_now(text), state)


@pytest.mark.parametrize("understanding", ["lexical", pytest.param("auto", marks=needs_model)])
def test_a_reply_that_takes_up_the_what_if_is_told_from_one_that_goes_on(library, understanding):
    analyst = offline_analyst(Lexicon(library.problems.get("spam-filter")), understanding)
    assert _reply_reading(analyst, TAKES_UP) is True
    assert _reply_reading(analyst, GOES_ON) is False
    assert _reply_reading(analyst, "Do you mean phones without any network at all?") is None, "a question waits"
    assert analyst.reply_to_what_if(GOES_ON, analyst.analyze_now(GOES_ON), InterviewState()) is None


# ----------------------------------------------------------------------------- what-ifs followed through

DESIGN = [
    "I'd use user spam reports as labels, audited with a reviewed sample, and split the data by time. "
    "Reports are noisy, so a second reviewer checks a monthly sample before it reaches training.",
    "The model would be logistic regression on n-grams plus sender reputation features, trained daily. "
    "I'd pick it over a deep model first because it is cheap to serve and easy to debug.",
    "I'd add header features and a small transformer for uncertain mail, because text alone is weak. "
    "The transformer only sees the few percent of mail the linear model is unsure about.",
]
IGNORING = [
    "For metrics I'd watch precision at a very low false positive rate, because losing real mail is worst.",
    "To improve it I'd do error analysis on user complaints every week and look for bias against small senders.",
    "Monitoring: a dashboard of report volume and false positive complaints, reviewed by the team weekly.",
    "Labels get audited by a second reviewer on a sample each month to keep their quality up.",
]


async def test_an_ignored_what_if_is_put_again_once_then_noted_for_the_grader(repo):
    session, _ = await play(repo, DESIGN + IGNORING, persona="bar-raiser", minutes=600, end=False)
    turns = repo.get_turns(session.interview_id)
    raised = [(t.seq, m) for t in turns if t.moves for m in t.moves if m["kind"] == "what_if"]
    assert raised, "a what-if came once the model was discussed"
    first, again = raised[0][1], [m for _, m in raised if m.get("repeat")]
    assert again and again[0]["what_if"] == first["what_if"]
    assert sum(1 for _, m in raised if m["what_if"] == first["what_if"]) == 2, "put twice, never a third time"
    assert first["what_if"] in session.state.what_ifs_unanswered
    noted = repo.get_events(session.interview_id, "what_if_unanswered")
    assert [e.payload["what_if"] for e in noted][:1] == [first["what_if"]]

    card = await grade_interview(repo, session.interview_id, OfflineGrader())
    communication = next(d for d in card.dimensions if d.id == "communication")
    assert "unanswered" in communication.rationale


async def test_a_what_if_taken_up_is_not_put_again(repo):
    messages = [*DESIGN[:2], TAKES_UP, *IGNORING[:2]]
    session, _ = await play(repo, messages, persona="bar-raiser", minutes=600, end=False)
    moves = [m for t in repo.get_turns(session.interview_id) if t.moves for m in t.moves if m["kind"] == "what_if"]
    assert [m["what_if"] for m in moves][:1] == ["low-end-mobile"], "raised once the model was discussed"
    assert [m for m in moves if m["what_if"] == "low-end-mobile" and m.get("repeat")] == []
    assert "low-end-mobile" not in session.state.what_ifs_unanswered
    assert session.state.what_if_open != "low-end-mobile"


# ----------------------------------------------------------------------------- a plan let run

PLAN_FIRST = [
    "I'll structure this as: the model first, then serving, then data and labels, then metrics and monitoring.",
    "Model: logistic regression on n-grams and sender reputation, then a small transformer for hard cases.",
    "Serving: the model runs on the CPU fleet inside the 50 ms budget, with reputation cached in memory.",
    "Data: user spam reports as labels, audited with a reviewed sample, split by time to avoid leakage.",
]


async def test_a_candidate_following_their_own_plan_is_not_steered_back(repo):
    session, _ = await play(repo, PLAN_FIRST, persona="bar-raiser", minutes=40, end=False)
    turns = repo.get_turns(session.interview_id)
    assert session.state.plan[:3] == ["model", "deployment", "data"]
    steered = [m["stage"] for t in turns if t.moves for m in t.moves if m["kind"] == "redirect"]
    assert "data" not in steered, "data was in the plan, and the candidate got to it"


# ----------------------------------------------------------------------------- personas differ in behaviour

VAGUE_BUT_CHOOSING = [
    "Who are the users, and how much mail do they get?",
    "For data I'd use the reports users send, audited with a reviewed sample.",
    "For the model I'd go with gradient boosted trees on sender and header features.",
    "We'd serve it behind the mail servers with a cache for sender reputation.",
    "I'd choose a small transformer for the uncertain mail only.",
    "For monitoring I'd alert on changes in the spam rate.",
]


def _pressed(repo, interview_id: int) -> list[str]:
    return [m["hook"] for t in repo.get_turns(interview_id) if t.moves for m in t.moves if m["kind"] == "press"]


async def test_the_bar_raiser_pushes_on_numbers_and_the_cto_on_cost_and_shipping(repo):
    presses = {}
    for persona in ("bar-raiser", "startup-cto", "neutral", "mentor"):
        session, _ = await play(repo, VAGUE_BUT_CHOOSING, persona=persona, minutes=600, end=False)
        presses[persona] = _pressed(repo, session.interview_id)
    assert "figures" in presses["bar-raiser"] and set(presses["bar-raiser"]) <= {"figures", "trade_offs"}
    assert {"cost", "shipping"} & set(presses["startup-cto"]) and set(presses["startup-cto"]) <= {"cost", "shipping"}
    assert presses["neutral"] == [] and presses["mentor"] == []


STUCK = [
    "For data I'd use the reports users send as labels.",
    "hmm, I'm not sure where to go from here",
    "sorry, still stuck, no idea",
]


async def test_the_mentor_helps_a_stuck_candidate_and_the_bar_raiser_does_not(repo):
    mentor, _ = await play(repo, STUCK, persona="mentor", minutes=600, end=False)
    kinds = interviewer_kinds(repo, mentor.interview_id)
    assert "hint" in kinds
    hint = next(t for t in repo.get_turns(mentor.interview_id) if t.kind == "hint")
    assert "labels" in hint.text, "the hint is the stage's public agenda"
    assert kinds.count("hint") == 1, "the second time, the problem's question for the stage"
    bar_raiser, _ = await play(repo, STUCK, persona="bar-raiser", minutes=600, end=False)
    assert "hint" not in interviewer_kinds(repo, bar_raiser.interview_id)
