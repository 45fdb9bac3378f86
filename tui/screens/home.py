"""Home: recent interviews; start, resume or open one."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Static

from interviewer.errors import InterviewerError
from storage import InterviewSummary, StorageError
from tui.safe import plain
from tui.screens.base import AppScreen
from tui.widgets import clock_text, status_label

EMPTY = (
    "[b]Welcome to interviewer.[/b]\n\n"
    "Practise an ML system design interview: the interviewer holds a hidden spec, answers your clarifying "
    "questions, changes constraints and digs into what you skim. When you finish, you get a scorecard with "
    "quotes from your own answers.\n\n"
    "Press [b]n[/b] to start your first interview, [b]p[/b] to meet the interviewer personas, "
    "[b]ctrl+p[/b] for every command, [b]ctrl+q[/b] to quit."
)


COLUMNS = ("#", "Date", "Problem", "Persona", "Length", "Score", "Status")
TITLE = COLUMNS.index("Problem")
NARROW = 110
"""Below this many columns dates are shorter and the score has no recommendation."""


class HomeScreen(AppScreen):
    BINDINGS = [
        Binding("n", "new", "New", tooltip="New interview"),
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
            yield Static("", id="content-errors")
            yield DataTable(id="interviews", cursor_type="row", zebra_stripes=True)
            yield Static(EMPTY, id="empty")
        yield Footer(compact=True)

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[int, InterviewSummary] = {}
        self._width: int | None = None

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.display = False  # until the first read says whether there is anything to list
        self.query_one("#empty").display = False
        table.add_columns(*COLUMNS)
        self.show_content_errors()
        self.refresh_table()
        # The engine's libraries load on a worker thread once this screen is drawn, not before it.
        self.call_after_refresh(self.show_engine)

    @work(exclusive=True, group="home-engine")
    async def show_engine(self) -> None:
        label = await asyncio.to_thread(self.app.context.warm_up)
        self.query_one("#engine-line", Static).update(plain(f"Engine: {label}"))

    def on_screen_resume(self) -> None:
        self.show_content_errors()
        self.refresh_table()

    def show_content_errors(self) -> None:
        """Content files that could not be loaded (and so are missing from the lists): each, with every problem."""
        library = self.app.context.library
        errors = [error for kind in ("personas", "problems", "rubrics") for error in library.catalog(kind).errors]
        box = self.query_one("#content-errors", Static)
        box.display = bool(errors)
        if not errors:
            return
        text = Text()
        text.append(f"{len(errors)} content file(s) could not be loaded and are left out of the lists:", style="bold")
        for error in errors:
            text.append(plain(f"\n{error.path}", style="bold"))
            for problem in error.problems():
                text.append(plain(f"\n  {problem}"))
        text.append("\nFix the file, then restart (or press v on the personas screen to check it again).", style="dim")
        box.update(text)

    def on_resize(self, event) -> None:
        if event.size.width != self._width and self.rows:
            self._fill_table(list(self.rows.values()))

    @work(exclusive=True, group="home-table")
    async def refresh_table(self) -> None:
        rows = await asyncio.to_thread(self.app.context.repo.list_interviews, limit=200)
        self.rows = {row.id: row for row in rows}
        self._fill_table(rows)
        table = self.query_one(DataTable)
        empty = not rows
        self.query_one("#empty").display = empty
        table.display = not empty
        if not empty:
            table.focus()

    def _fill_table(self, rows: list[InterviewSummary]) -> None:
        """The rows as the width allows: shorter dates and no recommendation when narrow, and titles cut to
        what is left, so every column (Status last) is shown whole."""
        table = self.query_one(DataTable)
        width = self._width = self.size.width
        narrow = width < NARROW
        cells = [
            [
                str(row.id),
                f"{row.created_at:%m-%d %H:%M}" if narrow else f"{row.created_at:%Y-%m-%d %H:%M}",
                row.title,
                row.persona_id,
                clock_text(row.elapsed_seconds)
                if narrow
                else f"{clock_text(row.elapsed_seconds)} / {row.budget_minutes:g}m",
                "-"
                if row.overall is None
                else (f"{row.overall:.2f}" if narrow else f"{row.overall:.2f} {row.recommendation}"),
                status_label(row.status),
            ]
            for row in rows
        ]
        others = sum(
            max([len(header), *(len(line[i]) for line in cells)]) for i, header in enumerate(COLUMNS) if i != TITLE
        )
        # The screen's padding, two cells of padding per column and room for the scrollbar.
        room = width - 2 - 2 * len(COLUMNS) - 2 - others
        fit = max(len(COLUMNS[TITLE]), room)
        cursor = table.cursor_row
        table.clear()
        for line, row in zip(cells, rows, strict=True):
            title = line[TITLE]
            line[TITLE] = title if len(title) <= fit else title[: fit - 1] + "…"
            table.add_row(*(plain(cell) for cell in line), key=str(row.id))
        if rows:
            table.move_cursor(row=min(cursor, len(rows) - 1))

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
