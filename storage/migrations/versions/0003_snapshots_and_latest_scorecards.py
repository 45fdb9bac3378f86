"""Snapshots in a table of their own, stored once; the interview clock as a column; the latest scorecards marked.

Listing read every interview's ~40 KB of problem, persona and rubric JSON to reach the columns after
them, and the progress screen grouped every scorecard to find each interview's newest.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

import sqlite3

import sqlalchemy as sa
from alembic import op

from storage.models import LISTED_COLUMNS, snapshot_digest

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 500
SNAPSHOT_KINDS = ("problem", "persona", "rubric")

snapshots = sa.table("snapshots", sa.column("digest", sa.String), sa.column("data", sa.JSON))
scorecards = sa.table(
    "scorecards",
    sa.column("id", sa.Integer),
    sa.column("interview_id", sa.Integer),
    sa.column("rubric_id", sa.String),
    sa.column("latest", sa.Boolean),
)


def _interviews(*extra: sa.ColumnClause) -> sa.TableClause:
    return sa.table("interviews", sa.column("id", sa.Integer), sa.column("state", sa.JSON), *extra)


def _batches(conn: sa.Connection, table: sa.TableClause, *columns: str):
    """The rows of ``interviews`` in id order, a batch at a time (snapshots are large)."""
    last = 0
    while True:
        rows = conn.execute(
            sa.select(table.c.id, *(table.c[name] for name in columns))
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _drop_columns(table: str, *names: str) -> None:
    # ALTER TABLE … DROP COLUMN on SQLite too: rebuilding the table (Alembic's batch mode) would drop
    # it, and with foreign keys on that deletes every turn, event and scorecard through ON DELETE CASCADE.
    if op.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        raise RuntimeError(f"this migration needs SQLite 3.35 or newer (this Python has {sqlite3.sqlite_version})")
    for name in names:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table(
        "snapshots",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.add_column("interviews", sa.Column("elapsed_seconds", sa.Float(), nullable=False, server_default="0"))
    for kind in SNAPSHOT_KINDS:
        op.add_column("interviews", sa.Column(f"{kind}_digest", sa.String(64), nullable=True))

    old = _interviews(*(sa.column(kind, sa.JSON) for kind in SNAPSHOT_KINDS))
    new = _interviews(sa.column("elapsed_seconds", sa.Float), *(sa.column(f"{k}_digest") for k in SNAPSHOT_KINDS))
    stored: set[str] = set()
    for rows in _batches(conn, old, "state", *SNAPSHOT_KINDS):
        for interview_id, state, *blobs in rows:
            digests = [snapshot_digest(blob) for blob in blobs]
            fresh = {digest: blob for digest, blob in zip(digests, blobs, strict=True) if digest not in stored}
            if fresh:
                conn.execute(sa.insert(snapshots), [{"digest": d, "data": blob} for d, blob in fresh.items()])
                stored.update(fresh)
            conn.execute(
                sa.update(new)
                .where(new.c.id == interview_id)
                .values(
                    elapsed_seconds=float((state or {}).get("elapsed_seconds") or 0.0),
                    **{f"{kind}_digest": digest for kind, digest in zip(SNAPSHOT_KINDS, digests, strict=True)},
                )
            )
    _drop_columns("interviews", *SNAPSHOT_KINDS)
    op.create_index("ix_interviews_listed", "interviews", list(LISTED_COLUMNS))

    op.add_column("scorecards", sa.Column("latest", sa.Boolean(), nullable=False, server_default=sa.true()))
    newest = sa.select(sa.func.max(scorecards.c.id)).group_by(scorecards.c.interview_id, scorecards.c.rubric_id)
    conn.execute(sa.update(scorecards).where(scorecards.c.id.not_in(newest)).values(latest=False))
    op.create_index("ix_scorecards_latest", "scorecards", ["latest", "interview_id", "id"])


def downgrade() -> None:
    conn = op.get_bind()
    op.drop_index("ix_scorecards_latest", table_name="scorecards")
    _drop_columns("scorecards", "latest")

    # Nullable here (NOT NULL before 0003): SQLite adds a NOT NULL column only with a default.
    for kind in SNAPSHOT_KINDS:
        op.add_column("interviews", sa.Column(kind, sa.JSON(), nullable=True))
    table = _interviews(
        *(sa.column(f"{k}_digest") for k in SNAPSHOT_KINDS), *(sa.column(k, sa.JSON) for k in SNAPSHOT_KINDS)
    )
    known: dict[str, dict] = {}
    for rows in _batches(conn, table, *(f"{k}_digest" for k in SNAPSHOT_KINDS)):
        wanted = {digest for row in rows for digest in row[1:] if digest not in known}
        if wanted:
            known.update(
                conn.execute(
                    sa.select(snapshots.c.digest, snapshots.c.data).where(snapshots.c.digest.in_(wanted))
                ).all()
            )
        for interview_id, *digests in rows:
            conn.execute(
                sa.update(table)
                .where(table.c.id == interview_id)
                .values(**{kind: known[digest] for kind, digest in zip(SNAPSHOT_KINDS, digests, strict=True)})
            )
    op.drop_index("ix_interviews_listed", table_name="interviews")
    _drop_columns("interviews", "elapsed_seconds", *(f"{kind}_digest" for kind in SNAPSHOT_KINDS))
    op.drop_table("snapshots")
