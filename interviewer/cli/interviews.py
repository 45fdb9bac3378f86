"""Interview commands: ``run``, ``chat``, ``resume``, ``show``, ``grade``, ``export`` (``list`` is in listing.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import TextIO, TypeVar

from interviewer import paths
from interviewer.backends import Backend, get_backend
from interviewer.cli import EXIT_ERROR, EXIT_OK, CommandError
from interviewer.config import Settings, load_settings
from interviewer.content.loader import ContentLibrary
from interviewer.engine.clock import ScriptedClock, WallClock
from interviewer.engine.events import CandidateTurnStored, EngineError, EngineEvent, Notice, ReplyDelta, ReplyDone
from interviewer.engine.session import InterviewSession, SessionError
from interviewer.export import display_safe, find_rubric, interview_json, interview_markdown, scorecard_markdown
from interviewer.grading import grade_interview
from interviewer.services import open_repository
from interviewer.stages import STAGES
from interviewer.terminal import json_text
from interviewer.vocabulary import depth_mark, depth_name
from storage import StorageError

T = TypeVar("T")


def _settings(args: argparse.Namespace) -> Settings:
    """The settings, with the command line's flags on top."""
    flags = ("backend", "model", "grader_model", "persona", "rubric", "minutes")
    return load_settings(**{name: getattr(args, name, None) for name in flags})


def _backend(args: argparse.Namespace) -> Backend:
    settings = _settings(args)
    return get_backend(settings.chosen_backend, settings)


def _content(args: argparse.Namespace, *, surprise: bool = False):
    settings = _settings(args)
    library = ContentLibrary()
    for kind in ("problems", "personas", "rubrics"):
        for error in library.catalog(kind).errors:
            print(f"warning: skipped {error}", file=sys.stderr)
    problem_id = args.problem
    if problem_id is None:
        if not surprise or not library.problems.items:
            raise CommandError("no problem given (use --problem ID; see `interviewer problems list`)")
        problem_id = random.choice(library.problems.ids())
    problem = library.problems.get(problem_id)
    persona = library.personas.get(settings.persona)
    rubric = library.rubrics.get(settings.rubric)
    return problem, persona, rubric


# ----------------------------------------------------------------------------- driving a session


class WordWrap:
    """Streamed text folded at word boundaries to the terminal's width (the terminal would cut words in two)."""

    def __init__(self, width: int):
        self.width = max(20, width)
        self.column = 0
        self._word = ""
        self._space = False

    def start(self, prefix: str) -> str:
        """A new line that begins with ``prefix``."""
        self.column, self._word, self._space = len(prefix), "", False
        return prefix

    def feed(self, text: str) -> str:
        out: list[str] = []
        for char in text:
            if char == "\n":
                out += [self._flush(), "\n"]
                self.column, self._space = 0, False
            elif char.isspace():
                out.append(self._flush())
                self._space = self._space or self.column > 0
            else:
                self._word += char
        return "".join(out)

    def finish(self) -> str:
        return self._flush()

    def _flush(self) -> str:
        word, self._word = self._word, ""
        if not word:
            return ""
        lead = " " if self._space else ""
        self._space = False
        if self.column and self.column + len(lead) + len(word) > self.width:
            self.column = len(word)
            return "\n" + word
        self.column += len(lead) + len(word)
        return lead + word


def terminal_width() -> int:
    """Columns to fold at: the terminal's width less one (a full line would make some terminals wrap twice)."""
    import shutil

    return shutil.get_terminal_size((80, 24)).columns - 1


class Printer:
    """Shows the event stream on a terminal: replies streamed as they come (folded at word boundaries to the
    terminal's width), or whole turns."""

    def __init__(self, out: TextIO, *, stream: bool, name: str):
        self.out = out
        self.stream = stream
        self.name = name
        self._open = False
        self.wrap = WordWrap(terminal_width())
        self.unsent: str | None = None
        """The candidate message being sent, until the engine says it is stored."""

    def turn(self, who: str, text: str) -> None:
        """A whole message, folded like a streamed one."""
        self.out.write("\n" + self.wrap.start(f"{who}: ") + self.wrap.feed(display_safe(text)) + self.wrap.finish())
        self.out.write("\n")

    def __call__(self, event: EngineEvent) -> None:
        if isinstance(event, CandidateTurnStored):
            self.unsent = None
        if isinstance(event, ReplyDelta) and self.stream:
            if not self._open:
                self.out.write("\n" + self.wrap.start(f"{self.name}: "))
                self._open = True
            self.out.write(self.wrap.feed(display_safe(event.text)))
            self.out.flush()
        elif isinstance(event, ReplyDone):
            if self.stream:
                if self._open:
                    self.out.write(self.wrap.finish() + "\n")
                else:
                    self.turn(self.name, event.text)
            else:
                self.out.write(f"\n{self.name} [{event.kind}]: {display_safe(event.text)}\n")
            self._open = False
            self.out.flush()
        elif isinstance(event, EngineError):
            self.out.write(f"\n[error] {display_safe(event.message)}\n")
            self.out.flush()
        elif isinstance(event, Notice):
            self.out.write(f"\n[notice] {event.message}\n")
            self.out.flush()


