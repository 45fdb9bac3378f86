"""Home: recent interviews; start, resume or open one."""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Static

from interviewer.errors import InterviewerError
from storage import InterviewSummary, StorageError
from tui.safe import plain
from tui.screens.base import AppScreen
from tui.widgets import clock_text

EMPTY = (
    "[b]Welcome to interviewer.[/b]\n\n"
    "Practise an ML system design interview: the interviewer holds a hidden spec, answers your clarifying "
    "questions, changes constraints and digs into what you skim. When you finish, you get a scorecard with "
    "quotes from your own answers.\n\n"
    "Press [b]n[/b] to start your first interview, [b]p[/b] to meet the interviewer personas, "
    "[b]ctrl+p[/b] for every command, [b]ctrl+q[/b] to quit."
)


class HomeScreen(AppScreen):
    BINDINGS = [
        ("n", "new", "New interview"),
        ("enter", "open", "Open"),
        ("r", "resume", "Resume"),
        ("v", "replay", "Replay"),
        ("s", "scorecard", "Scorecard"),
        ("p", "personas", "Personas"),
        ("g", "progress", "Progress"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="home"):
            yield Static("", id="engine-line")
            yield DataTable(id="interviews", cursor_type="row", zebra_stripes=True)
            yield Static(EMPTY, id="empty")
        yield Footer()

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[int, InterviewSummary] = {}
        self._narrow: bool | None = None

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.display = False  # until the first read says whether there is anything to list
        self.query_one("#empty").display = False
        table.add_columns("#", "Date", "Problem", "Persona", "Length", "Score", "Status")
        self.query_one("#engine-line", Static).update(plain(f"Engine: {self.app.context.backend.label}"))
        self.refresh_table()

    def on_screen_resume(self) -> None:
        self.refresh_table()

    def on_resize(self, event) -> None:
        narrow = event.size.width < 110
        if narrow != self._narrow:
            self.refresh_table()

    @work(exclusive=True, group="home-table")
    async def refresh_table(self) -> None:
        rows = await asyncio.to_thread(self.app.context.repo.list_interviews, limit=200)
        self.rows = {row.id: row for row in rows}
        table = self.query_one(DataTable)
        narrow = self._narrow = self.size.width < 110
        table.clear()
        for row in rows:
            if row.overall is None:
                score = "-"
            else:
                score = f"{row.overall:.2f}" if narrow else f"{row.overall:.2f} {row.recommendation}"
            title = row.title if not narrow or len(row.title) <= 24 else row.title[:23] + "…"
            table.add_row(
                str(row.id),
                f"{row.created_at:%m-%d %H:%M}" if narrow else f"{row.created_at:%Y-%m-%d %H:%M}",
                plain(title),
                plain(row.persona_id),
                clock_text(row.elapsed_seconds)
                if narrow
                else f"{clock_text(row.elapsed_seconds)} / {row.budget_minutes:g}m",
                score,
                ("active" if narrow else "in progress") if row.status == "active" else row.status,
                key=str(row.id),
            )
        empty = not rows
        self.query_one("#empty").display = empty
        table.display = not empty
        if not empty:
            table.focus()

    def _selected(self) -> InterviewSummary | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(int(key)) if key is not None else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_new(self) -> None:
        from tui.screens.new import NewInterviewScreen

        self.app.push_screen(NewInterviewScreen())

    def action_open(self) -> None:
        interview = self._selected()
        if interview is None:
            return
        if interview.status == "active":
            self.action_resume()
        elif interview.overall is not None:
            self.action_scorecard()
        else:
            self.action_replay()

    def action_resume(self) -> None:
        interview = self._selected()
        if interview is None:
            return
        if interview.status != "active":
            self.notify(f"Interview {interview.id} has ended; opening its replay.")
            self.action_replay()
            return
        self.open_interview(interview.id)

    @work(exclusive=True, group="open-interview")
    async def open_interview(self, interview_id: int) -> None:
        from tui.screens.interview import InterviewScreen

        try:
            screen = await InterviewScreen.resume(self.app.context, interview_id)
        except (InterviewerError, StorageError) as exc:
            self.notify(f"Cannot resume interview {interview_id}: {exc}", severity="error")
            return
        self.app.push_screen(screen)

    def action_replay(self) -> None:
        interview = self._selected()
        if interview is not None:
            from tui.screens.replay import ReplayScreen

            self.app.push_screen(ReplayScreen(interview.id))

    def action_scorecard(self) -> None:
        interview = self._selected()
        if interview is None:
            return
        from tui.screens.scorecard import ScorecardScreen

        self.app.push_screen(ScorecardScreen(interview.id))

    def action_personas(self) -> None:
        from tui.screens.personas import PersonasScreen

        self.app.push_screen(PersonasScreen())

    def action_progress(self) -> None:
        from tui.screens.progress import ProgressScreen

        self.app.push_screen(ProgressScreen())
