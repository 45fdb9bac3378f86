"""Storage benchmarks: add a turn, load a 1,000-turn transcript, list 10,000 interviews;
on SQLite, and on PostgreSQL where one runs (the URL .ci/postgres.sh writes, or INTERVIEWER_TEST_PG_URL)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy import insert, text

from bench.common import Result, temporary_home, timed

PG_URL_FILE = Path("/tmp/interviewer-pg-url")


def postgres_url() -> str | None:
    url = os.environ.get("INTERVIEWER_TEST_PG_URL")
    if not url and PG_URL_FILE.exists():
        url = PG_URL_FILE.read_text().strip()
    return url or None


def _fresh_postgres(url: str) -> tuple[str, callable]:
    """A throwaway database on the server, and a function that drops it."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


def _run(url: str, label: str, quick: bool) -> list[Result]:
    from storage import Repository
    from storage.models import Interview, Turn

    repo = Repository.open(url)
    snapshot = {"id": "spam-filter", "title": "Spam filter for a consumer email service"}
    first = repo.create_interview(
        problem=snapshot, persona={"id": "mentor"}, rubric={"id": "ml-design"}, backend="offline", budget_minutes=45
    )
    body = "I would start with logistic regression on word n-grams because it is cheap to serve. " * 3
    adds = timed(
        lambda: repo.add_turn(first.id, "candidate", body, state={"phase": "discussion"}), 100 if quick else 500
    )

    long = repo.create_interview(
        problem=snapshot, persona={"id": "mentor"}, rubric={"id": "ml-design"}, backend="offline", budget_minutes=600
    )
    with repo.writing() as session:
        session.execute(
            insert(Turn),
            [
                {
                    "interview_id": long.id,
                    "seq": seq,
                    "role": "candidate" if seq % 2 else "interviewer",
                    "text": body,
                    "elapsed_seconds": float(seq),
                    "complete": True,
                    "meta": {"analysis": {"signals": {"model": ["x"]}}},
                }
                for seq in range(1, 1001)
            ],
        )
    loads = timed(lambda: repo.get_turns(long.id), 5 if quick else 20)

    many = 1_000 if quick else 10_000
    with repo.writing() as session:
        session.execute(
            insert(Interview),
            [
                {
                    "problem_id": "spam-filter",
                    "persona_id": "mentor",
                    "rubric_id": "ml-design",
                    "title": snapshot["title"],
                    "problem": snapshot,
                    "persona": {"id": "mentor"},
                    "rubric": {"id": "ml-design"},
                    "backend": "offline",
                    "budget_minutes": 45.0,
                    "state": {"elapsed_seconds": 1234.0},
                    "turn_count": 20,
                    "status": "ended",
                    "last_overall": 3.1,
                    "last_recommendation": "hire",
                }
                for _ in range(many)
            ],
        )
    lists = timed(lambda: repo.list_interviews(limit=20_000), 5 if quick else 20)
    repo.close()
    return [
        Result(f"storage ({label}): add a turn", "ms", adds, target=2),
        Result(f"storage ({label}): load a 1,000-turn transcript", "ms", loads, target=50),
        Result(f"storage ({label}): list {many:,} interviews", "ms", lists, target=100 if many == 10_000 else None),
    ]


def storage(quick: bool) -> list[Result]:
    with temporary_home() as home:
        results = _run(f"sqlite:///{home / 'bench.db'}", "SQLite", quick)
    url = postgres_url()
    if url is None:
        results.append(Result("storage (PostgreSQL): skipped, no server (run .ci/postgres.sh)", "", [0.0]))
        return results
    try:
        database, drop = _fresh_postgres(url)
    except Exception as exc:  # the server is not reachable: say so in the table, measure the rest
        results.append(Result(f"storage (PostgreSQL): skipped, {type(exc).__name__}", "", [0.0]))
        return results
    try:
        results += _run(database, "PostgreSQL", quick)
    finally:
        drop()
    return results