HEADLESS_RETRIES = 2
"""A headless run retries a failed reply this many times before it stops."""


async def _consume(events, show) -> str | None:
    """Show every event; return the error message if the reply failed."""
    error = None
    async for event in events:
        show(event)
        if isinstance(event, EngineError):
            error = event.message
    return error


async def _until_replied(session: InterviewSession, first_error: str | None, show) -> None:
    error = first_error
    for _ in range(HEADLESS_RETRIES):
        if not session.pending:
            return
        error = await _consume(session.respond(), show) or error
    if session.pending:
        raise CommandError(
            f"the interviewer's reply failed: {error}. Everything so far is saved; "
            f"continue with `interviewer resume {session.interview_id}`"
        )


async def _play_script(session: InterviewSession, messages: list[str], show) -> int:
    """Send the scripted messages until the interview ends; returns how many were not used."""
    await _consume(session.open(), show)
    await _until_replied(session, None, show)
    used = 0
    for text in messages:
        if session.finished:
            break
        used += 1
        if text.strip():
            await _until_replied(session, await _consume(session.submit(text), show), show)
    if not session.finished:
        await _consume(session.end("candidate script ended"), show)
    return len(messages) - used


def _grade(repo, interview_id: int, backend: Backend, rubric=None):
    return asyncio.run(_closing(backend, grade_interview(repo, interview_id, backend.grader(), rubric)))


async def _closing(backend: Backend, work: Awaitable[T]) -> T:
    """Run ``work``, then close the backend's connections (in the event loop that opened them)."""
    try:
        return await work
    finally:
        await backend.aclose()


async def _play_and_grade(session: InterviewSession, backend: Backend, messages: list[str], show):
    """One event loop for the whole run: the LLM client's connections belong to it."""
    unused = await _play_script(session, messages, show)
    card = await grade_interview(session.repo, session.interview_id, backend.grader())
    return unused, card


def _print_scorecard(card: dict, out: TextIO | None = None) -> None:
    lines = scorecard_markdown(card, find_rubric(card["rubric_id"]))
    (out or sys.stdout).write("\n" + "\n".join(lines) + "\n")


def _headless(args: argparse.Namespace, session: InterviewSession, backend: Backend, messages: list[str]) -> int:
    repo = session.repo
    show = Printer(sys.stdout, stream=False, name=session.persona.name) if not args.json else (lambda event: None)
    unused, card = asyncio.run(_closing(backend, _play_and_grade(session, backend, messages, show)))
    if args.json:
        data = interview_json(repo, session.interview_id, scorecard=card.model_dump(mode="json"), include_history=False)
        data["unused_candidate_messages"] = unused
        print(json_text(data))
    else:
        if unused:
            print(f"\n({unused} scripted message(s) unused: the interview ended first)")
        _print_scorecard(card.model_dump(mode="json"))
        print(f"\nStored as interview {session.interview_id}.")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    from interviewer.script import read_candidate_script

    problem, persona, rubric = _content(args)
    messages = read_candidate_script(args.candidate)
    backend = _backend(args)
    repo = open_repository()
    session = InterviewSession.start(
        repo,
        problem=problem,
        persona=persona,
        rubric=rubric,
        backend=backend,
        minutes=_settings(args).minutes,
        max_turns=args.max_turns,
        clock=ScriptedClock(),
    )
    try:
        return _headless(args, session, backend, messages)
    finally:
        _let_go(session)


# ----------------------------------------------------------------------------- interactive

HELP = """Commands: /end finishes and grades the interview, /quit leaves it to resume later, \
/time shows the clock, /agenda the stages, /help this text. End a line with \\ to continue it."""


