"""The director: plain, deterministic Python that picks the interviewer's next moves.

It is the same for every backend. Given the state (already updated with the analyst's
reading of the candidate's turn), the analysis, the persona's settings, the problem and the
clock, it returns a :class:`Decision`. :func:`apply` then records the decision in the state.

The director is the only code that changes an :class:`InterviewState`: the session hands it
the analysts' readings, the time spent and what the guard let through, and stores the result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from interviewer.content.models import Persona, Problem
from interviewer.engine.analyst import Analysis, Question
from interviewer.engine.moves import Decision, Move, MoveKind, TurnKind, probe_key
from interviewer.engine.pushes import pick_up, record_press
from interviewer.engine.state import InterviewState
from interviewer.stages import STAGE_IDS
from interviewer.text import normalized

WRAP_UP_AT = 0.88
"""Share of the time budget after which the interviewer asks for the closing summary."""

WHAT_IF_SPACING = 3
"""Candidate turns between two what-ifs, at least."""
WHAT_IF_LAST_AT = 0.75
"""Share of the time after which no new what-if is raised: the last minutes are for the summary."""

REFOCUS_SPACING = 3
"""Candidate turns between two reminders of what problem we are solving."""
OFF_TOPIC_RUN = 2
"""Off-topic turns among the last few before the interviewer says so: one stray turn is a tangent."""
OFF_TOPIC_WINDOW = 3
MAX_REFOCUSES = 2
"""After this many reminders the candidate has heard it; the grader notes the rest."""

PLAN_STALL_TURNS = 3
"""A stated plan has stalled when this many candidate turns reached none of its stages."""

DISCUSSION_STAGES = STAGE_IDS[1:]
"""Stages that are steered to and probed; clarification is judged, not forced."""


@dataclass(frozen=True, slots=True)
class Clockface:
    """How far the interview is, as the director sees it."""

    fraction: float
    """Elapsed share of the time budget (1.0 = time is up)."""
    minutes_left: float
    candidate_turns: int
    max_turns: int | None = None

    @property
    def out_of_time(self) -> bool:
        return self.fraction >= 1.0 or (self.max_turns is not None and self.candidate_turns >= self.max_turns)

    @property
    def near_end(self) -> bool:
        """Time for the summary: past the wrap-up point, or the next turn at this pace would end it."""
        pace = self.fraction / self.candidate_turns if self.candidate_turns else 0.0
        return (
            self.fraction >= WRAP_UP_AT
            or self.fraction + pace >= 1.0
            or (self.max_turns is not None and self.candidate_turns >= self.max_turns - 1)
        )


def steer_at(persona: Persona) -> float:
    """When skipped stages start being steered to: earlier for stricter interviewers."""
    return round(0.65 - 0.35 * persona.strictness, 3)


def spend_time(state: InterviewState, seconds: float) -> None:
    """A turn took this much interview time."""
    state.elapsed_seconds += seconds


def confirm_asked(state: InterviewState, facts: list[str]) -> None:
    """Facts the reply stated because the concurrent reading confirmed the candidate asked for them."""
    for fact in facts:
        state.facts_revealed.append(fact)
        if fact not in state.facts_asked:
            state.facts_asked.append(fact)


def merge_analysis(state: InterviewState, analysis: Analysis) -> dict[str, tuple[int, int]]:
    """Fold one candidate turn's analysis into the state. Returns stages whose depth changed."""
    before = state.coverage()
    state.candidate_turns += 1
    for stage, found in analysis.signals.items():
        bucket = state.signals.setdefault(stage, [])
        bucket.extend(s for s in found if s not in bucket)
    for stage, count in analysis.reasoned.items():
        state.reasoned[stage] = state.reasoned.get(stage, 0) + count
    clarification = state.signals.setdefault("clarification", [])
    for question in analysis.questions:
        if analysis.injection:
            break
        if question.facts:
            for fact in question.facts:
                if fact not in state.facts_asked:
                    state.facts_asked.append(fact)
                if f"asked:{fact}" not in clarification:
                    clarification.append(f"asked:{fact}")
        else:
            clarification.append(f"question:{len(clarification)}")
    state.recent_off_topic = [*state.recent_off_topic, bool(analysis.off_topic)][-OFF_TOPIC_WINDOW:]
    if analysis.assumptions:
        state.reasoned["clarification"] = state.reasoned.get("clarification", 0) + analysis.assumptions
    after = state.coverage()
    _track_plan(state, analysis, [stage for stage in STAGE_IDS if before[stage] == 0 < after[stage]])
    return {stage: (before[stage], after[stage]) for stage in STAGE_IDS if after[stage] != before[stage]}


