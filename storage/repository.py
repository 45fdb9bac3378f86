"""The repository API: the one place the engine, the CLI and the TUI read and write the database.

Every write is its own short transaction and is committed before the method returns, so
whatever a caller has been told is stored survives a crash.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from storage import db
from storage.db import StorageError, create_db_engine, migrate
from storage.models import (
    LISTED_COLUMNS,
    Annotation,
    Event,
    Interview,
    Scorecard,
    Snapshot,
    Turn,
    snapshot_digest,
    utcnow,
)

LEASE_SECONDS = 120.0
"""How long an interview stays held by a process that stopped writing to it without closing it (a
holder that died on this machine loses it at once). Every write renews it; a live holder renews it
every :data:`LEASE_RENEW_SECONDS` while it waits for the candidate."""
LEASE_RENEW_SECONDS = 30.0

# A turn's writes run twice per turn: their statements are built once and take every value as a parameter
# (columns to SET come from the parameters' keys), so each call skips building and caching a statement.
_NEXT_SEQ = select(func.coalesce(func.max(Turn.seq), 0) + 1).where(Turn.interview_id == bindparam("b_interview"))
_INSERT_TURN = insert(Turn).returning(Turn.id)
_SET_META = update(Turn).where(Turn.interview_id == bindparam("b_interview"), Turn.seq == bindparam("b_seq"))
_INSERT_EVENTS = insert(Event)
_UPDATE_INTERVIEW = update(Interview).where(Interview.id == bindparam("b_interview"))
_UPDATE_HELD_INTERVIEW = _UPDATE_INTERVIEW.where(Interview.lease_holder == bindparam("b_holder"))
_UPDATES = {
    (held, counted): (_UPDATE_HELD_INTERVIEW if held else _UPDATE_INTERVIEW).values(
        {Interview.turn_count: Interview.turn_count + 1} if counted else {}
    )
    for held in (False, True)
    for counted in (False, True)
}
"""The interview's update, by (this process holds its lease, a turn is added)."""


class NotFound(StorageError, LookupError):
    """No row with that id (the message says which)."""

    def __str__(self) -> str:
        return str(self.args[0])


class InterviewBusy(StorageError):
    """The interview is open in another process (or was taken over by one): this one may not write it."""


def this_process() -> str:
    """The lease holder name of this process: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _holder_gone(holder: str) -> bool:
    """The holder is a process on this machine that no longer runs."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists (another user's) or cannot be asked: assume it runs
        return False
    return False


def _holder_text(holder: str) -> str:
    host, _, pid = holder.rpartition(":")
    return f"process {pid} on this machine" if host == socket.gethostname() else f"process {pid} on {host}"


def describe_database_error(exc: DatabaseError, where: str) -> str:
    """One line for a database failure: what it means for the user, then the driver's words."""
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    lowered = reason.lower()
    if "locked" in lowered or "busy" in lowered:
        what = (
            f"the database is in use by another process and stayed locked for {db.BUSY_TIMEOUT_MS / 1000:g} s; "
            "try again once it is done"
        )
    elif "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        what = "the database is read-only here; check the file's and its folder's permissions"
    elif "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        what = "the database file is damaged; move it aside (a new one is made) or restore a backup"
    elif "full" in lowered or "no space" in lowered:
        what = "the disk is full; free some space and try again"
    else:
        what = "the database failed"
    return f"{where}: {what} ({reason})"


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: str
    payload: dict[str, Any]
    turn_seq: int | None = None


class InterviewSummary(NamedTuple):
    """One row of the history list (a tuple: listing builds thousands)."""

    id: int
    created_at: Any
    status: str
    problem_id: str
    persona_id: str
    title: str
    backend: str
    budget_minutes: float
    turn_count: int
    elapsed_seconds: float
    overall: float | None
    recommendation: str | None


