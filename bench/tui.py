"""TUI benchmarks, headless: CPU per streamed chunk on the interview screen of a long interview (against a
naive Markdown.update, Textual's MarkdownStream and the floor of one Static update), time to the first
screen, memory."""

from __future__ import annotations

import asyncio
import re
import statistics
import time

from bench.common import Result, temporary_home

REPLY = (
    "Good question. **About 400 million** accounts receive roughly 10 billion emails a day, peaking near "
    "250,000 emails per second, and each message must be classified before delivery within 50 ms at p99.\n\n"
    "Given that, how would you split the work between a cheap first pass and a heavier model, and what "
    "would you cache per sender so that the p99 holds at the peak? Take a rough guess at the numbers."
)
"""One realistic interviewer reply (the persona's one to four sentences, with some Markdown)."""
TOKENS = re.findall(r"\S+\s*", REPLY)
"""The reply as the app receives it: a model streams about a token per chunk and the guard releases it a
word at a time."""
PACE = 1 / 30
"""Seconds between chunks: a model streaming 30 words a second."""
EARLIER = 200
"""Turns of the interview on screen: the app mounts the latest of them (its history window), as a user
sees it."""


def _seed(repo, turns: int) -> int:
    """An interview with ``turns`` stored turns, as the engine stores them: real content snapshots, the
    interviewer's replies (some with Markdown) and the candidate's answers alternating."""
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
            repo.add_turn(interview.id, "interviewer", REPLY, kind="answer")
    return interview.id


def _context(repo):
    from interviewer.backends import OfflineBackend
    from interviewer.content import ContentLibrary
    from interviewer.engine.clock import ScriptedClock
    from tui.context import AppContext

    return AppContext(
        repo=repo, library=ContentLibrary(), backend_factory=OfflineBackend, clock_factory=ScriptedClock, live=False
    )


async def _cpu_per_chunk(pilot, write, drain) -> float:
    """CPU milliseconds each chunk of one reply costs the app: the process's CPU over the paced stream
    (and whatever the widget still has to draw when it ends), minus its CPU over the same time with
    nothing arriving (Textual's own timers), per chunk."""
    cpu = time.process_time()
    for _ in TOKENS:
        await asyncio.sleep(PACE)
    idle = time.process_time() - cpu
    cpu = time.process_time()
    for index in range(len(TOKENS)):
        await write(index)
        await asyncio.sleep(PACE)
    await drain()
    await pilot.pause()
    busy = time.process_time() - cpu
    return max(0.0, (busy - idle) * 1000 / len(TOKENS))


class _OurReply:
    """The app's own path: the engine's events handed to the interview screen."""

    def __init__(self, screen, seq: int):
        self.screen, self.seq = screen, seq

    async def start(self) -> None:
        from interviewer.engine.events import ReplyStarted

        await self.screen.handle(ReplyStarted("answer", []))

    async def write(self, index: int) -> None:
        from interviewer.engine.events import ReplyDelta

        await self.screen.handle(ReplyDelta(TOKENS[index]))

    async def drain(self) -> None:
        pass

    async def finish(self) -> None:
        from interviewer.engine.events import ReplyDone

        await self.screen.handle(ReplyDone(self.seq, REPLY, "answer"))


class _NaiveReply:
    """What many chat apps do: a Markdown widget given the whole reply again on every chunk."""

    def __init__(self, screen, seq: int):
        self.screen = screen
        self.text = ""

    async def start(self) -> None:
        from textual.widgets import Markdown

        live = self.screen.query_one("#live")
        live.display = True
        self.widget = Markdown("")
        await live.mount(self.widget)

    async def write(self, index: int) -> None:
        self.text += TOKENS[index]
        await self.widget.update(self.text)

    async def drain(self) -> None:
        pass

    async def finish(self) -> None:
        await self.widget.remove()
        self.screen.query_one("#live").display = False


