"""SQLAlchemy 2.0 typed models: interviews, turns, events, scorecards, annotations.

Changing a model means adding an Alembic migration under ``storage/migrations/versions``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Naive UTC, stored the same way on every database."""
    return datetime.now(UTC).replace(tzinfo=None)


_NUL_ESCAPE = "\ue000"  # a private-use character: NUL is stored as ESCAPE + "0", ESCAPE itself as ESCAPE + "e"
_ESCAPED = re.compile(_NUL_ESCAPE + "([0e])")


class PortableText(TypeDecorator):
    """Text that round-trips any Python string on every database.

    PostgreSQL's text types cannot hold NUL, which a candidate can paste; there, NUL and the escape
    character are stored as two-character escapes (other text is stored as is). SQLite stores the
    string unchanged.
    """

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name != "postgresql" or ("\x00" not in value and _NUL_ESCAPE not in value):
            return value
        return value.replace(_NUL_ESCAPE, _NUL_ESCAPE + "e").replace("\x00", _NUL_ESCAPE + "0")

    def process_result_value(self, value, dialect):
        if value is None or dialect.name != "postgresql" or _NUL_ESCAPE not in value:
            return value
        return _ESCAPED.sub(lambda m: "\x00" if m.group(1) == "0" else _NUL_ESCAPE, value)


class PortableString(PortableText):
    """A bounded :class:`PortableText` (``VARCHAR(n)``)."""

    impl = String  # type: ignore[assignment]  # a bounded Text: VARCHAR(n) where Text is unbounded
    cache_ok = True


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}  # noqa: RUF012 (SQLAlchemy reads it by name)


def snapshot_digest(data: dict[str, Any]) -> str:
    """The key a snapshot is stored under: SHA-256 of its canonical JSON, so equal content is stored once."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


class Snapshot(Base):
    """A problem, persona or rubric as an interview used it, stored once however many interviews share it."""

    __tablename__ = "snapshots"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    """:func:`snapshot_digest` of ``data``."""
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


LISTED_COLUMNS = (
    "id",
    "created_at",
    "status",
    "problem_id",
    "persona_id",
    "title",
    "backend",
    "budget_minutes",
    "turn_count",
    "elapsed_seconds",
    "last_overall",
    "last_recommendation",
)
"""The columns of the history list, in :class:`storage.repository.InterviewSummary`'s order."""


class Interview(Base):
    __tablename__ = "interviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="active")
    """``active`` while it can continue, ``ended`` once closed."""
    problem_id: Mapped[str] = mapped_column(String(64))
    persona_id: Mapped[str] = mapped_column(String(64))
    rubric_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(PortableString(200))
    backend: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(128))
    budget_minutes: Mapped[float] = mapped_column(Float)
    max_turns: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The engine's state after the last interviewer turn."""
    turn_count: Mapped[int] = mapped_column(Integer, default=0)
    last_overall: Mapped[float | None] = mapped_column(Float)
    last_recommendation: Mapped[str | None] = mapped_column(String(64))
    lease_holder: Mapped[str | None] = mapped_column(String(200))
    """The process that has the interview open to continue it (``host:pid``), or None."""
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    """When the lease lapses unless its holder renews it (every write does); a holder that died on
    this machine loses it at once."""
    elapsed_seconds: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    """The interview clock, as in ``state``; a column of its own so listing never parses the state."""
    # Snapshots of the problem (hidden spec included), persona and rubric used, so replay never depends on
    # files that changed; kept in their own table so listing reads small rows. Always set, by
    # create_interview, in the transaction that stores the snapshot. Nullable and without a foreign key
    # because SQLite can add (and drop) such a column on an existing table only that way.
    problem_digest: Mapped[str | None] = mapped_column(String(64))
    persona_digest: Mapped[str | None] = mapped_column(String(64))
    rubric_digest: Mapped[str | None] = mapped_column(String(64))

    problem_snapshot: Mapped[Snapshot] = relationship(
        primaryjoin="foreign(Interview.problem_digest) == Snapshot.digest", lazy="joined", viewonly=True
    )
    persona_snapshot: Mapped[Snapshot] = relationship(
        primaryjoin="foreign(Interview.persona_digest) == Snapshot.digest", lazy="joined", viewonly=True
    )
    rubric_snapshot: Mapped[Snapshot] = relationship(
        primaryjoin="foreign(Interview.rubric_digest) == Snapshot.digest", lazy="joined", viewonly=True
    )

    @property
    def problem(self) -> dict[str, Any]:
        return self.problem_snapshot.data

    @property
    def persona(self) -> dict[str, Any]:
        return self.persona_snapshot.data

    @property
    def rubric(self) -> dict[str, Any]:
        return self.rubric_snapshot.data

    turns: Mapped[list[Turn]] = relationship(
        back_populates="interview", order_by="Turn.seq", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        Index("ix_interviews_created_at", "created_at"),
        # Everything the history list shows: SQLite lists from this index and never reads the rows (their state).
        Index("ix_interviews_listed", *LISTED_COLUMNS),
    )


class Turn(Base):
    __tablename__ = "turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    """1-based position in the interview."""
    role: Mapped[str] = mapped_column(String(16))
    """``interviewer`` or ``candidate``."""
    kind: Mapped[str | None] = mapped_column(String(16))
    """Interviewer turns: opening, answer, probe, what_if, redirect, wrap_up, deflect, acknowledge."""
    text: Mapped[str] = mapped_column(PortableText)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    elapsed_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    """Interview clock when the turn was stored."""
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    """False for a reply cut off mid-stream."""
    moves: Mapped[list[Any] | None] = mapped_column(JSON)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    model: Mapped[str | None] = mapped_column(String(128))
    first_token_ms: Mapped[float | None] = mapped_column(Float)
    total_ms: Mapped[float | None] = mapped_column(Float)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cached_tokens: Mapped[int | None] = mapped_column(Integer)

    interview: Mapped[Interview] = relationship(back_populates="turns")

    __table_args__ = (UniqueConstraint("interview_id", "seq", name="uq_turns_interview_seq"),)


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    turn_seq: Mapped[int | None] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_events_interview", "interview_id", "id"),)


class Scorecard(Base):
    __tablename__ = "scorecards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    rubric_id: Mapped[str] = mapped_column(String(64))
    grader: Mapped[str] = mapped_column(String(128))
    overall: Mapped[float] = mapped_column(Float)
    recommendation: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The full scorecard as JSON."""
    latest: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """The interview's newest grading by this rubric; the progress screen reads only these, newest first."""

    __table_args__ = (
        Index("ix_scorecards_interview", "interview_id", "id"),
        Index("ix_scorecards_latest", "latest", "interview_id", "id"),
    )


class Annotation(Base):
    __tablename__ = "annotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"))
    turn_seq: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(PortableText)
    tag: Mapped[str | None] = mapped_column(PortableString(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_annotations_interview", "interview_id", "turn_seq"),)
