"""Candidate scripts for headless runs: one message per line, or a JSON object per line.

A line that starts with ``{`` must be a JSON object with a string ``text`` (for multi-line
messages); any other non-blank line is the message itself. Blank lines are skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

from interviewer.errors import InvalidInput
from interviewer.files import FileTooLarge, read_limited, read_stream_limited

MAX_SCRIPT_BYTES = 50_000_000


class ScriptError(InvalidInput):
    def __init__(self, path: Path | str, message: str, line: int | None = None):
        self.path = Path(path)
        self.line = line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")


def parse_candidate_script(source: str, path: Path | str = "<script>") -> list[str]:
    messages: list[str] = []
    # Only a newline ends a line (str.splitlines would also split on form feeds, U+2028 and the like).
    for number, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("{"):
            try:
                data = json.loads(stripped)
            except (ValueError, RecursionError) as exc:  # ValueError: also integers too long to convert
                if isinstance(exc, json.JSONDecodeError):
                    message = exc.msg
                elif isinstance(exc, RecursionError):
                    message = "nested too deeply"
                else:
                    message = str(exc).splitlines()[0][:200]
                raise ScriptError(path, f"invalid JSON: {message}", number) from None
            if not isinstance(data, dict) or not isinstance(data.get("text"), str):
                raise ScriptError(path, 'a JSON line must be an object with a string "text"', number)
            if not data["text"].strip():
                raise ScriptError(path, 'field "text" is empty', number)
            messages.append(data["text"])
        else:
            messages.append(line.rstrip("\r"))
    return messages


def read_candidate_script(path: Path | str) -> list[str]:
    path = Path(path)
    try:
        raw = read_limited(path, MAX_SCRIPT_BYTES) if str(path) != "-" else _stdin_bytes()
    except FileTooLarge as exc:
        raise ScriptError(path, str(exc)) from None
    except OSError as exc:
        raise ScriptError(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScriptError(path, f"not valid UTF-8 (byte {exc.start})", raw[: exc.start].count(b"\n") + 1) from None
    messages = parse_candidate_script(source, path)
    if not messages:
        raise ScriptError(path, "no candidate messages in the file")
    return messages


def _stdin_bytes() -> bytes:
    import sys

    return read_stream_limited(sys.stdin.buffer, MAX_SCRIPT_BYTES)
