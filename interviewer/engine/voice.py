"""The voice turns the director's moves into the interviewer's words.

Backends provide a :class:`Voice`. The offline voice here wraps the persona's phrase
templates around the texts the problem's author wrote; it is deterministic and instant.
"""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from interviewer.content.models import Persona, Problem, fill_template
from interviewer.engine.events import Notice, Usage
from interviewer.engine.moves import Move, MoveKind
from interviewer.engine.state import InterviewState
from interviewer.stages import STAGE_BY_ID
from interviewer.text import normalized, sentences
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


def interview_clock_text(budget_minutes: float, minutes_left: float) -> str:
    """The interview's length and time left, as any reply may state them (the candidate knows both)."""
    left = max(1, round(minutes_left))
    return f"{budget_minutes:g} minutes in all, {minutes_left:g} or about {left} minutes left"


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


def fact_topics(fact_ids: tuple[str, ...]) -> str:
    """What facts are about, by their ids, to ask which one is meant: "the labels, or the spam rate?"."""
    names = [fact_id.replace("-", " ").replace("_", " ") for fact_id in fact_ids]
    if len(names) == 1:
        return f"something about the {names[0]}"
    return ", or ".join(f"the {name}" for name in names)


def fact_answers(problem: Problem, fact_ids: tuple[str, ...]) -> str:
    return " ".join(problem.fact(f).answer for f in fact_ids)


def _pick(request: VoiceRequest, options: list[str], salt: str, fill: Callable[[str], str] = str) -> str:
    """A variant, filled in: the rotation starts where the turn number and ``salt`` say (deterministic)
    and skips any the interviewer already said in this interview, so nothing is said twice word for word
    while an unsaid variant is left."""
    said = _said_before(request)
    start = zlib.crc32(f"{request.seq}:{salt}".encode())
    filled = [fill(options[(start + step) % len(options)]) for step in range(len(options))]
    return next((text for text in filled if normalized(text) not in said), filled[0])


def _said_before(request: VoiceRequest) -> str:
    return "\n".join(normalized(text) for role, text in request.history if role == "interviewer")


def render_move(request: VoiceRequest, move: Move) -> str:
    persona, problem = request.persona, request.problem
    t = persona.templates
    match move.kind:
        case MoveKind.DEFLECT if normalized(_persona_line(request, move.kind)) in _said_before(request):
            return _pick(request, t.deflect_again, "deflect")
        case MoveKind.OPENING | MoveKind.CLOSE | MoveKind.DEFLECT:
            return _persona_line(request, move.kind)
        case MoveKind.ANSWER:
            answer = fact_answers(problem, move.facts)
            options = t.repeat if move.repeat else t.answer
            return _pick(request, options, "answer" + ",".join(move.facts), lambda v: fill_template(v, answer=answer))
        case MoveKind.UNSPECIFIED:
            return _pick(request, t.unspecified, "unspecified")
        case MoveKind.PROBE | MoveKind.REDIRECT:
            question, stage = probe_text(problem, move.probe, move.stage), stage_label(move.stage)
            if move.kind is MoveKind.PROBE:
                return _pick(request, t.probe, "probe", lambda v: fill_template(v, probe=question, stage=stage))
            return _pick(request, t.redirect, "redirect", lambda v: fill_template(v, question=question, stage=stage))
        case MoveKind.WHAT_IF:
            what_if = problem.what_if(move.what_if or "").text
            asked = t.what_if_again if move.repeat else t.what_if
            return _pick(request, asked, "what_if", lambda v: fill_template(v, what_if=what_if))
        case MoveKind.WRAP_UP:
            left = max(1, round(request.minutes_left))
            return _pick(request, t.wrap_up, "wrap_up", lambda v: fill_template(v, minutes_left=left))
        case MoveKind.ACKNOWLEDGE:
            stage = stage_label(move.stage)
            return _pick(request, t.acknowledge, "acknowledge", lambda v: fill_template(v, stage=stage))
        case MoveKind.CLARIFY:
            topics = fact_topics(move.facts)
            return _pick(
                request, t.clarify, "clarify" + ",".join(move.facts), lambda v: fill_template(v, options=topics)
            )
        case MoveKind.FOLLOW_UP:
            variants: list[str] = getattr(t, f"follow_up_{move.hook}", t.follow_up_choice)
            return _pick(request, variants, "follow_up", lambda v: fill_template(v, point=move.point))
        case MoveKind.PRESS:
            pressing: list[str] = getattr(t, f"press_{move.hook}", t.press_trade_offs)
            values = {"point": move.point or "this", "stage": stage_label(move.stage)}
            return _pick(request, pressing, "press", lambda v: fill_template(v, **values))
        case MoveKind.HINT:
            hint, stage = STAGE_BY_ID[move.stage or "clarification"].summary, stage_label(move.stage)
            return _pick(request, t.hint, "hint", lambda v: fill_template(v, hint=hint, stage=stage))
        case MoveKind.REFOCUS:
            return _pick(
                request, t.refocus, "refocus", lambda v: fill_template(v, title=problem.title, prompt=problem.prompt)
            )
    raise ValueError(f"unknown move {move.kind}")


EARLY_CLOSE_MINUTES = 1.0
"""With more than this many minutes left, the interview closes early: the persona does not say time is up."""


def _persona_line(request: VoiceRequest, kind: MoveKind) -> str:
    persona, problem = request.persona, request.problem
    closing = persona.lines.closing_early if request.minutes_left > EARLY_CLOSE_MINUTES else persona.lines.closing
    line = {MoveKind.OPENING: persona.lines.opening, MoveKind.CLOSE: closing}.get(kind, persona.lines.deflection)
    return fill_template(
        line, name=persona.name, title=problem.title, prompt=problem.prompt, minutes=f"{request.budget_minutes:g}"
    )


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
