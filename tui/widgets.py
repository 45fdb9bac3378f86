"""Widgets for the interview screen and the replay: messages, the input, the side panel."""

from __future__ import annotations

import re

from rich.markdown import Markdown as RichMarkdown
from rich.text import Text
from textual import events
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Markdown, Static, TextArea

from interviewer.stages import STAGES

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_text(text: str) -> str:
    """Text as the terminal should show it: control and escape characters made visible, not obeyed."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def clock_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


class ChatInput(TextArea):
    """Multi-line input: Enter sends, Ctrl+J (or Alt+Enter) starts a new line."""

    BINDINGS = [("ctrl+j", "newline", "New line")]

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self.text))
            return
        if event.key in ("alt+enter", "shift+enter"):
            event.stop()
            event.prevent_default()
            self.action_newline()
            return
        await super()._on_key(event)

    def action_newline(self) -> None:
        self.insert("\n")


class CandidateMessage(Static):
    """The candidate's message, shown as plain text (never as markup or Markdown)."""

    def __init__(self, text: str, *, seq: int | None = None, pending: bool = False) -> None:
        body = Text()
        body.append("You", style="bold")
        if seq is not None:
            body.append(f"  #{seq}", style="dim")
        body.append("\n")
        body.append(safe_text(text))
        super().__init__(body, classes="message candidate" + (" sending" if pending else ""))
        self.seq = seq
        self.raw = text

    def mark_stored(self, seq: int) -> None:
        self.seq = seq
        self.remove_class("sending")
        body = Text()
        body.append("You", style="bold")
        body.append(f"  #{seq}", style="dim")
        body.append("\n")
        body.append(safe_text(self.raw))
        self.update(body)


KIND_LABELS = {
    "opening": "",
    "answer": "answer",
    "probe": "probe",
    "what_if": "what-if",
    "redirect": "redirect",
    "wrap_up": "wrap-up",
    "deflect": "deflected",
    "acknowledge": "",
}


class InterviewerMessage(Vertical):
    """The interviewer's reply: a header with markers, a Markdown body (streamed), a status line."""

    def __init__(self, name: str, *, kind: str = "", text: str = "", seq: int | None = None, live: bool = False):
        super().__init__(classes="message interviewer")
        self.name_ = name
        self.kind = kind
        self.seq = seq
        self.markers: list[str] = []
        self._initial = text
        self._live = live
        self.body_text = text

    def compose(self):
        yield Static(self._header(), classes="header")
        if self._live:
            yield Markdown(self._initial, classes="body")
        else:
            yield Static(RichMarkdown(self._initial or " "), classes="body")
        status = Static("", classes="status")
        status.display = False
        yield status

    def _header(self) -> Text:
        header = Text()
        header.append(self.name_, style="bold")
        if self.seq is not None:
            header.append(f"  #{self.seq}", style="dim")
        label = KIND_LABELS.get(self.kind, self.kind)
        for marker in ([label] if label else []) + self.markers:
            header.append("  ")
            header.append(f" {marker} ", style="reverse")
        return header

    def set_kind(self, kind: str) -> None:
        self.kind = kind
        self.query_one(".header", Static).update(self._header())

    def add_marker(self, marker: str) -> None:
        if marker not in self.markers:
            self.markers.append(marker)
            self.query_one(".header", Static).update(self._header())

    def finish(self, seq: int, text: str) -> None:
        self.seq = seq
        self.body_text = text
        self.query_one(".header", Static).update(self._header())

    def set_status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one(".status", Static)
        status.update(Text(text, style="bold red" if error else "dim"))
        status.display = bool(text)
        self.set_class(error, "failed")


class AgendaPanel(Static):
    """The public agenda: the stages and how far the candidate has covered each. Never the spec."""

    MARKS = {0: ("○", "dim"), 1: ("◔", ""), 2: ("◑", "bold"), 3: ("●", "bold green")}
    DEPTH = {0: "not yet", 1: "mentioned", 2: "discussed", 3: "deep"}

    def show(self, coverage: dict[str, int]) -> None:
        text = Text()
        text.append("Agenda\n", style="bold")
        for stage in STAGES:
            depth = coverage.get(stage.id, 0)
            mark, style = self.MARKS[depth]
            text.append(f"{mark} ", style=style)
            text.append(f"{stage.name:<20}", style=style)
            text.append(f"{self.DEPTH[depth]}\n", style="dim")
        self.update(text)