def _track_plan(state: InterviewState, analysis: Analysis, reached: list[str]) -> None:
    """A newly stated plan, or progress along the one stated: a stage of it reached for the first time."""
    if reached:
        state.new_stage_turn = state.candidate_turns
    if analysis.plan:
        state.plan = list(analysis.plan)
        state.plan_progress_turn = state.candidate_turns
    elif any(stage in state.plan for stage in reached):
        state.plan_progress_turn = state.candidate_turns


def following_plan(state: InterviewState) -> bool:
    """The candidate is working through the plan they stated: part of it is still ahead, and they reached
    a stage of it (or stated it) within the last few turns."""
    ahead = [stage for stage in _untouched(state) if stage in state.plan]
    return bool(ahead) and state.candidate_turns - state.plan_progress_turn < PLAN_STALL_TURNS


def _untouched(state: InterviewState) -> list[str]:
    """The discussion stages the candidate has not said a word about, in agenda order."""
    return [stage for stage in DISCUSSION_STAGES if state.depth(stage) == 0]


def merge_judged(state: InterviewState, analysis: Analysis) -> dict[str, tuple[int, int]]:
    """Fold a concurrent analyst's judged depths into the state, capped one level above the lexical
    evidence so an over-generous model cannot mark a stage covered on its own."""
    before = state.coverage()
    for stage, depth in analysis.depths.items():
        if stage in STAGE_IDS:
            capped = min(depth, state.lexical_depth(stage) + 1)
            state.judged_depth[stage] = max(state.judged_depth.get(stage, 0), capped)
    after = state.coverage()
    return {stage: (before[stage], after[stage]) for stage in STAGE_IDS if after[stage] != before[stage]}


def _answers(analysis: Analysis, state: InterviewState) -> list[Move]:
    """One move per question: the facts that answer it, which of a few things it means, or "open". The
    answers come first, so a fact given in this reply is given once and never asked about ("do you mean
    the latency?") beside its own answer; one "which do you mean?" and one "open" are enough."""
    moves: list[Move] = []
    given: set[str] = set()
    answered_first = sorted(analysis.questions, key=lambda question: not question.facts)
    for question in answered_first:
        move = _answer(question, given, state)
        if move is None or (move.kind is not MoveKind.ANSWER and any(m.kind is move.kind for m in moves)):
            continue
        given.update(move.facts if move.kind is MoveKind.ANSWER else ())
        moves.append(move)
    return moves


def _answer(question: Question, given: set[str], state: InterviewState) -> Move | None:
    if question.facts:
        new = tuple(f for f in question.facts if f not in given)
        if not new:
            return None
        repeat = all(f in state.facts_revealed for f in new)
        return Move(MoveKind.ANSWER, facts=new, repeat=repeat, question=question.text)
    if question.close:
        close = tuple(f for f in question.close if f not in given)
        return Move(MoveKind.CLARIFY, facts=close, question=question.text) if close else None
    return Move(MoveKind.UNSPECIFIED, question=question.text)


def _next_probe(problem: Problem, state: InterviewState, stage: str) -> str | None:
    for index, _ in enumerate(problem.probes_for(stage)):
        key = probe_key(stage, index)
        if key not in state.probes_used:
            return key
    return None


def _uncovered(state: InterviewState, time: Clockface) -> list[str]:
    stages = _untouched(state)
    if time.fraction < 0.3 and state.depth("clarification") == 0:
        stages.insert(0, "clarification")
    return stages


def turns_left(time: Clockface) -> float:
    """Candidate turns likely left before the wrap-up, at the pace so far."""
    left = float("inf")
    if time.candidate_turns and time.fraction > 0:
        left = (WRAP_UP_AT - time.fraction) * time.candidate_turns / time.fraction
    if time.max_turns is not None:
        left = min(left, time.max_turns - 1 - time.candidate_turns)
    return max(0.0, left)


