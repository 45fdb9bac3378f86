"""The dialog loop: one interview, as an async stream of events.

One turn, as a pipeline of named steps::

    store the candidate turn -> read it (analyst) -> decide (director) -> render and guard (GuardedReply)
    -> derive events (reply_events) -> commit once

The candidate's message is committed before anything else happens; the reply, the events it caused and
the new state are committed together in one transaction when the reply is done. Database work runs on
a worker thread, so a host's event loop (the TUI's) never waits on a lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from interviewer.content.models import Persona, Problem, Rubric
from interviewer.engine import director
from interviewer.engine.analyst import Analysis, Question
from interviewer.engine.backend import Backend
from interviewer.engine.clock import Clock, WallClock
from interviewer.engine.events import (
    AnalystFallback,
    CandidateTurnStored,
    EngineEvent,
    ReplyCancelled,
    ReplyDone,
    ReplyStarted,
    StageCovered,
)
from interviewer.engine.guard import Context, Guard
from interviewer.engine.moves import Decision, Move, MoveKind
from interviewer.engine.outcome import ReplyOutcome, TurnContext, reply_events
from interviewer.engine.reading import ConcurrentReading
from interviewer.engine.reply import GuardedReply
from interviewer.engine.state import InterviewState
from interviewer.engine.turnlog import LoggedTurn, TurnLog
from interviewer.engine.voice import VoiceRequest, interview_clock_text, probe_text, render_move
from interviewer.errors import InterviewerError
from interviewer.understanding.lexicon import Lexicon
from interviewer.vocabulary import CANDIDATE, INTERVIEWER

M = TypeVar("M", bound=BaseModel)

if TYPE_CHECKING:
    from storage import NewEvent, Repository


class SessionError(InterviewerError):
    """A request the interview cannot take in its current state (the message says why)."""


def _snapshot(model: type[M], data: dict[str, Any], interview_id: int) -> M:
    """A stored content snapshot, validated again: one stored before a rule was tightened (a template
    with a format spec, say) is refused with a message, not a traceback."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        kind = model.__name__.lower()
        raise SessionError(
            f"interview {interview_id} cannot continue: its stored {kind} is not valid any more "
            f"({where}: {first['msg'].removeprefix('Value error, ')})"
        ) from None


class InterviewFinished(SessionError):
    pass


class EmptyMessage(SessionError):
    pass


class ReplyPending(SessionError):
    pass


MINUTES_PER_EXCHANGE = 2.5
"""Rough length of one exchange, to speak of a turn limit in minutes."""


@dataclass
class _Turn:
    """One reply in the making: the director's decision, the working state it leads to, and its grounds."""

    decision: Decision
    state: InterviewState
    """A working copy; it becomes the session's state when the reply is committed."""
    analysis: Analysis | None = None
    changes: dict[str, tuple[int, int]] = field(default_factory=dict)
    reading: ConcurrentReading | None = None
    candidate_seq: int | None = None
    deferred: bool = False
    """The concurrent reading was still out when the reply was done: fold it in before the next turn."""


