"""Engine benchmarks: overhead per turn, the engine's share of time to first token, prompt tokens and
prefix reuse, the offline reply, requests per grading."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from bench.common import Result, temporary_home
from tests.fakes.openai_server import FakeOpenAI

ROOT = Path(__file__).resolve().parent.parent

LINES = [
    "How many users are there, and what is the latency budget?",
    "I would start with logistic regression on word n-grams and sender features because it is cheap to serve.",
    "For labels I would use the report spam clicks, audited with a reviewed sample, and split the data by time.",
    "For metrics I would optimise precision at a very low false positive rate and track recall as secondary.",
    "Serving runs on the CPU fleet inside the latency budget, with cached sender reputation features.",
    "I would monitor the spam rate and rescue rate daily and alert on sudden changes in either.",
    "Spammers adapt, so I would retrain often and run error analysis on reported mistakes every week.",
]


@contextmanager
def server_process(delay_first: float = 0.0, chunk_delay: float = 0.0):
    """The fake OpenAI-compatible server in its own process, so its work does not count as ours.
    Its timestamps use the same monotonic clock as ours."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", str(delay_first), str(chunk_delay)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    try:
        yield SimpleNamespace(base_url=process.stdout.readline().strip())
    finally:
        process.stdin.close()
        process.wait(timeout=10)


def stamps(base_url: str) -> dict:
    with urllib.request.urlopen(f"{base_url}/_stamps", timeout=5) as response:
        return json.load(response)


def _settings(server, **extra):
    from interviewer.config import load_settings

    values = {
        "base_url": server.base_url,
        "model": "fake-model",
        "grader_model": "fake-model",
        "max_retries": 0,
        "first_token_timeout": 30,
        "idle_timeout": 30,
    }
    values.update(extra)
    return load_settings(**values)


async def _session(repo, backend, minutes: float = 100_000):
    from interviewer.content import ContentLibrary
    from interviewer.engine.clock import ScriptedClock
    from interviewer.engine.session import InterviewSession

    library = ContentLibrary()
    session = InterviewSession.start(
        repo,
        problem=library.problems.get("spam-filter"),
        persona=library.personas.get("mentor"),
        rubric=library.rubrics.get("ml-design"),
        backend=backend,
        minutes=minutes,
        clock=ScriptedClock(),
    )
    async for _ in session.open():
        pass
    return session


async def _overhead(checkpoints: list[int], samples: int, analyst: str) -> dict[int, tuple[list[float], list[float]]]:
    """Turn -> (submit to request leaving, last chunk to turn committed), in ms."""
    from interviewer.backends.openai_backend import OpenAIBackend
    from interviewer.engine.events import ReplyDone
    from interviewer.services import open_repository

    out: dict[int, tuple[list[float], list[float]]] = {c: ([], []) for c in checkpoints}
    with temporary_home(), server_process() as server:
        repo = open_repository()
        backend = OpenAIBackend(_settings(server, analyst=analyst))
        session = await _session(repo, backend)
        turn = 0
        last = max(checkpoints) + samples
        while turn < last:
            turn += 1
            text = LINES[turn % len(LINES)]
            measure = any(c <= turn < c + samples for c in checkpoints)
            start = time.perf_counter()
            done = None
            async for event in session.submit(text):
                if isinstance(event, ReplyDone):
                    done = time.perf_counter()
            if not measure:
                continue
            seen = stamps(server.base_url)
            if not seen["arrivals"] or seen["arrivals"][-1] < start:
                continue  # a reply without a request (a fixed line): nothing to time
            checkpoint = max(c for c in checkpoints if c <= turn)
            out[checkpoint][0].append((seen["arrivals"][-1] - start) * 1000)
            out[checkpoint][1].append((done - seen["last_chunk_at"]) * 1000)
        repo.close()
    return out


def overhead(quick: bool) -> list[Result]:
    checkpoints = [1, 50, 100] if quick else [1, 50, 100, 200]
    samples = 5 if quick else 30
    data = asyncio.run(_overhead(checkpoints, samples, analyst="llm"))
    results = []
    for checkpoint in checkpoints:
        before, after = data[checkpoint]
        target_on_100 = checkpoint == 100
        results.append(
            Result(
                f"engine: submit → request sent, turn {checkpoint}", "ms", before, target=5 if target_on_100 else None
            )
        )
        results.append(
            Result(
                f"engine: submit → request sent, turn {checkpoint} (p99)",
                "ms",
                before,
                target=20 if target_on_100 else None,
                target_on="p99",
            )
        )
        results.append(
            Result(
                f"engine: last chunk → turn committed, turn {checkpoint}",
                "ms",
                after,
                target=5 if target_on_100 else None,
            )
        )
    return results


