"""Crash safety, over and over: headless interviews SIGKILLed at seeded random points (while a reply
streams from the LLM, around a database commit, during grading), then checked and continued.

After every kill: ``PRAGMA integrity_check`` is ok; every turn the process had been told was stored
(the repository returned) is in the database, byte for byte, in order; every interview's candidate
turns are a prefix of its script; and ``interviewer resume ID --candidate FILE --json`` continues
the interview (it may itself be killed, which is the next round) until it ends and is graded.

The processes are real ``interviewer`` commands forked from a warm parent (tests/fakes/zygote.py),
so 50+ kills fit in the time; one continuation goes through a fresh ``python -m interviewer``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT
from tests.fakes.openai_server import Behaviour, FakeOpenAI, Recorded, default_responder
from tests.fakes.zygote import Zygote
from tests.reliability import TEST_API_KEY, llm_env

pytestmark = pytest.mark.slow

SEED = 20261123
KILLS = 54
CHUNK_DELAY = 0.0015
GRADING_DELAY = 0.08


def _script() -> list[str]:
    lines = [line for line in (DATA / "spam-strong.txt").read_text().splitlines() if line.strip()]
    # A long paste in the middle makes commits (and the requests that carry it) take longer.
    paste = "For the data pipeline, here are my notes on each feature family and its freshness. " * 500
    # The last line asks to end, so an interview never needs a message beyond the script.
    return [*lines[:4], paste, *lines[4:7], CLOSING]


CLOSING = "That's all from me, thank you."


def _responder(record: Recorded) -> Behaviour:
    behaviour = default_responder(record)
    if record.structured:
        behaviour.delay_first = GRADING_DELAY
    else:
        behaviour.chunk_delay = CHUNK_DELAY
    return behaviour


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Checker:
    """What the database must hold after any kill."""

    def __init__(self, db: Path, script: list[str]):
        self.db = db
        self.script = script
        self.acked: dict[tuple[int, int], tuple[str, str]] = {}
        self.scored: set[int] = set()
        self.lost = 0

    def record(self, marks: list[str]) -> int | None:
        """Take in a process's acknowledgements; returns the interview it created, if any."""
        created = None
        for mark in marks:
            parts = mark.split()
            if parts[:2] == ["ack", "turn"]:
                self.acked[(int(parts[2]), int(parts[3]))] = (parts[4], parts[5])
            elif parts[:2] == ["ack", "interview"]:
                created = int(parts[2])
            elif parts[:2] == ["ack", "scorecard"]:
                self.scored.add(int(parts[2]))
        return created

    def check(self) -> None:
        with sqlite3.connect(self.db, timeout=30) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
            rows = conn.execute("SELECT interview_id, seq, role, text FROM turns ORDER BY interview_id, seq").fetchall()
            cards = {row[0] for row in conn.execute("SELECT interview_id FROM scorecards")}
        stored = {(i, s): (r, _sha(t)) for i, s, r, t in rows}
        missing = [key for key, value in self.acked.items() if stored.get(key) != value]
        self.lost = len(missing)
        assert not missing, f"acknowledged turns lost or altered: {missing[:5]}"
        assert self.scored <= cards, "an acknowledged scorecard was lost"
        by_interview: dict[int, list[tuple[int, str, str]]] = {}
        for interview_id, seq, role, text in rows:
            by_interview.setdefault(interview_id, []).append((seq, role, text))
        for interview_id, turns in by_interview.items():
            assert [t[0] for t in turns] == list(range(1, len(turns) + 1)), f"gap in interview {interview_id}"
            candidate = [text for _, role, text in turns if role == "candidate"]
            assert candidate == self.script[: len(candidate)], f"interview {interview_id}: turns out of order"
            roles = [role for _, role, _ in turns]
            assert roles[0] == "interviewer"
            assert not any(a == b == "candidate" for a, b in itertools.pairwise(roles)), "a candidate turn was skipped"

    def complete(self, interview_id: int) -> bool:
        """Ended and graded: the kill came after the last write, so there is nothing left to continue."""
        with sqlite3.connect(self.db, timeout=30) as conn:
            status = conn.execute("SELECT status FROM interviews WHERE id = ?", (interview_id,)).fetchone()[0]
            cards = conn.execute("SELECT count(*) FROM scorecards WHERE interview_id = ?", (interview_id,)).fetchone()[
                0
            ]
            last = conn.execute(
                "SELECT role, complete FROM turns WHERE interview_id = ? ORDER BY seq DESC LIMIT 1", (interview_id,)
            ).fetchone()
        if status == "ended" and cards:
            assert last is not None and tuple(last) == ("interviewer", 1)
            return True
        return False

    def stored_candidates(self, interview_id: int) -> int:
        with sqlite3.connect(self.db, timeout=30) as conn:
            return conn.execute(
                "SELECT count(*) FROM turns WHERE interview_id = ? AND role = 'candidate'", (interview_id,)
            ).fetchone()[0]


def _finished(output: str, checker: Checker, interview_id: int) -> None:
    """A continuation that ran to the end: the interview is over, graded, and whole."""
    data = json.loads(output)
    assert data["interview_id"] == interview_id
    assert data["status"] == "ended" and data["scorecard"]["overall"] >= 1.0
    candidate = [t["text"] for t in data["turns"] if t["role"] == "candidate"]
    assert candidate == checker.script[: len(candidate)] and len(candidate) >= 1
    roles = [t["role"] for t in data["turns"]]
    assert roles[-1] == "interviewer" and all(t.get("complete", True) for t in data["turns"])


