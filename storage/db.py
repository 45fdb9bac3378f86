"""Opening the database: engine, SQLite pragmas, write transactions, migrations at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
HEAD_REVISION = "0003"
"""The newest migration; a test checks it against Alembic's own view of the scripts."""

BUSY_TIMEOUT_MS = 15_000


class StorageError(Exception):
    """The database cannot be opened or migrated; the message says which and why."""


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours to emit (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: a committed transaction survives a crash of the process.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that upgrades to a writer
        # fails at once with SQLITE_BUSY under WAL instead of waiting for the busy timeout.
        if connection.get_execution_options().get("write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def create_db_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
        _sqlite_setup(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return str(revision) if revision is not None else None
    except (OperationalError, ProgrammingError):
        return None


def migrate(engine: Engine, *, use_alembic_on_empty: bool = False) -> None:
    """Bring the schema to the newest revision; cheap when it is already there.

    An empty database gets the current schema in one step and is stamped at the head
    revision (Alembic's documented way to build a new database); a database at an older
    revision is upgraded by the migration scripts. A test checks that both paths give the
    same schema.
    """
    if current_revision(engine) == HEAD_REVISION:
        return
    with engine.execution_options(write=True).begin() as conn:
        if conn.dialect.name == "postgresql":
            # Serialise concurrent first starts on one database.
            conn.execute(text("SELECT pg_advisory_xact_lock(7346211)"))
        revision = _revision_in(conn)
        if revision == HEAD_REVISION:
            return  # another process finished while we waited for the lock
        if revision is None and not use_alembic_on_empty and not inspect(conn).get_table_names():
            from storage.models import Base

            Base.metadata.create_all(conn)
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": HEAD_REVISION})
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def _revision_in(conn: Any) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(revision) if revision is not None else None
