"""Typed events the dialog loop yields. The TUI, the CLI and the tests consume the same stream."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class EngineEvent:
    type: ClassVar[str] = "event"
    stored: ClassVar[bool] = False
    """Whether the event goes into the database's event log."""

    def payload(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class CandidateTurnStored(EngineEvent):
    """The candidate's message is committed; nothing after this can lose it."""

    type: ClassVar[str] = "candidate_turn"
    seq: int
    text: str


@dataclass(frozen=True, slots=True)
class ReplyStarted(EngineEvent):
    type: ClassVar[str] = "reply_started"
    kind: str
    moves: list[dict] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReplyDelta(EngineEvent):
    type: ClassVar[str] = "reply_delta"
    text: str


@dataclass(frozen=True, slots=True)
class ReplyDone(EngineEvent):
    type: ClassVar[str] = "reply_done"
    seq: int
    text: str
    kind: str
    complete: bool = True


@dataclass(frozen=True, slots=True)
class ReplyCancelled(EngineEvent):
    """The user stopped the reply; what was shown is stored, marked incomplete."""

    type: ClassVar[str] = "cancelled"
    stored: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class FactRevealed(EngineEvent):
    type: ClassVar[str] = "fact_revealed"
    stored: ClassVar[bool] = True
    fact: str
    asked: bool = True
    """True when the candidate's question uncovered it."""


@dataclass(frozen=True, slots=True)
class WhatIfInjected(EngineEvent):
    type: ClassVar[str] = "what_if"
    stored: ClassVar[bool] = True
    what_if: str
    again: bool = False
    """Asked a second time: the candidate went on without taking it up."""


@dataclass(frozen=True, slots=True)
class WhatIfUnanswered(EngineEvent):
    """The candidate never took up a what-if: put again once (where there was time), still nothing; or
    still open at the wrap-up. Noted for the grader."""

    type: ClassVar[str] = "what_if_unanswered"
    stored: ClassVar[bool] = True
    what_if: str


@dataclass(frozen=True, slots=True)
class ProbeAsked(EngineEvent):
    type: ClassVar[str] = "probe"
    stored: ClassVar[bool] = True
    stage: str
    probe: str | None


@dataclass(frozen=True, slots=True)
class Redirected(EngineEvent):
    type: ClassVar[str] = "redirect"
    stored: ClassVar[bool] = True
    stage: str


@dataclass(frozen=True, slots=True)
class StageCovered(EngineEvent):
    type: ClassVar[str] = "stage_covered"
    stored: ClassVar[bool] = True
    stage: str
    depth: int
    previous: int


@dataclass(frozen=True, slots=True)
class PhaseChanged(EngineEvent):
    type: ClassVar[str] = "phase"
    stored: ClassVar[bool] = True
    phase: str
    previous: str


@dataclass(frozen=True, slots=True)
class InjectionDeflected(EngineEvent):
    type: ClassVar[str] = "injection"
    stored: ClassVar[bool] = True
    excerpt: str


@dataclass(frozen=True, slots=True)
class GuardTripped(EngineEvent):
    type: ClassVar[str] = "guard"
    stored: ClassVar[bool] = True
    reason: str
    fact: str | None = None


@dataclass(frozen=True, slots=True)
class Usage(EngineEvent):
    type: ClassVar[str] = "usage"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    first_token_ms: float | None = None
    total_ms: float | None = None
    estimated: bool = False
    """True when the server sent no usage and the tokens were counted locally."""


@dataclass(frozen=True, slots=True)
class EngineError(EngineEvent):
    type: ClassVar[str] = "error"
    stored: ClassVar[bool] = True
    message: str
    retryable: bool = True


@dataclass(frozen=True, slots=True)
class Notice(EngineEvent):
    """Something the candidate should know about this reply (their message was cut to fit, say)."""

    type: ClassVar[str] = "notice"
    stored: ClassVar[bool] = True
    message: str


@dataclass(frozen=True, slots=True)
class AnalystFallback(EngineEvent):
    """The LLM analyst failed for a turn; the offline analyst's reading stood."""

    type: ClassVar[str] = "analyst_fallback"
    stored: ClassVar[bool] = True
    message: str


@dataclass(frozen=True, slots=True)
class InterviewEnded(EngineEvent):
    type: ClassVar[str] = "ended"
    stored: ClassVar[bool] = True
    reason: str
