"""The dialog loop: one interview, as an async stream of events.

One turn, as data flows::

    candidate text -> storage (committed) -> analyst -> director -> voice -> guard -> storage

The candidate's message is committed before anything else happens; the reply, the events it
caused and the new state are committed together in one transaction when the reply is done.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from interviewer.backends.base import Backend
from interviewer.content.models import Persona, Problem, Rubric
from interviewer.engine import director
from interviewer.engine.analyst import Analysis, Lexicon
from interviewer.engine.clock import Clock, WallClock
from interviewer.engine.events import (
    AnalystFallback,
    CandidateTurnStored,
    EngineError,
    EngineEvent,
    FactRevealed,
    GuardTripped,
    InjectionDeflected,
    InterviewEnded,
    Notice,
    PhaseChanged,
    ProbeAsked,
    Redirected,
    ReplyDelta,
    ReplyDone,
    ReplyCancelled,
    ReplyStarted,
    StageCovered,
    Usage,
    WhatIfInjected,
)
from interviewer.engine.guard import Guard
from interviewer.engine.moves import Decision, Move, MoveKind
from interviewer.engine.state import InterviewState
from interviewer.engine.voice import VoiceRequest, probe_text, render_move

if TYPE_CHECKING:
    from storage import Repository

DEFAULT_MINUTES = 45.0

# Text is released to the reader a sentence at a time so the guard can stop a leak before it shows.
_RELEASE_POINT = re.compile(r"[.!?:;]['\")\]]*\s+|\n")


class SessionError(Exception):
    """A request the interview cannot take in its current state (the message says why)."""


class InterviewFinished(SessionError):
    pass


class EmptyMessage(SessionError):
    pass


class ReplyPending(SessionError):
    pass


class VoiceFailure(Exception):
    """Raised by a voice when the reply cannot be produced; ``partial`` is what streamed before."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class InterviewSession:
    def __init__(
        self,
        repo: "Repository",
        interview_id: int,
        *,
        problem: Problem,
        persona: Persona,
        rubric: Rubric,
        backend: Backend,
        state: InterviewState,
        budget_minutes: float,
        max_turns: int | None,
        history: list[tuple[str, str]],
        last_turn: tuple[str, bool] | None,
        notes: dict[int, str] | None = None,
        last_candidate_seq: int | None = None,
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
        self.history = history
        self.notes: dict[int, str] = dict(notes or {})
        self._last_candidate_seq = last_candidate_seq
        self._deferred: tuple[_DeepReading, int] | None = None
        self._last_turn = last_turn  # (role, complete) of the newest stored turn
        self.clock = clock or WallClock()
        self.lexicon = Lexicon(problem, rubric)
        self.analyst = backend.analyst(self.lexicon)
        self.deep_analyst = backend.deep_analyst(self.lexicon)
        self.voice = backend.voice()
        self.guard = Guard(problem, persona, rubric, system_prompt=self.voice.instructions(persona))

    # ------------------------------------------------------------------ construction

    @classmethod
    def start(
        cls,
        repo: "Repository",
        *,
        problem: Problem,
        persona: Persona,
        rubric: Rubric,
        backend: Backend,
        minutes: float = DEFAULT_MINUTES,
        max_turns: int | None = None,
        clock: Clock | None = None,
    ) -> "InterviewSession":
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
        )
        return cls(
            repo,
            row.id,
            problem=problem,
            persona=persona,
            rubric=rubric,
            backend=backend,
            state=state,
            budget_minutes=minutes,
            max_turns=max_turns,
            history=[],
            last_turn=None,
            clock=clock,
        )

    @classmethod
    def load(cls, repo: "Repository", interview_id: int, backend: Backend, clock: Clock | None = None) -> "InterviewSession":
        """Rebuild a stored interview to continue it, from its snapshots and its last state."""
        row = repo.get_interview(interview_id)
        turns = repo.get_turns(interview_id)
        last = (turns[-1].role, turns[-1].complete) if turns else None
        complete = [t for t in turns if t.complete]
        notes = {i: t.meta["note"] for i, t in enumerate(complete) if t.meta and t.meta.get("note")}
        return cls(
            repo,
            interview_id,
            problem=Problem.model_validate(row.problem),
            persona=Persona.model_validate(row.persona),
            rubric=Rubric.model_validate(row.rubric),
            backend=backend,
            state=InterviewState.from_json(row.state),
            budget_minutes=row.budget_minutes,
            max_turns=row.max_turns,
            history=[(t.role, t.text) for t in complete],
            notes=notes,
            last_turn=last,
            last_candidate_seq=max((t.seq for t in turns if t.role == "candidate"), default=None),
            clock=clock,
        )

    # ------------------------------------------------------------------ status

    @property
    def finished(self) -> bool:
        return self.state.phase == "ended"

    @property
    def opened(self) -> bool:
        return self._last_turn is not None

    @property
    def pending(self) -> bool:
        """The newest candidate message has no (complete) reply yet: :meth:`respond` produces it."""
        if self._last_turn is None:
            return False
        role, complete = self._last_turn
        return role == "candidate" or not complete

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
        for role, text in reversed(self.history):
            if role == "candidate":
                return text
        return None

    # ------------------------------------------------------------------ the loop

    async def open(self) -> AsyncIterator[EngineEvent]:
        """The interviewer's opening: the public prompt only."""
        if self.opened:
            return
        async for event in self._reply(director.opening(), self.state.model_copy(deep=True), None, {}):
            yield event

    async def submit(self, text: str) -> AsyncIterator[EngineEvent]:
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
        self.state.elapsed_seconds += self.clock.lap(text, "candidate")
        turn = self.repo.add_turn(
            self.interview_id,
            "candidate",
            text,
            elapsed_seconds=self.state.elapsed_seconds,
            state=self.state.to_json(),
        )
        self.history.append(("candidate", text))
        self._last_turn = ("candidate", True)
        self._last_candidate_seq = turn.seq
        yield CandidateTurnStored(turn.seq, text)
        async for event in self.respond():
            yield event

    async def respond(self) -> AsyncIterator[EngineEvent]:
        """Reply to the newest candidate message: after :meth:`submit`, a failed reply, or a resume."""
        if self.finished or not self.pending:
            return
        await self._fold_deferred()
        text = self.last_candidate_text() or ""
        candidate_seq = self._candidate_seq()
        state = self.state.model_copy(deep=True)
        analysis = await self.analyst.analyze(text, state)
        deep = None
        if self.deep_analyst is not None and not analysis.injection:
            # Runs while the reply streams (started once the reply's request is out, so it never delays
            # it); the reply waits for it only when the guard needs its word.
            reader, snapshot = self.deep_analyst, state.model_copy(deep=True)
            deep = _DeepReading(lambda: reader.analyze(text, snapshot))
        changes = director.merge_analysis(state, analysis)
        decision = director.decide(state, analysis, self.persona, self.problem, self.clockface(state))
        try:
            async for event in self._reply(decision, state, analysis, changes, candidate_seq=candidate_seq, deep=deep):
                yield event
        finally:
            if deep is not None and (self._deferred is None or self._deferred[0] is not deep):
                deep.cancel()

    async def end(self, reason: str = "candidate ended the interview") -> AsyncIterator[EngineEvent]:
        """Close the interview now (the candidate ended it, or the time ran out)."""
        if self.finished:
            return
        if not self.opened:
            async for event in self.open():
                yield event
        await self._fold_deferred()
        async for event in self._reply(director.closing(reason), self.state.model_copy(deep=True), None, {}):
            yield event

    # ------------------------------------------------------------------ internals

    def _candidate_seq(self) -> int | None:
        return self._last_candidate_seq

    async def _fold_deferred(self) -> None:
        """Fold in the concurrent analyst's reading of the previous turn, if it finished after its reply."""
        if self._deferred is None:
            return
        from storage import NewEvent

        deep, turn_seq = self._deferred
        self._deferred = None
        reading = await deep.get()
        if reading is None:
            event = AnalystFallback(deep.error or "the analyst gave no answer")
            self.repo.add_events(self.interview_id, [NewEvent(event.type, event.payload(), turn_seq)])
            return
        changes = director.merge_judged(self.state, reading)
        if changes:
            events = [NewEvent(StageCovered.type, StageCovered(s, a, b).payload(), turn_seq) for s, (b, a) in changes.items()]
            self.repo.add_events(self.interview_id, events)
            self.repo.set_state(self.interview_id, self.state.to_json())

    def _store_partial(self, text: str, kind: str, moves_json: list, events: list[EngineEvent]):
        """An interrupted reply: stored as shown, marked incomplete; the state stays where it was."""
        from storage import NewEvent

        turn = self.repo.add_turn(
            self.interview_id,
            "interviewer",
            text,
            kind=kind,
            complete=False,
            moves=moves_json,
            elapsed_seconds=self.state.elapsed_seconds,
            events=[NewEvent(e.type, e.payload()) for e in events if e.stored],
        )
        self._last_turn = ("interviewer", False)
        return turn

    def _sanctioned_text(self, moves: tuple[Move, ...]) -> str:
        """Text this reply may legitimately draw figures from: the conversation and its own material."""
        parts = [self.problem.prompt, *(text for _, text in self.history)]
        for move in moves:
            if move.kind in (MoveKind.PROBE, MoveKind.REDIRECT):
                parts.append(probe_text(self.problem, move.probe, move.stage))
            elif move.kind is MoveKind.WHAT_IF and move.what_if:
                parts.append(self.problem.what_if(move.what_if).text)
        return "\n".join(parts)

    async def _reply(
        self,
        decision: Decision,
        state: InterviewState,
        analysis: Analysis | None,
        changes: dict[str, tuple[int, int]],
        *,
        candidate_seq: int | None = None,
        deep: "_DeepReading | None" = None,
    ) -> AsyncIterator[EngineEvent]:
        from storage import NewEvent

        previous_phase = state.phase
        previously_revealed = set(state.facts_revealed)
        director.apply(state, decision, self.persona, analysis)
        kind = decision.kind.value
        moves_json = [m.to_json() for m in decision.moves]
        yield ReplyStarted(kind, moves_json)

        clockface = self.clockface(state)
        request = VoiceRequest(
            persona=self.persona,
            problem=self.problem,
            moves=decision.moves,
            state=state,
            seq=len(self.history) + 1,
            minutes_left=_minutes_left(clockface),
            budget_minutes=self.budget_minutes,
            history=list(self.history),
            notes=dict(self.notes),
        )
        request.note = self.voice.director_note(request)
        allowed = set(state.facts_revealed)
        asked_late: list[str] = []  # facts the concurrent analyst confirmed the candidate asked for

        async def confirmed(verdict) -> bool:
            if verdict.fact is None or deep is None:
                return False
            reading = await deep.get()
            if reading is not None and verdict.fact in reading.facts_asked and verdict.fact not in allowed:
                allowed.add(verdict.fact)
                asked_late.append(verdict.fact)
                return True
            return False

        sanctioned = self._sanctioned_text(decision.moves)
        known = self.guard.known_figures(sanctioned)
        released = ""
        held = ""
        tripped = None
        failure: VoiceFailure | None = None
        usage: Usage | None = None
        notices: list[Notice] = []
        stream = self.voice.stream(request)
        try:
            async for chunk in stream:
                if deep is not None:
                    deep.start()
                if isinstance(chunk, Usage):
                    usage = chunk
                    continue
                if isinstance(chunk, Notice):
                    notices.append(chunk)
                    yield chunk
                    continue
                held += chunk
                cut = _last_release_point(held)
                if cut:
                    piece, held = held[:cut], held[cut:]
                    verdict = self.guard.check(released + piece, allowed, sanctioned, known)
                    while not verdict.ok and await confirmed(verdict):
                        verdict = self.guard.check(released + piece, allowed, sanctioned, known)
                    if not verdict.ok:
                        tripped = verdict
                        break
                    released += piece
                    yield ReplyDelta(piece)
            if tripped is None and held:
                verdict = self.guard.check(released + held, allowed, sanctioned, known)
                while not verdict.ok and await confirmed(verdict):
                    verdict = self.guard.check(released + held, allowed, sanctioned, known)
                if verdict.ok:
                    released += held
                    yield ReplyDelta(held)
                else:
                    tripped = verdict
        except VoiceFailure as exc:
            failure = exc
            if held and tripped is None and self.guard.check(released + held, allowed, sanctioned, known).ok:
                released += held  # the partial reply is kept and shown, marked incomplete
                yield ReplyDelta(held)
        except (asyncio.CancelledError, GeneratorExit):
            # Stopped by the user (Esc) or the consumer: keep what was shown, marked incomplete.
            self._store_partial(released, kind, moves_json, [ReplyCancelled()])
            raise
        finally:
            await _aclose(stream)
        if usage is None:
            usage = self.voice.unfinished_usage()  # type: ignore[assignment]

        domain: list[EngineEvent] = []
        if tripped is not None:
            deflection = render_move(request, Move(MoveKind.DEFLECT))
            addition = ("\n\n" if released else "") + deflection
            released += addition
            yield ReplyDelta(addition)
            domain.append(GuardTripped(tripped.reason, tripped.fact))

        if failure is not None:
            # Keep what streamed, marked incomplete; the state does not advance, so a retry redoes the turn.
            domain.append(EngineError(str(failure), failure.retryable))
            turn = self._store_partial(released, kind, moves_json, [*notices, *domain])
            for event in domain:
                yield event
            yield ReplyDone(turn.seq, released, kind, complete=False)
            return

        state.elapsed_seconds += self.clock.lap(released, "interviewer")
        if deep is not None and deep.settled:
            reading = await deep.get()
            if reading is None:
                domain.append(AnalystFallback(deep.error or "the analyst gave no answer"))
            else:
                for stage, (before, after) in director.merge_judged(state, reading).items():
                    changes[stage] = (changes.get(stage, (before, after))[0], after)
        elif deep is not None:
            # Still thinking: the reply is committed now, and its reading is folded in before the next turn.
            deep.start()
            self._deferred = (deep, len(self.history) + 1)
        for fact in asked_late:
            state.facts_revealed.append(fact)
            if fact not in state.facts_asked:
                state.facts_asked.append(fact)
            domain.append(FactRevealed(fact, asked=True))
        for move in decision.moves:
            if move.kind is MoveKind.ANSWER:
                domain += [FactRevealed(f, asked=True) for f in move.facts if f not in previously_revealed]
            elif move.kind is MoveKind.PROBE and move.stage:
                domain.append(ProbeAsked(move.stage, move.probe))
            elif move.kind is MoveKind.REDIRECT and move.stage:
                domain.append(Redirected(move.stage))
            elif move.kind is MoveKind.WHAT_IF and move.what_if:
                domain.append(WhatIfInjected(move.what_if))
            elif move.kind is MoveKind.DEFLECT and analysis is not None and analysis.injection:
                domain.append(InjectionDeflected((self.last_candidate_text() or "")[:200]))
        domain += [StageCovered(stage, after, before) for stage, (before, after) in changes.items()]
        if state.phase != previous_phase:
            domain.append(PhaseChanged(state.phase, previous_phase))
        if state.phase == "ended":
            domain.append(InterviewEnded(decision.notes[0] if decision.notes else "ended"))
        # Notices were shown as they came; they are stored with the reply's other events.
        events = [NewEvent(e.type, e.payload()) for e in [*notices, *domain] if e.stored]

        usage_json = None
        if usage is not None:
            usage_json = {k: v for k, v in usage.payload().items() if v is not None}
            usage_json["model"] = self.backend.model
        meta: dict = {"director": list(decision.notes)}
        if request.note:
            meta["note"] = request.note
        if tripped is not None:
            meta["guarded"] = tripped.reason
        turn = self.repo.add_turn(
            self.interview_id,
            "interviewer",
            released,
            kind=kind,
            moves=moves_json,
            meta=meta,
            usage=usage_json,
            elapsed_seconds=state.elapsed_seconds,
            state=state.to_json(),
            status="ended" if state.phase == "ended" else None,
            events=events,
            set_meta={candidate_seq: {"analysis": analysis.to_json()}} if candidate_seq and analysis else None,
        )
        self.state = state
        if request.note:
            self.notes[len(self.history)] = request.note
        self.history.append(("interviewer", released))
        self._last_turn = ("interviewer", True)
        for event in domain:
            yield event
        if usage is not None:
            yield usage
        yield ReplyDone(turn.seq, released, kind)