class Repository:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(engine.execution_options(write=True), expire_on_commit=False)
        self._held: dict[int, str] = {}
        """Interviews this repository holds a lease on, with the holder name."""

    @classmethod
    def open(cls, url: str, *, run_migrations: bool = True) -> Repository:
        engine = create_db_engine(url)
        if run_migrations:
            migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def where(self) -> str:
        """The database, as shown in messages (no password)."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """A locked, read-only, damaged or full database becomes one :class:`StorageError` saying so."""
        try:
            yield
        except IntegrityError:
            raise
        except (OperationalError, DatabaseError) as exc:
            raise StorageError(describe_database_error(exc, self.where)) from None

    @contextmanager
    def writing(self) -> Iterator[Session]:
        with self._translated(), self._write.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._translated(), self._read() as session, session.begin():
            yield session

    # ------------------------------------------------------------------ leases

    def acquire_lease(self, interview_id: int, holder: str | None = None, *, now: datetime | None = None) -> None:
        """Hold the interview for this process, or raise :class:`InterviewBusy` naming the holder.

        The lease is free when nobody holds it, when this process holds it, when it lapsed, or when its
        holder was a process on this machine that no longer runs.
        """
        holder = holder or this_process()
        now = now or utcnow()
        with self.writing() as session:
            row = session.execute(
                select(Interview.lease_holder, Interview.lease_expires_at).where(Interview.id == interview_id)
            ).first()
            if row is None:
                raise NotFound(f"no interview with id {interview_id}")
            current, expires = row
            if current and current != holder and expires is not None and expires > now and not _holder_gone(current):
                raise InterviewBusy(
                    f"interview {interview_id} is open in another interviewer ({_holder_text(current)}); "
                    "leave it there first (it is freed as soon as that process ends)"
                )
            session.execute(
                update(Interview)
                .where(Interview.id == interview_id)
                .values(lease_holder=holder, lease_expires_at=now + timedelta(seconds=LEASE_SECONDS))
            )
        self._held[interview_id] = holder

    def renew_lease(self, interview_id: int, *, now: datetime | None = None) -> None:
        """Extend this process's lease; :class:`InterviewBusy` if another process took the interview over."""
        holder = self._held.get(interview_id)
        if holder is None:
            return
        with self.writing() as session:
            self._renew(session, interview_id, holder, now or utcnow())

    def _renew(self, session: Session, interview_id: int, holder: str, now: datetime) -> None:
        result = session.execute(
            update(Interview)
            .where(Interview.id == interview_id, Interview.lease_holder == holder)
            .values(lease_expires_at=now + timedelta(seconds=LEASE_SECONDS))
        )
        if getattr(result, "rowcount", 1) == 0:  # every later write is refused the same way
            self._refuse(interview_id)

    @staticmethod
    def _refuse(interview_id: int) -> None:
        raise InterviewBusy(
            f"interview {interview_id} was opened in another interviewer while this one waited; "
            "nothing more is written here (continue it there)"
        )

    def _check_lease(self, session: Session, interview_id: int, now: datetime) -> None:
        """In a write transaction: renew this process's lease, if it holds one, or refuse the write."""
        holder = self._held.get(interview_id)
        if holder is not None:
            self._renew(session, interview_id, holder, now)

    def _update_held(
        self,
        session: Session | Connection,
        interview_id: int,
        now: datetime,
        values: dict[str, Any],
        *,
        count_turn: bool = False,
    ) -> None:
        """In a write transaction: update the interview (``count_turn``: one more turn) and renew this
        process's lease in one statement, or refuse the write as :meth:`_renew` does if another process
        took the interview over."""
        holder = self._held.get(interview_id)
        params = {"b_interview": interview_id, **values}
        if holder is not None:
            params.update(b_holder=holder, lease_expires_at=now + timedelta(seconds=LEASE_SECONDS))
        result = session.execute(_UPDATES[holder is not None, count_turn], params)
        if holder is not None and getattr(result, "rowcount", 1) == 0:
            self._refuse(interview_id)

    def release_lease(self, interview_id: int) -> None:
        holder = self._held.pop(interview_id, None)
        if holder is None:
            return
        with self.writing() as session:
            session.execute(
                update(Interview)
                .where(Interview.id == interview_id, Interview.lease_holder == holder)
                .values(lease_holder=None, lease_expires_at=None)
            )

    # ------------------------------------------------------------------ interviews

    def create_interview(
        self,
        *,
        problem: dict[str, Any],
        persona: dict[str, Any],
        rubric: dict[str, Any],
        backend: str,
        budget_minutes: float,
        max_turns: int | None = None,
        model: str | None = None,
        state: dict[str, Any] | None = None,
        hold: bool = False,
    ) -> Interview:
        """Store a new interview; with ``hold``, held for this process from the start (see :meth:`acquire_lease`)."""
        holder = this_process() if hold else None
        snapshots = {
            "problem": Snapshot(data=problem),
            "persona": Snapshot(data=persona),
            "rubric": Snapshot(data=rubric),
        }
        for snapshot in snapshots.values():
            snapshot.digest = snapshot_digest(snapshot.data)
        interview = Interview(
            lease_holder=holder,
            lease_expires_at=utcnow() + timedelta(seconds=LEASE_SECONDS) if hold else None,
            problem_id=problem["id"],
            persona_id=persona["id"],
            rubric_id=rubric["id"],
            title=problem["title"],
            problem_digest=snapshots["problem"].digest,
            persona_digest=snapshots["persona"].digest,
            rubric_digest=snapshots["rubric"].digest,
            backend=backend,
            model=model,
            budget_minutes=budget_minutes,
            max_turns=max_turns,
            **_state_values(state or {}),
        )
        with self.writing() as session:
            self._store_snapshots(session, list(snapshots.values()))
            session.add(interview)
        for kind, snapshot in snapshots.items():
            set_committed_value(interview, f"{kind}_snapshot", snapshot)
        if holder is not None:
            self._held[interview.id] = holder
        return interview

    @staticmethod
    def _store_snapshots(session: Session, snapshots: list[Snapshot]) -> None:
        """Store each snapshot unless one with its digest is there already (another interview's)."""
        rows = [{"digest": snapshot.digest, "data": snapshot.data} for snapshot in snapshots]
        if session.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects import postgresql

            session.execute(postgresql.insert(Snapshot).on_conflict_do_nothing(index_elements=["digest"]), rows)
        else:
            from sqlalchemy.dialects import sqlite

            session.execute(sqlite.insert(Snapshot).on_conflict_do_nothing(index_elements=["digest"]), rows)

    def get_interview(self, interview_id: int) -> Interview:
        with self.reading() as session:
            interview = session.get(Interview, interview_id)
            if interview is None:
                raise NotFound(f"no interview with id {interview_id}")
            return interview

    def list_interviews(self, limit: int = 50, offset: int = 0, status: str | None = None) -> list[InterviewSummary]:
        # The columns of ix_interviews_listed, which SQLite reads instead of the rows.
        query = select(*(getattr(Interview, name) for name in LISTED_COLUMNS)).order_by(Interview.id.desc())
        if status:
            query = query.where(Interview.status == status)
        query = query.limit(limit).offset(offset)
        with self.reading() as session:
            return [InterviewSummary._make(row) for row in session.execute(query)]

    def count_interviews(self) -> int:
        with self.reading() as session:
            return session.scalar(select(func.count(Interview.id))) or 0

    def set_state(self, interview_id: int, state: dict[str, Any], *, status: str | None = None) -> None:
        values: dict[str, Any] = {**_state_values(state), "updated_at": utcnow()}
        if status is not None:
            values["status"] = status
            if status == "ended":
                values["ended_at"] = utcnow()
        with self.writing() as session:
            self._update_held(session, interview_id, utcnow(), values)

    def delete_interview(self, interview_id: int) -> None:
        with self.writing() as session:
            interview = session.get(Interview, interview_id)
            if interview is None:
                raise NotFound(f"no interview with id {interview_id}")
            session.delete(interview)

    # ------------------------------------------------------------------ turns

    def add_turn(
        self,
        interview_id: int,
        role: str,
        text: str,
        *,
        kind: str | None = None,
        elapsed_seconds: float = 0.0,
        complete: bool = True,
        moves: list[Any] | None = None,
        meta: dict[str, Any] | None = None,
        usage: dict[str, Any] | None = None,
        state: dict[str, Any] | None = None,
        status: str | None = None,
        events: list[NewEvent] | None = None,
        set_meta: dict[int, dict[str, Any]] | None = None,
    ) -> Turn:
        """Store one turn, committed before returning.

        In the same transaction it can replace the interview's state and status, store events
        (``turn_seq`` None means this turn) and set the meta of earlier turns (``set_meta``).
        Prepared Core statements on the session's connection rather than the ORM: this runs twice per turn.
        """
        usage = usage or {}
        now = utcnow()
        values: dict[str, Any] = {"updated_at": now}
        if state is not None:
            values.update(_state_values(state))
        if status is not None:
            values["status"] = status
            if status == "ended":
                values["ended_at"] = now
        with self.writing() as session:
            conn = session.connection()
            self._update_held(conn, interview_id, now, values, count_turn=True)
            seq = conn.execute(_NEXT_SEQ, {"b_interview": interview_id}).scalar_one()
            row = {
                "interview_id": interview_id,
                "seq": seq,
                "role": role,
                "kind": kind,
                "text": text,
                "created_at": now,
                "elapsed_seconds": elapsed_seconds,
                "complete": complete,
                "moves": moves,
                "meta": meta,
                "model": usage.get("model"),
                "first_token_ms": usage.get("first_token_ms"),
                "total_ms": usage.get("total_ms"),
                "prompt_tokens": usage.get("prompt_tokens"),
                "completion_tokens": usage.get("completion_tokens"),
                "cached_tokens": usage.get("cached_tokens"),
            }
            turn_id = conn.execute(_INSERT_TURN, row).scalar_one()
            for earlier_seq, value in (set_meta or {}).items():
                conn.execute(_SET_META, {"b_interview": interview_id, "b_seq": earlier_seq, "meta": value})
            if events:
                conn.execute(
                    _INSERT_EVENTS,
                    [
                        {
                            "interview_id": interview_id,
                            "turn_seq": seq if item.turn_seq is None else item.turn_seq,
                            "type": item.type,
                            "payload": item.payload,
                            "created_at": now,
                        }
                        for item in events
                    ],
                )
        return Turn(id=turn_id, **row)

    def get_turns(self, interview_id: int) -> list[Turn]:
        with self.reading() as session:
            return list(session.scalars(select(Turn).where(Turn.interview_id == interview_id).order_by(Turn.seq)))

    # ------------------------------------------------------------------ events

    def add_events(self, interview_id: int, events: list[NewEvent], *, state: dict[str, Any] | None = None) -> None:
        """Store events (and, in the same transaction, replace the interview's state)."""
        with self.writing() as session:
            if state is None:
                self._check_lease(session, interview_id, utcnow())
            else:
                self._update_held(session, interview_id, utcnow(), {**_state_values(state), "updated_at": utcnow()})
            for item in events:
                session.add(
                    Event(interview_id=interview_id, turn_seq=item.turn_seq, type=item.type, payload=item.payload)
                )

    def get_events(self, interview_id: int, type: str | None = None) -> list[Event]:
        query = select(Event).where(Event.interview_id == interview_id).order_by(Event.id)
        if type is not None:
            query = query.where(Event.type == type)
        with self.reading() as session:
            return list(session.scalars(query))

    # ------------------------------------------------------------------ scorecards

    def add_scorecard(
        self, interview_id: int, *, rubric_id: str, grader: str, overall: float, recommendation: str, data: dict
    ) -> Scorecard:
        card = Scorecard(
            interview_id=interview_id,
            rubric_id=rubric_id,
            grader=grader,
            overall=overall,
            recommendation=recommendation,
            data=data,
        )
        with self.writing() as session:
            self._check_lease(session, interview_id, utcnow())
            session.execute(
                update(Scorecard)
                .where(Scorecard.interview_id == interview_id, Scorecard.rubric_id == rubric_id, Scorecard.latest)
                .values(latest=False)
            )
            session.add(card)
            session.execute(
                update(Interview)
                .where(Interview.id == interview_id)
                .values(last_overall=overall, last_recommendation=recommendation)
            )
        return card

    def latest_scorecards(self, limit: int = 200) -> list[tuple[int, Any, str, dict]]:
        """The newest grading of each graded interview by each rubric it was graded with, as (interview id,
        date, title, scorecard), oldest interview (then grading) first: the newest ``limit`` of them.

        Reads only those rows, newest first, through ``ix_scorecards_latest``, however many there are."""
        query = (
            select(Interview.id, Interview.created_at, Interview.title, Scorecard.data)
            .join(Interview, Interview.id == Scorecard.interview_id)
            .where(Scorecard.latest)
            .order_by(Scorecard.interview_id.desc(), Scorecard.id.desc())
            .limit(limit)
        )
        with self.reading() as session:
            rows = [(row[0], row[1], row[2], row[3]) for row in session.execute(query)]
        return list(reversed(rows))

    def get_scorecards(self, interview_id: int) -> list[Scorecard]:
        with self.reading() as session:
            return list(
                session.scalars(select(Scorecard).where(Scorecard.interview_id == interview_id).order_by(Scorecard.id))
            )

    # ------------------------------------------------------------------ annotations

    def add_annotation(self, interview_id: int, turn_seq: int, text: str, tag: str | None = None) -> Annotation:
        with self.writing() as session:
            exists = session.scalar(select(Turn.id).where(Turn.interview_id == interview_id, Turn.seq == turn_seq))
            if exists is None:
                raise NotFound(f"interview {interview_id} has no turn {turn_seq}")
            note = Annotation(interview_id=interview_id, turn_seq=turn_seq, text=text, tag=tag)
            session.add(note)
        return note

    def update_annotation(self, annotation_id: int, *, text: str | None = None, tag: str | None = None) -> Annotation:
        with self.writing() as session:
            note = session.get(Annotation, annotation_id)
            if note is None:
                raise NotFound(f"no annotation with id {annotation_id}")
            if text is not None:
                note.text = text
            if tag is not None:
                note.tag = tag or None
            note.updated_at = utcnow()
        return note

    def delete_annotation(self, annotation_id: int) -> None:
        with self.writing() as session:
            result = session.execute(delete(Annotation).where(Annotation.id == annotation_id))
            if getattr(result, "rowcount", 1) == 0:
                raise NotFound(f"no annotation with id {annotation_id}")

    def get_annotations(self, interview_id: int) -> list[Annotation]:
        with self.reading() as session:
            return list(
                session.scalars(
                    select(Annotation)
                    .where(Annotation.interview_id == interview_id)
                    .order_by(Annotation.turn_seq, Annotation.id)
                )
            )


def _state_values(state: dict[str, Any]) -> dict[str, Any]:
    """The interview's columns that store its state: the state, and the clock listing shows."""
    return {"state": state, "elapsed_seconds": float(state.get("elapsed_seconds") or 0.0)}
