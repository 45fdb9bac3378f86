"""The ``interviewer`` command line.

The parser imports nothing heavy; each command imports what it needs when it runs, so
``interviewer --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from interviewer import __version__
from interviewer.errors import EXIT_ERROR, EXIT_INVALID, InterviewerError

EXIT_OK = 0
__all__ = ["EXIT_ERROR", "EXIT_INVALID", "EXIT_OK", "CommandError", "main"]


class CommandError(InterviewerError):
    """A failure of a command to report as one line on stderr, with an exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR):
        super().__init__(message)
        self.exit_code = code

    @property
    def code(self) -> int:
        return self.exit_code


def _positive_minutes(value: str) -> float:
    try:
        minutes = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0 < minutes <= 600:
        raise argparse.ArgumentTypeError("minutes must be more than 0 and at most 600")
    return minutes


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _interview_id(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"an interview id is a number, not {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("an interview id is at least 1")
    return number


def _add_interview_options(parser: argparse.ArgumentParser, *, problem_required: bool) -> None:
    parser.add_argument(
        "--problem", required=problem_required, metavar="ID", help="problem id (see: interviewer problems list)"
    )
    parser.add_argument("--persona", metavar="ID", help="interviewer persona id (default: the persona setting, mentor)")
    parser.add_argument("--rubric", metavar="ID", help="rubric id (default: the rubric setting, ml-design)")
    parser.add_argument(
        "--minutes", type=_positive_minutes, metavar="N", help="time budget (default: the minutes setting, 45)"
    )
    parser.add_argument("--max-turns", type=_positive_int, metavar="N", help="end after this many candidate messages")
    _add_backend_options(parser)


def _add_backend_options(parser: argparse.ArgumentParser, *, voice: bool = True) -> None:
    parser.add_argument(
        "--backend",
        choices=["auto", "offline", "openai"],
        help="auto (default) uses an LLM when an endpoint is configured",
    )
    if voice:
        parser.add_argument("--model", metavar="NAME", help="the interviewer's model (LLM backend)")
    parser.add_argument("--grader-model", metavar="NAME", help="the grader's model (LLM backend)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="interviewer",
        description="Practise ML system design interviews against an LLM interviewer, then get graded.",
        epilog="Run without a command to start an interview in the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"interviewer {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_interview_commands(commands)
    _add_record_commands(commands)
    doctor = commands.add_parser("doctor", help="check the LLM endpoint, the database, the tokenizer and the content")
    _add_backend_options(doctor)
    doctor.set_defaults(handler="doctor:doctor")
    for kind in ("personas", "problems", "rubrics"):
        _add_content_commands(commands, kind)
    return parser


def _add_interview_commands(commands: Any) -> None:
    """Holding an interview: the app, the line-by-line chat, a scripted run, resuming."""
    tui = commands.add_parser("tui", help="open the full-screen app (the default in a terminal)")
    _add_backend_options(tui)
    tui.set_defaults(handler="tui")

    chat = commands.add_parser("chat", help="hold an interview line by line in the terminal")
    _add_interview_options(chat, problem_required=False)
    chat.set_defaults(handler="interviews:chat")

    run = commands.add_parser("run", help="run a scripted interview headless, grade it, store both")
    _add_interview_options(run, problem_required=True)
    run.add_argument(
        "--candidate", required=True, metavar="FILE", help="candidate messages, one per line ('-' for stdin)"
    )
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.set_defaults(handler="interviews:run")

    resume = commands.add_parser("resume", help="continue an unfinished interview in the terminal")
    resume.add_argument("id", type=_interview_id)
    resume.add_argument("--candidate", metavar="FILE", help="continue headless with the messages in FILE")
    resume.add_argument("--json", action="store_true", help="with --candidate: print one JSON object")
    _add_backend_options(resume)
    resume.set_defaults(handler="interviews:resume")


def _add_record_commands(commands: Any) -> None:
    """Stored interviews: list, show, grade again, export."""
    listing = commands.add_parser("list", help="list stored interviews, newest first")
    listing.add_argument("--limit", type=_positive_int, default=50, metavar="N")
    listing.add_argument("--status", choices=["active", "ended"])
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler="listing:list_")

    show = commands.add_parser("show", help="show an interview's transcript and latest scorecard")
    show.add_argument("id", type=_interview_id)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler="interviews:show")

    grade = commands.add_parser("grade", help="grade (or re-grade) a stored interview")
    grade.add_argument("id", type=_interview_id)
    grade.add_argument("--rubric", metavar="ID", help="grade against another rubric")
    _add_backend_options(grade, voice=False)
    grade.add_argument("--json", action="store_true")
    grade.set_defaults(handler="interviews:grade")

    export = commands.add_parser("export", help="export an interview as Markdown or JSON")
    export.add_argument("id", type=_interview_id)
    export.add_argument("--format", choices=["md", "json"], default="md")
    export.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    export.set_defaults(handler="interviews:export")


def _add_content_commands(commands: Any, kind: str) -> None:
    """``interviewer personas|problems|rubrics list|show|validate|lint`` (and ``personas new``)."""
    group = commands.add_parser(kind, help=f"list, show and validate {kind}")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    item_list = actions.add_parser("list", help=f"list available {kind}")
    item_list.add_argument("--json", action="store_true")
    item_list.set_defaults(handler="content:list_", kind=kind)
    item_show = actions.add_parser("show", help="show one, hidden parts included (the author's view)")
    item_show.add_argument("id")
    item_show.add_argument("--json", action="store_true")
    item_show.set_defaults(handler="content:show", kind=kind)
    item_validate = actions.add_parser("validate", help="check files; exit code 2 if any is invalid")
    item_validate.add_argument("files", nargs="+", metavar="FILE")
    item_validate.set_defaults(handler="content:validate", kind=kind)
    item_lint = actions.add_parser("lint", help="check that content makes a good interview; exit code 2 on findings")
    item_lint.add_argument("files", nargs="*", metavar="FILE", help="files to check (default: all available)")
    item_lint.set_defaults(handler="content:lint", kind=kind)
    if kind == "personas":
        new = actions.add_parser("new", help="write a commented persona template into your folder")
        new.add_argument("id")
        new.add_argument("--force", action="store_true", help="overwrite an existing file")
        new.set_defaults(handler="content:new_persona", kind=kind)


TuiRunner = Callable[..., int]


def _resolve(handler: str, tui: TuiRunner | None) -> Callable[[argparse.Namespace], int]:
    if handler == "tui":
        if tui is None:
            raise CommandError("the full-screen app starts with the `interviewer` command")
        return lambda args: tui(backend=args.backend, model=args.model, grader_model=args.grader_model)
    module_name, _, function = handler.partition(":")
    if module_name == "interviews":
        from interviewer.cli import interviews as module
    elif module_name == "listing":
        from interviewer.cli import listing as module  # type: ignore[no-redef]
    elif module_name == "doctor":
        from interviewer.cli import doctor as module  # type: ignore[no-redef]
    else:
        from interviewer.cli import content as module  # type: ignore[no-redef]
    command: Callable[[argparse.Namespace], int] = getattr(module, function)
    return command


def main(argv: Sequence[str] | None = None, *, tui: TuiRunner | None = None) -> int:
    """Run a command. ``tui`` starts the full-screen app; the launcher in the ``tui`` package passes
    it in, so the engine never imports the UI.

    Everything a command prints, on stdout and stderr, passes through the terminal sanitiser: a reply,
    a server's error text or a content file cannot send escape sequences to the terminal.
    """
    from interviewer.terminal import SafeStream

    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            # The full-screen app in a terminal; the line-by-line chat when piped (scripts, CI).
            interactive = tui is not None and sys.stdin.isatty() and sys.stdout.isatty()
            args = parser.parse_args(["tui" if interactive else "chat", *(argv or [])])
        if args.handler == "tui":
            sys.stdout, sys.stderr = streams  # the app draws the screen itself, with its own escapes
        return _run(args, tui)
    finally:
        sys.stdout, sys.stderr = streams


def _run(args: argparse.Namespace, tui: TuiRunner | None) -> int:
    try:
        code = _resolve(args.handler, tui)(args)
        sys.stdout.flush()  # a reader that went away shows up here, where it is handled
        return code
    except BrokenPipeError:
        return _reader_gone()
    except InterviewerError as exc:
        print(f"interviewer: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:
        from storage import StorageError  # a separate package with its own error base

        if not isinstance(exc, StorageError):
            raise
        print(f"interviewer: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\ninterviewer: interrupted; everything you sent is saved", file=sys.stderr)
        return 130


def _reader_gone() -> int:
    """The output's reader closed it (``interviewer ... | head``): stop quietly.

    What is still buffered for stdout goes nowhere, so the flush at exit cannot fail a second time.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ else 1)
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
