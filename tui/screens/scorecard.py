"""The scorecard: per-dimension scores with rationale and evidence that jumps to its turn."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, ListItem, ListView, Select, Static

from tui.modals import BusyDialog, ExportDialog, RegradeDialog
from tui.screens.base import AppScreen

SCORE_STYLES = {1: "bold red", 2: "bold yellow", 3: "bold green", 4: "bold bright_green"}


def score_bar(score: int) -> Text:
    text = Text()
    text.append("■" * score, style=SCORE_STYLES.get(score, ""))
    text.append("□" * (4 - score), style="dim")
    text.append(f" {score}/4", style="bold")
    return text


class EvidenceItem(ListItem):
    def __init__(self, turn: int, dimension: str, quote: str):
        label = Text()
        label.append(f"turn {turn}  ", style="bold")
        label.append(f"{dimension}: ", style="dim")
        label.append(f"“{quote}”")
        super().__init__(Static(label))
        self.turn = turn


class ScorecardScreen(AppScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("v", "replay", "Replay"),
        Binding("r", "regrade", "Grade again"),
        Binding("x", "export", "Export"),
    ]

    def __init__(self, interview_id: int, card_id: int | None = None):
        super().__init__()
        self.interview_id = interview_id
        self.card_id = card_id
        self.rubric_id: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="card-top"):
            yield Static("", id="summary")
            yield Select([], prompt="Gradings", id="gradings", allow_blank=True)
        with VerticalScroll(id="card"):
            yield Static("", id="dimensions")
            yield Static(Text("Evidence (Enter jumps to the turn)", style="bold"), classes="section")
            yield ListView(id="evidence")
            yield Static("", id="feedback")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Scorecard: interview {self.interview_id}"
        self.load()

    @work(exclusive=True, group="scorecard")
    async def load(self) -> None:
        repo = self.app.context.repo
        interview = await asyncio.to_thread(repo.get_interview, self.interview_id)
        self.sub_title = interview.title
        self.rubric_id = interview.rubric_id
        cards = await asyncio.to_thread(repo.get_scorecards, self.interview_id)
        picker = self.query_one("#gradings", Select)
        if not cards:
            self.query_one("#summary", Static).update("Not graded yet. Press r to grade this interview.")
            picker.display = False
            return
        options = [
            (f"{c.created_at:%Y-%m-%d %H:%M}  {c.overall:.2f}  {c.rubric_id}  ({c.grader})", c.id)
            for c in reversed(cards)
        ]
        chosen = next((c for c in cards if c.id == self.card_id), cards[-1])
        self.card_id = chosen.id
        with picker.prevent(Select.Changed):
            picker.set_options(options)
            picker.value = chosen.id
        picker.display = len(cards) > 1
        self.show(chosen.data, chosen.created_at)

    def show(self, card: dict, created_at) -> None:
        summary = Text()
        summary.append(f"{card['overall']:.2f} / 4  ", style="bold")
        summary.append(card["recommendation"].upper(), style="bold reverse")
        summary.append(
            f"\nrubric {card['rubric_id']} · grader {card['grader']} · {created_at:%Y-%m-%d %H:%M}", style="dim"
        )
        if card.get("dropped_quotes"):
            summary.append(f" · {card['dropped_quotes']} unverifiable quote(s) dropped", style="dim")
        if card.get("disagreement"):
            summary.append(f"\nFlagged: {card['disagreement']}", style="bold yellow")
        self.query_one("#summary", Static).update(summary)

        dims = Text()
        for dimension in card["dimensions"]:
            dims.append_text(score_bar(dimension["score"]))
            dims.append(f"  {dimension['name'] or dimension['id']}\n", style="bold")
            dims.append(f"{dimension['rationale']}\n\n")
        self.query_one("#dimensions", Static).update(dims)

        evidence = self.query_one("#evidence", ListView)
        evidence.clear()
        items = [
            EvidenceItem(item["turn"], dimension["name"] or dimension["id"], item["quote"])
            for dimension in card["dimensions"]
            for item in dimension["evidence"]
        ]
        if items:
            evidence.extend(items)
        evidence.display = bool(items)

        feedback = Text()
        if card.get("strengths"):
            feedback.append("Strengths\n", style="bold green")
            for line in card["strengths"]:
                feedback.append(f"• {line}\n")
        if card.get("improvements"):
            feedback.append("\nTo improve\n", style="bold yellow")
            for line in card["improvements"]:
                feedback.append(f"• {line}\n")
        for note in card.get("notes") or []:
            feedback.append(f"\n{note}", style="dim")
        self.query_one("#feedback", Static).update(feedback)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "gradings" and isinstance(event.value, int):
            self.card_id = event.value
            self.load()

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        if isinstance(event.item, EvidenceItem):
            from tui.screens.replay import ReplayScreen

            self.app.push_screen(ReplayScreen(self.interview_id, focus=event.item.turn))

    def action_replay(self) -> None:
        from tui.screens.replay import ReplayScreen

        self.app.push_screen(ReplayScreen(self.interview_id))

    def action_export(self) -> None:
        from tui.screens.replay import export_interview

        self.app.push_screen(
            ExportDialog(f"interview-{self.interview_id}"),
            lambda choice: export_interview(self, self.interview_id, choice),
        )

    def action_regrade(self) -> None:
        context = self.app.context
        rubrics = [(f"{r.model.name} ({r.model.level})", r.model.id) for r in context.library.rubrics.items.values()]
        current = self.rubric_id if self.rubric_id in context.library.rubrics.items else rubrics[0][1]
        backend = context.backend
        model = (backend.grader_model or "") if backend.supports_schema else ""
        self.app.push_screen(RegradeDialog(rubrics, current, llm=backend.supports_schema, model=model), self._regrade)

    def _regrade(self, choice: tuple[str, str | None] | None) -> None:
        if not choice:
            return
        from interviewer.grading import grade_interview

        rubric_id, model = choice
        context = self.app.context
        backend = context.backend
        if model and backend.supports_schema:
            backend = backend.with_grader_model(model)
        rubric = context.library.rubrics.get(rubric_id)
        grader = backend.grader()

        async def job():
            try:
                return await grade_interview(context.repo, self.interview_id, grader, rubric)
            finally:
                await backend.aclose()

        self.app.push_screen(BusyDialog(f"Grading against {rubric.name} with {grader.name}…", job), self._regraded)

    def _regraded(self, result) -> None:
        if isinstance(result, Exception):
            self.notify(f"Grading failed: {result}", severity="error", timeout=12)
            return
        self.card_id = None
        self.load()
        self.notify("Graded again; earlier gradings are kept in the list at the top.")
