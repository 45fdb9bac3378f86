"""The app in a fresh process, started as the ``interviewer`` command starts it, but headless.

Run by bench/startup.py as ``python -m bench.fresh_app MODE [ID]``; prints one JSON object of
``time.perf_counter()`` stamps (the parent's clock too: CLOCK_MONOTONIC), CPU seconds and resident memory:

- ``paint``: the home screen's first paint.
- ``open ID``: then open interview ID (as Resume does) and show all its turns (Ctrl+L).
- ``first-request URL``: then, after a user's short pause, start an interview, send the first message and
  stamp when its request arrives at the fake server.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

PICKING_SECONDS = 1.0
"""A quick user's time from the first screen to starting an interview (press n, pick, Enter)."""


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _stamp(out: dict, name: str) -> None:
    out[name] = time.perf_counter()
    out[f"{name}_cpu"] = time.process_time()
    out[f"{name}_rss"] = _rss_mb()


def _stamp_first_frame(app, out: dict) -> None:
    """Stamp when the home screen's first frame goes to the terminal (headless, Textual renders it and
    its driver writes nothing)."""
    from tui.screens.home import HomeScreen

    display = app._display

    def stamped(screen, renderable) -> None:
        display(screen, renderable)
        if "painted" not in out and isinstance(screen, HomeScreen) and renderable is not None and not app._batch_count:
            _stamp(out, "painted")

    app._display = stamped


async def _painted(pilot, out: dict) -> None:
    while "painted" not in out:
        await pilot.pause(0.001)
    await pilot.app.workers.wait_for_complete()  # the start-up worker, so runs end the same way


async def _open(app, pilot, interview_id: int, out: dict) -> None:
    from tui.screens.interview import InterviewScreen

    start, cpu = time.perf_counter(), time.process_time()
    screen = await InterviewScreen.resume(app.context, interview_id)
    await app.push_screen(screen)
    await pilot.pause()
    out["opened_ms"] = (time.perf_counter() - start) * 1000
    out["opened_cpu_ms"] = (time.process_time() - cpu) * 1000
    _stamp(out, "opened")
    start, cpu = time.perf_counter(), time.process_time()
    await pilot.press("ctrl+l")
    await pilot.pause()
    out["all_turns_ms"] = (time.perf_counter() - start) * 1000
    out["all_turns_cpu_ms"] = (time.process_time() - cpu) * 1000
    out["messages"] = len(screen.query(".message"))


async def _first_request(app, pilot, server_url: str, out: dict) -> None:
    from tui.screens.interview import InterviewScreen
    from tui.widgets import ChatInput

    await asyncio.sleep(PICKING_SECONDS)
    screen = await InterviewScreen.start(
        app.context, problem_id=app.context.library.problems.ids()[0], persona_id="mentor", minutes=45
    )
    app.switch_screen(screen)
    await _until(pilot, lambda: screen.session.opened and not screen.session.pending)
    box = screen.query_one("#input", ChatInput)
    box.load_text("How many users are there, and what is the latency budget?")
    box.focus()
    await pilot.pause()
    out["submitted"] = time.perf_counter()
    await pilot.press("enter")
    for _ in range(WAIT_STEPS):
        # The server may have served earlier runs: the first arrival after Enter is this one.
        if arrivals := [at for at in await asyncio.to_thread(_arrivals, server_url) if at > out["submitted"]]:
            out["request_arrived"] = arrivals[0]
            break
        await pilot.pause(0.005)
    await _until(pilot, lambda: not screen.session.pending)


WAIT_STEPS = 6000


async def _until(pilot, condition) -> None:
    for _ in range(WAIT_STEPS):
        if condition():
            return
        await pilot.pause(0.01)
    raise TimeoutError("the app never got there")


def _arrivals(server_url: str) -> list[float]:
    import urllib.request

    with urllib.request.urlopen(f"{server_url}/_stamps", timeout=5) as response:
        return json.load(response)["arrivals"]


def main(argv: list[str]) -> None:
    from tui.app import launch

    mode = argv[0]
    out: dict = {}
    app = launch()
    _stamp_first_frame(app, out)

    async def drive(pilot) -> None:
        try:
            await _painted(pilot, out)
            if mode == "open":
                await _open(app, pilot, int(argv[1]), out)
            elif mode == "first-request":
                await _first_request(app, pilot, argv[1], out)
        finally:
            app.exit()

    app.run(headless=True, size=(120, 40), auto_pilot=drive)
    app.context.repo.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
