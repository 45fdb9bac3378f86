"""The guard's cost as a reply grows: a reply streamed through the guard (as the engine does it, in
small chunks, checked at release points), timed for 10 KB and 100 KB. Linear work keeps the ratio near 10."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from bench.common import Result

SENTENCES = [
    "We would serve the model behind the mail servers, with sender reputation cached in memory.",
    "Retraining runs every night on the day's reports, audited against a reviewed sample first.",
    "If the false positive rate climbs above its budget, the rollout stops and pages the on-call engineer.",
    "A small transformer reads only the uncertain mail, because it is too slow for all of it.",
]
CHUNK = 16
"""Characters per streamed chunk, about four tokens."""


def _reply(size: int) -> str:
    text, index = "", 0
    while len(text) < size:
        text += SENTENCES[index % len(SENTENCES)] + (" " if index % 5 else "\n")
        index += 1
    return text[:size]


async def _guarded_seconds(size: int) -> float:
    from interviewer.content import ContentLibrary
    from interviewer.engine.guard import Guard
    from interviewer.engine.moves import Move, MoveKind
    from interviewer.engine.reply import GuardedReply
    from interviewer.engine.state import InterviewState
    from interviewer.engine.voice import Voice, VoiceRequest

    library = ContentLibrary()
    problem, persona = library.problems.get("spam-filter"), library.personas.get("mentor")
    reply = _reply(size)

    class Verbose(Voice):
        """A model that ignores every length limit."""

        async def stream(self, request: VoiceRequest) -> AsyncIterator[str]:
            for start in range(0, len(reply), CHUNK):
                yield reply[start : start + CHUNK]

    request = VoiceRequest(persona, problem, (Move(MoveKind.ACKNOWLEDGE),), InterviewState(), 2, 40.0, 45.0)
    guard = Guard(problem, persona, library.rubrics.get("ml-design"))
    guarded = GuardedReply(
        Verbose(), guard, request, allowed=set(), sanctioned=problem.prompt, deflection=persona.lines.deflection
    )
    started = time.perf_counter()
    async for _ in guarded.stream():
        pass
    seconds = time.perf_counter() - started
    if guarded.outcome.tripped is not None or guarded.outcome.text != reply:
        raise RuntimeError(f"the benchmark's reply should pass the guard whole: {guarded.outcome.tripped}")
    return seconds


def guard_time(quick: bool) -> list[Result]:
    repeat = 1 if quick else 5
    small = [asyncio.run(_guarded_seconds(10_000)) for _ in range(repeat)]
    large = [asyncio.run(_guarded_seconds(100_000)) for _ in range(repeat)]
    ratio = sorted(large)[len(large) // 2] / max(sorted(small)[len(small) // 2], 1e-9)
    return [
        Result("guard: a 100 KB reply streamed through the guard", "s", large, target=1.0),
        Result(
            "guard: 100 KB / 10 KB time (linear: about 10)",
            "ratio",
            [ratio],
            note=f"10 KB p50 {sorted(small)[len(small) // 2] * 1000:.0f} ms",
        ),
    ]
