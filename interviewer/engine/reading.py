"""The concurrent reading of a candidate turn: a slower (LLM) analyst that runs while the reply streams.

It starts once the reply's request is out, so it never delays the reply; the reply waits for it only
when the guard needs its word on a fact; and if it is still thinking when the reply is done, its
reading is folded into the state before the next turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from interviewer.engine.analyst import Analysis


class ConcurrentReading:
    """Started at most once, awaited at most once, and only when needed."""

    def __init__(self, make: Callable[[], Awaitable[Analysis]]):
        self._make = make
        self.task: asyncio.Future[Analysis] | None = None
        self.error: str | None = None
        self._result: Analysis | None = None
        self._done = False

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.ensure_future(self._make())
            # A reading nobody waits for (the interview ended while it ran) fails quietly: its error is
            # taken here, so asyncio never prints it as a "Task exception was never retrieved" traceback.
            self.task.add_done_callback(_account_for)

    @property
    def settled(self) -> bool:
        """The reading is in (or failed): waiting for it costs nothing."""
        return self._done or (self.task is not None and self.task.done())

    async def get(self) -> Analysis | None:
        """The reading, or None when the analyst failed (:attr:`error` says why)."""
        self.start()
        assert self.task is not None
        if not self._done:
            try:
                self._result = await self.task
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: the offline reading stands, and the event says why
                self.error = str(exc) or type(exc).__name__
            self._done = True
        return self._result

    def cancel(self) -> None:
        if self.task is None:
            return
        if not self.task.done():
            self.task.cancel()
        elif not self.task.cancelled():
            self.task.exception()  # a failure nobody waited for is still accounted for

    async def confirms(self, fact: str | None) -> bool:
        """Whether the reading says the candidate asked for ``fact`` (a fact the guard saw in the reply)."""
        if fact is None:
            return False
        reading = await self.get()
        return reading is not None and fact in reading.facts_asked


def _account_for(task: asyncio.Future[Analysis]) -> None:
    if not task.cancelled():
        task.exception()
