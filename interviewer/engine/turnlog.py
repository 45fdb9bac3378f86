"""The conversation as the session knows it: one log of stored turns, from which everything else derives."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from interviewer.vocabulary import CANDIDATE

__all__ = ["LoggedTurn", "TurnLog"]


@dataclass(frozen=True, slots=True)
class LoggedTurn:
    seq: int
    role: str
    text: str
    complete: bool = True
    note: str | None = None
    """The director's note the voice was sent for this interviewer turn, kept to send it again verbatim."""


class TurnLog:
    """Every stored turn in order. The voice's history holds the complete turns only; an incomplete
    interviewer turn (stopped or failed) stays in the log, so the newest message still awaits a reply."""

    def __init__(self, turns: Iterable[LoggedTurn] = ()):
        self._turns = list(turns)

    @classmethod
    def from_rows(cls, rows: Iterable[Any]) -> TurnLog:
        """From storage rows (``seq``, ``role``, ``text``, ``complete``, ``meta``)."""
        return cls(
            LoggedTurn(row.seq, row.role, row.text, row.complete, (row.meta or {}).get("note") or None) for row in rows
        )

    def append(self, turn: LoggedTurn) -> None:
        self._turns.append(turn)

    @property
    def opened(self) -> bool:
        return bool(self._turns)

    @property
    def pending(self) -> bool:
        """The newest candidate message has no complete reply yet."""
        if not self._turns:
            return False
        last = self._turns[-1]
        return last.role == CANDIDATE or not last.complete

    def complete_turns(self) -> list[LoggedTurn]:
        return [turn for turn in self._turns if turn.complete]

    def history(self) -> list[tuple[str, str]]:
        """The conversation so far as (role, text), complete turns only, oldest first."""
        return [(turn.role, turn.text) for turn in self.complete_turns()]

    def notes(self) -> dict[int, str]:
        """Director's notes by their turn's index in :meth:`history`."""
        return {index: turn.note for index, turn in enumerate(self.complete_turns()) if turn.note}

    def last_candidate(self) -> LoggedTurn | None:
        return next((turn for turn in reversed(self._turns) if turn.role == CANDIDATE), None)
