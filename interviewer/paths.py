"""Where the user's config and data live.

One place decides it: ``INTERVIEWER_HOME`` moves everything (tests point it at a temp dir);
otherwise the platform's config and data folders are used.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "interviewer"
HOME_ENV = "INTERVIEWER_HOME"
DB_URL_ENV = "INTERVIEWER_DB_URL"


def _home_override() -> Path | None:
    value = os.environ.get(HOME_ENV, "").strip()
    return Path(value).expanduser() if value else None


def config_dir() -> Path:
    """Folder for settings and the user's own personas, problems and rubrics."""
    home = _home_override()
    if home is not None:
        return home
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """Folder for the database and caches."""
    home = _home_override()
    if home is not None:
        return home
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


CACHE_ENV = "INTERVIEWER_CACHE_DIR"


def cache_dir() -> Path:
    """Folder for what can be rebuilt at any time (embeddings of content texts): ``INTERVIEWER_CACHE_DIR``,
    else inside ``INTERVIEWER_HOME``, else the platform's cache folder."""
    value = os.environ.get(CACHE_ENV, "").strip()
    if value:
        return Path(value).expanduser()
    home = _home_override()
    if home is not None:
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def user_content_dir(kind: str) -> Path:
    """The user's folder for one kind of content: ``personas``, ``problems`` or ``rubrics``."""
    return config_dir() / kind


def builtin_content_dir(kind: str) -> Path:
    """The built-in content folder shipped beside the engine (in the repo and in the wheel)."""
    return Path(__file__).resolve().parent.parent / kind


def database_url() -> str:
    """``INTERVIEWER_DB_URL`` if set, else the SQLite file in the data folder."""
    url = os.environ.get(DB_URL_ENV, "").strip()
    if url:
        return url
    return f"sqlite:///{data_dir() / 'interviewer.db'}"