def test_fifty_plus_sigkills_lose_no_acknowledged_turn(swept, cli_env, interviewer_home: Path, tmp_path: Path):
    rng = random.Random(SEED)
    script = _script()
    db = interviewer_home / "interviewer.db"
    checker = Checker(db, script)
    work = tmp_path / "runs"
    work.mkdir()
    (work / "script.txt").write_text("\n".join(script) + "\n")
    started = time.monotonic()
    counts: Counter[str] = Counter()
    with FakeOpenAI(responder=_responder) as fake, Zygote(cli_env, str(ROOT)) as zygote:
        env = llm_env(cli_env, fake.base_url, INTERVIEWER_BACKEND="openai")

        def command(argv: list[str], kill: dict | None, name: str) -> dict:
            counts["processes"] += 1
            answer = zygote.run(argv, env, str(work / f"{name}.out"), str(work / f"{name}.err"), kill)
            if not answer["killed"]:
                err = (work / f"{name}.err").read_text()
                assert answer["status"] == 0, f"{argv}: exit {answer['status']}\n{err}"
                assert "Traceback" not in err
            return answer

        def finish(interview_id: int, name: str, real: bool = False) -> None:
            done = checker.stored_candidates(interview_id)
            rest = work / f"{name}.rest.txt"
            rest.write_text("\n".join(script[done:] or [CLOSING]) + "\n")
            argv = ["resume", str(interview_id), "--candidate", str(rest), "--json"]
            if real:
                counts["processes"] += 1
                result = subprocess.run(
                    [sys.executable, "-m", "interviewer", *argv],
                    capture_output=True,
                    text=True,
                    env=env,
                    cwd=ROOT,
                    timeout=120,
                )
                assert result.returncode == 0, result.stderr
                output = result.stdout
            else:
                checker.record(command(argv, None, name)["marks"])
                output = (work / f"{name}.out").read_text()
            checker.check()
            _finished(output, checker, interview_id)

        # Calibration: one whole run, to know how many marks of each kind a run makes.
        full = command(
            ["run", "--problem", "spam-filter", "--candidate", str(work / "script.txt"), "--json", "--minutes", "600"],
            None,
            "calibration",
        )
        per_run = Counter(full["marks"])
        first = checker.record(full["marks"])
        checker.check()
        _finished((work / "calibration.out").read_text(), checker, first)
        assert per_run["chunk"] > 20 and per_run["commit"] > 10 and per_run["grading"] == 1

        interview: int | None = None
        chain = 0
        real_subprocess_done = False
        while counts["kills"] < KILLS:
            assert counts["processes"] < 4 * KILLS, f"too few kills landed: {dict(counts)}"
            round_name = f"r{counts['processes']}"
            if interview is not None and checker.complete(interview):
                counts["killed after the last write"] += 1
                interview, chain = None, 0
            if interview is None:
                remaining = len(script)
                argv = [
                    "run",
                    "--problem",
                    "spam-filter",
                    "--candidate",
                    str(work / "script.txt"),
                    "--json",
                    "--minutes",
                    "600",
                ]
            else:
                done = checker.stored_candidates(interview)
                remaining = len(script) - done
                rest = work / f"{round_name}.rest.txt"
                rest.write_text("\n".join(script[done:] or [CLOSING]) + "\n")
                argv = ["resume", str(interview), "--candidate", str(rest), "--json"]
            mode = ("stream", "commit", "grading")[counts["kills"] % 3]  # the point within each is random
            share = max(remaining, 1) / len(script)
            if mode == "stream":
                plan = {
                    "mark": "chunk",
                    "count": rng.randint(1, max(1, int(per_run["chunk"] * share * 0.8))),
                    "delay": rng.uniform(0, CHUNK_DELAY * 2),
                }
            elif mode == "commit":
                plan = {
                    "mark": "commit",
                    "count": rng.randint(1, max(1, int(per_run["commit"] * share))),
                    "delay": rng.uniform(0, 0.0015),
                }
            else:
                plan = {"mark": "grading", "count": 1, "delay": rng.uniform(0, GRADING_DELAY * 1.5)}
            answer = command(argv, plan, round_name)
            created = checker.record(answer["marks"])
            if interview is None:
                interview = created
            checker.check()
            if not answer["killed"]:
                counts["ran to the end"] += 1
                _finished((work / f"{round_name}.out").read_text(), checker, interview)
                interview, chain = None, 0
                continue
            counts["kills"] += 1
            counts[f"killed: {mode}"] += 1
            chain += 1
            if interview is None:
                continue  # killed before the interview was stored: nothing to continue
            if checker.complete(interview):
                counts["killed after the last write"] += 1
                interview, chain = None, 0
            elif not real_subprocess_done or chain >= 3 or rng.random() < 0.25:
                # Continue it to the end now (otherwise the next round's resume is the continuation,
                # and may be killed in turn). Once, through a fresh interpreter and the real entry point.
                finish(interview, f"{round_name}.final", real=not real_subprocess_done)
                real_subprocess_done = True
                interview, chain = None, 0
        if interview is not None and not checker.complete(interview):
            finish(interview, "last")
        assert fake.requests[-1].headers["authorization"] == f"Bearer {TEST_API_KEY}"

    elapsed = time.monotonic() - started
    acked = len(checker.acked)
    print(
        f"\ncrash loop: {counts['kills']} SIGKILLs ({counts['killed: stream']} mid-stream, "
        f"{counts['killed: commit']} around a commit, {counts['killed: grading']} during grading) over "
        f"{counts['processes']} processes, {counts['ran to the end']} ran to the end; "
        f"{acked} acknowledged turns checked, {checker.lost} lost; {elapsed:.1f} s"
    )
    assert counts["kills"] >= 50
    assert min(counts["killed: stream"], counts["killed: commit"], counts["killed: grading"]) >= 5
    assert checker.lost == 0
