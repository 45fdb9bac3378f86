"""The director's vocabulary: what the interviewer does next."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum


class MoveKind(StrEnum):
    OPENING = "opening"
    ANSWER = "answer"
    """Answer a clarifying question from the hidden facts."""
    UNSPECIFIED = "unspecified"
    """The spec leaves the asked detail open: tell the candidate to assume and say so."""
    CLARIFY = "clarify"
    """The question could mean one of a few facts and none clearly: ask which the candidate means."""
    REFOCUS = "refocus"
    """The candidate is designing some other system: say what problem we are solving."""
    PROBE = "probe"
    WHAT_IF = "what_if"
    REDIRECT = "redirect"
    WRAP_UP = "wrap_up"
    CLOSE = "close"
    DEFLECT = "deflect"
    FOLLOW_UP = "follow_up"
    """Ask about a figure, a choice or a trade-off the candidate just named, in their words."""
    PRESS = "press"
    """Push on what this persona cares about: numbers, trade-offs, cost, time to ship."""
    HINT = "hint"
    """Help a stuck candidate into a stage with a hint from the public agenda."""
    ACKNOWLEDGE = "acknowledge"


class TurnKind(StrEnum):
    """The kind of an interviewer turn, as the CLI's JSON and the replay show it."""

    OPENING = "opening"
    ANSWER = "answer"
    PROBE = "probe"
    WHAT_IF = "what_if"
    REDIRECT = "redirect"
    WRAP_UP = "wrap_up"
    DEFLECT = "deflect"
    ACKNOWLEDGE = "acknowledge"
    CLARIFY = "clarify"
    REFOCUS = "refocus"
    FOLLOW_UP = "follow_up"
    HINT = "hint"


# The most significant move names the turn.
_TURN_KIND_PRIORITY: tuple[tuple[MoveKind, TurnKind], ...] = (
    (MoveKind.OPENING, TurnKind.OPENING),
    (MoveKind.CLOSE, TurnKind.WRAP_UP),
    (MoveKind.WRAP_UP, TurnKind.WRAP_UP),
    (MoveKind.DEFLECT, TurnKind.DEFLECT),
    (MoveKind.REFOCUS, TurnKind.REFOCUS),
    (MoveKind.WHAT_IF, TurnKind.WHAT_IF),
    (MoveKind.PROBE, TurnKind.PROBE),
    (MoveKind.REDIRECT, TurnKind.REDIRECT),
    (MoveKind.HINT, TurnKind.HINT),
    (MoveKind.ANSWER, TurnKind.ANSWER),
    (MoveKind.UNSPECIFIED, TurnKind.ANSWER),
    (MoveKind.CLARIFY, TurnKind.CLARIFY),
    (MoveKind.FOLLOW_UP, TurnKind.FOLLOW_UP),
    (MoveKind.PRESS, TurnKind.FOLLOW_UP),
    (MoveKind.ACKNOWLEDGE, TurnKind.ACKNOWLEDGE),
)


@dataclass(frozen=True, slots=True)
class Move:
    kind: MoveKind
    facts: tuple[str, ...] = ()
    """answer: the fact ids answered; clarify: the facts the question might mean."""
    repeat: bool = False
    """answer: every fact was already revealed earlier; what_if: asked before and not taken up."""
    question: str = ""
    """answer/unspecified: the candidate's question, verbatim."""
    stage: str | None = None
    """probe/redirect/acknowledge: the stage concerned."""
    probe: str | None = None
    """probe/redirect: key of the problem's probe used, ``stage:index``; none for a generic question."""
    what_if: str | None = None
    """what_if: the id used."""
    point: str = ""
    """follow_up/press: the candidate's own words the question picks up."""
    hook: str = ""
    """follow_up: what those words are: "figure", "choice" or "trade_off"; press: the topic pressed on."""

    def to_json(self) -> dict:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["facts"] = list(self.facts)
        return {k: v for k, v in data.items() if v not in (None, "", (), [], False) or k == "kind"}

    @classmethod
    def from_json(cls, data: dict) -> Move:
        values = dict(data)
        values["kind"] = MoveKind(values["kind"])
        values["facts"] = tuple(values.get("facts", ()))
        return cls(**values)


def turn_kind(moves: list[Move] | tuple[Move, ...]) -> TurnKind:
    kinds = {move.kind for move in moves}
    for move_kind, kind in _TURN_KIND_PRIORITY:
        if move_kind in kinds:
            return kind
    return TurnKind.ACKNOWLEDGE


def probe_key(stage: str, index: int) -> str:
    return f"{stage}:{index}"


@dataclass(frozen=True, slots=True)
class Decision:
    moves: tuple[Move, ...]
    phase: str
    """The phase after this turn."""
    notes: tuple[str, ...] = field(default=())
    """Why the director chose these moves (for logs and tests)."""
    what_if_settled: tuple[str, bool] | None = None
    """(id, taken up) when this turn settles the open what-if: the candidate took it up, or left it
    unanswered for good (asked twice, or still open at the wrap-up)."""

    @property
    def kind(self) -> TurnKind:
        return turn_kind(self.moves)