def _due(state: InterviewState, time: Clockface) -> list[str]:
    """The untouched stages, when the turns left barely cover them: reaching them comes first. A candidate
    who has just taken up a new stage is moving through the agenda on their own (only when even a stage a
    turn would not reach them all), and one following their stated plan will reach the stages in it."""
    untouched = _untouched(state)
    if following_plan(state):
        untouched = [stage for stage in untouched if stage not in state.plan]
    margin = 0 if state.new_stage_turn == state.candidate_turns else 1
    return untouched if untouched and len(untouched) + margin >= turns_left(time) else []


def _skipped(state: InterviewState, persona: Persona, time: Clockface) -> list[str]:
    """Stages to steer to now, most needed first: those the candidate moved past without a word once the
    persona's steering time has come (not while they follow the plan they stated), and any still untouched
    once the turns left barely cover them.
    A stage steered to already comes after the others: the candidate heard that request."""
    untouched = _untouched(state)
    # Moved past a stage: discussed a later one (a sentence on it in passing is not a move past).
    reached = [index for index, stage in enumerate(DISCUSSION_STAGES) if state.depth(stage) >= 2]
    furthest = -1 if following_plan(state) else max(reached, default=-1)
    behind = [stage for stage in untouched if DISCUSSION_STAGES.index(stage) < furthest]
    due = _due(state, time)
    chosen = due or (behind if time.fraction >= steer_at(persona) else [])
    return sorted(chosen, key=lambda stage: (state.redirects.count(stage), stage not in behind))


def _redirect(problem: Problem, state: InterviewState, stage: str) -> Move:
    return Move(MoveKind.REDIRECT, stage=stage, probe=_next_probe(problem, state, stage))


def max_what_ifs(persona: Persona) -> int:
    """What-ifs in one interview: one or two for most interviewers, three for the most eager."""
    return round(1 + 3 * persona.what_if_rate)


def _what_if(persona: Persona, problem: Problem, state: InterviewState, time: Clockface) -> Move | None:
    """A what-if once the stage it stresses has been discussed, spaced out, and never in the last part."""
    if state.what_if_credit + persona.what_if_rate < 1.0 - 1e-9 or len(state.what_ifs_used) >= max_what_ifs(persona):
        return None
    if state.candidate_turns - state.last_what_if_turn < WHAT_IF_SPACING or time.fraction >= WHAT_IF_LAST_AT:
        return None
    for item in problem.what_ifs:
        if item.id not in state.what_ifs_used and state.depth(item.after) >= 2:
            return Move(MoveKind.WHAT_IF, what_if=item.id, stage=item.after)
    return None


def _probe(persona: Persona, problem: Problem, state: InterviewState, focus: str | None) -> Move | None:
    """Probe a stage the candidate has moved past while it is still thin."""
    limit = DISCUSSION_STAGES.index(focus) if focus in DISCUSSION_STAGES else len(DISCUSSION_STAGES)
    for stage in DISCUSSION_STAGES[:limit]:
        depth = state.depth(stage)
        if not 1 <= depth < persona.probe_depth:
            continue
        if state.probes_per_stage.get(stage, 0) >= persona.max_probes_per_stage or _probe_ignored(state, stage):
            continue
        key = _next_probe(problem, state, stage)
        if key is not None:
            return Move(MoveKind.PROBE, stage=stage, probe=key)
    return None


def _probe_ignored(state: InterviewState, stage: str) -> bool:
    """The last probe of this stage went unanswered (it is no deeper) while other stages are still
    untouched: those come first."""
    if stage not in state.depth_when_probed or state.depth(stage) > state.depth_when_probed[stage]:
        return False
    return any(other != stage for other in _untouched(state))


def _thinnest_probe(persona: Persona, problem: Problem, state: InterviewState) -> Move | None:
    ranked = sorted(DISCUSSION_STAGES, key=lambda s: (state.depth(s), DISCUSSION_STAGES.index(s)))
    for stage in ranked:
        if state.depth(stage) >= 3 or state.probes_per_stage.get(stage, 0) >= persona.max_probes_per_stage:
            continue
        if _probe_ignored(state, stage):
            continue
        key = _next_probe(problem, state, stage)
        if key is not None:
            return Move(MoveKind.PROBE, stage=stage, probe=key)
    return None


def opening() -> Decision:
    return Decision((Move(MoveKind.OPENING),), "discussion", ("opening",))


def closing(reason: str) -> Decision:
    return Decision((Move(MoveKind.CLOSE),), "ended", (reason,))


