"""What the app remembers between runs (the theme), in a small file beside the settings."""

from __future__ import annotations

import json
from pathlib import Path

from interviewer import paths

FILE = "tui.json"


def _path() -> Path:
    return paths.config_dir() / FILE


def load() -> dict:
    """The saved preferences; empty when there are none or the file cannot be read."""
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(**values: str) -> str | None:
    """Merge ``values`` into the saved preferences; returns an error message when they cannot be written."""
    path = _path()
    data = {**load(), **values}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        return f"cannot save preferences to {path}: {exc.strerror or exc}"
    return None
