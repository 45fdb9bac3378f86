"""The scorecard: per-dimension scores with rationale and evidence that jumps to its turn."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, ListItem, ListView, Select, Static

from interviewer.export import DEBRIEF_HEADINGS, recommendation_reason
from tui.modals import BusyDialog, ExportDialog, RegradeDialog
from tui.safe import display_safe, plain
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
        label.append(f"{display_safe(dimension)}: ", style="dim")
        label.append(f"“{display_safe(quote)}”")
        super().__init__(Static(label))
        self.turn = turn


class DebriefItem(ListItem):
    """One thing left on the table; Enter opens the replay at the moment it could have come up."""

    def __init__(self, text: str, moment: str, turn: int | None):
        label = Text()
        label.append("• ")
        label.append(display_safe(" ".join(text.split())))
        label.append(f"  ({display_safe(moment)})", style="dim")
        super().__init__(Static(label))
        self.turn = turn


class ScorecardScreen(AppScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("v", "replay", "Replay"),
        Binding("r", "regrade", "Grade again"),
        Binding("x", "export", "Export"),
        # Page keys scroll the whole card whichever part has the focus (the evidence list keeps Up/Down).
        Binding("pagedown", "page(1)", "Page down", show=False, priority=True),
        Binding("pageup", "page(-1)", "Page up", show=False, priority=True),
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
            yield Static("", id="why")
            yield Static("", id="dimensions")
            yield Static(
                Text("Evidence (Enter jumps to the turn)", style="bold"), classes="section", id="evidence-title"
            )
            yield ListView(id="evidence")
            yield Static("", id="feedback")
            yield Static(
                Text("Left on the table (Enter jumps to the moment)", style="bold"),
                classes="section",
                id="debrief-title",
            )
            yield ListView(id="debrief")
        yield Footer(compact=True)

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
            self.query_one("#evidence").display = False
            self.query_one("#card").focus()
            return
        options = [
            (plain(f"{c.created_at:%Y-%m-%d %H:%M}  {c.overall:.2f}  {c.rubric_id}  ({c.grader})"), c.id)
            for c in reversed(cards)
        ]
        chosen = next((c for c in cards if c.id == self.card_id), cards[-1])
        self.card_id = chosen.id
        with picker.prevent(Select.Changed):
            picker.set_options(options)
            picker.value = chosen.id
        picker.display = len(cards) > 1
        await self.show(chosen.data, chosen.created_at)

    async def show(self, card: dict, created_at) -> None:
        summary = Text()
        summary.append(f"{card['overall']:.2f} / 4  ", style="bold")
        summary.append(display_safe(card["recommendation"].upper()), style="bold reverse")
        summary.append(
            display_safe(f"\nrubric {card['rubric_id']} · grader {card['grader']} · {created_at:%Y-%m-%d %H:%M}"),
            style="dim",
        )
        if card.get("dropped_quotes"):
            summary.append(f" · {card['dropped_quotes']} unverifiable quote(s) dropped", style="dim")
        if card.get("disagreement"):
            summary.append(f"\nFlagged: {card['disagreement']}", style="bold yellow")
        self.query_one("#summary", Static).update(summary)
        item = self.app.context.library.rubrics.items.get(card["rubric_id"])
        reason = recommendation_reason(card, item.model if item is not None else None)
        why = self.query_one("#why", Static)
        why.update(plain(reason or ""))
        why.display = bool(reason)

        dims = Text()
        for dimension in card["dimensions"]:
            dims.append_text(score_bar(dimension["score"]))
            dims.append(f"  {display_safe(dimension['name'] or dimension['id'])}\n", style="bold")
            dims.append(f"{display_safe(dimension['rationale'])}\n\n")
        self.query_one("#dimensions", Static).update(dims)

        evidence = self.query_one("#evidence", ListView)
        await evidence.clear()
        items = [
            EvidenceItem(item["turn"], dimension["name"] or dimension["id"], item["quote"])
            for dimension in card["dimensions"]
            for item in dimension["evidence"]
        ]
        if items:
            await evidence.extend(items)
            evidence.index = 0  # Enter on the first item opens its turn at once
        evidence.display = bool(items)
        self.query_one("#evidence-title").display = bool(items)
        # The focus goes where the keys do something: the evidence (Up/Down, Enter), else the card (scrolling).
        # Never the gradings picker when it is hidden, where Down would open a menu nobody can see.
        if not (self.focused and self.focused.id == "gradings" and self.focused.display):
            (evidence if items else self.query_one("#card")).focus(scroll_visible=False)

        feedback = Text()
        if card.get("strengths"):
            feedback.append("Strengths\n", style="bold green")
            for line in card["strengths"]:
                feedback.append(f"• {display_safe(line)}\n")
        if card.get("improvements"):
            feedback.append("\nTo improve\n", style="bold yellow")
            for line in card["improvements"]:
                feedback.append(f"• {display_safe(line)}\n")
        for note in card.get("notes") or []:
            feedback.append(f"\n{display_safe(note)}", style="dim")
        self.query_one("#feedback", Static).update(feedback)
        await self._show_debrief(card.get("debrief") or [])

    async def _show_debrief(self, items: list[dict]) -> None:
        debrief = self.query_one("#debrief", ListView)
        await debrief.clear()
        rows: list[ListItem] = []
        for kind, heading in DEBRIEF_HEADINGS.items():
            mine = [item for item in items if item["kind"] == kind]
            if mine:
                rows.append(ListItem(Static(Text(heading, style="bold")), disabled=True))
                rows += [DebriefItem(item["text"], item["moment"], item.get("turn")) for item in mine]
        if rows:
            await debrief.extend(rows)
        debrief.display = bool(rows)
        self.query_one("#debrief-title").display = bool(rows)

    def action_page(self, pages: int) -> None:
        card = self.query_one("#card", VerticalScroll)
        if pages > 0:
            card.scroll_page_down()
        else:
            card.scroll_page_up()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "gradings" and isinstance(event.value, int):
            self.card_id = event.value
            self.load()

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        if isinstance(event.item, DebriefItem) and event.item.turn is None:
            self.notify("That never came up in this interview, so there is no moment to open.")
        elif isinstance(event.item, EvidenceItem | DebriefItem):
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
        rubrics = [(r.model.label, r.model.id) for r in context.library.rubrics.items.values()]
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