def _read_message(prompt: str) -> str | None:
    """One message from stdin; a line ending in a backslash continues on the next. None at end of input."""
    interactive = sys.stdin.isatty()
    lines: list[str] = []
    while True:
        try:
            line = input(prompt if interactive else "") if interactive else sys.stdin.readline()
        except EOFError:
            return "\n".join(lines) if lines else None
        if not interactive:
            if line == "":
                return "\n".join(lines) if lines else None
            line = line.rstrip("\n")
        if line.endswith("\\"):
            lines.append(line[:-1])
            prompt = "... "
            continue
        lines.append(line)
        return "\n".join(lines)


def say(text: str) -> None:
    """Print text folded at word boundaries to the terminal's width, each line's indent kept."""
    import textwrap

    width = terminal_width()
    for line in text.split("\n"):
        indent = line[: len(line) - len(line.lstrip())]
        folded = textwrap.fill(line, width, subsequent_indent=indent + "  " if indent else "", break_long_words=False)
        print(folded)


def _agenda(session: InterviewSession) -> str:
    coverage = session.state.coverage()
    return "\n".join(
        f"  {depth_mark(coverage[s.id])} {s.name} ({depth_name(coverage[s.id])}): {s.summary}" for s in STAGES
    )


def _interactive(session: InterviewSession, backend: Backend) -> int:
    try:
        return asyncio.run(_closing(backend, _interactive_loop(session, backend)))
    finally:
        _let_go(session)


def _let_go(session: InterviewSession) -> None:
    """Release the interview for other processes; a database that fails now changes nothing (the lease
    lapses by itself once this process ends)."""
    with contextlib.suppress(StorageError):
        session.close()


async def _keep_holding(session: InterviewSession) -> None:
    """Renew the hold on the interview while the candidate thinks and types."""
    from storage.repository import LEASE_RENEW_SECONDS

    while True:
        await asyncio.sleep(LEASE_RENEW_SECONDS)
        try:
            await asyncio.to_thread(session.keep)
        except StorageError:
            return  # the next write says what is wrong


