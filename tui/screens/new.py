"""New interview: pick a problem (or be surprised), a persona and a length; it starts at once."""

from __future__ import annotations

import random

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Header, Label, Select, Static

from interviewer.errors import InterviewerError
from storage import StorageError
from tui.safe import plain
from tui.screens.base import AppScreen

SURPRISE = "__surprise__"
LENGTHS = [15, 30, 45, 60, 90]


class NewInterviewScreen(AppScreen):
    BINDINGS = [("escape", "app.pop_screen", "Back"), ("ctrl+s", "start", "Start")]

    def __init__(self, persona: str | None = None):
        super().__init__()
        self.persona_id = persona

    def compose(self) -> ComposeResult:
        library = self.app.context.library
        problems = [(SURPRISE, "Surprise me")] + [
            (p.model.id, f"{p.model.title}  [{p.model.difficulty}; {', '.join(p.model.tags[:3])}]")
            for p in sorted(library.problems.items.values(), key=lambda p: p.model.title)
        ]
        personas = [
            (p.model.id, f"{p.model.name}: {p.model.description}")
            for p in sorted(library.personas.items.values(), key=lambda p: p.model.name)
        ]
        settings = self.app.context.settings
        known = library.personas.items
        default_persona = self.persona_id or (settings.persona if settings.persona in known else personas[0][0])
        lengths = sorted({*LENGTHS, settings.minutes})
        yield Header()
        with VerticalScroll(id="new"):
            yield Label("Problem", classes="field-label")
            yield Select(
                [(plain(label), value) for value, label in problems], value=SURPRISE, allow_blank=False, id="problem"
            )
            yield Label("Interviewer", classes="field-label")
            yield Select(
                [(plain(label), value) for value, label in personas],
                value=default_persona,
                allow_blank=False,
                id="persona",
            )
            yield Label("Length", classes="field-label")
            yield Select(
                [(f"{m:g} minutes", m) for m in lengths], value=settings.minutes, allow_blank=False, id="minutes"
            )
            yield Static(plain(f"Engine: {self.app.context.backend.label}"), id="engine")
            with Horizontal(classes="buttons"):
                yield Button("Start", id="start", variant="primary")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        # The first choice has the focus, so Enter opens the problem list rather than starting at once.
        self.query_one("#problem", Select).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_start()

    def action_start(self) -> None:
        context = self.app.context
        problem_id = str(self.query_one("#problem", Select).value)
        if problem_id == SURPRISE:
            problem_id = random.choice(context.library.problems.ids())
        persona_id = str(self.query_one("#persona", Select).value)
        minutes = float(self.query_one("#minutes", Select).value)  # type: ignore[arg-type]
        self.begin(problem_id, persona_id, minutes)

    @work(exclusive=True, group="start-interview")
    async def begin(self, problem_id: str, persona_id: str, minutes: float) -> None:
        from tui.screens.interview import InterviewScreen

        try:
            screen = await InterviewScreen.start(
                self.app.context, problem_id=problem_id, persona_id=persona_id, minutes=minutes
            )
        except (InterviewerError, StorageError) as exc:
            self.notify(f"Cannot start the interview: {exc}", severity="error", timeout=10)
            return
        self.app.switch_screen(screen)
