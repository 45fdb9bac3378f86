"""Secrets: the API key the tests use appears in no database row, no export and no log file.

It runs a gauntlet of its own: a headless interview with the openai package's debug logging on,
re-grading, every export, ``doctor``, a kill -9, and error paths where the server echoes the key
back in its error message. On SQLite and, when a server is available, on PostgreSQL.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.conftest import DATA, ROOT
from tests.fakes.openai_server import Behaviour, FakeOpenAI, Recorded, default_responder
from tests.reliability import TEST_API_KEY, files_with_key, llm_env, pg_database, pg_url

PG_URL, WHY_NOT = pg_url()


def _echoing(record: Recorded) -> Behaviour:
    """A server that puts the caller's key into its error messages (some proxies do)."""
    key = record.headers.get("authorization", "").removeprefix("Bearer ")
    if "echo-401" in json.dumps(record.body):
        return Behaviour(status=401, error_body={"error": {"message": f"Incorrect API key provided: {key}"}})
    if "echo-500" in json.dumps(record.body):
        return Behaviour(status=500, error_body={"error": {"message": f"upstream failed for key {key}"}})
    return default_responder(record)


def _rows_with_key(url: str) -> list[str]:
    """Every row of every table, as text, that holds the key."""
    engine = create_engine(url)
    found = []
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    if TEST_API_KEY in repr(tuple(row)) or TEST_API_KEY in json.dumps([str(v) for v in row]):
                        found.append(f"{table}: {str(tuple(row))[:200]}")
    finally:
        engine.dispose()
    return found


def _gauntlet(env: dict[str, str], logs: Path, fake: FakeOpenAI, *, light: bool = False) -> int:
    """Everything a user does, with every log written to ``logs``; returns the interview id."""
    logs.mkdir(parents=True, exist_ok=True)

    def cli(name: str, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "interviewer", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
        )
        (logs / f"{name}.stdout.log").write_text(result.stdout)
        (logs / f"{name}.stderr.log").write_text(result.stderr)
        if expect is not None:
            assert result.returncode == expect, f"{name}: {result.stderr[-1000:]}"
        return result

    run = cli("run", "run", "--problem", "spam-filter", "--candidate", str(DATA / "spam-strong.txt"), "--json")
    interview = json.loads(run.stdout)["interview_id"]
    cli("grade", "grade", str(interview), "--json")
    cli("export-json", "export", str(interview), "--format", "json", "-o", str(logs / "export.json"))
    if not light:
        cli("show", "show", str(interview))
        cli("show-json", "show", str(interview), "--json")
        cli("export-md", "export", str(interview), "--format", "md", "-o", str(logs / "export.md"))
        cli("list", "list", "--json")
        cli("doctor", "doctor", expect=None)
    # The server echoes the key in its error messages: the app must not pass it on.
    for name in ("echo-401", "echo-500"):
        script = logs / f"{name}.txt"
        script.write_text(f"How many users are there? {name}\n")
        result = cli(name, "run", "--problem", "spam-filter", "--candidate", str(script), expect=1)
        assert "interviewer resume" in result.stderr or "rejected" in result.stderr, result.stderr
    assert fake.requests and all(r.headers.get("authorization") == f"Bearer {TEST_API_KEY}" for r in fake.requests)
    if light:
        return interview
    # A kill -9 while the chat's first reply is being produced.
    before = len(fake.chat_requests(structured=False))
    with open(logs / "killed.stdout.log", "w") as out, open(logs / "killed.stderr.log", "w") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "interviewer",
                "chat",
                "--problem",
                "spam-filter",
                "--minutes",
                "600",
                "--backend",
                "openai",
            ],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=err,
            env=env,
            cwd=ROOT,
            text=True,
        )
        with process:
            process.stdin.write("How many users are there?\n")
            process.stdin.flush()
            deadline = time.monotonic() + 60
            while len(fake.chat_requests(structured=False)) <= before and time.monotonic() < deadline:
                time.sleep(0.01)
            process.send_signal(signal.SIGKILL)
            process.wait(10)
    assert len(fake.chat_requests(structured=False)) > before, "the chat never asked the model"
    return interview


def _sweep(label: str, roots: list[Path], db_urls: list[str]) -> None:
    scanned, files = files_with_key(roots)
    rows = [hit for url in db_urls for hit in _rows_with_key(url)]
    print(
        f"\nsecrets ({label}): {scanned} files and {len(db_urls)} database(s) swept; "
        f"{len(files)} files and {len(rows)} rows hold the API key"
    )
    assert not files, files[:10]
    assert not rows, rows[:10]


@pytest.mark.slow
def test_the_key_is_nowhere_on_sqlite(cli_env, interviewer_home: Path, tmp_path: Path):
    logs = tmp_path / "logs"
    with FakeOpenAI(responder=_echoing) as fake:
        env = llm_env(cli_env, fake.base_url, OPENAI_LOG="debug", INTERVIEWER_BACKEND="openai")
        _gauntlet(env, logs, fake)
    db = interviewer_home / "interviewer.db"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM turns").fetchone()[0] > 10
        assert conn.execute("SELECT count(*) FROM events WHERE type = 'error'").fetchone()[0] >= 2
    finally:
        conn.close()
    _sweep("SQLite gauntlet", [interviewer_home, logs], [f"sqlite:///{db}"])


@pytest.mark.skipif(PG_URL is None, reason=WHY_NOT or "no PostgreSQL")
def test_the_key_is_nowhere_on_postgresql(cli_env, tmp_path: Path):
    logs = tmp_path / "logs"
    with pg_database(PG_URL) as url, FakeOpenAI(responder=_echoing) as fake:
        env = llm_env(cli_env, fake.base_url, OPENAI_LOG="debug", INTERVIEWER_BACKEND="openai", INTERVIEWER_DB_URL=url)
        _gauntlet(env, logs, fake, light=True)  # the whole gauntlet runs on SQLite; here what writes rows
        _sweep("PostgreSQL gauntlet", [logs, Path(cli_env["INTERVIEWER_HOME"])], [url])
