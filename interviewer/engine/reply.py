"""A reply streamed through the guard: text reaches the reader only once the guard has passed it.

The voice's text is released as soon as it cannot be the start of something the guard would catch
once whole (:meth:`~interviewer.engine.guard.Guard.open_end`: an unfinished word, a figure, a run of
hidden letters however spelled); only that open end is held back, so the first words show as they
arrive. Each released piece is checked with an overlap of what was shown before (the guard's
:class:`~interviewer.engine.guard.Scan`, linear in the reply's length); a trip stops the stream and the
persona's deflection line follows what was already shown. The guard's work runs on a worker thread, off
the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

from interviewer.engine.events import Notice, ReplyDelta, Usage
from interviewer.engine.guard import Context, Guard, Scan, Verdict
from interviewer.engine.outcome import ReplyOutcome
from interviewer.engine.reading import ConcurrentReading
from interviewer.engine.voice import Voice, VoiceFailure, VoiceRequest

MIN_RELEASE = 48
"""Characters held at least between two releases once text is showing: a check costs a fixed overlap
plus the piece, so a reply of one letter per line is checked in pieces of this size, not per letter."""
GROWTH = 8
"""Past that, a piece is at least 1/GROWTH of what was shown (and a held run is looked at again only
once it grew by 1/GROWTH): a reply far longer than any the model was asked for is checked in few, growing
pieces, so the guard's work stays linear in its length."""
SHOWN_CONTEXT = 64
"""Characters of what was shown that are read with the held text for a run that began before it."""


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
        self._look_at = 0
        """How long ``_held`` must be before the next look for what may be released."""
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
        """The voice's text as the guard passes it, all but its open end at a time; stops at a trip."""
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
                if len(self._held) < self._look_at:
                    continue
                piece, verdict = await asyncio.to_thread(self._releasable)
                self._held = self._held[len(piece) :]
                self._look_at = self._next_look(len(self.outcome.text) + len(piece))
                if piece:
                    if not await self._passes(piece, verdict):
                        return
                    yield self._show(piece)
        if self._held and await self._passes(self._held):
            piece, self._held = self._held, ""
            yield self._show(piece)

    def _releasable(self) -> tuple[str, Verdict | None]:
        """The held text up to its open end, and the guard's verdict on it (on the worker thread)."""
        shown = self.outcome.text[-SHOWN_CONTEXT:]
        cut = max(0, self.guard.open_end(shown + self._held, self.allowed) - len(shown))
        piece = self._held[:cut]
        return piece, (self._check_now(piece) if piece else None)

    def _next_look(self, shown: int) -> int:
        """Until the first text shows, every chunk is looked at (the wait a reader feels); after it, pieces
        have a floor, so a reply of one letter per line costs a bounded number of checks."""
        held = len(self._held)
        return held + max(MIN_RELEASE if shown else 1, held // GROWTH, shown // GROWTH)

    def _show(self, piece: str) -> ReplyDelta:
        self.outcome.text += piece
        return ReplyDelta(piece)

    async def _check(self, piece: str) -> Verdict:
        return await asyncio.to_thread(self._check_now, piece)

    def _check_now(self, piece: str) -> Verdict:
        if self._scan is None:
            self._scan = self.guard.scan(self.allowed, self.sanctioned)
        return self._scan.feed(piece)

    async def _passes(self, piece: str, verdict: Verdict | None = None) -> bool:
        """Check ``piece`` after what was shown (unless ``verdict`` is that check's); a fact the concurrent
        reading confirms was asked for passes."""
        if verdict is None:
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
