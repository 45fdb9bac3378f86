"""Shared pieces of the reliability suite (crash loop, faults, bad input, injection, PostgreSQL,
concurrency, secrets): the API key every LLM test sends, the sweep for it, and the PostgreSQL server
the CI script starts."""

from __future__ import annotations

import os
import re
import uuid
from contextlib import contextmanager
from pathlib import Path

TEST_API_KEY = "sk-reliability-" + "7Q2f9XkL0pWz4VbN8rTj"
"""The key the reliability tests hand to the app (OPENAI_API_KEY). It must never be stored anywhere."""

KEY = TEST_API_KEY.encode()


def files_with_key(roots: list[Path]) -> tuple[int, list[str]]:
    """How many files under ``roots`` were read, and which hold the key (databases read as bytes too)."""
    scanned, found = 0, []
    for root in roots:
        paths = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()] if root.exists() else []
        for path in paths:
            scanned += 1
            if KEY in path.read_bytes():
                found.append(str(path))
    return scanned, found


def llm_env(base_env: dict[str, str], base_url: str, **extra: str) -> dict[str, str]:
    """The environment of a CLI process that talks to the fake server with the test key."""
    env = dict(base_env)
    env.update(
        OPENAI_BASE_URL=base_url,
        OPENAI_API_KEY=TEST_API_KEY,
        INTERVIEWER_MODEL="fake-model",
        INTERVIEWER_GRADER_MODEL="fake-grader",
        INTERVIEWER_ANALYST="offline",
    )
    env.update(extra)
    return env


# ----------------------------------------------------------------------------- PostgreSQL


def pg_url() -> tuple[str | None, str]:
    """The server's URL, or None and the reason there is none."""
    url = os.environ.get("INTERVIEWER_TEST_PG_URL", "").strip()
    if not url:
        return None, "no PostgreSQL server: INTERVIEWER_TEST_PG_URL is not set (.ci/run sets it from .ci/postgres.sh)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return None, "psycopg is not installed (pip install 'psycopg[binary]')"
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(_driver(url), connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any reason the server cannot be used is the skip reason
        return None, f"PostgreSQL at {_hide(url)} is not reachable: {str(exc).splitlines()[0]}"
    return _driver(url), ""


def _driver(url: str) -> str:
    """SQLAlchemy URL with the psycopg (3) driver."""
    return re.sub(r"^postgres(?:ql)?(?:\+\w+)?://", "postgresql+psycopg://", url)


def _hide(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


@contextmanager
def pg_database(url: str):
    """A fresh database of its own on the server (dropped afterwards); yields its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = "itest_" + uuid.uuid4().hex[:12]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
