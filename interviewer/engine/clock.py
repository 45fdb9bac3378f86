"""Interview clocks: wall time for live interviews, a text-length estimate for scripted runs."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod


class Clock(ABC):
    @abstractmethod
    def lap(self, text: str, role: str) -> float:
        """Seconds of interview time that this turn took."""

    def running(self) -> float:
        """Seconds since the last lap that will count towards the next one (for a live clock)."""
        return 0.0


class WallClock(Clock):
    """Real time since the previous turn. Time while the app is closed does not count."""

    def __init__(self) -> None:
        self._mark = time.monotonic()

    def lap(self, text: str, role: str) -> float:
        now = time.monotonic()
        spent, self._mark = now - self._mark, now
        return spent

    def running(self) -> float:
        return time.monotonic() - self._mark


class ScriptedClock(Clock):
    """For headless runs: typing time for the candidate, reading time for the interviewer."""

    CANDIDATE_BASE_S = 30.0
    CANDIDATE_PER_WORD_S = 1.2
    INTERVIEWER_BASE_S = 5.0
    INTERVIEWER_PER_WORD_S = 0.3

    def lap(self, text: str, role: str) -> float:
        count = len(text.split())
        if role == "candidate":
            return self.CANDIDATE_BASE_S + self.CANDIDATE_PER_WORD_S * count
        return self.INTERVIEWER_BASE_S + self.INTERVIEWER_PER_WORD_S * count
