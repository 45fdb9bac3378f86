"""Upgrading a database that holds interviews: every row survives, on SQLite and on PostgreSQL.

A database is built at the revision before snapshots moved out of ``interviews`` and filled the way
that schema stored things (real content snapshots, turns, events, several gradings), then upgraded
to the head and downgraded again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from interviewer.content import ContentLibrary
from storage import Repository
from storage.db import HEAD_REVISION, MIGRATIONS_DIR, create_db_engine, migrate
from tests.reliability import pg_database, pg_url
from tests.test_storage import _schema_diff

BEFORE = "0002"
PG_URL, WHY_NOT = pg_url()
WHEN = datetime(2026, 12, 1, 9, 30)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if PG_URL is None:
        pytest.skip(WHY_NOT or "no PostgreSQL")
    with pg_database(PG_URL) as url:
        yield url


def _alembic(engine: sa.Engine, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.execution_options(write=True).begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, action)(config, revision)


def _snapshots() -> tuple[dict, dict, dict, dict]:
    library = ContentLibrary()
    return (
        library.problems.get("spam-filter").model_dump(mode="json"),
        library.problems.get("news-feed-ranking").model_dump(mode="json"),
        library.personas.get("mentor").model_dump(mode="json"),
        library.rubrics.get("ml-design").model_dump(mode="json"),
    )


def _fill_old_schema(engine: sa.Engine) -> dict[int, dict]:
    """Three interviews as revision 0002 stored them; returns each one's snapshots and clock by id."""
    spam, feed, persona, rubric = _snapshots()
    meta = sa.MetaData()
    meta.reflect(engine)
    interviews, turns, events, scorecards = (meta.tables[n] for n in ("interviews", "turns", "events", "scorecards"))
    expected: dict[int, dict] = {}
    with engine.begin() as conn:
        for number, problem in enumerate([spam, feed, spam], start=1):
            elapsed = 600.0 * number
            conn.execute(
                interviews.insert().values(
                    id=number, created_at=WHEN, updated_at=WHEN, status="ended", problem_id=problem["id"],
                    persona_id="mentor", rubric_id="ml-design", title=problem["title"], problem=problem,
                    persona=persona, rubric=rubric, backend="offline", budget_minutes=45.0,
                    state={"elapsed_seconds": elapsed, "phase": "ended"}, turn_count=2,
                    last_overall=2.0 + number, last_recommendation="hire",
                )
            )  # fmt: skip
            expected[number] = {"problem": problem, "persona": persona, "rubric": rubric, "elapsed": elapsed}
            conn.execute(
                turns.insert(),
                [
                    {"interview_id": number, "seq": seq, "role": role, "text": f"turn {seq}", "created_at": WHEN,
                     "elapsed_seconds": float(seq), "complete": True, "meta": {"analysis": {"n": seq}}}
                    for seq, role in ((1, "interviewer"), (2, "candidate"))
                ],
            )  # fmt: skip
            conn.execute(
                events.insert().values(
                    interview_id=number, turn_seq=1, type="stage_covered", payload={"stage": "data"}, created_at=WHEN
                )
            )
        # Interview 1 graded twice by ml-design and once by another rubric; interview 2 once; 3 never.
        for interview_id, rubric_id, overall in ((1, "ml-design", 2.0), (1, "ml-design", 3.0), (1, "other", 1.5),
                                                 (2, "ml-design", 3.5)):  # fmt: skip
            conn.execute(
                scorecards.insert().values(
                    interview_id=interview_id, created_at=WHEN, rubric_id=rubric_id, grader="offline",
                    overall=overall, recommendation="hire", data={"rubric_id": rubric_id, "overall": overall},
                )
            )  # fmt: skip
    return expected


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_upgrade_keeps_every_row_and_stores_each_snapshot_once(database: str):
    engine = create_db_engine(database)
    _alembic(engine, "upgrade", BEFORE)
    expected = _fill_old_schema(engine)

    migrate(engine)

    assert _schema_diff(engine) == []
    assert {table: _count(engine, table) for table in ("turns", "events", "scorecards")} == {
        "turns": 6,
        "events": 3,
        "scorecards": 4,
    }
    assert _count(engine, "snapshots") == 4, "two problems, one persona, one rubric"
    repo = Repository(engine)
    for interview_id, snapshot in expected.items():
        interview = repo.get_interview(interview_id)
        assert (interview.problem, interview.persona, interview.rubric) == (
            snapshot["problem"],
            snapshot["persona"],
            snapshot["rubric"],
        )
        assert [turn.text for turn in repo.get_turns(interview_id)] == ["turn 1", "turn 2"]
    listed = {row.id: (row.elapsed_seconds, row.overall) for row in repo.list_interviews()}
    assert listed == {1: (600.0, 3.0), 2: (1200.0, 4.0), 3: (1800.0, 5.0)}
    latest = [
        (interview_id, card["rubric_id"], card["overall"]) for interview_id, _, _, card in repo.latest_scorecards()
    ]
    assert latest == [(1, "ml-design", 3.0), (1, "other", 1.5), (2, "ml-design", 3.5)]
    engine.dispose()


def test_downgrade_puts_the_snapshots_back(database: str):
    engine = create_db_engine(database)
    _alembic(engine, "upgrade", BEFORE)
    expected = _fill_old_schema(engine)
    migrate(engine)
    Repository(engine).add_turn(3, "candidate", "a turn stored after the upgrade")

    _alembic(engine, "downgrade", BEFORE)

    assert "snapshots" not in sa.inspect(engine).get_table_names()
    meta = sa.MetaData()
    meta.reflect(engine)
    interviews = meta.tables["interviews"]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(interviews.c.id, interviews.c.problem, interviews.c.persona, interviews.c.rubric))
        assert {row[0]: tuple(row[1:]) for row in rows} == {
            number: (snapshot["problem"], snapshot["persona"], snapshot["rubric"])
            for number, snapshot in expected.items()
        }
    assert (_count(engine, "turns"), _count(engine, "scorecards")) == (7, 4)

    migrate(engine)  # and up again
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
    assert Repository(engine).get_interview(2).problem == expected[2]["problem"]
    engine.dispose()
