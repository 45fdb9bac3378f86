"""Widgets for the interview screen and the replay: messages, the input, the side panel."""

from __future__ import annotations

import time

from rich.console import Group, RenderableType
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static, TextArea

from interviewer.stages import STAGES
from interviewer.vocabulary import depth_mark, depth_name, turn_kind_label
from tui.safe import display_safe, markdown, plain


def clock_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def status_label(status: str) -> str:
    """An interview's status as the app shows it, at any width."""
    return "in progress" if status == "active" else status


class ChatInput(TextArea):
    """Multi-line input: Enter sends, Ctrl+J (or Alt+Enter) starts a new line."""

    BINDINGS = [Binding("ctrl+j", "newline", "New line", show=False)]  # said in the box's placeholder

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
        body.append(display_safe(text))
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
        body.append(display_safe(self.raw))
        self.update(body)


def _message_header(name: str, seq: int | None, kind: str, markers: list[str]) -> Text:
    header = Text()
    header.append(display_safe(name), style="bold")
    if seq is not None:
        header.append(f"  #{seq}", style="dim")
    label = turn_kind_label(kind)
    for marker in ([label] if label else []) + markers:
        header.append("  ")
        header.append(f" {marker} ", style="reverse")
    return header


class InterviewerMessage(Static):
    """A finished interviewer reply in the chat: one widget (header, Markdown body, status line), so a
    long conversation stays cheap to lay out."""

    def __init__(
        self,
        name: str,
        *,
        kind: str = "",
        text: str = "",
        seq: int | None = None,
        markers: list[str] | None = None,
        status: str = "",
        failed: bool = False,
    ):
        super().__init__(classes="message interviewer" + (" failed" if failed else ""))
        self.name_, self.kind, self.seq = name, kind, seq
        self.body_text = text
        self.markers = list(markers or [])
        self.status = status
        self._paint()

    def _paint(self) -> None:
        parts: list[RenderableType] = [
            _message_header(self.name_, self.seq, self.kind, self.markers),
            markdown(self.body_text),
        ]
        if self.status:
            parts.append(plain(self.status, style="bold red" if self.has_class("failed") else "dim"))
        self.update(Group(*parts))

    def set_status(self, text: str, *, error: bool = False) -> None:
        self.status = text
        self.set_class(error, "failed")
        self._paint()


class LiveBody(Widget):
    """The streamed reply's text, rendered as Markdown and shown from the bottom.

    Appending only repaints this widget's lines. Its height grows in a few steps rather than line by
    line, so the screen is laid out again a handful of times per reply instead of on every chunk:
    a long conversation above it then costs nothing while the reply streams.
    """

    DEFAULT_CSS = "LiveBody { height: 2; }"
    STEPS = (2, 4, 8, 14, 22)
    FRAME = 1 / 24
    """Repaint at most this often: chunks that arrive faster are shown together in the next frame."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.source = ""
        self._strips: list[Strip] = []
        self._key: tuple[int, int] | None = None
        self._painted = 0.0
        self._pending = False

    def append(self, text: str) -> None:
        self.source += text
        if self._pending:
            return
        wait = self._painted + self.FRAME - time.monotonic()
        if wait <= 0:
            self._paint()  # the first chunk shows at once
        else:
            self._pending = True
            self.set_timer(wait, self._paint)

    def _paint(self) -> None:
        self._pending = False
        self._painted = time.monotonic()
        self._grow()
        self.refresh()

    def _rendered(self, width: int) -> list[Strip]:
        key = (len(self.source), width)
        if key != self._key:
            console = self.app.console
            options = console.options.update_width(max(1, width))
            lines = console.render_lines(markdown(self.source), options, pad=False)
            self._strips = [Strip(line) for line in lines]
            self._key = key
        return self._strips

    def _grow(self) -> None:
        width = self.size.width or self.parent.size.width  # type: ignore[union-attr]
        needed = len(self._rendered(width))
        current = self.styles.height.value if self.styles.height else self.STEPS[0]
        if needed > current:
            limit = max(self.STEPS[0], (self.screen.size.height * 3) // 5)
            step = next((s for s in self.STEPS if s >= needed), limit)
            self.styles.height = min(step, limit)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        strips = self._rendered(width)
        index = y + max(0, len(strips) - self.size.height)
        if index >= len(strips):
            return Strip.blank(width, self.rich_style)
        return strips[index].crop_extend(0, width, self.rich_style)


class LiveReply(Vertical):
    """The reply being streamed: a header with markers and the streamed body."""

    def __init__(self, name: str, *, kind: str = ""):
        super().__init__(classes="message interviewer live")
        self.name_, self.kind = name, kind
        self.markers: list[str] = []
        self.status = ""
        self.failed = False

    def compose(self):
        yield Static(_message_header(self.name_, None, self.kind, self.markers), classes="header")
        yield LiveBody(classes="body")

    def write(self, text: str) -> None:
        self.query_one(LiveBody).append(text)

    @property
    def text(self) -> str:
        return self.query_one(LiveBody).source

    def add_marker(self, marker: str) -> None:
        if marker not in self.markers:
            self.markers.append(marker)
            self.query_one(".header", Static).update(_message_header(self.name_, None, self.kind, self.markers))

    def set_status(self, text: str, *, error: bool = False) -> None:
        self.status, self.failed = text, error

    def settled(self, seq: int | None, text: str) -> InterviewerMessage:
        """The finished message that replaces this one in the chat."""
        return InterviewerMessage(
            self.name_, kind=self.kind, text=text, seq=seq, markers=self.markers, status=self.status, failed=self.failed
        )


class AgendaPanel(Static):
    """The public agenda: the stages and how far the candidate has covered each. Never the spec."""

    STYLES = ("dim", "", "bold", "bold green")
    """The look of each coverage depth, 0-3."""
    NAME_WIDTH = max(len(stage.name) for stage in STAGES) + 1
    """The longest stage name and a space, so the depth never runs into a name."""

    def show(self, coverage: dict[str, int]) -> None:
        text = Text()
        text.append("Agenda\n", style="bold")
        for stage in STAGES:
            depth = coverage.get(stage.id, 0)
            style = self.STYLES[depth]
            text.append(f"{depth_mark(depth)} ", style=style)
            text.append(f"{stage.name:<{self.NAME_WIDTH}}", style=style)
            text.append(f"{depth_name(depth)}\n", style="dim")
        self.update(text)
