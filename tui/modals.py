"""Small dialogs: confirm, progress, text prompt, annotation, re-grade, export."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, LoadingIndicator, Select, TextArea

from tui.safe import plain

ANNOTATION_TAGS = ["note", "strength", "weakness", "question", "todo"]


class Dialog(ModalScreen):
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical {
        width: 72; max-width: 95%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    Dialog .title { text-style: bold; margin-bottom: 1; width: 100%; }
    Dialog .buttons { height: auto; margin-top: 1; align-horizontal: right; }
    Dialog .buttons Button { margin-left: 1; }
    Dialog TextArea { height: 6; }
    """
    BINDINGS = [("escape", "cancel", "Cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(Dialog):
    def __init__(self, question: str, *, yes: str = "Yes", no: str = "No"):
        super().__init__()
        self.question, self.yes, self.no = question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(plain(self.question), classes="title")
            with Horizontal(classes="buttons"):
                yield Button(self.no, id="no")
                yield Button(self.yes, id="yes", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class BusyDialog(ModalScreen):
    """Runs something slow (grading) behind a visible progress indicator; dismisses with its result,
    or with the exception it raised, so the caller's callback sees either once the dialog is gone."""

    DEFAULT_CSS = """
    BusyDialog { align: center middle; }
    BusyDialog > Vertical { width: 60; height: 7; border: thick $accent; background: $surface; padding: 1 2; }
    BusyDialog LoadingIndicator { height: 1; }
    """

    def __init__(self, message: str, job: Callable[[], Awaitable[Any]]):
        super().__init__()
        self.message = message
        self.job = job

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(plain(self.message))
            yield LoadingIndicator()

    def on_mount(self) -> None:
        self.run()

    @work(exclusive=True)
    async def run(self) -> None:
        try:
            result = await self.job()
        except Exception as exc:  # handed to the caller, which says what failed
            result = exc
        self.dismiss(result)


class PromptDialog(Dialog):
    def __init__(self, title: str, *, placeholder: str = "", value: str = ""):
        super().__init__()
        self.title_text, self.placeholder, self.value = title, placeholder, value

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Input(value=self.value, placeholder=self.placeholder, id="value")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("OK", id="ok", variant="primary")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.dismiss(self.query_one("#value", Input).value.strip() or None)
        else:
            self.dismiss(None)


class AnnotationDialog(Dialog):
    """Text and tag of an annotation; returns (text, tag) or None."""

    BINDINGS = [("escape", "cancel", "Cancel"), ("ctrl+s", "save", "Save")]

    def __init__(self, turn: int, *, text: str = "", tag: str | None = "note"):
        super().__init__()
        self.turn, self.text, self.tag = turn, text, tag or "note"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Annotation on turn {self.turn}  (Ctrl+S saves, Esc cancels)", classes="title")
            yield TextArea(self.text, id="text")
            yield Select([(tag, tag) for tag in ANNOTATION_TAGS], value=self.tag, allow_blank=False, id="tag")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "save":
            self.dismiss(None)
            return
        self.action_save()

    def action_save(self) -> None:
        text = self.query_one("#text", TextArea).text.strip()
        if not text:
            self.notify("An annotation needs some text.", severity="warning")
            return
        self.dismiss((text, str(self.query_one("#tag", Select).value)))


class RegradeDialog(Dialog):
    """Pick a rubric (and, with an LLM backend, a grader model); returns (rubric_id, model or None)."""

    def __init__(self, rubrics: list[tuple[str, str]], current: str, *, llm: bool, model: str = ""):
        super().__init__()
        self.rubrics, self.current, self.llm, self.model = rubrics, current, llm, model

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Grade again", classes="title")
            yield Select(
                [(plain(label), value) for label, value in self.rubrics],
                value=self.current,
                allow_blank=False,
                id="rubric",
            )
            if self.llm:
                yield Input(value=self.model, placeholder="grader model", id="model")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Grade", id="grade", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "grade":
            self.dismiss(None)
            return
        model = self.query_one("#model", Input).value.strip() if self.llm else ""
        self.dismiss((str(self.query_one("#rubric", Select).value), model or None))


class ExportDialog(Dialog):
    """Format and path; returns (format, path) or None."""

    def __init__(self, default_stem: str):
        super().__init__()
        self.default_stem = default_stem

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Export the interview", classes="title")
            yield Select([("Markdown", "md"), ("JSON", "json")], value="md", allow_blank=False, id="format")
            yield Input(value=f"{self.default_stem}.md", id="path")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Export", id="export", variant="primary")

    def on_select_changed(self, event: Select.Changed) -> None:
        path = self.query_one("#path", Input)
        if path.value.startswith(self.default_stem):
            path.value = f"{self.default_stem}.{event.value}"

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "export":
            self.dismiss(None)
            return
        self.dismiss((str(self.query_one("#format", Select).value), self.query_one("#path", Input).value.strip()))
