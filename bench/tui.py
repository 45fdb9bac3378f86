"""TUI benchmarks, headless: CPU per streamed chunk with earlier turns on screen (and the same for a
naive chat that re-renders the whole message on every chunk), time to the first screen, memory."""

from __future__ import annotations

import asyncio
import time

from bench.common import Result, temporary_home

CHUNK = "the model streams a few words "
SENTENCE_EVERY = 6
"""Chunks per sentence in the streamed reply."""


def _seed(repo, turns: int) -> int:
    """An interview with ``turns`` stored turns (alternating, with some Markdown), fast."""
    from interviewer.content import ContentLibrary

    library = ContentLibrary()
    problem, persona, rubric = (
        library.problems.get("spam-filter"),
        library.personas.get("mentor"),
        library.rubrics.get("ml-design"),
    )
    interview = repo.create_interview(
        problem=problem.model_dump(mode="json"),
        persona=persona.model_dump(mode="json"),
        rubric=rubric.model_dump(mode="json"),
        backend="offline",
        budget_minutes=600,
        state={"phase": "discussion"},
    )
    for seq in range(turns):
        if seq % 2:
            repo.add_turn(
                interview.id,
                "candidate",
                "I would start with logistic regression on word n-grams because it is cheap to serve, "
                "then move to a small transformer if the latency budget allows it.",
            )
        else:
            repo.add_turn(
                interview.id,
                "interviewer",
                "Good question. **About 400 million** accounts receive roughly 10 billion emails a day.\n\n"
                "- peak near 250,000 emails per second\n- p99 budget of 50 ms",
                kind="answer",
            )
    return interview.id


def _context(repo):
    from interviewer.backends import OfflineBackend
    from interviewer.content import ContentLibrary
    from interviewer.engine.clock import ScriptedClock
    from tui.context import AppContext

    return AppContext(
        repo=repo, library=ContentLibrary(), backend_factory=OfflineBackend, clock_factory=ScriptedClock, live=False
    )


PACE = 1 / 40
"""Seconds between chunks: a brisk model's streaming rate."""


async def _cpu_per_chunk(pilot, write, chunks: int, rounds: int) -> list[float]:
    """CPU milliseconds each chunk costs the app: the process's CPU over a paced stream of chunks,
    minus its CPU over the same time with nothing arriving (Textual's own timers), per chunk."""
    samples = []
    for _ in range(rounds):
        cpu = time.process_time()
        for _ in range(chunks):
            await asyncio.sleep(PACE)
        idle = time.process_time() - cpu
        cpu = time.process_time()
        for index in range(chunks):
            await write(index)
            await asyncio.sleep(PACE)
        await pilot.pause()
        busy = time.process_time() - cpu
        samples.append(max(0.0, (busy - idle) * 1000 / chunks))
    return samples


def _piece(index: int) -> str:
    return CHUNK + (". " if index % SENTENCE_EVERY == SENTENCE_EVERY - 1 else "")


async def _ours(earlier: int, chunks: int, rounds: int) -> list[float]:
    from interviewer.engine.events import ReplyDelta, ReplyDone, ReplyStarted
    from interviewer.services import open_repository
    from tui.app import InterviewerApp
    from tui.screens.interview import InterviewScreen

    repo = open_repository()
    interview_id = _seed(repo, earlier)
    context = _context(repo)
    app = InterviewerApp(context)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await InterviewScreen.resume(context, interview_id)
        await app.push_screen(screen)
        await pilot.pause()
        samples = []
        for _ in range(rounds):
            await screen.handle(ReplyStarted("answer", []))
            await pilot.pause()

            async def write(index: int) -> None:
                await screen.handle(ReplyDelta(_piece(index)))

            samples += await _cpu_per_chunk(pilot, write, chunks, 1)
            await screen.handle(ReplyDone(earlier + 1, "", "answer"))
            await pilot.pause()
    repo.close()
    return samples


