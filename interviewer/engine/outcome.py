"""What a reply came to, and the events that follow from it: a pure function of the decision, the
outcome of the guarded stream and the state before and after."""

from __future__ import annotations

from dataclasses import dataclass, field

from interviewer.engine.events import (
    AnalystFallback,
    EngineError,
    EngineEvent,
    FactRevealed,
    GuardTripped,
    InjectionDeflected,
    InterviewEnded,
    Notice,
    PhaseChanged,
    ProbeAsked,
    Redirected,
    StageCovered,
    Usage,
    WhatIfInjected,
    WhatIfUnanswered,
)
from interviewer.engine.guard import Verdict
from interviewer.engine.moves import Decision, Move, MoveKind
from interviewer.engine.voice import VoiceFailure

EXCERPT_CHARS = 200
"""How much of an injection attempt its event keeps."""


@dataclass
class ReplyOutcome:
    """How one guarded reply ended."""

    text: str = ""
    """What the candidate saw, the deflection line included when the guard tripped."""
    tripped: Verdict | None = None
    failure: VoiceFailure | None = None
    usage: Usage | None = None
    notices: list[Notice] = field(default_factory=list)
    asked_late: list[str] = field(default_factory=list)
    """Facts the concurrent reading confirmed the candidate asked for, so the reply could state them."""


@dataclass(frozen=True, slots=True)
class TurnContext:
    """What else the events depend on: the state before and after, and what the analysts said."""

    previously_revealed: frozenset[str]
    previous_phase: str
    phase: str
    changes: dict[str, tuple[int, int]]
    """Stages whose coverage depth changed this turn: (before, after)."""
    injection: str | None = None
    """The candidate's message, when the analyst read it as an attempt on the hidden spec."""
    analyst_failure: str | None = None


def reply_events(decision: Decision, outcome: ReplyOutcome, context: TurnContext) -> list[EngineEvent]:
    """The reply's domain events, in the order they are stored and shown."""
    events: list[EngineEvent] = []
    if outcome.tripped is not None:
        events.append(GuardTripped(outcome.tripped.reason, outcome.tripped.fact))
    if outcome.failure is not None:
        # The state does not advance on a failed reply, so nothing else happened.
        events.append(EngineError(str(outcome.failure), outcome.failure.retryable))
        return events
    if context.analyst_failure is not None:
        events.append(AnalystFallback(context.analyst_failure))
    events += [FactRevealed(fact, asked=True) for fact in outcome.asked_late]
    for move in decision.moves:
        events += _move_events(move, context)
    if decision.what_if_settled is not None and not decision.what_if_settled[1]:
        events.append(WhatIfUnanswered(decision.what_if_settled[0]))
    events += [StageCovered(stage, after, before) for stage, (before, after) in context.changes.items()]
    if context.phase != context.previous_phase:
        events.append(PhaseChanged(context.phase, context.previous_phase))
    if context.phase == "ended":
        events.append(InterviewEnded(decision.notes[0] if decision.notes else "ended"))
    return events


def _move_events(move: Move, context: TurnContext) -> list[EngineEvent]:
    match move.kind:
        case MoveKind.ANSWER:
            return [FactRevealed(fact, asked=True) for fact in move.facts if fact not in context.previously_revealed]
        case MoveKind.PROBE if move.stage:
            return [ProbeAsked(move.stage, move.probe)]
        case MoveKind.REDIRECT if move.stage:
            return [Redirected(move.stage)]
        case MoveKind.WHAT_IF if move.what_if:
            return [WhatIfInjected(move.what_if, again=move.repeat)]
        case MoveKind.DEFLECT if context.injection is not None:
            return [InjectionDeflected(context.injection[:EXCERPT_CHARS])]
    return []
