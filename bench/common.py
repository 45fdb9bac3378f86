"""Shared pieces: results, timing, a throwaway INTERVIEWER_HOME."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Result:
    figure: str
    unit: str
    samples: list[float]
    target: float | None = None
    """Upper bound (lower is better) unless ``higher_is_better``."""
    higher_is_better: bool = False
    note: str = ""
    target_on: str = "p50"
    """Which statistic the target applies to: p50 or p99."""
    extra: dict = field(default_factory=dict)

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, max(0, round(0.99 * (len(ordered) - 1))))]

    @property
    def status(self) -> str:
        if self.target is None:
            return "-"
        value = self.p99 if self.target_on == "p99" else self.p50
        ok = value >= self.target if self.higher_is_better else value <= self.target
        return "pass" if ok else "short"

    def target_text(self) -> str:
        if self.target is None:
            return ""
        sign = "≥" if self.higher_is_better else "≤"
        return f"{self.target_on} {sign} {self.target:g} {self.unit}"


def percentile_text(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds per call."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


@contextmanager
def temporary_home():
    previous = {name: os.environ.get(name) for name in ("INTERVIEWER_HOME", "INTERVIEWER_DB_URL")}
    with tempfile.TemporaryDirectory(prefix="interviewer-bench-") as folder:
        os.environ["INTERVIEWER_HOME"] = folder
        os.environ.pop("INTERVIEWER_DB_URL", None)
        try:
            yield Path(folder)
        finally:
            for name, value in previous.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


async def play_scripted(
    repo: Any,
    backend: Any,
    *,
    problem: Any,
    persona: Any,
    rubric: Any,
    minutes: float,
    messages: Sequence[str] = (),
    end: bool = False,
) -> Any:
    """An interview on the scripted clock: opened, each message sent until it ends, ended if asked."""
    from interviewer.engine.clock import ScriptedClock
    from interviewer.engine.session import InterviewSession

    session = InterviewSession.start(
        repo,
        problem=problem,
        persona=persona,
        rubric=rubric,
        backend=backend,
        minutes=minutes,
        clock=ScriptedClock(),
    )
    async for _ in session.open():
        pass
    for text in messages:
        if session.finished:
            break
        async for _ in session.submit(text):
            pass
    if end and not session.finished:
        async for _ in session.end():
            pass
    return session