def decide(state: InterviewState, analysis: Analysis, persona: Persona, problem: Problem, time: Clockface) -> Decision:
    return _settle_what_if(_decide(state, analysis, persona, problem, time), state, analysis)


def _decide(state: InterviewState, analysis: Analysis, persona: Persona, problem: Problem, time: Clockface) -> Decision:
    ending = _ending(state, analysis, time)
    if ending is not None:
        return ending
    moves = _answers(analysis, state)
    if time.near_end:
        return Decision((*moves, Move(MoveKind.WRAP_UP)), "wrap_up", ("near the end",))
    steer, note = _steer(state, analysis, persona, problem, time)
    if steer is not None:
        moves.append(steer)
    if not moves and state.acknowledgements >= len(persona.templates.acknowledge):
        steer, note = _instead_of_acknowledging(persona, problem, state, time)
        moves += [steer] if steer is not None else []
    if not moves:
        moves.append(Move(MoveKind.ACKNOWLEDGE, stage=analysis.focus or state.last_focus))
        note = note or "let the candidate lead"
    return Decision(tuple(moves), "discussion", (note,) if note else ())


def _instead_of_acknowledging(
    persona: Persona, problem: Problem, state: InterviewState, time: Clockface
) -> tuple[Move | None, str]:
    """Every way of saying "go on" has been said: ask about the thinnest stage (or the next one) instead."""
    if (move := _thinnest_probe(persona, problem, state)) is not None:
        return move, "said every 'go on': thinnest stage"
    uncovered = _uncovered(state, time)
    if uncovered:
        return _redirect(problem, state, uncovered[0]), "said every 'go on': next stage"
    return None, ""


def _settle_what_if(decision: Decision, state: InterviewState, analysis: Analysis) -> Decision:
    """What became of the open what-if: taken up; or not, and asked again once; or, asked twice (or still
    open at the wrap-up), unanswered, which the grader hears of. A deflected turn settles nothing, and
    neither does a turn whose reply had something more pressing to ask."""
    open_what_if, taken_up = state.what_if_open, analysis.takes_up_what_if
    if open_what_if is None or taken_up is None or decision.kind is TurnKind.DEFLECT:
        return decision
    if not taken_up and not state.what_if_asked_again and decision.phase == "discussion":
        return decision
    return replace(decision, what_if_settled=(open_what_if, taken_up))


def _what_if_again(state: InterviewState, analysis: Analysis) -> Move | None:
    """The open what-if once more, when the candidate went on as if it had not been raised."""
    if state.what_if_open is None or analysis.takes_up_what_if is not False or state.what_if_asked_again:
        return None
    return Move(MoveKind.WHAT_IF, what_if=state.what_if_open, repeat=True)


def _hint(
    persona: Persona, problem: Problem, state: InterviewState, analysis: Analysis, time: Clockface
) -> Move | None:
    """A hint ladder for a stuck candidate, for personas that give hints: the stage's agenda first, then
    the problem's question for it, then on to the next stage."""
    if not persona.hints:
        return None
    uncovered = _uncovered(state, time)
    stage = analysis.focus or state.last_focus or (uncovered[0] if uncovered else None)
    if stage is None:
        return None
    if state.hints.get(stage, 0) == 0:
        return Move(MoveKind.HINT, stage=stage)
    key = _next_probe(problem, state, stage)
    if key is not None and state.probes_per_stage.get(stage, 0) < max(1, persona.max_probes_per_stage):
        return Move(MoveKind.PROBE, stage=stage, probe=key)
    ahead = [other for other in uncovered if other != stage]
    return _redirect(problem, state, ahead[0]) if ahead else None


def _ending(state: InterviewState, analysis: Analysis, time: Clockface) -> Decision | None:
    """The turns that end or interrupt the discussion, whatever else the candidate said."""
    if state.phase == "ended":
        return Decision((), "ended", ("already ended",))
    if time.out_of_time:
        return closing("time is up" if time.fraction >= 1.0 else "turn limit reached")
    if analysis.injection:
        return Decision((Move(MoveKind.DEFLECT),), state.phase, ("injection attempt",))
    if state.phase == "wrap_up":
        return closing("closing summary given")
    if analysis.end_requested:
        return closing("candidate asked to end")
    if (
        analysis.off_topic
        and sum(state.recent_off_topic) >= OFF_TOPIC_RUN
        and not analysis.questions
        and state.refocuses < MAX_REFOCUSES
        and state.candidate_turns - state.last_refocus_turn >= REFOCUS_SPACING
    ):
        return Decision((Move(MoveKind.REFOCUS),), state.phase, (f"off topic: nearer {analysis.off_topic}",))
    return None