async def _ttft(delay: float, chunk_delay: float, turns: int) -> tuple[list[float], list[float]]:
    from interviewer.backends.openai_backend import OpenAIBackend
    from interviewer.engine.events import ReplyDelta
    from interviewer.services import open_repository

    user, server_side = [], []
    with temporary_home(), server_process(delay, chunk_delay) as server:
        repo = open_repository()
        session = await _session(repo, OpenAIBackend(_settings(server, analyst="llm")))
        for turn in range(turns):
            start = time.perf_counter()
            first = None
            async for event in session.submit(LINES[turn % len(LINES)]):
                if isinstance(event, ReplyDelta) and first is None:
                    first = time.perf_counter()
            seen = stamps(server.base_url)
            user.append((first - start) * 1000)
            server_side.append((seen["first_chunk_at"] - seen["arrivals"][-1]) * 1000)
        repo.close()
    return user, server_side


def ttft(quick: bool) -> list[Result]:
    turns = 5 if quick else 20
    results = []
    for label, delay, chunk_delay in (("instant stream", 0.2, 0.0), ("30 chunks/s", 0.2, 1 / 30)):
        user, server_side = asyncio.run(_ttft(delay, chunk_delay, turns))
        share = [u - s for u, s in zip(user, server_side, strict=False)]
        results.append(
            Result(
                f"time to first token: engine's share ({label})",
                "ms",
                share,
                note=f"server's own TTFT p50 {sorted(server_side)[len(server_side) // 2]:.0f} ms; "
                "the guard releases text a sentence at a time",
            )
        )
    return results


PROMPT_TURNS = 30
"""Candidate turns in the interview whose prompts are counted."""


def _request_tokens(record) -> int:
    """A request's prompt tokens: its messages, and the JSON schema a structured request carries (servers
    feed it to the model too)."""
    from interviewer import tokens

    schema = tokens.count_text(json.dumps(record.schema)) if record.structured else 0
    return tokens.count_messages(record.messages) + schema


def _shared_prefix(previous: list[dict], current: list[dict]) -> int:
    """Tokens at the head of ``current`` that repeat ``previous`` byte for byte: what a prefix cache serves."""
    from interviewer import tokens

    count = 0
    for a, b in zip(previous, current, strict=False):
        if a != b:
            break
        count += tokens.count_messages([a]) - tokens.REPLY_PRIMING
    return count


def _notes_tokens(messages: list[dict]) -> int:
    """The director's notes a request carries (every system message after the prefix)."""
    from interviewer import tokens

    return sum(tokens.count_messages([m]) - tokens.REPLY_PRIMING for m in messages[1:] if m["role"] == "system")


async def _prompt_tokens(turns: int) -> dict:
    """A ``turns``-turn interview with default settings (the LLM analyst runs on every turn), then graded;
    every request as the server received it."""
    from interviewer.backends.openai_backend import OpenAIBackend
    from interviewer.grading import grade_interview
    from interviewer.services import open_repository

    with temporary_home(), FakeOpenAI() as server:
        repo = open_repository()
        backend = OpenAIBackend(_settings(server))
        session = await _session(repo, backend)
        for turn in range(turns):
            async for _ in session.submit(LINES[turn % len(LINES)]):
                pass
        await grade_interview(repo, session.interview_id, backend.grader())
        recorded = server.chat_requests()
        repo.close()
    return {
        "voice": [r for r in recorded if not r.structured],
        "analyst": [r for r in recorded if r.structured and r.schema_name != "scorecard"],
        "grader": [r for r in recorded if r.schema_name == "scorecard"],
    }


def _caller_result(caller: str, requests: list, turns: int, grader_prefix: int = 0) -> Result:
    """Prompt tokens per request of one caller, and the share a prefix cache serves."""
    sizes = [_request_tokens(r) for r in requests]
    shared = [_shared_prefix(p.messages, c.messages) for p, c in itertools.pairwise(requests)]
    if caller == "grader":
        # One grading per interview: its system message is the prefix the next grading of this problem
        # and rubric repeats.
        shared = [grader_prefix]
        cached = grader_prefix / sizes[-1]
        how = "system message, repeated by the next grading of this problem"
    else:
        cached = sum(shared) / sum(sizes[1:]) if len(sizes) > 1 else 0.0
        how = "prefix repeated from the previous request"
    return Result(
        f"prompt tokens: {caller}, {turns}-turn interview",
        "tokens",
        [float(s) for s in sizes],
        note=f"{len(sizes)} requests, {sum(sizes):,} tokens in all, last {sizes[-1]:,}; "
        f"cacheable {100 * cached:.1f}% ({how})",
        extra={"total": sum(sizes), "cacheable": cached},
    )


