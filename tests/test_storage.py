"""Storage: migrations, SQLite settings, the repository API."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from interviewer import paths
from storage import NewEvent, NotFound, Repository
from storage.db import HEAD_REVISION, MIGRATIONS_DIR, create_db_engine, migrate
from storage.models import Base
from tests.helpers import schema_of


def test_head_revision_constant_matches_the_scripts():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def _schema_diff(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def test_migrations_run_from_empty_and_match_the_models(tmp_path: Path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'alembic.db'}")
    migrate(engine, use_alembic_on_empty=True)
    assert _schema_diff(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
    migrate(engine)  # at head: nothing to do
    engine.dispose()


def test_a_new_database_gets_the_same_schema_in_one_step(tmp_path: Path):
    fast = create_db_engine(f"sqlite:///{tmp_path / 'fast.db'}")
    migrate(fast)
    slow = create_db_engine(f"sqlite:///{tmp_path / 'slow.db'}")
    migrate(slow, use_alembic_on_empty=True)
    assert _schema_diff(fast) == []

    assert schema_of(fast) == schema_of(slow)


def test_sqlite_lives_in_the_home_folder_with_wal_foreign_keys_and_busy_timeout(repo, interviewer_home: Path):
    assert paths.database_url() == f"sqlite:///{interviewer_home / 'interviewer.db'}"
    assert (interviewer_home / "interviewer.db").exists()
    with repo.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_db_url_env_var_takes_any_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = tmp_path / "elsewhere" / "x.db"
    monkeypatch.setenv("INTERVIEWER_DB_URL", f"sqlite:///{target}")
    from interviewer.services import open_repository

    repository = open_repository()
    assert target.exists()
    repository.close()


def test_a_bad_db_url_is_one_clear_error(monkeypatch: pytest.MonkeyPatch):
    from interviewer.services import open_repository
    from storage import StorageError

    monkeypatch.setenv("INTERVIEWER_DB_URL", "nosuchdb://user:secret@host/db")
    with pytest.raises(StorageError) as caught:
        open_repository()
    assert "cannot open database" in str(caught.value) and "secret" not in str(caught.value)


def _interview(repo: Repository, **extra) -> int:
    return repo.create_interview(
        problem={"id": "p", "title": "A problem"},
        persona={"id": "q", "name": "Q"},
        rubric={"id": "r"},
        backend="offline",
        budget_minutes=45,
        **extra,
    ).id


def test_turns_get_consecutive_seqs_and_state_events_in_one_commit(repo: Repository):
    interview_id = _interview(repo)
    first = repo.add_turn(interview_id, "interviewer", "Hello", kind="opening")
    second = repo.add_turn(interview_id, "candidate", "Hi")
    third = repo.add_turn(
        interview_id,
        "interviewer",
        "Answer",
        kind="answer",
        state={"phase": "discussion"},
        events=[NewEvent("fact_revealed", {"fact": "scale", "asked": True})],
        set_meta={second.seq: {"analysis": {"questions": []}}},
    )
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert repo.get_interview(interview_id).state == {"phase": "discussion"}
    assert repo.get_interview(interview_id).turn_count == 3
    assert repo.get_turns(interview_id)[1].meta == {"analysis": {"questions": []}}
    [event] = repo.get_events(interview_id)
    assert event.turn_seq == 3 and event.payload["fact"] == "scale"


def test_list_interviews_newest_first_with_scores(repo: Repository):
    ids = [_interview(repo) for _ in range(3)]
    repo.add_scorecard(ids[1], rubric_id="r", grader="g", overall=3.25, recommendation="hire", data={})
    rows = repo.list_interviews()
    assert [r.id for r in rows] == ids[::-1]
    assert rows[1].overall == 3.25 and rows[1].recommendation == "hire"
    assert repo.list_interviews(limit=1)[0].id == ids[-1]
    assert repo.count_interviews() == 3


def test_listing_shows_the_clock_of_the_latest_state(repo: Repository):
    interview_id = _interview(repo)
    repo.add_turn(interview_id, "candidate", "Hi", state={"elapsed_seconds": 90.0})
    assert repo.list_interviews()[0].elapsed_seconds == 90.0
    repo.set_state(interview_id, {"elapsed_seconds": 150.0})
    repo.add_events(interview_id, [NewEvent("x", {})], state={"elapsed_seconds": 180.0, "phase": "wrap"})
    assert repo.list_interviews()[0].elapsed_seconds == 180.0
    assert repo.get_interview(interview_id).state == {"elapsed_seconds": 180.0, "phase": "wrap"}


def test_interviews_sharing_content_store_its_snapshot_once(repo: Repository):
    first, second = _interview(repo), _interview(repo)
    other = repo.create_interview(
        problem={"id": "p", "title": "A problem", "spec": "changed since"},
        persona={"id": "q", "name": "Q"},
        rubric={"id": "r"},
        backend="offline",
        budget_minutes=45,
    )
    with repo.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM snapshots")).scalar() == 4
    assert repo.get_interview(first).problem == repo.get_interview(second).problem == {"id": "p", "title": "A problem"}
    assert repo.get_interview(other.id).problem["spec"] == "changed since"
    assert (other.persona, other.rubric) == ({"id": "q", "name": "Q"}, {"id": "r"})


def test_latest_scorecards_are_each_interviews_newest_by_each_rubric(repo: Repository):
    ids = [_interview(repo) for _ in range(3)]

    def grade(interview_id: int, rubric_id: str, overall: float) -> None:
        data = {"rubric_id": rubric_id, "overall": overall}
        repo.add_scorecard(
            interview_id, rubric_id=rubric_id, grader="g", overall=overall, recommendation="x", data=data
        )

    grade(ids[0], "r", 1.0)
    grade(ids[2], "r", 2.0)
    grade(ids[0], "r", 3.0)  # a regrade replaces the first
    grade(ids[0], "s", 4.0)  # another rubric's grading sits beside it
    grade(ids[2], "r", 2.5)
    rows = [(interview_id, card["rubric_id"], card["overall"]) for interview_id, _, _, card in repo.latest_scorecards()]
    assert rows == [(ids[0], "r", 3.0), (ids[0], "s", 4.0), (ids[2], "r", 2.5)]
    assert [row[0] for row in repo.latest_scorecards(limit=1)] == [ids[2]]
    assert len(repo.get_scorecards(ids[0])) == 3, "earlier gradings are kept"


def test_annotations_add_edit_delete(repo: Repository):
    interview_id = _interview(repo)
    repo.add_turn(interview_id, "interviewer", "Hello", kind="opening")
    note = repo.add_annotation(interview_id, 1, "good opener", tag="note")
    repo.update_annotation(note.id, text="great opener", tag="strength")
    [stored] = repo.get_annotations(interview_id)
    assert (stored.text, stored.tag) == ("great opener", "strength")
    repo.delete_annotation(note.id)
    assert repo.get_annotations(interview_id) == []
    with pytest.raises(NotFound):
        repo.delete_annotation(note.id)
    with pytest.raises(NotFound):
        repo.add_annotation(interview_id, 99, "no such turn")


def test_deleting_an_interview_cascades(repo: Repository):
    interview_id = _interview(repo)
    repo.add_turn(interview_id, "candidate", "Hi", events=[NewEvent("x", {})])
    repo.add_annotation(interview_id, 1, "n")
    repo.delete_interview(interview_id)
    with repo.engine.connect() as conn:
        for table in ("turns", "events", "annotations"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0


def test_foreign_keys_are_enforced(repo: Repository):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        repo.add_turn(12345, "candidate", "orphan")


def test_unknown_interview_is_not_found(repo: Repository):
    with pytest.raises(NotFound, match="no interview with id 7"):
        repo.get_interview(7)