class InterviewSession:
    stored_turns: Sequence[Any] = ()
    """The stored turns as :meth:`load` read them, so a view shows the history without reading it again."""

    def __init__(
        self,
        repo: Repository,
        interview_id: int,
        *,
        problem: Problem,
        persona: Persona,
        rubric: Rubric,
        backend: Backend,
        state: InterviewState,
        budget_minutes: float,
        max_turns: int | None,
        log: TurnLog | None = None,
        clock: Clock | None = None,
    ):
        self.repo = repo
        self.interview_id = interview_id
        self.problem = problem
        self.persona = persona
        self.rubric = rubric
        self.backend = backend
        self.state = state
        self.budget_minutes = budget_minutes
        self.max_turns = max_turns
        self.log = log or TurnLog()
        self.clock = clock or WallClock()
        self.lexicon = Lexicon(problem, rubric)
        self.analyst = backend.analyst(self.lexicon)
        self.analyst.warm()
        self.deep_analyst = backend.deep_analyst(self.lexicon)
        self.voice = backend.voice()
        self.guard = Guard(problem, persona, rubric, system_prompt=self.voice.instructions(persona))
        self._conversation: Context | None = None
        self._deferred: tuple[ConcurrentReading, int] | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    def start(
        cls,
        repo: Repository,
        *,
        problem: Problem,
        persona: Persona,
        rubric: Rubric,
        backend: Backend,
        minutes: float,
        max_turns: int | None = None,
        clock: Clock | None = None,
    ) -> InterviewSession:
        """Create and store a new interview (with snapshots of its content). Call :meth:`open` next."""
        if minutes <= 0:
            raise SessionError("the time budget must be more than 0 minutes")
        if max_turns is not None and max_turns < 1:
            raise SessionError("max turns must be at least 1")
        state = InterviewState()
        row = repo.create_interview(
            problem=problem.model_dump(mode="json"),
            persona=persona.model_dump(mode="json"),
            rubric=rubric.model_dump(mode="json"),
            backend=backend.name,
            model=backend.model,
            budget_minutes=minutes,
            max_turns=max_turns,
            state=state.to_json(),
            hold=True,
        )
        return cls(
            repo, row.id, problem=problem, persona=persona, rubric=rubric, backend=backend, state=state,
            budget_minutes=minutes, max_turns=max_turns, clock=clock,
        )  # fmt: skip

    @classmethod
    def load(
        cls, repo: Repository, interview_id: int, backend: Backend, clock: Clock | None = None
    ) -> InterviewSession:
        """Rebuild a stored interview to continue it, from its snapshots, its turns and its last state.

        The interview is held for this process (a lease in the database) until :meth:`close`; one open
        in another live process is refused (:class:`storage.InterviewBusy`).
        """
        row = repo.get_interview(interview_id)
        repo.acquire_lease(interview_id)
        turns = repo.get_turns(interview_id)
        session = cls(
            repo,
            interview_id,
            problem=_snapshot(Problem, row.problem, interview_id),
            persona=_snapshot(Persona, row.persona, interview_id),
            rubric=_snapshot(Rubric, row.rubric, interview_id),
            backend=backend,
            state=InterviewState.from_json(row.state),
            budget_minutes=row.budget_minutes,
            max_turns=row.max_turns,
            log=TurnLog.from_rows(turns),
            clock=clock,
        )
        session.stored_turns = turns
        return session

    def keep(self) -> None:
        """Renew this process's hold on the interview (while waiting for the candidate)."""
        self.repo.renew_lease(self.interview_id)

    def close(self) -> None:
        """Let another process continue the interview."""
        self.repo.release_lease(self.interview_id)

    # ------------------------------------------------------------------ status

    @property
    def finished(self) -> bool:
        return self.state.phase == "ended"

    @property
    def opened(self) -> bool:
        return self.log.opened

    @property
    def pending(self) -> bool:
        """The newest candidate message has no (complete) reply yet: :meth:`respond` produces it."""
        return self.log.pending

    def clockface(self, state: InterviewState | None = None) -> director.Clockface:
        state = state or self.state
        budget = self.budget_minutes * 60.0
        return director.Clockface(
            fraction=state.elapsed_seconds / budget,
            minutes_left=max(0.0, (budget - state.elapsed_seconds) / 60.0),
            candidate_turns=state.candidate_turns,
            max_turns=self.max_turns,
        )

    def elapsed_now(self) -> float:
        """Interview seconds so far, including the time since the last turn (for a live clock)."""
        return self.state.elapsed_seconds + self.clock.running()

    def last_candidate_text(self) -> str | None:
        last = self.log.last_candidate()
        return last.text if last is not None else None

    # ------------------------------------------------------------------ the loop

    async def open(self) -> AsyncGenerator[EngineEvent, None]:
        """The interviewer's opening: the public prompt only."""
        if self.opened:
            return
        async for event in self._reply(_Turn(director.opening(), self.state.model_copy(deep=True))):
            yield event

    async def submit(self, text: str) -> AsyncGenerator[EngineEvent, None]:
        """Store the candidate's message (committed first), then stream the interviewer's reply."""
        if self.finished:
            raise InterviewFinished("this interview has ended")
        if self.pending:
            raise ReplyPending("the previous message has no reply yet; retry it first")
        if not text.strip():
            raise EmptyMessage("empty message")
        if not self.opened:
            async for event in self.open():
                yield event
        state = self.state.model_copy(deep=True)
        director.spend_time(state, self.clock.lap(text, CANDIDATE))
        row = await asyncio.to_thread(
            self.repo.add_turn, self.interview_id, CANDIDATE, text,
            elapsed_seconds=state.elapsed_seconds, state=state.to_json(),
        )  # fmt: skip
        self.state = state
        self._logged(LoggedTurn(row.seq, CANDIDATE, text))
        yield CandidateTurnStored(row.seq, text)
        async for event in self.respond():
            yield event

    async def respond(self) -> AsyncGenerator[EngineEvent, None]:
        """Reply to the newest candidate message: after :meth:`submit`, a failed reply, or a resume."""
        if self.finished or not self.pending:
            return
        await self._fold_deferred()
        turn = await self._read_and_decide()
        try:
            async for event in self._reply(turn):
                yield event
        finally:
            if turn.reading is not None and not turn.deferred:
                turn.reading.cancel()

    async def end(self, reason: str = "candidate ended the interview") -> AsyncGenerator[EngineEvent, None]:
        """Close the interview now (the candidate ended it, or the time ran out)."""
        if self.finished:
            return
        if not self.opened:
            async for event in self.open():
                yield event
        await self._fold_deferred()
        async for event in self._reply(_Turn(director.closing(reason), self.state.model_copy(deep=True))):
            yield event

    # ------------------------------------------------------------------ the steps of a turn

    async def _read_and_decide(self) -> _Turn:
        """Read the newest candidate message (and start the concurrent reading), then let the director decide."""
        last = self.log.last_candidate()
        text = last.text if last is not None else ""
        state = self.state.model_copy(deep=True)
        analysis = await self.analyst.analyze(text, state)
        reading = None
        if self.deep_analyst is not None and not analysis.injection:
            reader, snapshot = self.deep_analyst, state.model_copy(deep=True)
            reading = ConcurrentReading(lambda: reader.analyze(text, snapshot))
            if _unmapped(analysis):
                # The voice holds no hidden fact it is not told to state, so it cannot answer a question the
                # fast reading could not map: for that question (only), the reply waits for the deeper one.
                _take_mapped(analysis, await reading.get())
        changes = director.merge_analysis(state, analysis)
        decision = director.decide(state, analysis, self.persona, self.problem, self.clockface(state))
        return _Turn(decision, state, analysis, changes, reading, last.seq if last is not None else None)

    async def _reply(self, turn: _Turn) -> AsyncGenerator[EngineEvent, None]:
        state, decision = turn.state, turn.decision
        previous_phase, previously_revealed = state.phase, frozenset(state.facts_revealed)
        director.apply(state, decision, self.persona, turn.analysis)
        yield ReplyStarted(decision.kind.value, [move.to_json() for move in decision.moves])
        request = self._voice_request(turn)
        guarded = self._guarded(request, turn, await self._sanctioned(request))
        shown = guarded.stream()
        try:
            async for event in shown:
                yield event
        except (asyncio.CancelledError, GeneratorExit):
            # Stopped by the user (Esc) or the consumer: keep what was shown, marked incomplete.
            await self._store_partial(turn, guarded.outcome.text, [ReplyCancelled()])
            raise
        finally:
            await shown.aclose()
        outcome = guarded.outcome
        analyst_failure = await self._settle_reading(turn, outcome)
        context = TurnContext(
            previously_revealed, previous_phase, state.phase, turn.changes,
            injection=(self.last_candidate_text() or "") if turn.analysis and turn.analysis.injection else None,
            analyst_failure=analyst_failure,
        )  # fmt: skip
        events = reply_events(decision, outcome, context)
        if outcome.failure is not None:
            # Keep what streamed, marked incomplete; the state does not advance, so a retry redoes the turn.
            seq = await self._store_partial(turn, outcome.text, [*outcome.notices, *events])
        else:
            seq = await self._commit(turn, request, outcome, events)
        for domain_event in events:
            yield domain_event
        if outcome.failure is None and outcome.usage is not None:
            yield outcome.usage
        yield ReplyDone(seq, outcome.text, decision.kind.value, complete=outcome.failure is None)

    def _voice_request(self, turn: _Turn) -> VoiceRequest:
        history = self.log.history()
        request = VoiceRequest(
            persona=self.persona,
            problem=self.problem,
            moves=turn.decision.moves,
            state=turn.state,
            seq=len(history) + 1,
            minutes_left=_minutes_left(self.clockface(turn.state)),
            budget_minutes=self.budget_minutes,
            history=history,
            notes=self.log.notes(),
        )
        request.note = self.voice.director_note(request)
        return request

    def _guarded(self, request: VoiceRequest, turn: _Turn, sanctioned: Context) -> GuardedReply:
        return GuardedReply(
            self.voice,
            self.guard,
            request,
            allowed=set(turn.state.facts_revealed),
            sanctioned=sanctioned,
            deflection=render_move(request, Move(MoveKind.DEFLECT)),
            reading=turn.reading,
        )

    async def conversation(self) -> Context:
        """What any reply may draw on: what the candidate is told whatever happens (the problem as posed, the
        persona's own wording) and the conversation. Read from the log once, when a reply first needs it
        (off the event loop: a long transcript takes a while), then kept up to date as turns are logged."""
        if self._conversation is None:
            told = "\n".join([self.problem.title, self.problem.prompt, *self.persona.wording()])
            parts = [told, *(text for _, text in self.log.history())]
            self._conversation = await asyncio.to_thread(self.guard.context, parts)
        return self._conversation

    async def _sanctioned(self, request: VoiceRequest) -> Context:
        """What this reply may legitimately draw on: the conversation (with what the candidate was told
        whatever happens), the interview's length and time left, and this reply's material."""
        parts = [interview_clock_text(request.budget_minutes, request.minutes_left)]
        for move in request.moves:
            if move.kind in (MoveKind.PROBE, MoveKind.REDIRECT):
                parts.append(probe_text(self.problem, move.probe, move.stage))
            elif move.kind is MoveKind.WHAT_IF and move.what_if:
                parts.append(self.problem.what_if(move.what_if).text)
        return (await self.conversation()).extended(parts)

    def _logged(self, turn: LoggedTurn) -> None:
        """Log a stored turn; a complete one becomes part of what later replies may draw on."""
        self.log.append(turn)
        if turn.complete and self._conversation is not None:
            self._conversation.add(turn.text)

    async def _settle_reading(self, turn: _Turn, outcome: ReplyOutcome) -> str | None:
        """Count the reply's time and fold in what the concurrent reading found, if it is in (else defer it).
        Returns why the analyst failed, if it did. A failed reply changes nothing."""
        if outcome.failure is not None:
            return None
        director.spend_time(turn.state, self.clock.lap(outcome.text, INTERVIEWER))
        failure = None
        reading = turn.reading
        if reading is not None and reading.settled:
            result = await reading.get()
            if result is None:
                failure = reading.error or "the analyst gave no answer"
            else:
                for stage, (before, after) in director.merge_judged(turn.state, result).items():
                    turn.changes[stage] = (turn.changes.get(stage, (before, after))[0], after)
        elif reading is not None:
            reading.start()  # still thinking: the reply is committed now, the reading folded in later
            turn.deferred = True
        director.confirm_asked(turn.state, outcome.asked_late)
        return failure

    async def _commit(
        self, turn: _Turn, request: VoiceRequest, outcome: ReplyOutcome, events: list[EngineEvent]
    ) -> int:
        """Store the reply, its events and the new state in one transaction; then the session moves on."""
        state, decision = turn.state, turn.decision
        meta: dict[str, Any] = {"director": list(decision.notes)}
        if request.note:
            meta["note"] = request.note
        if outcome.tripped is not None:
            meta["guarded"] = outcome.tripped.reason
        analysis = turn.analysis
        row = await asyncio.to_thread(
            self.repo.add_turn,
            self.interview_id,
            INTERVIEWER,
            outcome.text,
            kind=decision.kind.value,
            moves=[move.to_json() for move in decision.moves],
            meta=meta,
            usage=self._usage_json(outcome),
            elapsed_seconds=state.elapsed_seconds,
            state=state.to_json(),
            status="ended" if state.phase == "ended" else None,
            events=_stored([*outcome.notices, *events]),
            set_meta={turn.candidate_seq: {"analysis": analysis.to_json()}}
            if turn.candidate_seq and analysis
            else None,
        )
        self.state = state
        self._logged(LoggedTurn(row.seq, INTERVIEWER, outcome.text, True, request.note))
        if turn.deferred and turn.reading is not None:
            self._deferred = (turn.reading, row.seq)
        return row.seq

    def _usage_json(self, outcome: ReplyOutcome) -> dict[str, Any] | None:
        if outcome.usage is None:
            return None
        usage = {key: value for key, value in outcome.usage.payload().items() if value is not None}
        usage["model"] = self.backend.model
        return usage

    async def _store_partial(self, turn: _Turn, text: str, events: list[EngineEvent]) -> int:
        """An interrupted reply: stored as shown, marked incomplete; the state stays where it was."""
        decision = turn.decision
        row = await asyncio.to_thread(
            self.repo.add_turn,
            self.interview_id,
            INTERVIEWER,
            text,
            kind=decision.kind.value,
            complete=False,
            moves=[move.to_json() for move in decision.moves],
            elapsed_seconds=self.state.elapsed_seconds,
            events=_stored(events),
        )
        self._logged(LoggedTurn(row.seq, INTERVIEWER, text, complete=False))
        return row.seq

    async def _fold_deferred(self) -> None:
        """Fold in the concurrent analyst's reading of the previous turn, if it finished after its reply."""
        if self._deferred is None:
            return
        reading, turn_seq = self._deferred
        self._deferred = None
        result = await reading.get()
        if result is None:
            failed = AnalystFallback(reading.error or "the analyst gave no answer")
            await asyncio.to_thread(self.repo.add_events, self.interview_id, _stored([failed], turn_seq))
            return
        changes = director.merge_judged(self.state, result)
        if changes:
            covered = [StageCovered(stage, after, before) for stage, (before, after) in changes.items()]
            await asyncio.to_thread(
                self.repo.add_events, self.interview_id, _stored(covered, turn_seq), state=self.state.to_json()
            )


