"""The director's decisions, table-driven: same inputs, same moves, every time."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from interviewer.engine import director
from interviewer.engine.analyst import Analysis, Question
from interviewer.engine.moves import MoveKind, TurnKind
from interviewer.engine.state import InterviewState
from interviewer.understanding.hooks import Hook

_SIGNALS_FOR_DEPTH = {0: (0, 0), 1: (1, 0), 2: (3, 0), 3: (5, 2)}


def make_state(depths: dict[str, int] | None = None, **fields) -> InterviewState:
    state = InterviewState(phase=fields.pop("phase", "discussion"))
    for stage, depth in (depths or {}).items():
        signals, reasoned = _SIGNALS_FOR_DEPTH[depth]
        state.signals[stage] = [f"s{i}" for i in range(signals)]
        state.reasoned[stage] = reasoned
    for name, value in fields.items():
        setattr(state, name, value)
    return state


def make_analysis(*, questions=(), focus: str | None = None, substantive: bool = True, **flags) -> Analysis:
    analysis = Analysis(questions=[Question(text, tuple(facts)) for text, facts in questions], substantive=substantive)
    if focus:
        analysis.signals[focus] = ["x", "y"]
        analysis.reasoned[focus] = 1
    for name, value in flags.items():
        setattr(analysis, name, value)
    return analysis


@dataclass
class Case:
    name: str
    state: InterviewState
    analysis: Analysis
    fraction: float = 0.2
    persona: str = "mentor"
    candidate_turns: int = 4
    max_turns: int | None = None
    kinds: list[MoveKind] = field(default_factory=list)
    phase: str = "discussion"
    check: dict = field(default_factory=dict)


EARLY = {"clarification": 2}
CASES = [
    Case("injection is deflected", make_state(EARLY), make_analysis(injection=True), kinds=[MoveKind.DEFLECT]),
    Case(
        "injection in wrap-up keeps the phase",
        make_state(EARLY, phase="wrap_up"),
        make_analysis(injection=True),
        kinds=[MoveKind.DEFLECT],
        phase="wrap_up",
    ),
    Case("time is up closes", make_state(EARLY), make_analysis(), fraction=1.0, kinds=[MoveKind.CLOSE], phase="ended"),
    Case(
        "turn limit closes",
        make_state(EARLY),
        make_analysis(),
        candidate_turns=6,
        max_turns=6,
        kinds=[MoveKind.CLOSE],
        phase="ended",
    ),
    Case(
        "the summary after wrap-up closes",
        make_state(EARLY, phase="wrap_up"),
        make_analysis(),
        kinds=[MoveKind.CLOSE],
        phase="ended",
    ),
    Case(
        "asking to end closes",
        make_state(EARLY),
        make_analysis(end_requested=True),
        kinds=[MoveKind.CLOSE],
        phase="ended",
    ),
    Case(
        "a clarifying question is answered and nothing else",
        make_state(),
        make_analysis(questions=[("How many users?", ["scale"])], substantive=False),
        kinds=[MoveKind.ANSWER],
        check={"facts": ("scale",), "repeat": False},
    ),
    Case(
        "an already answered question is a repeat",
        make_state(EARLY, facts_revealed=["scale"]),
        make_analysis(questions=[("How many users again?", ["scale"])], substantive=False),
        kinds=[MoveKind.ANSWER],
        check={"repeat": True},
    ),
    Case(
        "an open detail is left to the candidate",
        make_state(),
        make_analysis(questions=[("What colour is the logo?", [])], substantive=False),
        kinds=[MoveKind.UNSPECIFIED],
    ),
    Case(
        "near the end: answer, then ask for the summary",
        make_state(EARLY),
        make_analysis(questions=[("What is the latency?", ["latency"])]),
        fraction=0.9,
        kinds=[MoveKind.ANSWER, MoveKind.WRAP_UP],
        phase="wrap_up",
    ),
    Case(
        "one turn before the limit asks for the summary",
        make_state(EARLY),
        make_analysis(focus="model"),
        candidate_turns=5,
        max_turns=6,
        kinds=[MoveKind.WRAP_UP],
        phase="wrap_up",
    ),
    Case(
        "past the steering point a skipped stage is steered to",
        make_state({**EARLY, "data": 2, "model": 2}),
        make_analysis(focus="model"),
        fraction=0.6,
        kinds=[MoveKind.REDIRECT],
        check={"stage": "metrics", "probe": "metrics:0"},
    ),
    Case(
        "a stricter persona steers earlier",
        make_state({**EARLY, "data": 2, "model": 2}),
        make_analysis(focus="model"),
        fraction=0.4,
        persona="bar-raiser",
        kinds=[MoveKind.REDIRECT],
        check={"stage": "metrics"},
    ),
    Case(
        "a lenient persona does not steer at the same point",
        make_state({**EARLY, "data": 2, "model": 2}),
        make_analysis(focus="model"),
        fraction=0.4,
        candidate_turns=8,
        kinds=[MoveKind.ACKNOWLEDGE],
        check={"stage": "model"},
    ),
    Case(
        "when the turns left barely cover the untouched stages, any persona steers",
        make_state({**EARLY, "data": 2, "model": 2}),
        make_analysis(focus="model"),
        fraction=0.4,
        candidate_turns=4,
        persona="mentor",
        kinds=[MoveKind.REDIRECT],
        check={"stage": "metrics"},
    ),
    Case(
        "a stage already steered to waits until the others have had their turn",
        make_state({**EARLY, "data": 2, "model": 2}, redirects=["metrics"]),
        make_analysis(focus="model"),
        fraction=0.6,
        kinds=[MoveKind.REDIRECT],
        check={"stage": "deployment"},
    ),
    Case(
        "a number the candidate committed to is asked about, in their words",
        make_state({**EARLY, "data": 2}),
        make_analysis(focus="data", hooks=[Hook("figure", "under 50 ms")]),
        fraction=0.2,
        candidate_turns=8,
        kinds=[MoveKind.FOLLOW_UP],
        check={"point": "under 50 ms", "hook": "figure"},
    ),
    Case(
        "a point asked about once is not asked about again",
        make_state({**EARLY, "data": 2}, followed_up=["under 50 ms"]),
        make_analysis(focus="data", hooks=[Hook("figure", "under 50 ms")]),
        fraction=0.2,
        candidate_turns=8,
        kinds=[MoveKind.ACKNOWLEDGE],
    ),
    Case(
        "no what-if in the last part of the interview",
        make_state(
            {**EARLY, "data": 2, "metrics": 2, "model": 2, "deployment": 2, "monitoring": 2, "iteration": 2},
            what_if_credit=0.8,
        ),
        make_analysis(focus="data"),
        fraction=0.8,
        candidate_turns=20,
        kinds=[MoveKind.ACKNOWLEDGE],
    ),
    Case(
        "no more what-ifs than the persona's share allows",
        make_state({**EARLY, "data": 2}, what_if_credit=0.8, what_ifs_used=["a", "b"]),
        make_analysis(focus="data"),
        fraction=0.2,
        candidate_turns=8,
        kinds=[MoveKind.ACKNOWLEDGE],
    ),
    Case(
        "a what-if fits once its stage is discussed",
        make_state({**EARLY, "data": 2}, what_if_credit=0.8),
        make_analysis(focus="data"),
        kinds=[MoveKind.WHAT_IF],
        check={"what_if": "report-abuse"},
    ),
    Case(
        "a used what-if is never repeated",
        make_state({**EARLY, "data": 2}, what_if_credit=0.8, what_ifs_used=["report-abuse"]),
        make_analysis(focus="data"),
        kinds=[MoveKind.ACKNOWLEDGE],
    ),
    Case(
        "what-ifs are spaced out",
        make_state({**EARLY, "data": 2}, what_if_credit=0.8, last_what_if_turn=3, candidate_turns=4),
        make_analysis(focus="data"),
        kinds=[MoveKind.ACKNOWLEDGE],
    ),
    Case(
        "no what-if without enough credit",
        make_state({**EARLY, "data": 2}, what_if_credit=0.1),
        make_analysis(focus="data"),
        kinds=[MoveKind.ACKNOWLEDGE],
    ),
    Case(
        "a thin stage left behind is probed",
        make_state({**EARLY, "data": 1, "model": 2}),
        make_analysis(focus="model"),
        kinds=[MoveKind.PROBE],
        check={"stage": "data", "probe": "data:0"},
    ),
    Case(
        "a used probe is never repeated",
        make_state({**EARLY, "data": 1, "model": 2}, probes_used=["data:0"], pressed=["figures:model"]),
        make_analysis(focus="model"),
        persona="bar-raiser",
        kinds=[MoveKind.PROBE],
        check={"probe": "data:1"},
    ),
    Case(
        "the probe limit per stage holds",
        make_state({**EARLY, "data": 1, "model": 2}, probes_per_stage={"data": 1}),
        make_analysis(focus="model"),
        kinds=[MoveKind.ACKNOWLEDGE],
    ),
    Case(
        "the stage in progress is not probed",
        make_state({**EARLY, "data": 1}),
        make_analysis(focus="data"),
        kinds=[MoveKind.ACKNOWLEDGE],
        check={"stage": "data"},
    ),
    Case(
        "a deep-probing persona probes a discussed stage",
        make_state({**EARLY, "data": 2, "model": 2}, pressed=["figures:model"]),
        make_analysis(focus="model"),
        persona="bar-raiser",
        kinds=[MoveKind.PROBE],
        check={"stage": "data"},
    ),
    Case(
        "a turn without substance moves to the next stage",
        make_state({"clarification": 1, "data": 3}),
        make_analysis(substantive=False),
        kinds=[MoveKind.REDIRECT],
        check={"stage": "metrics"},
    ),
    Case(
        "a what-if the candidate went past is put again",
        make_state({**EARLY, "data": 2, "model": 2}, what_if_open="low-end-mobile", what_ifs_used=["low-end-mobile"]),
        make_analysis(focus="deployment", takes_up_what_if=False),
        kinds=[MoveKind.WHAT_IF],
        check={"what_if": "low-end-mobile", "repeat": True},
    ),
    Case(
        "a what-if put twice is not put a third time",
        make_state(
            {**EARLY, "data": 2, "model": 2},
            what_if_open="low-end-mobile",
            what_ifs_used=["low-end-mobile"],
            what_if_asked_again=True,
        ),
        make_analysis(focus="model", takes_up_what_if=False),
        kinds=[MoveKind.ACKNOWLEDGE],
    ),
    Case(
        "a mentor gives a stuck candidate the stage's agenda as a hint",
        make_state({**EARLY, "data": 1}, last_focus="data"),
        make_analysis(substantive=False, stuck=True),
        kinds=[MoveKind.HINT],
        check={"stage": "data"},
    ),
    Case(
        "a second hint on one stage is the problem's question for it",
        make_state({**EARLY, "data": 1}, last_focus="data", hints={"data": 1}),
        make_analysis(substantive=False, stuck=True),
        kinds=[MoveKind.PROBE],
        check={"stage": "data", "probe": "data:0"},
    ),
    Case(
        "after two hints a stuck candidate is moved on",
        make_state({**EARLY, "data": 1}, last_focus="data", hints={"data": 1}, probes_per_stage={"data": 1}),
        make_analysis(substantive=False, stuck=True),
        kinds=[MoveKind.REDIRECT],
        check={"stage": "metrics"},
    ),
    Case(
        "a persona without hints probes a stuck candidate's thin stage",
        make_state({**EARLY, "data": 1}, last_focus="data"),
        make_analysis(substantive=False, stuck=True),
        persona="bar-raiser",
        kinds=[MoveKind.PROBE],
        check={"stage": "data"},
    ),
    Case(
        "a bar-raiser asks for numbers a turn did not give",
        make_state({**EARLY, "data": 2, "model": 2}),
        make_analysis(focus="model"),
        persona="bar-raiser",
        kinds=[MoveKind.PRESS],
        check={"hook": "figures", "stage": "model"},
    ),
    Case(
        "a bar-raiser asks what a choice was weighed against",
        make_state({**EARLY, "data": 3, "model": 2}, pressed=["figures:model"]),
        make_analysis(focus="model", hooks=[Hook("choice", "gradient boosted trees")]),
        persona="bar-raiser",
        kinds=[MoveKind.PRESS],
        check={"hook": "trade_offs", "point": "gradient boosted trees"},
    ),
    Case(
        "a startup CTO asks what a model choice costs",
        make_state({**EARLY, "data": 2, "model": 2}),
        make_analysis(focus="model", hooks=[Hook("choice", "a small transformer")]),
        persona="startup-cto",
        kinds=[MoveKind.PRESS],
        check={"hook": "cost", "point": "a small transformer"},
    ),
    Case(
        "a startup CTO asks when it ships once the cost is asked",
        make_state({**EARLY, "data": 2, "model": 2}, pressed=["cost:model"]),
        make_analysis(focus="model", hooks=[Hook("choice", "a small transformer")]),
        persona="startup-cto",
        kinds=[MoveKind.PRESS],
        check={"hook": "shipping"},
    ),
    Case(
        "a data turn is asked what it costs only about a choice it named",
        make_state({**EARLY, "data": 2}),
        make_analysis(focus="data"),
        persona="startup-cto",
        kinds=[MoveKind.ACKNOWLEDGE],
    ),
    Case(
        "nobody asks what the metrics cost",
        make_state({**EARLY, "data": 2, "metrics": 2}),
        make_analysis(focus="metrics", hooks=[Hook("choice", "precision at 1% recall")]),
        persona="startup-cto",
        kinds=[MoveKind.FOLLOW_UP],
    ),
    Case(
        "a press never comes two turns running",
        make_state({**EARLY, "data": 2, "model": 2}, last_press_turn=3),
        make_analysis(focus="model", hooks=[Hook("choice", "a small transformer")]),
        persona="startup-cto",
        kinds=[MoveKind.FOLLOW_UP],
    ),
    Case(
        "a neutral interviewer does not press",
        make_state({**EARLY, "data": 2, "model": 2}),
        make_analysis(focus="model"),
        persona="neutral",
        kinds=[MoveKind.ACKNOWLEDGE],
    ),
    Case(
        "a figure the interviewer gave is not the candidate's claim",
        make_state({**EARLY, "data": 2, "model": 2}, what_ifs_used=["low-end-mobile"]),
        make_analysis(focus="model", hooks=[Hook("figure", "1 GB")]),
        kinds=[MoveKind.ACKNOWLEDGE],
    ),
    Case(
        "a plan being followed is not interrupted for a stage it left for later",
        make_state(
            {**EARLY, "model": 2, "deployment": 1},
            plan=["model", "deployment", "data", "metrics", "monitoring"],
            plan_progress_turn=19,
        ),
        make_analysis(focus="deployment"),
        fraction=0.6,
        candidate_turns=20,
        kinds=[MoveKind.ACKNOWLEDGE],
    ),
    Case(
        "a stalled plan gets the skipped stage",
        make_state(
            {**EARLY, "model": 2, "deployment": 2},
            plan=["model", "deployment", "data", "metrics", "monitoring"],
            plan_progress_turn=15,
        ),
        make_analysis(focus="deployment"),
        fraction=0.6,
        candidate_turns=20,
        kinds=[MoveKind.REDIRECT],
        check={"stage": "data"},
    ),
    Case(
        "a probe the candidate ignored is not repeated while stages are untouched",
        make_state({**EARLY, "data": 1, "model": 2}, depth_when_probed={"data": 1}, probes_per_stage={"data": 1}),
        make_analysis(focus="model"),
        persona="bar-raiser",
        fraction=0.2,
        kinds=[MoveKind.PRESS],
    ),
    Case(
        "once every 'go on' is said, the thinnest stage is asked about",
        make_state({**EARLY, "data": 2, "model": 2}, acknowledgements=10),
        make_analysis(focus="model"),
        persona="neutral",
        kinds=[MoveKind.PROBE],
    ),
    Case(
        "one stray off-topic turn is let pass",
        make_state({**EARLY, "data": 2}, recent_off_topic=[False, False, True]),
        make_analysis(focus="model", off_topic="Movie recommendations"),
        persona="neutral",
        kinds=[MoveKind.ACKNOWLEDGE],
    ),
    Case(
        "a second off-topic turn in three is brought back to the problem",
        make_state({**EARLY, "data": 2}, recent_off_topic=[True, False, True]),
        make_analysis(focus="model", off_topic="Movie recommendations"),
        persona="neutral",
        kinds=[MoveKind.REFOCUS],
    ),
    Case(
        "an empty first turn goes to clarification",
        make_state(),
        make_analysis(substantive=False),
        fraction=0.05,
        kinds=[MoveKind.REDIRECT],
        check={"stage": "clarification", "probe": "clarification:0"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_director(case: Case, library):
    persona = library.personas.get(case.persona)
    problem = library.problems.get("spam-filter")
    case.state.candidate_turns = case.candidate_turns if case.state.candidate_turns == 0 else case.state.candidate_turns
    clock = director.Clockface(
        fraction=case.fraction,
        minutes_left=45 * (1 - case.fraction),
        candidate_turns=case.state.candidate_turns,
        max_turns=case.max_turns,
    )
    decision = director.decide(case.state, case.analysis, persona, problem, clock)
    assert [m.kind for m in decision.moves] == case.kinds, decision.notes
    assert decision.phase == case.phase
    last = decision.moves[-1]
    for name, value in case.check.items():
        assert getattr(last if name not in ("facts",) else decision.moves[0], name) == value, name


def test_the_same_inputs_give_the_same_decision(library):
    persona, problem = library.personas.get("mentor"), library.problems.get("spam-filter")
    clock = director.Clockface(0.6, 18, 8)
    decisions = {
        director.decide(make_state({"data": 2}), make_analysis(focus="model"), persona, problem, clock)
        for _ in range(20)
    }
    assert len(decisions) == 1


def test_apply_records_what_was_used(library):
    persona, problem = library.personas.get("mentor"), library.problems.get("spam-filter")
    state = make_state({"clarification": 2, "data": 1, "model": 2})
    analysis = make_analysis(questions=[("How many users?", ["scale"])], focus="model")
    decision = director.decide(state, analysis, persona, problem, director.Clockface(0.2, 36, 4))
    assert [m.kind for m in decision.moves] == [MoveKind.ANSWER, MoveKind.PROBE]
    assert decision.kind is TurnKind.PROBE
    director.apply(state, decision, persona, analysis)
    assert state.facts_revealed == ["scale"]
    assert state.probes_used == ["data:0"] and state.probes_per_stage == {"data": 1}
    assert state.last_focus == "model"


def test_merge_analysis_tracks_depth_and_facts_asked():
    state = InterviewState(phase="discussion")
    analysis = make_analysis(questions=[("How many users?", ["scale"]), ("Logo colour?", [])], focus="data")
    changes = director.merge_analysis(state, analysis)
    assert state.facts_asked == ["scale"]
    assert changes["data"] == (0, 2)
    assert state.candidate_turns == 1


def test_a_reply_answers_first_and_never_asks_which_is_meant_about_a_fact_it_gives(library):
    analysis = Analysis(
        questions=[Question("how busy is it", (), close=("latency", "scale")), Question("how fast", ("latency",))],
        substantive=False,
    )
    persona, problem = library.personas.get("mentor"), library.problems.get("spam-filter")
    decision = director.decide(make_state(EARLY), analysis, persona, problem, director.Clockface(0.1, 40.0, 2))
    assert [(m.kind, m.facts) for m in decision.moves] == [
        (MoveKind.ANSWER, ("latency",)),
        (MoveKind.CLARIFY, ("scale",)),
    ]
