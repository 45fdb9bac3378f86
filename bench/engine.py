"""Engine benchmarks: overhead per turn, the engine's share of time to first token, prompt tokens and
prefix reuse, the offline reply, requests per grading."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import statistics
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
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


def candidate_turns() -> list[str]:
    """Candidate messages as people write them: every scripted candidate's turns for the spam filter, in order."""
    folder = ROOT / "tests" / "eval" / "candidates"
    turns = []
    for path in sorted(folder.glob("*/spam-filter/*.jsonl")):
        turns += [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]
    return turns


@dataclass
class _TurnCost:
    overhead: list[float] = field(default_factory=list)
    """ms: the whole turn minus the server's own time (request arrival to its last chunk)."""
    cpu: list[float] = field(default_factory=list)
    """ms of this process's CPU over the whole turn."""


async def _measured_turn(session, text: str, base_url: str) -> tuple[float, float] | None:
    from interviewer.engine.events import ReplyDone

    start, cpu = time.perf_counter(), time.process_time()
    done = None
    async for event in session.submit(text):
        if isinstance(event, ReplyDone):
            done = time.perf_counter()
    cpu = (time.process_time() - cpu) * 1000
    seen = stamps(base_url)
    if done is None or not seen["arrivals"] or seen["arrivals"][-1] < start:
        return None  # a reply without a request (a fixed line): nothing to time
    server_time = seen["last_chunk_at"] - seen["arrivals"][-1]
    return (done - start - server_time) * 1000, cpu


READINGS = {"default settings": {}, "lexical reading": {"understanding": "lexical"}}
"""The settings each overhead is measured with: the defaults (the semantic reading of each message where
its model is installed), and the lexical reading, which shows what the rest of the engine adds."""


def _index_content(session) -> None:
    """Embed the content as the app does once, at its first semantic reading, and keeps on disk: a user's
    later interviews find it there (without this, the first measured turn would embed every problem)."""
    from interviewer.engine.analyst import SemanticAnalyst, offline_analyst

    analyst = offline_analyst(session.lexicon)
    if isinstance(analyst, SemanticAnalyst):
        analyst.matcher(), analyst.relevance(), analyst.what_ifs()


async def _overhead(checkpoints: list[int], samples: int) -> dict[tuple[str, int], _TurnCost]:
    """Per checkpoint N and settings: a session freshly loaded from the database at turn N, then ``samples``
    turns timed. The turns before N are played with the lexical reading (the quicker way to get there)."""
    from interviewer.backends.openai_backend import OpenAIBackend
    from interviewer.engine.clock import ScriptedClock
    from interviewer.engine.session import InterviewSession
    from interviewer.services import open_repository

    texts = itertools.cycle(candidate_turns())
    out = {(name, c): _TurnCost() for c in checkpoints for name in READINGS}
    with temporary_home(), server_process() as server:
        repo = open_repository()
        backends = {name: OpenAIBackend(_settings(server, **extra)) for name, extra in READINGS.items()}
        session = await _session(repo, backends["lexical reading"])
        interview_id, played = session.interview_id, 0
        _index_content(session)
        for checkpoint in checkpoints:
            session = InterviewSession.load(repo, interview_id, backends["lexical reading"], clock=ScriptedClock())
            while played < checkpoint:
                async for _ in session.submit(next(texts)):
                    pass
                played += 1
            session.close()
            for name, backend in backends.items():
                session = InterviewSession.load(repo, interview_id, backend, clock=ScriptedClock())
                for _ in range(samples):
                    measured = await _measured_turn(session, next(texts), server.base_url)
                    played += 1
                    if measured is not None:
                        out[name, checkpoint].overhead.append(measured[0])
                        out[name, checkpoint].cpu.append(measured[1])
                session.close()
        repo.close()
    return out


def overhead(quick: bool) -> list[Result]:
    checkpoints = [100] if quick else [100, 300]
    data = asyncio.run(_overhead(checkpoints, samples=5 if quick else 30))
    results = []
    for (reading, checkpoint), cost in data.items():
        where = f"turn {checkpoint}, resumed, analyst=llm, {reading}"
        results += [
            Result(f"engine overhead per turn ({where})", "ms", cost.overhead, target=5),
            Result(f"engine overhead per turn ({where}) (p99)", "ms", cost.overhead, target=20, target_on="p99"),
            Result(
                f"engine CPU per turn ({where})",
                "ms",
                cost.cpu,
                note="the whole turn's CPU in this process (the server runs in its own)",
            ),
        ]
    return results