class _StreamedReply(_NaiveReply):
    """Textual's own answer to streaming: ``Markdown.get_stream``, which batches fragments it cannot draw
    in time."""

    async def start(self) -> None:
        from textual.widgets import Markdown

        await super().start()
        self.stream = Markdown.get_stream(self.widget)

    async def write(self, index: int) -> None:
        await self.stream.write(TOKENS[index])

    async def drain(self) -> None:
        await self.stream.stop()  # draws what is still queued


async def _on_interview_screen(reply_kind, rounds: int) -> list[float]:
    """CPU per chunk of ``rounds`` replies streamed into the app's interview screen, showing a
    200-turn interview as a user sees it; ``reply_kind`` draws the reply being streamed."""
    from interviewer.services import open_repository
    from tui.app import InterviewerApp
    from tui.screens.interview import InterviewScreen

    repo = open_repository()
    interview_id = _seed(repo, EARLIER)
    context = _context(repo)
    app = InterviewerApp(context)
    samples = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await InterviewScreen.resume(context, interview_id)
        await app.push_screen(screen)
        await pilot.pause()
        for round_ in range(rounds):
            reply = reply_kind(screen, EARLIER + 1 + round_)
            await reply.start()
            await pilot.pause()
            samples.append(await _cpu_per_chunk(pilot, reply.write, reply.drain))
            await reply.finish()
            await pilot.pause()
    repo.close()
    return samples


async def _floor(rounds: int) -> list[float]:
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
                text.append(TOKENS[index])
                only.update("".join(text))

            async def drain() -> None:
                pass

            samples.append(await _cpu_per_chunk(pilot, write, drain))
    return samples


def streaming(quick: bool) -> list[Result]:
    """CPU per streamed chunk on the interview screen of a 200-turn interview: ours against a naive
    ``Markdown.update`` and Textual's ``MarkdownStream`` on the same screen, and the floor of one Static."""
    from tui.screens.interview import HISTORY_WINDOW

    rounds = 2 if quick else 8
    with temporary_home():
        ours = asyncio.run(_on_interview_screen(_OurReply, rounds))
        naive = asyncio.run(_on_interview_screen(_NaiveReply, rounds))
        streamed = asyncio.run(_on_interview_screen(_StreamedReply, rounds))
        floor = asyncio.run(_floor(rounds))
    p50 = statistics.median
    setting = (
        f"{len(TOKENS)} word-sized chunks at {1 / PACE:.0f}/s per reply, one sample per reply; the "
        f"screen shows the latest {HISTORY_WINDOW} of {EARLIER} turns, as the app does"
    )
    return [
        Result(
            "TUI: CPU per streamed chunk, 200-turn interview",
            "ms",
            ours,
            target=3,
            note=f"{setting}; CPU over the stream minus idle CPU, per chunk",
        ),
        Result("TUI: naive Markdown.update of the whole reply per chunk, same screen", "ms", naive),
        Result("TUI: Textual's MarkdownStream, same screen", "ms", streamed),
        Result(
            "TUI: floor, a one-widget Textual app updating one Static",
            "ms",
            floor,
            note="the cost of a single repaint in Textual on this machine, for reference",
        ),
        Result(
            "TUI: ours / naive per chunk (200-turn interview)",
            "ratio",
            [p50(ours) / p50(naive)],
            note=f"ours / MarkdownStream {p50(ours) / p50(streamed):.2f}, ours / floor {p50(ours) / p50(floor):.2f}",
        ),
    ]


def startup_and_memory(quick: bool) -> list[Result]:
    """First paint and memory of the app in fresh processes, as a user starts it (see bench/startup.py)."""
    from bench.startup import run_app, seed_long_interview, user_environment

    with user_environment() as (env, _):
        painted = [run_app(env, "paint") for _ in range(3 if quick else 10)]
        interview_id = seed_long_interview(200)
        opened = run_app(env, "open", str(interview_id))
    first = [(run["painted"] - run["started"]) * 1000 for run in painted]
    cpu = statistics.median(run["painted_cpu"] * 1000 for run in painted)
    home = statistics.median(run["painted_rss"] for run in painted)
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
