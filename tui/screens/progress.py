"""Progress: each dimension's scores over the interviews, and what to practise next."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Header, Static

from interviewer.progress import compute_progress
from tui.safe import display_safe, plain
from tui.screens.base import AppScreen


class ProgressScreen(AppScreen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("u", "next_rubric", "Rubric", tooltip="Show progress by the next rubric"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rubric_id: str | None = None
        self.rubrics: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield VerticalScroll(id="progress")
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        self.title = "Progress"
        await self.show()

    async def action_next_rubric(self) -> None:
        if len(self.rubrics) < 2:
            self.notify("Every graded interview used the same rubric.")
            return
        self.rubric_id = self.rubrics[(self.rubrics.index(self.rubric_id or "") + 1) % len(self.rubrics)]
        await self.show()

    async def show(self) -> None:
        """One rubric's gradings only: scores on different rubrics are different scales, never averaged together."""
        progress = await asyncio.to_thread(compute_progress, self.app.context.repo, rubric_id=self.rubric_id)
        self.rubric_id, self.rubrics = progress.rubric_id, list(progress.rubrics)
        body = self.query_one("#progress", VerticalScroll)
        await body.remove_children()
        if not progress.interviews:
            await body.mount(Static("No graded interviews yet. Finish one and it shows up here.", id="no-progress"))
            return
        item = self.app.context.library.rubrics.items.get(progress.rubric_id)
        self.sub_title = f"rubric {item.model.label if item is not None else progress.rubric_id}"
        rubric_line = Text()
        rubric_line.append("Rubric ", style="bold")
        rubric_line.append(progress.rubric_id)
        others = progress.other_rubrics
        if others:
            listed = ", ".join(f"{rubric} ({count})" for rubric, count in others.items())
            rubric_line.append(f" · also graded with {listed}: u switches", style="dim")
        await body.mount(Static(rubric_line, id="rubric-line"))
        weakest = progress.weakest
        if weakest is not None:
            callout = Text()
            callout.append("Practise next: ", style="bold")
            callout.append(display_safe(weakest.name), style="bold reverse")
            callout.append(f"  (recent average {weakest.recent_mean:.1f} / 4)")
            await body.mount(Static(callout, id="weakest"))
        overall = [round(item[3], 2) for item in progress.interviews]
        recent = overall[-3:]
        header = Horizontal(
            Static("", classes="trend-name"),
            Static(Text("oldest → newest", style="dim"), classes="trend-line"),
            Static(Text("last 3", style="dim"), classes="trend-figure"),
            classes="trend",
        )
        widgets = [header, self._row("Overall", overall, f"{sum(recent) / len(recent):.2f}")]
        for trend in progress.trends:
            change = f" {'+' if trend.change > 0 else ''}{trend.change:.1f}" if trend.change else ""
            widgets.append(self._row(trend.name, trend.scores, f"{trend.recent_mean:.1f}{change}"))
        await body.mount_all(widgets)
        first, last = progress.interviews[0], progress.interviews[-1]
        await body.mount(
            Static(
                Text(
                    f"{len(progress.interviews)} graded interview(s), {first[1]:%Y-%m-%d} to {last[1]:%Y-%m-%d}",
                    style="dim",
                )
            )
        )

    def _row(self, name: str, values: list, figure: str) -> Horizontal:
        return Horizontal(
            Static(plain(name, style="bold"), classes="trend-name"),
            Static(score_chart(values), classes="trend-line"),
            Static(figure, classes="trend-figure"),
            classes="trend",
        )


BARS = "▁▂▃▄▅▆▇█"
STYLES = {1: "red", 2: "yellow", 3: "green", 4: "bright_green"}
SHOWN = 60
"""Most recent gradings drawn; one column each."""


def score_chart(values: list[float]) -> Text:
    """One bar per graded interview, oldest left, on the fixed 1-4 scale (so heights compare across rows)."""
    chart = Text()
    for value in values[-SHOWN:]:
        level = round((max(1.0, min(4.0, value)) - 1) / 3 * (len(BARS) - 1))
        chart.append(BARS[level] + " ", style=STYLES[max(1, min(4, round(value)))])
    return chart
