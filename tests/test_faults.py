"""Faults end in one clear message, never a traceback, and never lose what the candidate typed: a database that is locked by another process, read-only, damaged or full (the typed
message goes to a recovery file in ``chat``); an interview open in another live process is refused (a
lease in the database, freed when its holder dies or lets it lapse); the lease's migration from the
previous schema."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import event, text

import storage.db
from interviewer.cli import main
from interviewer.services import open_repository
from storage import InterviewBusy, Repository, StorageError
from storage.db import HEAD_REVISION, MIGRATIONS_DIR, create_db_engine, migrate
from storage.models import utcnow
from storage.repository import LEASE_SECONDS, this_process
from tests.conftest import ROOT
from tests.helpers import one_clear_line, play, run_cli

_cli = partial(run_cli, timeout=300)


# ----------------------------------------------------------------------------- database faults


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage.db, "BUSY_TIMEOUT_MS", 300)


def _db_file(home: Path) -> Path:
    return home / "interviewer.db"


def _locked(path: Path) -> sqlite3.Connection:
    """Another process's view: a connection that holds the write lock until closed."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=5, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


async def test_a_locked_database_is_one_storage_error(repo, interviewer_home: Path, short_busy_timeout):
    session, _ = await play(repo, ["How many users are there?"], end=False)
    repo.close()
    other = open_repository()
    holder = _locked(_db_file(interviewer_home))
    try:
        with pytest.raises(StorageError, match="in use by another process") as caught:
            other.add_turn(session.interview_id, "candidate", "text")
        assert "interviewer.db" in str(caught.value) and "\n" not in str(caught.value)
    finally:
        holder.close()
        other.close()


async def test_a_read_only_database_is_one_storage_error(repo, interviewer_home: Path):
    await play(repo, ["How many users are there?"], end=False)
    repo.close()
    read_only = Repository.open(f"sqlite:///file:{_db_file(interviewer_home)}?mode=ro&uri=true")
    try:
        assert read_only.list_interviews(), "reading still works"
        with pytest.raises(StorageError, match="read-only"):
            read_only.add_turn(1, "candidate", "text")
    finally:
        read_only.close()


def _corrupt(path: Path) -> None:
    """Garbage over every page but the first (the header stays, so the file still opens)."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    for start in range(page, len(data), page):
        data[start : start + page] = b"\xa5" * min(page, len(data) - start)
    path.write_bytes(bytes(data))


async def test_a_damaged_database_is_one_storage_error(repo, interviewer_home: Path, cli_env):
    await play(repo, ["How many users are there?"], end=False)
    repo.close()  # checkpoints the WAL into the file
    _corrupt(_db_file(interviewer_home))
    for args in (["list"], ["show", "1"]):
        one_clear_line(_cli(args, cli_env), "damaged")


async def test_a_full_disk_is_one_storage_error(repo):
    session, _ = await play(repo, ["How many users are there?"], end=False)

    @event.listens_for(repo.engine, "engine_connect")
    def _no_more_pages(connection):
        connection.exec_driver_sql("PRAGMA max_page_count = 1")  # clamps to the pages it has now

    with pytest.raises(StorageError, match="disk is full"):
        repo.add_turn(session.interview_id, "candidate", "x" * 2_000_000)


@pytest.mark.slow
def test_run_against_a_database_locked_by_another_process(cli_env, interviewer_home: Path, tmp_path: Path):
    assert _cli(["list"], cli_env).returncode == 0  # creates the database
    script = tmp_path / "answers.txt"
    script.write_text("How many users are there?\n", encoding="utf-8")
    holder = _locked(_db_file(interviewer_home))
    try:
        result = _cli(["run", "--problem", "spam-filter", "--candidate", str(script)], cli_env)
    finally:
        holder.close()
    one_clear_line(result, "in use by another process")


# ----------------------------------------------------------------------------- chat keeps the message


class _Typing(io.StringIO):
    """The candidate's keyboard: each line is read once; ``before`` runs before the line that matches."""

    def __init__(self, lines: list[str], before: dict[str, object]):
        super().__init__("".join(line + "\n" for line in lines))
        self.before = before

    def readline(self, *args) -> str:  # type: ignore[override]
        line = super().readline(*args)
        action = self.before.get(line.rstrip("\n"))
        if callable(action):
            action()
        return line

    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize("fault", ["locked", "full"])
def test_chat_keeps_a_message_the_database_would_not_take(
    fault, interviewer_home: Path, short_busy_timeout, monkeypatch, capsys
):
    message = "My carefully written answer: shard the feature store by sender domain." + " More." * (
        300_000 if fault == "full" else 1
    )
    held: list[sqlite3.Connection] = []

    def break_the_database() -> None:
        if fault == "locked":
            held.append(_locked(_db_file(interviewer_home)))
        else:
            from sqlalchemy import Engine

            event.listen(Engine, "engine_connect", _full)

    def _full(connection) -> None:
        connection.exec_driver_sql("PRAGMA max_page_count = 1")

    monkeypatch.setattr(sys, "stdin", _Typing([message, "/quit"], {message: break_the_database}))
    try:
        code = main(["chat", "--problem", "spam-filter"])
    finally:
        for connection in held:
            connection.close()
        if fault == "full":
            from sqlalchemy import Engine

            event.remove(Engine, "engine_connect", _full)
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err
    assert ("in use by another process" if fault == "locked" else "disk is full") in err
    kept = next(line for line in err.splitlines() if "it is kept in " in line).split("it is kept in ", 1)[1].strip()
    assert Path(kept).read_text(encoding="utf-8") == message
    assert "interviewer resume 1" in err
    repo = open_repository()
    try:
        assert [t.text for t in repo.get_turns(1) if t.role == "candidate"] == [], "not stored, so kept"
    finally:
        repo.close()


