"""The storage suite against a real PostgreSQL server, as well as SQLite.

.ci/postgres.sh installs PostgreSQL from Debian's packages and starts it on 127.0.0.1; its URL comes
from INTERVIEWER_TEST_PG_URL or /tmp/interviewer-pg-url. Every test gets a database of its own.
Without a server these tests skip, and the skip reason says why.
"""

from __future__ import annotations

import inspect as pyinspect
import json
import subprocess
import sys
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import tests.test_storage as storage_suite
from storage import NewEvent, Repository
from storage.db import HEAD_REVISION, create_db_engine, current_revision, migrate
from storage.models import Base
from tests.conftest import DATA, ROOT
from tests.helpers import schema_of
from tests.reliability import pg_database, pg_url

PG_URL, WHY_NOT = pg_url()
pytestmark = pytest.mark.skipif(PG_URL is None, reason=WHY_NOT or "no PostgreSQL")

# The storage tests that take only a repository run here unchanged, on PostgreSQL. The others are
# about SQLite itself (its file, pragmas, URL handling) or migrations, which have PostgreSQL versions below.
REPOSITORY_TESTS = {
    name: function
    for name, function in vars(storage_suite).items()
    if name.startswith("test_") and callable(function) and list(pyinspect.signature(function).parameters) == ["repo"]
}


@pytest.fixture
def pg():
    """The URL of a fresh, empty database of this test's own."""
    with pg_database(PG_URL) as url:
        yield url


@pytest.fixture
def pg_repo(pg):
    repository = Repository.open(pg)
    yield repository
    repository.close()


def test_the_repository_tests_are_all_here():
    assert len(REPOSITORY_TESTS) >= 6, sorted(REPOSITORY_TESTS)


@pytest.mark.parametrize("name", sorted(REPOSITORY_TESTS))
def test_storage_suite_on_postgresql(name, pg_repo):
    assert pg_repo.engine.dialect.name == "postgresql"
    REPOSITORY_TESTS[name](pg_repo)


def _diff(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def test_migrations_on_postgresql_both_paths_give_the_modelsschema_of():
    with pg_database(PG_URL) as alembic_url, pg_database(PG_URL) as fast_url:
        slow = create_db_engine(alembic_url)
        migrate(slow, use_alembic_on_empty=True)  # the Alembic scripts, from an empty database
        fast = create_db_engine(fast_url)
        migrate(fast)  # create_all and stamp
        try:
            assert current_revision(slow) == current_revision(fast) == HEAD_REVISION
            assert _diff(slow) == [] and _diff(fast) == []
            assert schema_of(slow) == schema_of(fast)
            assert set(schema_of(fast)) >= {"interviews", "turns", "events", "scorecards", "annotations"}
            migrate(slow)  # at head: nothing to do
            migrate(fast, use_alembic_on_empty=True)
        finally:
            slow.dispose()
            fast.dispose()


def test_concurrent_first_starts_migrate_once(pg):
    """Several processes opening a new database at once: one migrates, the others wait and go on."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def open_it(alembic: bool) -> None:
        try:
            engine = create_db_engine(pg)
            barrier.wait()
            migrate(engine, use_alembic_on_empty=alembic)
            engine.dispose()
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it, args=(i % 2 == 0,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    engine = create_db_engine(pg)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    assert _diff(engine) == []
    engine.dispose()


BAD_TEXTS = [
    "",
    "NUL \x00 in the middle\x00",
    "\x1b[2J\x1b[H\x1b]0;pwned\x07 ANSI, \r carriage return, \b backspace, \x7f delete",
    "'); DROP TABLE turns; --",
    "Robert'); DELETE FROM interviews WHERE ('1' = '1",
    "emoji 🧪, RTL \u202eoverride\u202c, zero width \u200b, surrogate-free ünïcödé",
    "\ue000 private use \ue000\x00 mixed with NUL",
    "x" * 1_000_000,
]


def test_bad_text_round_trips_byte_exact_on_postgresql(pg_repo):
    interview = pg_repo.create_interview(
        problem={"id": "p", "title": "T", "note": "\x00 in JSON"},
        persona={"id": "q"},
        rubric={"id": "r"},
        backend="offline",
        budget_minutes=45,
    ).id
    for text_value in BAD_TEXTS:
        pg_repo.add_turn(
            interview,
            "candidate",
            text_value,
            meta={"analysis": {"questions": [text_value[:200]]}},
            events=[NewEvent("injection", {"text": text_value[:200]})],
        )
    pg_repo.add_annotation(interview, 2, BAD_TEXTS[1], tag="note")
    turns = pg_repo.get_turns(interview)
    assert [t.text for t in turns] == BAD_TEXTS
    assert [t.meta["analysis"]["questions"][0] for t in turns] == [t[:200] for t in BAD_TEXTS]
    assert [e.payload["text"] for e in pg_repo.get_events(interview)] == [t[:200] for t in BAD_TEXTS]
    assert pg_repo.get_annotations(interview)[0].text == BAD_TEXTS[1]
    assert pg_repo.get_interview(interview).problem["note"] == "\x00 in JSON"


def _limit(model, field: str) -> int:
    for item in model.model_fields[field].metadata:
        if getattr(item, "max_length", None):
            return item.max_length
    raise AssertionError(f"{model.__name__}.{field} has no length limit")


def test_the_longest_values_content_and_settings_allow_fit_the_columns(pg_repo, library):
    """Whatever validates as content or settings must also fit the database's columns (SQLite does not
    check lengths; PostgreSQL does)."""
    from interviewer.config import Settings
    from interviewer.content.models import Problem, Threshold

    title = "T" * _limit(Problem, "title")
    recommendation = "R" * _limit(Threshold, "recommendation")
    model, grader = "m" * _limit(Settings, "model"), "g" * _limit(Settings, "grader_model")
    problem = library.problems.get("spam-filter").model_copy(update={"title": title})
    rubric = library.rubrics.get("ml-design")
    interview = pg_repo.create_interview(
        problem=problem.model_dump(mode="json"),
        persona=library.personas.get("mentor").model_dump(mode="json"),
        rubric=rubric.model_dump(mode="json"),
        backend="openai",
        model=model,
        budget_minutes=45,
    ).id
    pg_repo.add_turn(interview, "interviewer", "Hi", kind="acknowledge", usage={"model": model})
    pg_repo.add_scorecard(
        interview, rubric_id=rubric.id, grader=grader, overall=2.5, recommendation=recommendation, data={}
    )
    row = pg_repo.get_interview(interview)
    assert (row.title, row.model, row.last_recommendation) == (title, model, recommendation)
    assert pg_repo.get_scorecards(interview)[0].grader == grader


def test_a_headless_interview_on_postgresql_through_the_cli(swept, pg, cli_env, tmp_path):
    env = dict(cli_env, INTERVIEWER_DB_URL=pg)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "interviewer",
            "run",
            "--problem",
            "spam-filter",
            "--candidate",
            str(DATA / "spam-strong.txt"),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["status"] == "ended" and data["scorecard"]["overall"] >= 1.0
    lines = [line for line in (DATA / "spam-strong.txt").read_text().splitlines() if line.strip()]
    assert [t["text"] for t in data["turns"] if t["role"] == "candidate"] == lines
    shown = subprocess.run(
        [sys.executable, "-m", "interviewer", "export", str(data["interview_id"]), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["turns"] == data["turns"]
    listing = subprocess.run(
        [sys.executable, "-m", "interviewer", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert json.loads(listing.stdout)[0]["id"] == data["interview_id"]
    assert "interviewer-test" not in result.stderr + shown.stderr + listing.stderr  # the password is never shown
