"""The Textual app: a thin view over the engine's event stream and the storage API."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import WorkerFailed

from interviewer.errors import InterviewerError
from interviewer.terminal import display_safe
from storage import StorageError
from tui import preferences
from tui.context import AppContext


class InterviewerApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "interviewer"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),  # in the palette: "Toggle light/dark theme"
    ]

    def __init__(self, context: AppContext):
        super().__init__()
        self.context = context

    def on_mount(self) -> None:
        from tui.screens.home import HomeScreen

        saved = preferences.load().get("theme")
        if isinstance(saved, str) and saved in self.available_themes:
            self.theme = saved
        # Any change (Ctrl+T, or the palette's theme picker) is kept for the next run.
        self.theme_changed_signal.subscribe(self, self._keep_theme)
        self.push_screen(HomeScreen())

    def _keep_theme(self, theme) -> None:
        error = preferences.save(theme=theme.name)
        if error:
            self.notify(error, severity="warning")

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification: its text often holds an error from a server or the database, so it is
        sanitised and never read as markup."""
        super().notify(
            display_safe(message), title=display_safe(title), severity=severity, timeout=timeout, markup=False
        )

    def _handle_exception(self, error: Exception) -> None:
        """A failure described for the user (a database that is locked, read-only, damaged or full; an
        interview open in another process) is a notification, not the end of the app with a traceback."""
        cause = error.error if isinstance(error, WorkerFailed) else error
        if isinstance(cause, InterviewerError | StorageError):
            self.notify(str(cause), title="Cannot do that now", severity="error", timeout=15)
            return
        super()._handle_exception(error)

    def format_title(self, title: str, sub_title: str) -> Content:
        """Titles name problems and personas from content files and the database: sanitised."""
        return super().format_title(display_safe(title), display_safe(sub_title))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    async def action_quit(self) -> None:
        """Quit; mid-interview, first say what happens to it, and ask."""
        warning = getattr(self.screen, "quit_warning", None)
        message = warning() if callable(warning) else None
        if not message:
            self.exit()
            return
        from tui.modals import ConfirmDialog

        def confirmed(quit_now: bool | None) -> None:
            if quit_now:
                self.exit()

        self.push_screen(ConfirmDialog(message, yes="Quit", no="Stay"), confirmed)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action bound on the current screen is also a command palette entry."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("Toggle light/dark theme", "ctrl+t", self.action_toggle_theme)
        seen = set()
        for binding in getattr(screen, "BINDINGS", []):
            if isinstance(binding, tuple):
                binding = Binding(*binding)
            if not binding.description or binding.action in seen or binding.action.startswith("app."):
                continue
            seen.add(binding.action)
            key = binding.key.split(",")[0]
            where = screen.__class__.__name__.removesuffix("Screen")
            # A footer's word is short ("Filter"); the palette says what it does, from the binding's tooltip.
            title = binding.tooltip or binding.description
            yield SystemCommand(title, f"{key} · {where}", partial(screen.run_action, binding.action))


def launch(backend: str | None = None, model: str | None = None, grader_model: str | None = None) -> InterviewerApp:
    """The app as the ``interviewer`` command builds it (the benchmarks start it the same way, headless)."""
    return InterviewerApp(AppContext.from_settings(backend=backend, model=model, grader_model=grader_model))


def run(backend: str | None = None, model: str | None = None, grader_model: str | None = None) -> int:
    app = launch(backend=backend, model=model, grader_model=grader_model)
    app.run()
    app.context.repo.close()
    return 0