# ----------------------------------------------------------------------------- the lease


def _bare_interview(repo: Repository) -> int:
    return repo.create_interview(
        problem={"id": "p", "title": "T"}, persona={"id": "q"}, rubric={"id": "r"}, backend="offline", budget_minutes=45
    ).id


def test_an_interview_held_by_a_live_process_is_refused(repo):
    interview = _bare_interview(repo)
    now = utcnow()
    repo.acquire_lease(interview, "elsewhere.example:4242", now=now)
    with pytest.raises(InterviewBusy, match=r"open in another interviewer \(process 4242 on elsewhere.example\)"):
        repo.acquire_lease(interview, now=now + timedelta(seconds=1))
    # Lapsed: a holder that stopped renewing it no longer keeps it.
    repo.acquire_lease(interview, now=now + timedelta(seconds=LEASE_SECONDS + 1))


def test_a_holder_that_died_on_this_machine_frees_the_interview_at_once(repo):
    interview = _bare_interview(repo)
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = this_process().rpartition(":")[0] + ":" + ended.stdout.strip()
    repo.acquire_lease(interview, dead)
    repo.acquire_lease(interview)  # no wait: the holder is gone


def test_a_process_whose_interview_was_taken_over_stops_writing(repo):
    interview = _bare_interview(repo)
    repo.acquire_lease(interview)
    repo.add_turn(interview, "interviewer", "Hello", kind="opening")
    later = utcnow() + timedelta(seconds=LEASE_SECONDS + 1)
    Repository(repo.engine).acquire_lease(interview, "elsewhere.example:1", now=later)
    with pytest.raises(InterviewBusy, match="was opened in another interviewer"):
        repo.add_turn(interview, "candidate", "a late message")
    with pytest.raises(InterviewBusy):
        repo.set_state(interview, {}, status="ended")
    assert [t.text for t in repo.get_turns(interview)] == ["Hello"]


@pytest.mark.slow
def test_a_second_process_cannot_resume_an_interview_open_elsewhere(cli_env, tmp_path: Path):
    script = tmp_path / "answers.txt"
    script.write_text("How many users are there?\n", encoding="utf-8")
    first = subprocess.Popen(
        [sys.executable, "-m", "interviewer", "chat", "--problem", "spam-filter"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env,
        cwd=ROOT,
    )
    try:
        assert first.stdout is not None
        opening = b""
        while b"Interview 1" not in opening or b"Maya:" not in opening:
            chunk = os.read(first.stdout.fileno(), 4096)
            assert chunk, "the first chat ended early"
            opening += chunk
        second = _cli(["resume", "1", "--candidate", str(script)], cli_env)
        one_clear_line(second, "interview 1 is open in another interviewer", "on this machine")
        first.send_signal(signal.SIGKILL)  # dies without letting go
        first.wait(timeout=60)
        again = _cli(["resume", "1", "--candidate", str(script), "--json"], cli_env)
        assert again.returncode == 0, again.stderr[-2000:]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        for pipe in (first.stdin, first.stdout, first.stderr):
            if pipe is not None:
                pipe.close()


# ----------------------------------------------------------------------------- the migration


def test_the_lease_migration_upgrades_a_database_at_the_previous_revision(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_db_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            text(
                "INSERT INTO interviews (id, created_at, updated_at, status, problem_id, persona_id, rubric_id, title, "
                "problem, persona, rubric, backend, budget_minutes, state, turn_count) VALUES (1, '2026-01-01', "
                "'2026-01-01', 'active', 'p', 'q', 'r', 'Old', '{}', '{}', '{}', 'offline', 45, '{}', 0)"
            )
        )
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
        row = conn.execute(text("SELECT title, lease_holder, lease_expires_at FROM interviews")).one()
    assert tuple(row) == ("Old", None, None)
    repo = Repository(engine)
    repo.acquire_lease(1)
    assert repo.get_interview(1).lease_holder == this_process()
    engine.dispose()


def test_chat_says_so_when_the_reply_it_showed_could_not_be_stored(interviewer_home: Path, monkeypatch, capsys):
    """A full disk after the candidate's message was stored: the reply was shown but cannot be stored;
    one message says the candidate's words are safe and how to continue (the reply is asked again)."""
    from sqlalchemy import Engine

    armed: list[bool] = []

    def no_room_for_replies(conn, cursor, statement, parameters, context, executemany) -> None:
        if armed and statement.startswith("INSERT INTO turns") and "interviewer" in str(parameters):
            raise sqlite3.OperationalError("database or disk is full")

    message = "How many users are there?"
    monkeypatch.setattr(sys, "stdin", _Typing([message, "/quit"], {message: lambda: armed.append(True)}))
    event.listen(Engine, "before_cursor_execute", no_room_for_replies)
    try:
        code = main(["chat", "--problem", "spam-filter"])
    finally:
        event.remove(Engine, "before_cursor_execute", no_room_for_replies)
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.err
    assert "400 million" in captured.out, "the reply was shown as it streamed"
    assert "disk is full" in captured.err and "everything you sent is stored" in captured.err
    assert "interviewer resume 1" in captured.err and "kept in" not in captured.err
    repo = open_repository()
    try:
        turns = repo.get_turns(1)
        assert [t.role for t in turns] == ["interviewer", "candidate"] and turns[-1].text == message
    finally:
        repo.close()