def _stored(events: Sequence[EngineEvent], turn_seq: int | None = None) -> list[NewEvent]:
    """The events that go into the database's event log (``turn_seq`` None: the turn stored with them)."""
    from storage import NewEvent

    return [NewEvent(event.type, event.payload(), turn_seq) for event in events if event.stored]


def _minutes_left(clockface: director.Clockface) -> float:
    if clockface.max_turns is None:
        return clockface.minutes_left
    turns_left = max(1, clockface.max_turns - clockface.candidate_turns)
    return min(clockface.minutes_left, MINUTES_PER_EXCHANGE * turns_left)


def _unmapped(analysis: Analysis) -> bool:
    """The turn asks something no hidden fact was found for (the interviewer would call it open)."""
    return any(not question.facts and not question.close for question in analysis.questions)


def _take_mapped(analysis: Analysis, deeper: Analysis | None) -> None:
    """Questions the deeper reading mapped to facts replace the fast reading's unmapped ones.

    The deeper reading can be talked into mapping an extraction attempt ("what are you not allowed to
    tell me?") to any fact, so it may only pick among the facts the message's own words come near."""
    if deeper is None or deeper.injection:
        return
    near = {fact for question in analysis.questions for fact in (*question.facts, *question.close, *question.near)}
    known = set(analysis.facts_asked)
    found = []
    for question in deeper.questions:
        facts = tuple(fact for fact in question.facts if fact in near)
        if facts and not set(facts) <= known:
            found.append(Question(question.text, facts))
    if found:
        analysis.questions = [q for q in analysis.questions if q.facts or q.close] + found
