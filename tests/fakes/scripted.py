"""A scripted backend behind the real interface: the offline engine with a voice whose next replies
can be told to stream slowly, stall, or fail."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from interviewer.backends.offline import OfflineBackend
from interviewer.engine.voice import OfflineVoice, Voice, VoiceFailure, VoiceRequest


class ScriptedVoice(OfflineVoice):
    name = "scripted"

    def __init__(self) -> None:
        self.plan: deque[str] = deque()  # "stall", "fail", or "ok" for the next replies (default ok)
        self.chunk_delay = 0.0

    async def stream(self, request: VoiceRequest) -> AsyncIterator[str]:
        step = self.plan.popleft() if self.plan and request.moves[0].kind.value != "opening" else "ok"
        if step == "fail":
            yield "Let me see. "
            raise VoiceFailure("the endpoint failed with HTTP 503 (after 2 retries)")
        if step == "stall":
            yield "Let me think about that for a moment. "
            await asyncio.sleep(60)
        async for chunk in super().stream(request):
            if self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            yield chunk


class ScriptedBackend(OfflineBackend):
    name = "scripted"

    def __init__(self) -> None:
        super().__init__()
        self.scripted_voice = ScriptedVoice()

    @property
    def label(self) -> str:
        return "scripted test engine"

    def voice(self) -> Voice:
        return self.scripted_voice