REPLIES = [
    "A simple linear model is a sensible baseline here, and it keeps serving cheap on the machines "
    "you already run. What would you use as labels, and how would you keep them clean?",
    "Using the report-spam clicks as labels makes sense, although those clicks are noisy and lean towards "
    "the users who bother to report. How would you audit them?",
    "Optimising for precision fits this problem well, since losing a real email costs a user far more than "
    "one extra spam message. How would you pick the operating threshold?",
    "That serving plan sounds workable, and caching the sender reputation features should keep most of the "
    "work off the critical path. Where does the remaining time go?",
    "Watching the spam rate and the rescue rate every day is a good start for monitoring this in production. "
    "What would make you roll a model back?",
    "Spammers do adapt quickly, so how often you retrain matters as much as the model you choose at the "
    "start. How would you decide the cadence?",
    "Before we go further, tell me how many users you expect and what latency you are designing for, "
    "because both shape the rest. What would you assume?",
]
"""Replies as a model writes them: a first sentence of 10 to 25 words, then a question. The guard holds
back the end of the text while it could still grow into something hidden, so the first sentence's
length is what a release a sentence at a time would make the reader wait for."""


def serve_replies(delay_first: float, chunk_delay: float) -> None:
    """The fake server streaming :data:`REPLIES` a word per chunk (run in its own process)."""
    from tests.fakes.openai_server import Behaviour, Recorded, default_responder

    turns = itertools.count()

    def responder(record: Recorded) -> Behaviour:
        if record.structured:
            return default_responder(record)
        text = REPLIES[next(turns) % len(REPLIES)]
        return Behaviour(text=text, delay_first=delay_first, chunk_delay=chunk_delay)

    with FakeOpenAI(responder=responder) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


@contextmanager
def replies_server(delay_first: float, chunk_delay: float):
    command = f"from bench.engine import serve_replies; serve_replies({delay_first!r}, {chunk_delay!r})"
    process = subprocess.Popen(
        [sys.executable, "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, text=True
    )
    try:
        yield SimpleNamespace(base_url=process.stdout.readline().strip())
    finally:
        process.stdin.close()
        process.wait(timeout=10)


SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


async def _ttft(delay: float, chunk_delay: float, turns: int) -> dict[str, list[float]]:
    """Per reply, in ms: the engine's share of submit → first text (the server's own wait taken out),
    the model's first token → first text shown, and the model's first token → first sentence shown."""
    from interviewer.backends.openai_backend import OpenAIBackend
    from interviewer.engine.events import ReplyDelta
    from interviewer.services import open_repository

    out: dict[str, list[float]] = {"share": [], "first_text": [], "first_sentence": []}
    with temporary_home(), replies_server(delay, chunk_delay) as server:
        repo = open_repository()
        session = await _session(repo, OpenAIBackend(_settings(server, analyst="llm")))
        for turn in range(turns):
            start = time.perf_counter()
            first = sentence = None
            shown = ""
            async for event in session.submit(LINES[turn % len(LINES)]):
                if not isinstance(event, ReplyDelta):
                    continue
                now = time.perf_counter()
                first = first or now
                shown += event.text
                if sentence is None and SENTENCE_END.search(shown):
                    sentence = now
            seen = stamps(server.base_url)
            if first is None or seen["arrivals"][-1] < start:
                continue  # a fixed line, no request: nothing streamed to time
            out["share"].append((first - start - (seen["first_chunk_at"] - seen["arrivals"][-1])) * 1000)
            out["first_text"].append((first - seen["first_chunk_at"]) * 1000)
            out["first_sentence"].append((sentence - seen["first_chunk_at"]) * 1000)
        repo.close()
    return out


def ttft(quick: bool) -> list[Result]:
    turns = 7 if quick else 21
    results = []
    for label, delay, chunk_delay in (("instant stream", 0.2, 0.0), ("30 words/s", 0.2, 1 / 30)):
        data = asyncio.run(_ttft(delay, chunk_delay, turns))
        results.append(Result(f"time to first text: engine's share ({label})", "ms", data["share"]))
        if chunk_delay:
            sentence = statistics.median(data["first_sentence"])
            # A release a sentence at a time can show nothing before the model has written the first sentence.
            words = sorted(len(SENTENCE_END.split(reply, maxsplit=1)[0].split()) for reply in REPLIES)
            floor = (words[len(words) // 2] - 1) * chunk_delay * 1000
            first = statistics.median(data["first_text"])
            results.append(
                Result(
                    f"model's first token → first text shown ({label})",
                    "ms",
                    data["first_text"],
                    target=50,
                    note=f"a release a sentence at a time waits at least {floor:.0f} ms p50 (first sentences of "
                    f"10-25 words; {first / floor:.2f} of it); first sentence whole on screen p50 {sentence:.0f} ms",
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
