"""Shared start-up for the CLI and the TUI: the database, the content library, the backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from interviewer import paths

if TYPE_CHECKING:
    from storage import Repository


def open_repository(url: str | None = None) -> Repository:
    """Open (and migrate) the database; errors become :class:`storage.StorageError` with the URL named."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from storage import Repository, StorageError

    url = url or paths.database_url()
    try:
        return Repository.open(url)
    except (ArgumentError, SQLAlchemyError, OSError) as exc:
        shown = hide_password(url)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise StorageError(f"cannot open database {shown}: {reason}") from None


def hide_password(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL has no password to hide worth the risk
        return "<database url>"
