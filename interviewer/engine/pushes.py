"""How the interviewer picks up what the candidate just said: a follow-up on their own figure, choice or
trade-off, or a press on what this persona cares about (numbers, trade-offs, cost, time to ship).

Every persona follows up; only a persona that ``presses_on`` a topic presses on it, each topic once per
stage and never two turns running, so a bar-raiser keeps asking for numbers and a startup CTO keeps
asking what it costs and when it ships, while the others let a well-argued turn stand.
"""

from __future__ import annotations

import re

from interviewer.content.models import Persona, Problem
from interviewer.engine.analyst import Analysis
from interviewer.engine.moves import Move, MoveKind
from interviewer.engine.state import InterviewState
from interviewer.text import normalized
from interviewer.understanding.hooks import Hook

PRESS_SPACING = 2
"""Candidate turns between two presses, at least: pressing every turn is badgering."""

PRESSED_STAGES: dict[str, frozenset[str]] = {
    "figures": frozenset({"data", "metrics", "model", "deployment", "monitoring"}),
    "trade_offs": frozenset({"data", "metrics", "model", "deployment", "monitoring", "iteration"}),
    "cost": frozenset({"data", "model", "deployment"}),
    "shipping": frozenset({"model", "deployment", "iteration"}),
}
"""The stages where each topic is worth pressing on: nobody asks what the metrics cost to run."""
_WHOLE_DESIGN_STAGES = frozenset({"model", "deployment"})
"""Where "what does this cost / when does it ship" needs no named choice: the turn describes the system."""


def pick_up(persona: Persona, problem: Problem, state: InterviewState, analysis: Analysis) -> Move | None:
    """A press on the persona's own topics where one fits, else a follow-up on the candidate's words. A
    turn that lays out a plan is let run: there is nothing in it to press on yet."""
    if not analysis.substantive or analysis.plan:
        return None
    hooks = fresh_hooks(state, analysis, problem)
    return _press(persona, state, analysis, hooks) or _follow_up(hooks, analysis)


def fresh_hooks(state: InterviewState, analysis: Analysis, problem: Problem) -> list[Hook]:
    """The turn's hooks not yet asked about, and not words the interviewer gave the candidate (a figure
    from an answer or a what-if is not their claim)."""
    given = _interviewer_said(state, problem)
    return [
        hook
        for hook in analysis.hooks
        if hook.key not in state.followed_up and not re.search(rf"(?<!\w){re.escape(hook.key)}(?!\w)", given)
    ]


def _follow_up(hooks: list[Hook], analysis: Analysis) -> Move | None:
    """Ask about what the candidate just committed to, rather than "go on": once per point."""
    if not hooks:
        return None
    hook = hooks[0]
    return Move(MoveKind.FOLLOW_UP, point=hook.phrase, hook=hook.kind, stage=analysis.focus)


def _press(persona: Persona, state: InterviewState, analysis: Analysis, hooks: list[Hook]) -> Move | None:
    stage = analysis.focus
    if stage is None or state.candidate_turns - state.last_press_turn < PRESS_SPACING:
        return None
    kinds = {hook.kind for hook in hooks}
    choices = [hook for hook in hooks if hook.kind == "choice"]
    for topic in persona.presses_on:
        if stage not in PRESSED_STAGES[topic] or f"{topic}:{stage}" in state.pressed:
            continue
        if topic == "figures" and not _has_figure(analysis):
            return Move(MoveKind.PRESS, hook=topic, stage=stage)
        if topic == "trade_offs" and choices and "trade_off" not in kinds:
            return Move(MoveKind.PRESS, hook=topic, stage=stage, point=choices[0].phrase)
        if topic in ("cost", "shipping") and (choices or stage in _WHOLE_DESIGN_STAGES):
            return Move(MoveKind.PRESS, hook=topic, stage=stage, point=choices[0].phrase if choices else "this")
    return None


def _has_figure(analysis: Analysis) -> bool:
    """The turn gave a figure of its own (asked about already, perhaps): no need to ask for numbers."""
    return any(hook.kind == "figure" for hook in analysis.hooks)


def _interviewer_said(state: InterviewState, problem: Problem) -> str:
    """The problem's texts the interviewer has said so far (prompt, revealed facts, what-ifs), normalised."""
    facts = [fact.answer for fact in problem.facts if fact.id in state.facts_revealed]
    what_ifs = [item.text for item in problem.what_ifs if item.id in state.what_ifs_used]
    return "\n".join(normalized(text) for text in (problem.prompt, *facts, *what_ifs))


def record_press(state: InterviewState, move: Move) -> None:
    state.pressed.append(f"{move.hook}:{move.stage}")
    state.last_press_turn = state.candidate_turns
    if move.point and move.point != "this":
        state.followed_up.append(normalized(move.point))