def _steer(
    state: InterviewState, analysis: Analysis, persona: Persona, problem: Problem, time: Clockface
) -> tuple[Move | None, str]:
    """The interviewer's own move after the answers (a redirect, a what-if, a probe), and why."""
    uncovered = _uncovered(state, time)
    skipped = _skipped(state, persona, time)
    if analysis.stuck and (move := _hint(persona, problem, state, analysis, time)) is not None:
        return move, "stuck: help them in"
    if not (skipped and _due(state, time)) and (move := _what_if_again(state, analysis)) is not None:
        return move, "what-if not taken up: ask again"
    if skipped:
        return _redirect(problem, state, skipped[0]), "steer to skipped"
    if analysis.questions and not analysis.substantive:
        return None, "answering questions"
    if (move := _what_if(persona, problem, state, time)) is not None:
        return move, "what-if fits"
    if not analysis.questions and (move := pick_up(persona, problem, state, analysis)) is not None:
        return move, f"{'press on' if move.kind is MoveKind.PRESS else 'pick up their'} {move.hook.replace('_', '-')}"
    if (move := _probe(persona, problem, state, analysis.focus)) is not None:
        return move, "thin stage left behind"
    if not analysis.substantive and not analysis.questions:
        if uncovered:
            return _redirect(problem, state, uncovered[0]), "no substance: next stage"
        if (move := _thinnest_probe(persona, problem, state)) is not None:
            return move, "no substance: thinnest stage"
    return None, ""


def apply(state: InterviewState, decision: Decision, persona: Persona, analysis: Analysis | None = None) -> None:
    """Record a decision in the state: revealed facts, used probes and what-ifs, the new phase."""
    if analysis is not None and state.phase == "discussion":
        state.what_if_credit = min(1.0 + persona.what_if_rate, state.what_if_credit + persona.what_if_rate)
    if decision.what_if_settled is not None:
        what_if, taken_up = decision.what_if_settled
        if not taken_up:
            state.what_ifs_unanswered.append(what_if)
        state.what_if_open, state.what_if_asked_again = None, False
    for move in decision.moves:
        _record(state, move)
    if analysis is not None and analysis.focus:
        state.last_focus = analysis.focus
    state.phase = decision.phase  # type: ignore[assignment]


def _record(state: InterviewState, move: Move) -> None:
    match move.kind:
        case MoveKind.ANSWER:
            state.facts_revealed.extend(f for f in move.facts if f not in state.facts_revealed)
        case MoveKind.PROBE | MoveKind.REDIRECT:
            if move.probe is not None and move.probe not in state.probes_used:
                state.probes_used.append(move.probe)
            if move.kind is MoveKind.PROBE and move.stage:
                state.probes_per_stage[move.stage] = state.probes_per_stage.get(move.stage, 0) + 1
                state.depth_when_probed[move.stage] = state.depth(move.stage)
            if move.kind is MoveKind.REDIRECT and move.stage:
                state.redirects.append(move.stage)
        case MoveKind.WHAT_IF if move.what_if and move.repeat:
            state.what_if_asked_again = True
            state.last_what_if_turn = state.candidate_turns
        case MoveKind.WHAT_IF if move.what_if:
            state.what_if_open, state.what_if_asked_again = move.what_if, False
            state.what_ifs_used.append(move.what_if)
            state.last_what_if_turn = state.candidate_turns
            state.what_if_credit = max(0.0, state.what_if_credit - 1.0)
        case MoveKind.DEFLECT:
            state.deflections += 1
        case MoveKind.REFOCUS:
            state.last_refocus_turn = state.candidate_turns
            state.refocuses += 1
        case MoveKind.FOLLOW_UP:
            state.followed_up.append(normalized(move.point))
        case MoveKind.ACKNOWLEDGE:
            state.acknowledgements += 1
        case MoveKind.PRESS:
            record_press(state, move)
        case MoveKind.HINT if move.stage:
            state.hints[move.stage] = state.hints.get(move.stage, 0) + 1
