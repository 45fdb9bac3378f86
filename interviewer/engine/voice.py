"""The voice turns the director's moves into the interviewer's words.

Backends provide a :class:`Voice`. The offline voice here wraps the persona's phrase
templates around the texts the problem's author wrote; it is deterministic and instant.
"""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from interviewer.content.models import Persona, Problem
from interviewer.engine.events import Notice, Usage
from interviewer.engine.moves import Move, MoveKind
from interviewer.engine.state import InterviewState
from interviewer.stages import STAGE_BY_ID
from interviewer.text import sentences
from interviewer.vocabulary import stage_label


class VoiceFailure(Exception):
    """Raised by a voice when the reply cannot be produced; what streamed before it is kept."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


@dataclass
class VoiceRequest:
    persona: Persona
    problem: Problem
    moves: tuple[Move, ...]
    state: InterviewState
    seq: int
    """The reply's turn number; picks template variants deterministically."""
    minutes_left: float
    budget_minutes: float
    history: list[tuple[str, str]] = field(default_factory=list)
    """The conversation so far as (role, text), oldest first."""
    notes: dict[int, str] = field(default_factory=dict)
    """Director's notes that preceded interviewer messages in ``history``, by index."""
    note: str | None = None
    """This reply's director's note, when the voice uses one."""


class Voice(ABC):
    name: str = "voice"

    @abstractmethod
    def stream(self, request: VoiceRequest) -> AsyncIterator[str | Usage | Notice]:
        """Yield the reply in chunks of text, optionally ending with a ``Usage`` event.
        Raise ``VoiceFailure`` when the reply cannot be produced."""

    def instructions(self, persona: Persona) -> str:
        """The instruction text this voice sends to a model, which a reply must never echo."""
        return ""

    def unfinished_usage(self) -> Usage | None:
        """Usage of the last reply when its stream was stopped before the server reported any."""
        return None

    def director_note(self, request: VoiceRequest) -> str | None:
        """The note this voice sends with the request, kept with the turn so later requests repeat it
        byte for byte (an append-only conversation is what provider prompt caching reuses)."""
        return None


def probe_text(problem: Problem, key: str | None, stage: str | None) -> str:
    """The problem's probe named by ``stage:index``, or the stage's neutral opener."""
    if key is not None:
        stage_id, _, index = key.partition(":")
        return problem.probes_for(stage_id)[int(index)]
    return STAGE_BY_ID[stage].opener if stage in STAGE_BY_ID else "Where would you like to go next?"


def fact_answers(problem: Problem, fact_ids: tuple[str, ...]) -> str:
    return " ".join(problem.fact(f).answer for f in fact_ids)


def _pick(options: list[str], seq: int, salt: str) -> str:
    return options[zlib.crc32(f"{seq}:{salt}".encode()) % len(options)]


def render_move(request: VoiceRequest, move: Move) -> str:
    persona, problem, seq = request.persona, request.problem, request.seq
    t = persona.templates
    match move.kind:
        case MoveKind.OPENING:
            return persona.lines.opening.format(
                name=persona.name,
                title=problem.title,
                prompt=problem.prompt,
                minutes=f"{request.budget_minutes:g}",
            )
        case MoveKind.ANSWER:
            template = _pick(t.repeat if move.repeat else t.answer, seq, "answer" + ",".join(move.facts))
            return template.format(answer=fact_answers(problem, move.facts))
        case MoveKind.UNSPECIFIED:
            return _pick(t.unspecified, seq, "unspecified")
        case MoveKind.PROBE:
            return _pick(t.probe, seq, "probe").format(
                probe=probe_text(problem, move.probe, move.stage), stage=stage_label(move.stage)
            )
        case MoveKind.WHAT_IF:
            return _pick(t.what_if, seq, "what_if").format(what_if=problem.what_if(move.what_if or "").text)
        case MoveKind.REDIRECT:
            return _pick(t.redirect, seq, "redirect").format(
                question=probe_text(problem, move.probe, move.stage), stage=stage_label(move.stage)
            )
        case MoveKind.WRAP_UP:
            return _pick(t.wrap_up, seq, "wrap_up").format(minutes_left=max(1, round(request.minutes_left)))
        case MoveKind.CLOSE:
            return persona.lines.closing.format(
                name=persona.name, title=problem.title, prompt=problem.prompt, minutes=f"{request.budget_minutes:g}"
            )
        case MoveKind.DEFLECT:
            return persona.lines.deflection.format(
                name=persona.name, title=problem.title, prompt=problem.prompt, minutes=f"{request.budget_minutes:g}"
            )
        case MoveKind.ACKNOWLEDGE:
            return _pick(t.acknowledge, seq, "acknowledge").format(stage=stage_label(move.stage))
    raise ValueError(f"unknown move {move.kind}")


class OfflineVoice(Voice):
    """Deterministic: the persona's templates around the problem author's texts."""

    name = "offline"

    def render(self, request: VoiceRequest) -> str:
        return "\n\n".join(render_move(request, move) for move in request.moves)

    async def stream(self, request: VoiceRequest) -> AsyncIterator[str | Usage | Notice]:
        text = self.render(request)
        position = 0
        for sentence in sentences(text):
            yield text[position : sentence.end]
            position = sentence.end
        if position < len(text):
            yield text[position:]
