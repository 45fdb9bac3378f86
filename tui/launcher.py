"""The ``interviewer`` command: the CLI, with the full-screen app as its default in a terminal.

It lives here, not in the engine, so that the engine never imports the UI.
"""

from __future__ import annotations

import sys


def _run_app(**options) -> int:
    from tui.app import run

    return run(**options)


def main() -> int:
    from interviewer.cli import main as cli_main

    return cli_main(sys.argv[1:], tui=_run_app)


if __name__ == "__main__":
    sys.exit(main())
