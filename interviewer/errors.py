"""One base for every error a user can act on: the CLI prints it as one line, the TUI as a notice.

Storage never imports the engine, so it keeps its own base, :class:`storage.StorageError`; the CLI and
the TUI catch the two together.
"""

from __future__ import annotations

EXIT_ERROR = 1
EXIT_INVALID = 2


class InterviewerError(Exception):
    """A failure described for the user; ``exit_code`` is what the CLI exits with."""

    exit_code: int = EXIT_ERROR


class InvalidInput(InterviewerError):
    """The user's file, setting or argument is not valid (the message names it)."""

    exit_code = EXIT_INVALID
