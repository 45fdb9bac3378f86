"""The interview: the chat, the input, and a side panel with the clock, the agenda and token use."""

from __future__ import annotations

import asyncio
import contextlib

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Header, Static

from interviewer.engine.events import (
    CandidateTurnStored,
    EngineError,
    InterviewEnded,
    Notice,
    ReplyDelta,
    ReplyDone,
    ReplyStarted,
    Usage,
)
from interviewer.engine.session import InterviewSession, SessionError
from interviewer.stages import STAGES
from interviewer.usage import Totals, totals
from interviewer.vocabulary import depth_mark, event_marker
from storage import StorageError
from storage.repository import LEASE_RENEW_SECONDS
from tui.context import AppContext
from tui.modals import BusyDialog, ConfirmDialog
from tui.safe import plain
from tui.screens.base import AppScreen
from tui.widgets import AgendaPanel, CandidateMessage, ChatInput, InterviewerMessage, LiveReply, clock_text

NARROW = 100
"""Below this many columns the side panel folds into one status line."""
HISTORY_WINDOW = 40
"""Messages kept in the chat; older ones are a keypress away (and all are in the replay)."""
HISTORY_SLACK = 20
"""Prune in batches of this many, not one message at a time."""


class InterviewScreen(AppScreen):
    BINDINGS = [
        # Short words, so every key fits the footer at 80 columns; the palette shows the tooltips.
        Binding("escape", "stop", "Stop", tooltip="Stop the reply being streamed"),
        Binding("ctrl+r", "retry", "Retry", tooltip="Retry a reply that failed"),
        Binding("ctrl+g", "end", "End & grade", tooltip="End the interview and grade it"),
        Binding("ctrl+b", "toggle_side", "Panel", tooltip="Show or hide the side panel"),
        Binding("ctrl+o", "leave", "Leave", tooltip="Leave the interview (it is saved; resume it later)"),
        Binding("ctrl+l", "show_earlier", "Earlier turns", show=False),
    ]

    def __init__(self, context: AppContext, session: InterviewSession):
        super().__init__()
        self.context = context
        self.session = session
        self.usage: Totals = totals([])
        self._reply: LiveReply | None = None
        self._time_up_asked = False
        self._hidden = 0
        """Turns of this interview not mounted in the chat (Ctrl+L mounts them)."""
        self._grading = False

    # ------------------------------------------------------------------ construction

    @classmethod
    async def start(cls, context: AppContext, *, problem_id: str, persona_id: str, minutes: float) -> InterviewScreen:
        """A new interview, stored on a worker thread (the database may be busy elsewhere)."""
        library = context.library
        session = await asyncio.to_thread(
            InterviewSession.start,
            context.repo,
            problem=library.problems.get(problem_id),
            persona=library.personas.get(persona_id),
            rubric=library.rubrics.get(context.rubric_id),
            backend=context.backend,
            minutes=minutes,
            clock=context.clock_factory(),
        )
        return cls(context, session)

    @classmethod
    async def resume(cls, context: AppContext, interview_id: int) -> InterviewScreen:
        session = await asyncio.to_thread(
            InterviewSession.load, context.repo, interview_id, context.backend, clock=context.clock_factory()
        )
        return cls(context, session)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield VerticalScroll(id="chat")
                # The reply being streamed lives apart from the history, so its growth never lays out the
                # whole conversation again; when it is done it moves into the history.
                yield VerticalScroll(id="live")
                yield Static("", id="status-line")
                yield ChatInput(
                    id="input",
                    soft_wrap=True,
                    show_line_numbers=False,
                    placeholder="Your answer. Enter sends, Ctrl+J starts a new line.",
                )
            with Vertical(id="side"):
                yield Static("", id="clock")
                yield AgendaPanel("", id="agenda")
                yield Static("", id="usage")
                yield Static("", id="engine")
        yield Footer(compact=True)

    async def on_mount(self) -> None:
        self.query_one("#input", ChatInput).cursor_blink = self.context.live
        session = self.session
        self.title = f"Interview {session.interview_id}: {session.problem.title}"
        self.sub_title = f"{session.persona.name}, {session.persona.role}"
        chat = self.query_one("#chat", VerticalScroll)
        turns, session.stored_turns = session.stored_turns, ()  # read once, when the session was loaded
        self.usage = totals(turns)
        recent = turns[-HISTORY_WINDOW:]
        self._hidden = len(turns) - len(recent)
        await chat.mount(Static("", id="earlier"))
        await chat.mount_all([self._message_for(turn) for turn in recent])
        self._show_earlier_count()
        chat.anchor()
        self.query_one("#live").display = False
        self.query_one("#engine", Static).update(plain(f"Engine: {self.context.backend.label}", style="dim"))
        self._layout_for(self.size.width)
        self.refresh_panel()
        if self.context.live:
            self.set_interval(1.0, self.tick)
            self.set_interval(LEASE_RENEW_SECONDS, self._keep_holding)
        if session.finished:
            self._lock_input("This interview has ended.")
        elif not session.opened:
            self.run_stream(session.open())
        elif session.pending:
            self.query_one("#status-line", Static).update("The last reply did not finish: Ctrl+R retries it.")
        self.query_one("#input", ChatInput).focus()

    def on_unmount(self) -> None:
        # The interview is left or over: its LLM connections go (a later interview opens new ones), and
        # another process may continue it.
        self.app.run_worker(self.context.backend.aclose(), group="close-backend")
        with contextlib.suppress(StorageError):
            self.session.close()

    async def _keep_holding(self) -> None:
        """Renew this process's hold on the interview while the candidate thinks."""
        with contextlib.suppress(StorageError):
            await asyncio.to_thread(self.session.keep)

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width)
        self.refresh_panel()

    def _layout_for(self, width: int) -> None:
        self.set_class(width < NARROW, "narrow")

    # ------------------------------------------------------------------ the side panel

    def refresh_panel(self) -> None:
        session = self.session
        elapsed = session.elapsed_now() if self.context.live else session.state.elapsed_seconds
        budget = session.budget_minutes * 60
        left = max(0.0, budget - elapsed)
        clock = Text()
        clock.append("Time  ", style="bold")
        clock.append(f"{clock_text(elapsed)} / {clock_text(budget)}", style="bold red" if left < 300 else "")
        clock.append(f"\n{clock_text(left)} left", style="dim")
        if session.max_turns:
            clock.append(f"  ·  {session.state.candidate_turns}/{session.max_turns} turns", style="dim")
        self.query_one("#clock", Static).update(clock)
        coverage = session.state.coverage()
        self.query_one("#agenda", AgendaPanel).show(coverage)
        self.query_one("#usage", Static).update(self._usage_text())
        marks = "".join(depth_mark(coverage[s.id]) for s in STAGES)
        line = f"{clock_text(elapsed)}/{clock_text(budget)}  {marks}"
        status = self.query_one("#status-line", Static)
        if self.has_class("narrow") and not status.has_class("alert"):
            status.update(Text(line, style="dim"))

    def _usage_text(self) -> Text:
        text = Text()
        text.append("Tokens\n", style="bold")
        u = self.usage
        if not (u.prompt_tokens or u.completion_tokens):
            text.append("none yet" if self.context.backend.can_stream else "none used", style="dim")
            return text
        text.append(f"{u.prompt_tokens / 1000:.1f}k in ({u.cached_tokens / 1000:.1f}k cached)\n")
        text.append(f"{u.completion_tokens / 1000:.1f}k out\n")
        text.append(f"~${u.cost_usd:.3f}" if u.cost_usd is not None else "cost: price unknown", style="dim")
        return text

    def tick(self) -> None:
        self.refresh_panel()
        session = self.session
        if session.finished or self._time_up_asked or self._grading:
            return
        if session.elapsed_now() >= session.budget_minutes * 60:
            self._time_up_asked = True
            self.app.push_screen(
                ConfirmDialog("Time is up. End the interview and grade it?", yes="End & grade", no="Keep going"),
                self._confirmed_end,
            )

    # ------------------------------------------------------------------ input

    def _set_alert(self, text: str) -> None:
        status = self.query_one("#status-line", Static)
        status.update(plain(text, style="bold red"))
        status.add_class("alert")

    def _clear_alert(self) -> None:
        status = self.query_one("#status-line", Static)
        status.remove_class("alert")
        status.update("")

    def _lock_input(self, message: str) -> None:
        box = self.query_one("#input", ChatInput)
        box.read_only = True
        box.placeholder = message
        self.query_one("#status-line", Static).update(plain(message + " Escape to leave.", style="dim"))

    async def on_chat_input_submitted(self, event: ChatInput.Submitted) -> None:
        text = event.text
        if not text.strip():
            return
        if self.session.finished:
            self.notify("This interview has ended.", severity="warning")
            return
        if self._busy():
            self.notify("The interviewer is still replying; Esc stops the reply.", severity="warning")
            return
        if self.session.pending:
            self.notify("The last reply did not finish: Ctrl+R retries it first.", severity="warning")
            return
        box = self.query_one("#input", ChatInput)
        box.clear()
        self._clear_alert()
        bubble = CandidateMessage(text, pending=True)
        await self.query_one("#chat", VerticalScroll).mount(bubble)
        self.run_stream(self.session.submit(text), bubble=bubble, restore=text)

    def _busy(self) -> bool:
        return any(worker.is_running for worker in self.workers if worker.group == "reply")

    # ------------------------------------------------------------------ the reply stream

    @work(exclusive=True, group="reply")
    async def run_stream(self, events, bubble: CandidateMessage | None = None, restore: str | None = None) -> None:
        stored = False
        try:
            async for event in events:
                if isinstance(event, CandidateTurnStored):
                    stored = True
                    if bubble is not None:
                        bubble.mark_stored(event.seq)
                await self.handle(event)
        except SessionError as exc:
            self._restore(bubble, restore, stored)
            self.notify(str(exc), severity="warning")
        except asyncio.CancelledError:
            if self._reply is not None:
                self._reply.set_status("Stopped. Ctrl+R asks again.", error=True)
                await self._settle(None)
            raise
        except Exception as exc:  # storage or engine failure: keep the candidate's text in the box
            self._restore(bubble, restore, stored)
            self._set_alert(f"Error: {exc}")
            self.notify(f"Something went wrong: {exc}", severity="error", timeout=10)
        finally:
            await events.aclose()
            self.refresh_panel()
        if self.session.finished and not self._grading:
            self._lock_input("The interview is over.")
            self.app.push_screen(
                ConfirmDialog("The interview is over. Grade it now?", yes="Grade", no="Later"), self._confirmed_grade
            )

    def _restore(self, bubble: CandidateMessage | None, text: str | None, stored: bool) -> None:
        if stored or text is None:
            return
        if bubble is not None:
            bubble.remove()
        box = self.query_one("#input", ChatInput)
        if not box.text.strip():
            box.load_text(text)

    def _message_for(self, turn):
        if turn.role == "candidate":
            return CandidateMessage(turn.text, seq=turn.seq)
        return InterviewerMessage(
            self.session.persona.name,
            kind=turn.kind or "",
            text=turn.text,
            seq=turn.seq,
            status="" if turn.complete else "This reply did not finish. Ctrl+R retries it.",
            failed=not turn.complete,
        )

    def _show_earlier_count(self) -> None:
        notice = self.query_one("#earlier", Static)
        notice.display = self._hidden > 0
        notice.update(
            Text(
                f"{self._hidden} earlier turn(s) not shown: Ctrl+L shows them; the replay has them all.",
                style="dim italic",
            )
        )

    async def _prune(self) -> None:
        """Keep the chat to a bounded number of messages, so its layout cost stays flat as it grows."""
        chat = self.query_one("#chat", VerticalScroll)
        messages = list(chat.query(".message"))
        extra = len(messages) - HISTORY_WINDOW - HISTORY_SLACK
        if extra > 0:
            await chat.remove_children(messages[: extra + HISTORY_SLACK])  # one layout, not one per message
            self._hidden += extra + HISTORY_SLACK
            self._show_earlier_count()

    async def action_show_earlier(self) -> None:
        chat = self.query_one("#chat", VerticalScroll)
        turns = await asyncio.to_thread(self.context.repo.get_turns, self.session.interview_id)
        shown = [seq for w in chat.query(".message") if (seq := getattr(w, "seq", None))]
        first_shown = min(shown, default=len(turns) + 1)
        missing = [turn for turn in turns if turn.seq < first_shown]
        if not missing:
            return
        await chat.mount_all([self._message_for(turn) for turn in missing], after=self.query_one("#earlier"))
        self._hidden = 0
        self._show_earlier_count()

    async def _settle(self, seq: int | None, text: str | None = None) -> None:
        """Move the streamed reply from the live area into the history, as one finished message."""
        reply, self._reply = self._reply, None
        if reply is None:
            return
        body = text if text is not None else reply.text
        live = self.query_one("#live", VerticalScroll)
        await self.query_one("#chat", VerticalScroll).mount(reply.settled(seq, body))
        await reply.remove()
        live.display = False
        await self._prune()

    async def handle(self, event) -> None:
        if isinstance(event, ReplyStarted):
            self._reply = LiveReply(self.session.persona.name, kind=event.kind)
            live = self.query_one("#live", VerticalScroll)
            live.display = True
            await live.mount(self._reply)
        elif isinstance(event, ReplyDelta):
            if self._reply is not None:
                self._reply.write(event.text)
        elif isinstance(event, ReplyDone):
            if self._reply is not None:
                if not event.complete and not self._reply.failed:
                    self._reply.set_status("This reply did not finish. Ctrl+R retries it.", error=True)
                await self._settle(event.seq, event.text)
            self.refresh_panel()
        elif isinstance(event, EngineError):
            message = f"{event.message}. " + ("Ctrl+R retries." if event.retryable else "")
            if self._reply is not None:
                self._reply.set_status(message, error=True)
            self._set_alert(message)
            self.notify(event.message, severity="error", timeout=8)
        elif isinstance(event, Notice):
            self.notify(event.message, timeout=12)
        elif isinstance(event, Usage):
            self.usage.add(
                self.context.backend.model, event.prompt_tokens, event.cached_tokens, event.completion_tokens
            )
        elif self._reply is not None:
            marker = event_marker(event.type, event.payload())
            if marker:
                self._reply.add_marker(marker)
        if isinstance(event, InterviewEnded):
            self.refresh_panel()

    # ------------------------------------------------------------------ actions

    def action_stop(self) -> None:
        if self._busy():
            self.workers.cancel_group(self, "reply")
        elif self.session.finished:
            self.app.pop_screen()
        else:
            self.notify("Ctrl+O leaves the interview (it is saved); Ctrl+G ends and grades it.")

    def action_retry(self) -> None:
        if self._busy():
            return
        if not self.session.pending:
            self.notify("Nothing to retry.")
            return
        self._clear_alert()
        self.run_stream(self.session.respond())

    def action_end(self) -> None:
        if self.session.finished:
            self._confirmed_grade(True)
            return
        self.app.push_screen(
            ConfirmDialog("End the interview and grade it?", yes="End & grade", no="Keep going"), self._confirmed_end
        )

    def quit_warning(self) -> str | None:
        """What quitting the app now would do to this interview, to ask before it happens; None when finished."""
        if self.session.finished:
            return None
        interview_id = self.session.interview_id
        message = (
            f"Quit the app? Interview {interview_id} is saved up to your last sent answer; "
            f"resume it later from the home screen (r) or with `interviewer resume {interview_id}`."
        )
        if self._busy():
            message += " The reply being written now is stopped."
        if self.query_one("#input", ChatInput).text.strip():
            message += " Your unsent answer is lost."
        return message

    def action_leave(self) -> None:
        self.workers.cancel_group(self, "reply")
        self.notify(f"Interview {self.session.interview_id} is saved; resume it from the home screen.")
        self.app.pop_screen()

    def action_toggle_side(self) -> None:
        side = self.query_one("#side")
        side.display = not side.display

    def _confirmed_end(self, yes: bool | None) -> None:
        if yes:
            self.workers.cancel_group(self, "reply")
            self.end_and_grade()

    def _confirmed_grade(self, yes: bool | None) -> None:
        if yes:
            self.grade()

    @work(exclusive=True, group="reply")
    async def end_and_grade(self) -> None:
        events = self.session.end()
        try:
            async for event in events:
                await self.handle(event)
        finally:
            await events.aclose()
        self._lock_input("The interview is over.")
        self.grade()

    def grade(self) -> None:
        from interviewer.grading import grade_interview

        self._grading = True
        backend = self.context.backend
        grader = backend.grader()

        async def job():
            try:
                return await grade_interview(self.context.repo, self.session.interview_id, grader)
            finally:
                await backend.aclose()  # the interview is over: its connections go

        self.app.push_screen(BusyDialog(f"Grading with {grader.name}…", job), self._graded)

    def _graded(self, result) -> None:
        if isinstance(result, Exception):
            self._grading = False
            self.notify(
                f"Grading failed: {result}. Grade it again from its scorecard (s on the home screen).",
                severity="error",
                timeout=12,
            )
            return
        from tui.screens.scorecard import ScorecardScreen

        self.app.switch_screen(ScorecardScreen(self.session.interview_id))
