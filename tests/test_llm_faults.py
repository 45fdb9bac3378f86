"""LLM faults beyond tests/test_llm_fake.py: a server that accepts connections and never answers (at
the socket level), a burst of 429s longer than the retry budget through a whole headless run (and
through grading), and, in every fault case, a stored transcript that is exactly what the user saw."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import tests.test_llm_fake as llm_fake
from interviewer.engine.events import EngineError, ReplyDone
from interviewer.export import display_safe
from interviewer.grading import grade_interview
from interviewer.grading.base import GradingError
from tests.conftest import DATA
from tests.fakes.blackhole import Blackhole
from tests.fakes.openai_server import Behaviour, FakeOpenAI, Recorded, default_responder
from tests.helpers import collect, play, replies_as_shown, run_cli
from tests.reliability import llm_env

HANG_GUARD_S = 60
"""Fails a test that hangs; never a timing check (the timeouts under test are under a second)."""


EXTRA_FAULTS = [
    (
        "stall after two sentences",
        [
            Behaviour(
                text="Good question. About 400 million accounts. And the rest comes later here.",
                stall_after_chunks=8,
                stall_seconds=3,
            )
        ],
        {"idle_timeout": 0.5},
        "stalled",
    ),
    (
        "disconnect after a sentence",
        [
            Behaviour(
                text="Good question. About 400 million accounts. And then the connection drops.",
                disconnect_after_chunks=7,
            )
        ],
        {},
        "broke off",
    ),
    (
        "malformed after a sentence",
        [Behaviour(text="Good question. About 400 million accounts. Then garbage arrives.", malformed_after_chunks=7)],
        {},
        "malformed",
    ),
    (
        "server error then stall",
        [Behaviour(status=500), Behaviour(text="Late. Very late.", stall_after_chunks=1, stall_seconds=3)],
        {"idle_timeout": 0.5, "max_retries": 1},
        "stalled",
    ),
]
ALL_FAULTS = [(name, behaviours, settings, message) for name, behaviours, settings, message, _ in llm_fake.FAULTS]
ALL_FAULTS += EXTRA_FAULTS


def assert_stored_is_shown(repo, interview_id: int, events) -> None:
    shown = replies_as_shown(events)
    stored = [t.text for t in repo.get_turns(interview_id) if t.role == "interviewer"]
    assert stored == shown, "the stored transcript differs from what the user saw"
    done = [e.text for e in events if isinstance(e, ReplyDone)]
    assert done == shown, "a ReplyDone differs from its deltas"


@pytest.mark.parametrize(("name", "behaviours", "settings", "message"), ALL_FAULTS, ids=[f[0] for f in ALL_FAULTS])
async def test_every_fault_stores_exactly_what_the_user_saw(repo, name, behaviours, settings, message):
    with FakeOpenAI() as fake:
        backend = llm_fake.make_backend(fake, **settings)
        session, events = await play(repo, [], backend=backend, end=False)
        fake.push(*behaviours)
        events += await collect(session.submit("How many users are there?"))
        errors = [e for e in events if isinstance(e, EngineError)]
        assert len(errors) == 1 and message in errors[0].message and "\n" not in errors[0].message
        assert session.pending
        events += await collect(session.respond())  # the retry works
        events += await collect(session.submit("What is the latency budget?"))
        events += await collect(session.end())
    assert session.finished
    assert_stored_is_shown(repo, session.interview_id, events)
    turns = repo.get_turns(session.interview_id)
    assert [t.complete for t in turns if t.role == "interviewer"].count(False) == 1


async def test_a_server_that_accepts_and_never_answers(repo):
    """At the socket level: the connection opens, the request goes out, nothing ever comes back."""
    with Blackhole() as hole:
        settings = {
            "base_url": hole.base_url,
            "connect_timeout": 0.5,
            "first_token_timeout": 0.5,
            "max_retries": 1,
            "grader_timeout": 1.0,
        }
        backend = llm_fake.make_backend(FakeOpenAIStub(hole.base_url), **settings)
        session, events = await play(repo, [], backend=backend, end=False)
        # A hang guard, not a timing check: the client's own 0.5 s timeouts must end the reply.
        events += await asyncio.wait_for(collect(session.submit("How many users are there?")), HANG_GUARD_S)
        [error] = [e for e in events if isinstance(e, EngineError)]
        assert "sent nothing within 1 s" in error.message and "\n" not in error.message
        assert hole.accepted, "the client did connect"
        assert session.pending
        events += await collect(session.end())  # ending needs no LLM: the closing line is the persona's
        with pytest.raises(GradingError, match="no answer from the model within 1 s"):
            await asyncio.wait_for(grade_interview(repo, session.interview_id, backend.grader()), HANG_GUARD_S)
    assert_stored_is_shown(repo, session.interview_id, events)
    # The endpoint comes back: the stored interview is graded as it is.
    with FakeOpenAI() as fake:
        card = await grade_interview(repo, session.interview_id, llm_fake.make_backend(fake).grader())
    assert card.overall >= 1.0


class FakeOpenAIStub:
    """Just enough of FakeOpenAI for make_backend: the URL."""

    def __init__(self, base_url: str):
        self.base_url = base_url


def _shown_in_order(stdout: str, repo_turns: list[dict], name: str) -> None:
    """Every stored interviewer turn appears, as stored, in what the headless run printed, in order."""
    position = 0
    for turn in repo_turns:
        if turn["role"] != "interviewer":
            continue
        line = f"{name} [{turn['kind']}]: {display_safe(turn['text'])}\n"
        found = stdout.find(line, position)
        assert found >= 0, f"stored turn {turn['seq']} was not shown as stored: {line[:120]!r}"
        position = found + len(line)


@pytest.mark.slow
def test_headless_run_against_a_server_that_never_answers(swept, cli_env, tmp_path: Path):
    with Blackhole() as hole:
        env = llm_env(
            cli_env,
            hole.base_url,
            INTERVIEWER_CONNECT_TIMEOUT="0.5",
            INTERVIEWER_FIRST_TOKEN_TIMEOUT="0.5",
            INTERVIEWER_MAX_RETRIES="0",
        )
        result = run_cli(
            ["run", "--problem", "spam-filter", "--candidate", str(DATA / "spam-strong.txt"), "--backend", "openai"],
            env,
        )
    assert result.returncode == 1, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "sent nothing within 1 s" in line and "interviewer resume 1" in line and "Traceback" not in line
    with FakeOpenAI() as fake:
        resumed = run_cli(
            ["resume", "1", "--candidate", str(DATA / "spam-strong.txt"), "--json"], llm_env(cli_env, fake.base_url)
        )
    assert resumed.returncode == 0, resumed.stderr
    data = json.loads(resumed.stdout)
    assert data["status"] == "ended" and data["scorecard"]["overall"] >= 1.0


@pytest.mark.slow
def test_a_429_burst_longer_than_the_retry_budget_through_a_whole_headless_run(swept, cli_env, tmp_path: Path):
    lines = [line for line in (DATA / "spam-strong.txt").read_text().splitlines() if line.strip()][:4]
    script = tmp_path / "script.txt"
    script.write_text("\n".join(lines) + "\n")
    state = {"grading_429": False}

    def responder(record: Recorded) -> Behaviour:
        if record.structured and state["grading_429"]:
            return Behaviour(
                status=429, headers={"Retry-After": "0"}, error_body={"error": {"message": "Rate limit reached"}}
            )
        return default_responder(record)

    # max_retries=2: one reply is 3 requests; a headless run tries a reply 3 times: 9 requests. 12 is more.
    burst = 12
    with FakeOpenAI(responder=responder) as fake:
        fake.push(
            *[
                Behaviour(
                    status=429, headers={"Retry-After": "0"}, error_body={"error": {"message": "Rate limit reached"}}
                )
            ]
            * burst
        )
        env = llm_env(cli_env, fake.base_url, INTERVIEWER_MAX_RETRIES="2", INTERVIEWER_BACKEND="openai")
        first = run_cli(["run", "--problem", "spam-filter", "--candidate", str(script)], env)
        assert first.returncode == 1, first.stdout + first.stderr
        [message] = first.stderr.strip().splitlines()
        assert "rate limiting" in message and "Everything so far is saved" in message
        assert "interviewer resume 1" in message
        assert len(fake.chat_requests(structured=False)) == 9
        errors = [line for line in first.stdout.splitlines() if line.startswith("[error]")]
        assert len(errors) == 3 and all("HTTP 429" in e and "rate limiting" in e for e in errors)
        export = json.loads(run_cli(["export", "1", "--format", "json"], env).stdout)
        assert [t["text"] for t in export["turns"] if t["role"] == "candidate"] == lines[:1]
        _shown_in_order(first.stdout, export["turns"], "Maya")

        # The rest of the burst hits the resumed run's first reply; it recovers, then grading is rate limited.
        first_seen = max(t["seq"] for t in export["turns"])
        state["grading_429"] = True
        rest = tmp_path / "rest.txt"
        rest.write_text("\n".join(lines[1:]) + "\n")
        second = run_cli(["resume", "1", "--candidate", str(rest)], env)
        assert second.returncode == 1, second.stdout + second.stderr
        [message] = second.stderr.strip().splitlines()
        assert message.startswith("interviewer: grading failed:") and "rate limiting" in message
        export = json.loads(run_cli(["export", "1", "--format", "json"], env).stdout)
        assert export["status"] == "ended" and export["scorecard"] is None
        assert [t["text"] for t in export["turns"] if t["role"] == "candidate"] == lines
        _shown_in_order(second.stdout, [t for t in export["turns"] if t["seq"] > first_seen], "Maya")

        # The limit lifts: resuming the ended, ungraded interview grades it.
        state["grading_429"] = False
        third = run_cli(["resume", "1", "--candidate", str(script), "--json"], env)
        assert third.returncode == 0, third.stderr
        data = json.loads(third.stdout)
        assert data["scorecard"]["overall"] >= 1.0 and data["unused_candidate_messages"] == len(lines)
        assert data["turns"] == export["turns"]