def prompt_tokens(quick: bool) -> list[Result]:
    from interviewer import tokens

    turns = 10 if quick else PROMPT_TURNS
    data = asyncio.run(_prompt_tokens(turns))
    voice = data["voice"]
    grader_prefix = tokens.count_messages(data["grader"][-1].messages[:1]) - tokens.REPLY_PRIMING
    results = [_caller_result(caller, data[caller], turns, grader_prefix) for caller in ("voice", "analyst", "grader")]
    reuse = [_shared_prefix(p.messages, c.messages) / _request_tokens(c) for p, c in itertools.pairwise(voice)]
    last = voice[-1].messages
    notes_share = _notes_tokens(last) / _request_tokens(voice[-1])
    # The alternative to keeping earlier notes: send only this reply's note. Fewer tokens, but no request
    # is a prefix of the next any more (the previous note is gone), so a server's cache of the previous
    # request stops at that note.
    dropped = [
        [m for i, m in enumerate(r.messages) if i in (0, len(r.messages) - 1) or m["role"] != "system"] for r in voice
    ]
    dropped_total = sum(tokens.count_messages(m) for m in dropped)
    dropped_cached = sum(_shared_prefix(p, c) for p, c in itertools.pairwise(dropped))
    voice_total = sum(_request_tokens(r) for r in voice)
    voice_cached = sum(_shared_prefix(p.messages, c.messages) for p, c in itertools.pairwise(voice))
    naive = _naive_total(voice)
    effective = voice_total - voice_cached * 0.75
    return [
        *results,
        Result(
            f"prefix reuse per interviewer request ({turns}-turn interview, after the first)",
            "%",
            [100 * r for r in reuse],
            target=95,
            higher_is_better=True,
            note=f"min {100 * min(reuse):.1f}%, last {100 * reuse[-1]:.1f}%",
        ),
        Result(
            f"director's notes in the last interviewer request ({turns}-turn interview)",
            "%",
            [100 * notes_share],
            note=f"{_notes_tokens(last):,} of {_request_tokens(voice[-1]):,} tokens; with only this reply's note "
            f"sent: {dropped_total:,} tokens per interview ({voice_total:,} now), "
            f"{dropped_total - dropped_cached:,} uncached ({voice_total - voice_cached:,} now)",
        ),
        Result(
            "effective interviewer prompt cost, ours / naive (cached input at 1/4 price)",
            "ratio",
            [effective / naive],
            note=f"{effective:,.0f} vs {naive:,} token-equivalents",
        ),
    ]


def _naive_total(voice: list) -> int:
    """The naive prompt: the interview's state and the director's instructions at the top of a system
    prompt rebuilt every turn, then the transcript, so nothing after the first few tokens repeats the
    previous request byte for byte."""
    from interviewer import tokens

    total = 0
    for record in voice:
        messages = record.messages
        transcript = "\n".join(f"{m['role']}: {m['content']}" for m in messages[1:] if m["role"] != "system")
        system = messages[-1]["content"] + "\n\n" + messages[0]["content"]
        total += tokens.count_messages([{"role": "system", "content": system}, {"role": "user", "content": transcript}])
    return total


async def _offline_reply(turns: int) -> list[float]:
    from interviewer.backends import OfflineBackend
    from interviewer.services import open_repository

    out = []
    with temporary_home():
        repo = open_repository()
        session = await _session(repo, OfflineBackend())
        for turn in range(turns):
            start = time.perf_counter()
            async for _ in session.submit(LINES[turn % len(LINES)]):
                pass
            out.append((time.perf_counter() - start) * 1000)
        repo.close()
    return out


def offline_reply(quick: bool) -> list[Result]:
    samples = asyncio.run(_offline_reply(20 if quick else 100))
    return [Result("offline reply (submit → reply stored)", "ms", samples, target=10)]


async def _grading_requests() -> int:
    from interviewer.backends.openai_backend import OpenAIBackend
    from interviewer.grading import grade_interview
    from interviewer.services import open_repository

    with temporary_home(), FakeOpenAI() as server:
        repo = open_repository()
        backend = OpenAIBackend(_settings(server, analyst="offline"))
        session = await _session(repo, backend)
        for line in LINES:
            async for _ in session.submit(line):
                pass
        before = len(server.chat_requests())
        await grade_interview(repo, session.interview_id, backend.grader())
        repo.close()
        return len(server.chat_requests()) - before


def grading_requests(quick: bool) -> list[Result]:
    count = asyncio.run(_grading_requests())
    return [Result("requests per grading", "requests", [float(count)], target=1)]
