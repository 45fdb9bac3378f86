"""kill -9 in the middle of an interview loses no committed turn, and ``resume`` continues it."""

from __future__ import annotations

import itertools
import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import DATA, ROOT

pytestmark = pytest.mark.slow


def _replies(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        try:
            return conn.execute("SELECT count(*) FROM turns WHERE role = 'interviewer'").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def _wait(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.005)


def test_kill_minus_nine_mid_interview_then_resume(cli_env, interviewer_home: Path, tmp_path: Path):
    lines = [line for line in (DATA / "spam-strong.txt").read_text().splitlines() if line.strip()]
    db = interviewer_home / "interviewer.db"
    rng = random.Random(20261123)
    for round_number in range(1, 6):
        process = subprocess.Popen(
            [sys.executable, "-m", "interviewer", "chat", "--problem", "spam-filter", "--minutes", "600"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=cli_env,
            cwd=ROOT,
            text=True,
        )
        interview_id = round_number
        _wait(lambda round_number=round_number: _replies(db) >= round_number)  # this interview's opening is stored
        acknowledged: list[str] = []
        kill_after = rng.randrange(1, len(lines))
        for index, line in enumerate(lines[:kill_after]):
            process.stdin.write(line + "\n")
            process.stdin.flush()
            if index < kill_after - 1:
                # Wait for the reply: everything up to here is acknowledged.
                expected = len(acknowledged) + 1
                _wait(
                    lambda expected=expected, interview_id=interview_id: (
                        len(_turns_of(db, interview_id)) >= expected and _reply_after(db, interview_id)
                    )
                )
                acknowledged = _turns_of(db, interview_id)
        time.sleep(rng.random() * 0.03)  # kill during the last message's commit or reply, or just after
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        process.stdin.close()
        process.stderr.close()

        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = _turns_of(db, interview_id)
        assert stored[: len(acknowledged)] == acknowledged, "an acknowledged turn was lost"
        assert stored == lines[: len(stored)], "turns out of order or altered"

        rest = tmp_path / f"rest-{round_number}.txt"
        rest.write_text("\n".join(lines[len(stored) :]) or "Thanks, that's all.")
        resumed = subprocess.run(
            [sys.executable, "-m", "interviewer", "resume", str(interview_id), "--candidate", str(rest), "--json"],
            capture_output=True,
            text=True,
            env=cli_env,
            cwd=ROOT,
            timeout=60,
        )
        assert resumed.returncode == 0, resumed.stderr
        data = json.loads(resumed.stdout)
        assert data["status"] == "ended" and data["scorecard"]["overall"] >= 1.0
        candidate = [t["text"] for t in data["turns"] if t["role"] == "candidate"]
        assert candidate[: len(stored)] == stored
        roles = [t["role"] for t in data["turns"]]
        assert roles[-1] == "interviewer"
        assert all(not a == b == "candidate" for a, b in itertools.pairwise(roles)), "a candidate turn got no reply"


def _turns_of(db: Path, interview_id: int) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        rows = conn.execute(
            "SELECT text FROM turns WHERE role = 'candidate' AND interview_id = ? ORDER BY seq", (interview_id,)
        ).fetchall()
    return [row[0] for row in rows]


def _reply_after(db: Path, interview_id: int) -> bool:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as conn:
        row = conn.execute(
            "SELECT role FROM turns WHERE interview_id = ? ORDER BY seq DESC LIMIT 1", (interview_id,)
        ).fetchone()
    return row is not None and row[0] == "interviewer"
