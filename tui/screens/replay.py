"""Replay and annotate: the whole transcript, turn by turn, with markers and notes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from interviewer.export import interview_json, interview_markdown
from interviewer.terminal import json_text
from interviewer.vocabulary import event_marker, turn_tags
from tui.modals import AnnotationDialog, ConfirmDialog, ExportDialog
from tui.safe import display_safe, markdown, plain
from tui.screens.base import AppScreen
from tui.widgets import clock_text

PLAY_SPEED = 30.0
"""Play mode compresses the original pace this many times."""
PLAY_MIN, PLAY_MAX = 0.4, 2.5


def _read_replay(repo, interview_id: int) -> tuple:
    return (
        repo.get_interview(interview_id),
        repo.get_turns(interview_id),
        repo.get_events(interview_id),
        repo.get_annotations(interview_id),
    )


def _write_export(repo, interview_id: int, fmt: str, target: Path) -> Path:
    target = target.expanduser()
    text = (
        json_text(interview_json(repo, interview_id), indent=2) + "\n"
        if fmt == "json"
        else interview_markdown(repo, interview_id)
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target.resolve()


async def export_interview(screen, interview_id: int, choice: tuple[str, str] | None) -> None:
    """Write the export the dialog asked for (on a worker thread), and say where it went."""
    if not choice:
        return
    fmt, path = choice
    target = Path(path or f"interview-{interview_id}.{fmt}")
    try:
        target = await asyncio.to_thread(_write_export, screen.app.context.repo, interview_id, fmt, target)
    except OSError as exc:
        screen.notify(f"Cannot write {target}: {exc.strerror or exc}", severity="error")
        return
    screen.notify(f"Exported to {target}")


class TurnCard(Static):
    def __init__(self, turn, name: str, markers: list[str], notes: list):
        super().__init__(classes=f"turn {turn.role}")
        self.turn = turn
        self.name_ = name
        self.markers = markers
        self.notes = notes
        self.refresh_card()

    def refresh_card(self) -> None:
        turn = self.turn
        header = Text()
        header.append(f"#{turn.seq}  ", style="bold")
        header.append(f"{clock_text(turn.elapsed_seconds)}  ", style="dim")
        header.append(display_safe(self.name_) if turn.role == "interviewer" else "You", style="bold")
        tags = turn_tags(turn, self.markers)
        for tag in tags:
            header.append("  ")
            header.append(f" {tag} ", style="reverse")
        body: RenderableType = markdown(turn.text) if turn.role == "interviewer" else plain(turn.text)
        parts: list[RenderableType] = [header, body]
        for note in self.notes:
            line = Text()
            line.append("  ✎ ", style="bold yellow")
            if note.tag:
                line.append(f"[{display_safe(note.tag)}] ", style="yellow")
            line.append(display_safe(note.text))
            parts.append(line)
        self.update(Group(*parts))


class ReplayScreen(AppScreen):
    BINDINGS = [
        # Short words, so every key fits the footer at 80 columns; the palette shows the tooltips.
        Binding("escape", "app.pop_screen", "Back"),
        Binding("j,down", "move(1)", "Next turn", show=False),
        Binding("k,up", "move(-1)", "Previous turn", show=False),
        Binding("home", "jump(0)", "First turn", show=False),
        Binding("end", "jump(-1)", "Last turn", show=False),
        Binding("space", "play", "Play", tooltip="Play the interview back / stop"),
        Binding("a", "annotate", "Note", tooltip="Add a note to this turn"),
        Binding("e", "edit", "Edit", tooltip="Edit this turn's latest note"),
        Binding("d", "delete", "Delete", tooltip="Delete this turn's latest note"),
        Binding("f", "filter", "Filter", tooltip="Show only annotated turns / all turns"),
        Binding("x", "export", "Export", tooltip="Export the interview (Markdown or JSON)"),
    ]

    def __init__(self, interview_id: int, focus: int | None = None):
        super().__init__()
        self.interview_id = interview_id
        self.focus_seq = focus
        self.index = 0
        self.cards: list[TurnCard] = []
        self.only_annotated = False
        self.playing = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield VerticalScroll(id="turns")
        yield Static("", id="replay-status")
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        interview, turns, events, annotations = await asyncio.to_thread(
            _read_replay, self.app.context.repo, self.interview_id
        )
        self.title = f"Replay: interview {self.interview_id}"
        self.sub_title = f"{interview.title} · {interview.persona.get('name', '')}"
        markers: dict[int, list[str]] = {}
        for event in events:
            label = event_marker(event.type, event.payload)
            if label and event.turn_seq is not None and label not in markers.setdefault(event.turn_seq, []):
                markers[event.turn_seq].append(label)
        notes: dict[int, list] = {}
        for note in annotations:
            notes.setdefault(note.turn_seq, []).append(note)
        name = interview.persona.get("name", "Interviewer")
        self.cards = [TurnCard(turn, name, markers.get(turn.seq, []), notes.get(turn.seq, [])) for turn in turns]
        await self.query_one("#turns", VerticalScroll).mount_all(self.cards)
        if self.focus_seq is not None:
            self.index = next((i for i, c in enumerate(self.cards) if c.turn.seq == self.focus_seq), 0)
        self.select(self.index)

    # ------------------------------------------------------------------ navigation

    def _visible(self) -> list[int]:
        return [i for i, card in enumerate(self.cards) if card.display]

    def select(self, index: int) -> None:
        if not self.cards:
            self.query_one("#replay-status", Static).update("This interview has no turns.")
            return
        self.index = max(0, min(index, len(self.cards) - 1))
        for i, card in enumerate(self.cards):
            card.set_class(i == self.index, "current")
        card = self.cards[self.index]
        # After the next layout: a card just shown (play mode, the filter) has no place on screen before it.
        self.call_after_refresh(self._bring_into_view, card, self.playing)
        notes = len(card.notes)
        status = f"Turn {card.turn.seq} of {self.cards[-1].turn.seq} · j/k or ↓/↑ move"
        if notes:
            status += f" · {notes} note(s): e edits, d deletes the latest"
        if self.only_annotated:
            status += " · showing annotated turns only (f shows all)"
        self.query_one("#replay-status", Static).update(status)

    def _bring_into_view(self, card: TurnCard, follow: bool) -> None:
        if card is not self._current():
            return
        turns = self.query_one("#turns", VerticalScroll)
        if follow:
            turns.scroll_end(animate=False)  # the turn being played is the last one shown; the anchor keeps it so
        else:
            turns.anchor(False)
            turns.scroll_to_widget(card, animate=False, top=True)

    def action_move(self, step: int) -> None:
        visible = self._visible()
        if not visible:
            return
        position = visible.index(self.index) if self.index in visible else 0
        self.select(visible[max(0, min(len(visible) - 1, position + step))])

    def action_jump(self, where: int) -> None:
        visible = self._visible()
        if visible:
            self.select(visible[where])

    def action_filter(self) -> None:
        self.only_annotated = not self.only_annotated
        for card in self.cards:
            card.display = bool(card.notes) or not self.only_annotated
        visible = self._visible()
        if self.only_annotated and not visible:
            self.notify("No annotated turns yet: a adds a note to the current turn.")
            self.action_filter()
            return
        if self.index not in visible:
            self.select(visible[0])
        else:
            self.select(self.index)

    # ------------------------------------------------------------------ play mode

    def action_play(self) -> None:
        if self.playing:
            self.workers.cancel_group(self, "play")
            self.playing = False
            self.query_one("#turns", VerticalScroll).anchor(False)  # the later turns come back below this one
            for card in self.cards:
                card.display = bool(card.notes) or not self.only_annotated
            self.select(self.index)
            return
        self.playing = True
        self.play()

    @work(exclusive=True, group="play")
    async def play(self) -> None:
        self.playing = True
        turns = self.query_one("#turns", VerticalScroll)
        start = self.index if self.index < len(self.cards) - 1 else 0
        for card in self.cards[start + 1 :]:
            card.display = False
        # Each turn played is the last one shown: held to the bottom, the view follows it as turns appear
        # (and stays there once the last one is in, until a move elsewhere lets go).
        turns.anchor()
        try:
            self.select(start)
            for i in range(start + 1, len(self.cards)):
                gap = self.cards[i].turn.elapsed_seconds - self.cards[i - 1].turn.elapsed_seconds
                await asyncio.sleep(min(PLAY_MAX, max(PLAY_MIN, gap / PLAY_SPEED)) if self.app.context.live else 0)
                self.cards[i].display = True
                self.select(i)
        finally:
            self.playing = False

    # ------------------------------------------------------------------ annotations

    def _current(self) -> TurnCard | None:
        return self.cards[self.index] if self.cards else None

    def action_annotate(self) -> None:
        card = self._current()
        if card is None:
            return

        async def save(result: tuple[str, str] | None) -> None:
            if result:
                repo = self.app.context.repo
                note = await asyncio.to_thread(repo.add_annotation, self.interview_id, card.turn.seq, *result)
                card.notes.append(note)
                card.refresh_card()
                self.select(self.index)
                self.notify(f"Note saved on turn {card.turn.seq}.")

        self.app.push_screen(AnnotationDialog(card.turn.seq), save)

    def action_edit(self) -> None:
        card = self._current()
        if card is None or not card.notes:
            self.notify("No note on this turn: a adds one.")
            return
        note = card.notes[-1]

        async def save(result: tuple[str, str] | None) -> None:
            if result:
                repo = self.app.context.repo
                updated = await asyncio.to_thread(repo.update_annotation, note.id, text=result[0], tag=result[1])
                card.notes[-1] = updated
                card.refresh_card()
                self.notify("Note updated.")

        self.app.push_screen(AnnotationDialog(card.turn.seq, text=note.text, tag=note.tag), save)

    def action_delete(self) -> None:
        card = self._current()
        if card is None or not card.notes:
            self.notify("No note on this turn.")
            return
        note = card.notes[-1]

        async def confirmed(yes: bool | None) -> None:
            if yes:
                await asyncio.to_thread(self.app.context.repo.delete_annotation, note.id)
                card.notes.pop()
                card.refresh_card()
                self.select(self.index)
                self.notify("Note deleted.")

        self.app.push_screen(ConfirmDialog(f"Delete the note “{note.text[:40]}”?", yes="Delete", no="Keep"), confirmed)

    def action_export(self) -> None:
        self.app.push_screen(
            ExportDialog(f"interview-{self.interview_id}"),
            lambda choice: export_interview(self, self.interview_id, choice),
        )
