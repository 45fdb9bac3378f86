"""A reply streamed through the guard: text reaches the reader only once the guard has passed it.

The voice's chunks are held back to the next release point (the end of a sentence or a line) and
checked with an overlap of what was shown before (the guard's :class:`~interviewer.engine.guard.Scan`,
linear in the reply's length); a trip stops the stream and the persona's deflection line follows what
was already shown. The guard's scan runs on a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, AsyncIterator

from interviewer.engine.events import Notice, ReplyDelta, Usage
from interviewer.engine.guard import Context, Guard, Scan, Verdict
from interviewer.engine.outcome import ReplyOutcome
from interviewer.engine.reading import ConcurrentReading
from interviewer.engine.voice import Voice, VoiceFailure, VoiceRequest

RELEASE_POINT = re.compile(r"[.!?:;]['\")\]]*\s+|\n")
MIN_RELEASE = 48
"""Characters held at least before a release point lets them through: a check costs a fixed overlap
plus the piece, so a reply of one letter per line is checked in pieces of this size, not per letter."""
GROWTH = 8
"""Past that, a piece is at least 1/GROWTH of what was shown: a reply far longer than any the model was
asked for is checked in few, growing pieces, so the guard's work stays linear in its length."""


def last_release_point(text: str, start: int = 0) -> int:
    """The end of the last release point in ``text`` at or after ``start`` (0 if none)."""
    last = 0
    for match in RELEASE_POINT.finditer(text, start):
        last = match.end()
    return last


class GuardedReply:
    """One reply: iterate :meth:`stream` for what to show; :attr:`outcome` then says how it ended."""

    def __init__(
        self,
        voice: Voice,
        guard: Guard,
        request: VoiceRequest,
        *,
        allowed: set[str],
        sanctioned: Context | str,
        deflection: str,
        reading: ConcurrentReading | None = None,
    ):
        self.voice, self.guard, self.request = voice, guard, request
        self.allowed = allowed
        """Facts the reply may state: revealed before, or answered in this reply."""
        self.sanctioned = sanctioned
        """What the reply may draw figures and passages from: the conversation and this reply's material."""
        self.deflection = deflection
        self.reading = reading
        self.outcome = ReplyOutcome()
        self._held = ""
        """Text from the voice not yet passed by the guard."""
        self._scanned = 0
        """How much of ``_held`` was searched for a release point already."""
        self._scan: Scan | None = None

    async def stream(self) -> AsyncGenerator[ReplyDelta | Notice, None]:
        outcome = self.outcome
        chunks = self.voice.stream(self.request)
        released = self._released(chunks)
        try:
            async for event in released:
                yield event
        except VoiceFailure as exc:
            outcome.failure = exc
            if self._held and outcome.tripped is None and (await self._check(self._held)).ok:
                yield self._show(self._held)  # the partial reply is kept and shown, marked incomplete
        finally:
            await released.aclose()
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()
        if outcome.usage is None:
            outcome.usage = self.voice.unfinished_usage()
        if outcome.tripped is not None:
            yield self._show(("\n\n" if outcome.text else "") + self.deflection)

    async def _released(self, chunks: AsyncIterator[str | Usage | Notice]) -> AsyncGenerator[ReplyDelta | Notice, None]:
        """The voice's text as the guard passes it, a release point at a time; stops at a trip."""
        async for chunk in chunks:
            if self.reading is not None:
                self.reading.start()  # the reply's request is out: the reading may begin
            if isinstance(chunk, Usage):
                self.outcome.usage = chunk
            elif isinstance(chunk, Notice):
                self.outcome.notices.append(chunk)
                yield chunk
            else:
                self._held += chunk
                # The first sentence goes out as soon as it ends (the wait a reader feels); after it, pieces
                # have a floor, so a reply of one letter per line costs a bounded number of checks.
                if self.outcome.text and len(self._held) < max(MIN_RELEASE, len(self.outcome.text) // GROWTH):
                    continue
                # Only the new text can hold a new release point (one may end just after the old text).
                cut = last_release_point(self._held, max(0, self._scanned - 4))
                self._scanned = len(self._held)
                if cut:
                    piece, self._held = self._held[:cut], self._held[cut:]
                    self._scanned = len(self._held)
                    if not await self._passes(piece):
                        return
                    yield self._show(piece)
        if self._held and await self._passes(self._held):
            piece, self._held = self._held, ""
            yield self._show(piece)

    def _show(self, piece: str) -> ReplyDelta:
        self.outcome.text += piece
        return ReplyDelta(piece)

    async def _check(self, piece: str) -> Verdict:
        return await asyncio.to_thread(self._check_now, piece)

    def _check_now(self, piece: str) -> Verdict:
        if self._scan is None:
            self._scan = self.guard.scan(self.allowed, self.sanctioned)
        return self._scan.feed(piece)

    async def _passes(self, piece: str) -> bool:
        """Check ``piece`` after what was shown; a fact the concurrent reading confirms was asked for passes."""
        verdict = await self._check(piece)
        while not verdict.ok and await self._asked_for(verdict.fact):
            verdict = await self._check(piece)
        if not verdict.ok:
            self.outcome.tripped = verdict
        return verdict.ok

    async def _asked_for(self, fact: str | None) -> bool:
        if self.reading is None or fact is None or fact in self.allowed:
            return False
        if not await self.reading.confirms(fact):
            return False
        self.allowed.add(fact)
        self.outcome.asked_late.append(fact)
        return True