def keep_unsent(text: str, interview_id: int) -> Path | None:
    """Write a message that could not be stored to a file of its own; its path, or None if no folder
    would take it (a full disk)."""
    import os
    import tempfile

    name = f"unsent-interview-{interview_id}-{os.getpid()}-{abs(hash(text)) % 10**8}.txt"
    for folder in (paths.data_dir() / "unsent", Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / name
            target.write_text(text, encoding="utf-8")
            return target
        except OSError:
            continue
    return None


def _storage_failed(session: InterviewSession, exc: StorageError, text: str | None) -> int:
    """The database failed mid-interview: one message, and the candidate's words kept."""
    print(f"\ninterviewer: {exc}", file=sys.stderr)
    if text is not None and text.strip():
        kept = keep_unsent(text, session.interview_id)
        if kept is not None:
            print(f"interviewer: your last message was not stored; it is kept in {kept}", file=sys.stderr)
        else:
            print(
                "interviewer: your last message was not stored, and no file would take it; here it is:", file=sys.stderr
            )
            print(text, file=sys.stderr)
    else:
        print("interviewer: everything you sent is stored.", file=sys.stderr)
    print(
        f"interviewer: continue with `interviewer resume {session.interview_id}` once the database works again.",
        file=sys.stderr,
    )
    return EXIT_ERROR


async def _interactive_loop(session: InterviewSession, backend: Backend) -> int:
    show = Printer(sys.stdout, stream=True, name=session.persona.name)
    say(f"Interview {session.interview_id}: {session.problem.title}")
    say(f"Interviewer: {session.persona.name}, {session.persona.role}. Engine: {backend.label}.")
    say(HELP)
    earlier = session.repo.get_turns(session.interview_id)
    if earlier:
        print(f"\nThe interview so far ({len(earlier)} turn(s)):")
        for turn in earlier:
            show.turn("you" if turn.role == "candidate" else session.persona.name, turn.text)
        print("\n(continuing)")
    holding = asyncio.create_task(_keep_holding(session))
    try:
        return await _conversation(session, backend, show)
    finally:
        holding.cancel()


async def _conversation(session: InterviewSession, backend: Backend, show: Printer) -> int:
    try:
        await _consume(session.open(), show)
        if session.pending:
            await _consume(session.respond(), show)
        left = await _exchange(session, show)
    except StorageError as exc:
        return _storage_failed(session, exc, show.unsent)
    if left:
        return EXIT_OK
    print("\nGrading...")
    card = await grade_interview(session.repo, session.interview_id, backend.grader())
    _print_scorecard(card.model_dump(mode="json"))
    say(f"\nStored as interview {session.interview_id}. Replay it with `interviewer show {session.interview_id}`.")
    return EXIT_OK


async def _exchange(session: InterviewSession, show: Printer) -> bool:
    """Read and send messages until the interview ends (False) or the candidate leaves it (True)."""
    while not session.finished:
        face = session.clockface()
        prompt = f"\nyou ({face.minutes_left:.0f} min left)> "
        if session.pending:
            prompt = "\n[the last reply failed: press Enter to retry, or /quit] > "
        text = await asyncio.to_thread(_read_message, prompt)
        if text is None or text.strip() == "/quit":
            say(
                f"\nLeft interview {session.interview_id}; continue it with `interviewer resume {session.interview_id}`."
            )
            return True
        command = text.strip()
        if command == "/help":
            say(HELP)
            continue
        if command == "/time":
            print(f"{face.minutes_left:.1f} of {session.budget_minutes:g} minutes left")
            continue
        if command == "/agenda":
            say(_agenda(session))
            continue
        try:
            if command == "/end":
                await _consume(session.end(), show)
            elif session.pending:
                await _consume(session.respond(), show)
            elif command:
                show.unsent = text
                await _consume(session.submit(text), show)
        except SessionError as exc:
            print(f"[{exc}]")
        show.unsent = None
    return False


def chat(args: argparse.Namespace) -> int:
    problem, persona, rubric = _content(args, surprise=True)
    backend = _backend(args)
    repo = open_repository()
    session = InterviewSession.start(
        repo,
        problem=problem,
        persona=persona,
        rubric=rubric,
        backend=backend,
        minutes=_settings(args).minutes,
        max_turns=args.max_turns,
        clock=WallClock(),
    )
    return _interactive(session, backend)


def resume(args: argparse.Namespace) -> int:
    repo = open_repository()
    backend = _backend(args)
    headless = args.candidate is not None
    session = InterviewSession.load(repo, args.id, backend, clock=ScriptedClock() if headless else WallClock())
    try:
        return _resume(args, session, backend)
    finally:
        _let_go(session)


def _resume(args: argparse.Namespace, session: InterviewSession, backend: Backend) -> int:
    repo, headless = session.repo, args.candidate is not None
    if session.finished and not repo.get_scorecards(args.id):
        # It ended but was never graded (the process stopped during grading): finish that.
        return _grade_unfinished(args, session, backend)
    if session.finished:
        raise CommandError(
            f"interview {args.id} has ended; see it with `interviewer show {args.id}` "
            f"or grade it again with `interviewer grade {args.id}`"
        )
    if headless:
        from interviewer.script import read_candidate_script

        return _headless(args, session, backend, read_candidate_script(args.candidate))
    return _interactive(session, backend)


def _grade_unfinished(args: argparse.Namespace, session: InterviewSession, backend: Backend) -> int:
    unused = 0
    if args.candidate is not None:
        from interviewer.script import read_candidate_script

        unused = len(read_candidate_script(args.candidate))
    if not args.json:
        print(f"Interview {session.interview_id} ended before it was graded; grading it now.")
    card = _grade(session.repo, session.interview_id, backend)
    if args.json:
        data = interview_json(
            session.repo, session.interview_id, scorecard=card.model_dump(mode="json"), include_history=False
        )
        data["unused_candidate_messages"] = unused
        print(json_text(data))
    else:
        _print_scorecard(card.model_dump(mode="json"))
        print(f"\nStored as interview {session.interview_id}.")
    return EXIT_OK


# ----------------------------------------------------------------------------- history


def show(args: argparse.Namespace) -> int:
    repo = open_repository()
    if args.json:
        print(json_text(interview_json(repo, args.id), indent=2))
    else:
        print(interview_markdown(repo, args.id), end="")
    return EXIT_OK


def grade(args: argparse.Namespace) -> int:
    repo = open_repository()
    interview = repo.get_interview(args.id)
    if interview.status == "active":
        print(
            f"warning: interview {args.id} is still in progress; grading what has been said so far "
            f"(it stays open: `interviewer resume {args.id}` continues it)",
            file=sys.stderr,
        )
    rubric = ContentLibrary().rubrics.get(args.rubric) if args.rubric else None
    card = _grade(repo, args.id, _backend(args), rubric)
    data = card.model_dump(mode="json")
    if args.json:
        print(json_text(data))
    else:
        _print_scorecard(data)
    return EXIT_OK


def export(args: argparse.Namespace) -> int:
    repo = open_repository()
    if args.format == "json":
        text = json_text(interview_json(repo, args.id), indent=2) + "\n"
    else:
        text = interview_markdown(repo, args.id)
    if args.output:
        path = Path(args.output)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
        print(f"Wrote {path}")
    else:
        sys.stdout.write(text)
    return EXIT_OK