class _DeepReading:
    """The concurrent analyst's result: started once, awaited at most once and only when needed."""

    def __init__(self, make: "Callable[[], Awaitable[Analysis]]"):
        self._make = make
        self.task: asyncio.Future[Analysis] | None = None
        self.error: str | None = None
        self._result: Analysis | None = None
        self._done = False

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.ensure_future(self._make())

    @property
    def settled(self) -> bool:
        """The reading is in (or failed): waiting for it costs nothing."""
        return self._done or (self.task is not None and self.task.done())

    async def get(self) -> Analysis | None:
        self.start()
        if not self._done:
            try:
                self._result = await self.task  # type: ignore[misc]
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: the offline reading stands, and the event says why
                self.error = str(exc) or type(exc).__name__
            self._done = True
        return self._result

    def cancel(self) -> None:
        if self.task is None:
            return
        if not self.task.done():
            self.task.cancel()
        elif not self.task.cancelled():
            self.task.exception()  # a failure nobody waited for is still accounted for


MINUTES_PER_EXCHANGE = 2.5
"""Rough length of one exchange, to speak of a turn limit in minutes."""


def _minutes_left(clockface: director.Clockface) -> float:
    if clockface.max_turns is None:
        return clockface.minutes_left
    turns_left = max(1, clockface.max_turns - clockface.candidate_turns)
    return min(clockface.minutes_left, MINUTES_PER_EXCHANGE * turns_left)


def _last_release_point(text: str) -> int:
    last = 0
    for match in _RELEASE_POINT.finditer(text):
        last = match.end()
    return last


async def _aclose(stream: object) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()