async def _naive(earlier: int, chunks: int, rounds: int) -> list[float]:
    """The approach many chat apps take: re-render the whole Markdown message on every chunk."""
    from textual.app import App
    from textual.containers import VerticalScroll
    from textual.widgets import Markdown, Static

    class NaiveChat(App):
        def compose(self):
            with VerticalScroll(id="chat"):
                for seq in range(earlier):
                    yield Static(
                        f"turn {seq}: I would start with logistic regression on word n-grams because it is "
                        "cheap to serve, then move to a small transformer if the budget allows it."
                    )

    app = NaiveChat()
    samples = []
    async with app.run_test(size=(120, 40)) as pilot:
        chat = app.query_one("#chat", VerticalScroll)
        chat.anchor()
        for _ in range(rounds):
            live = Markdown("")
            await chat.mount(live)
            text = []

            async def write(index: int, text=text, live=live) -> None:
                text.append(_piece(index))
                await live.update("".join(text))

            samples += await _cpu_per_chunk(pilot, write, chunks, 1)
    return samples


async def _floor(chunks: int, rounds: int) -> list[float]:
    """The least Textual can do: a one-widget app updating its only Static on every chunk."""
    from textual.app import App
    from textual.widgets import Static

    class Minimal(App):
        def compose(self):
            yield Static("", id="only")

    app = Minimal()
    samples = []
    async with app.run_test(size=(120, 40)) as pilot:
        only = app.query_one("#only", Static)
        for _ in range(rounds):
            text = []

            async def write(index: int, text=text, only=only) -> None:
                text.append(_piece(index))
                only.update("".join(text))

            samples += await _cpu_per_chunk(pilot, write, chunks, 1)
    return samples


def streaming(quick: bool) -> list[Result]:
    chunks, rounds = (30, 2) if quick else (120, 7)
    results = []
    with temporary_home():
        for earlier in (0, 50, 200):
            ours = asyncio.run(_ours(earlier, chunks, rounds))
            results.append(
                Result(
                    f"TUI: CPU per streamed chunk, {earlier} earlier turns",
                    "ms",
                    ours,
                    target=3 if earlier == 200 else None,
                    note=""
                    if earlier
                    else f"{1 / PACE:.0f} chunks/s; app CPU over the stream minus "
                    "its idle CPU, per chunk; one sample per reply",
                )
            )
        naive = asyncio.run(_naive(200, chunks, rounds))
        ratio = sorted(results[-1].samples)[len(results[-1].samples) // 2] / sorted(naive)[len(naive) // 2]
        results.append(Result("TUI: naive re-render of the whole message, 200 earlier turns", "ms", naive))
        results.append(Result("TUI: ours / naive per chunk (200 earlier turns)", "ratio", [ratio]))
        results.append(
            Result(
                "TUI: floor, a one-widget Textual app updating one Static",
                "ms",
                asyncio.run(_floor(chunks, rounds)),
                note="the cost of a single repaint in Textual on this machine, for reference",
            )
        )
    return results


def startup_and_memory(quick: bool) -> list[Result]:
    """First paint and memory of the app in fresh processes, as a user starts it (see bench/startup.py)."""
    from bench.startup import run_app, seed_long_interview, user_environment

    with user_environment() as (env, _):
        painted = [run_app(env, "paint") for _ in range(3 if quick else 10)]
        interview_id = seed_long_interview(200)
        opened = run_app(env, "open", str(interview_id))
    first = [(run["painted"] - run["started"]) * 1000 for run in painted]
    cpu = sorted(run["painted_cpu"] * 1000 for run in painted)[len(painted) // 2]
    home = sorted(run["painted_rss"] for run in painted)[len(painted) // 2]
    return [
        Result(
            "TUI: first paint of the home screen (fresh process)",
            "ms",
            first,
            target=500,
            note=f"from the process's start; its CPU by then p50 {cpu:.0f} ms",
        ),
        Result("TUI: resident memory at the home screen", "MB", [home], note="the app's own process"),
        Result(
            "TUI: resident memory with a 200-turn interview open",
            "MB",
            [opened["opened_rss"]],
            note=f"{opened['opened_rss'] - opened['painted_rss']:+.1f} MB over the home screen",
        ),
    ]
