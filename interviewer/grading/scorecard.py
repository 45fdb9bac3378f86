"""The scorecard and the rules every grader's output passes through.

Graders propose per-dimension scores with evidence; this module checks the quotes against the
transcript (a quote that is not verbatim in the cited candidate turn is dropped and counted)
and computes the overall score and the recommendation from the rubric, never from the grader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from interviewer.content.models import Problem, Rubric
from interviewer.stages import STAGE_BY_ID


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    turn: int
    """The ``seq`` of the candidate turn the quote comes from."""
    quote: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class DimensionScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str = ""
    score: int = Field(ge=1, le=4)
    rationale: str
    evidence: list[Evidence] = []


class Missed(BaseModel):
    """Something the interview held that the candidate never reached, and when it could have come up."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["fact", "reference", "what_if"]
    """A hidden fact never asked for, a reference point of the problem not reached, a what-if left unanswered."""
    stage: str
    """The stage (or, for a reference point, the rubric dimension) it belongs to."""
    text: str
    turn: int | None = None
    """The turn where it could have come up (to open the replay at), when there is one."""
    moment: str
    """That moment in words, e.g. "while you worked on Data (turn 12)"."""


class Scorecard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interview_id: int
    rubric_id: str
    grader: str
    """Which grader produced it, e.g. ``offline-heuristic`` or the model's name."""
    dimensions: list[DimensionScore]
    overall: float
    recommendation: str
    strengths: list[str] = []
    improvements: list[str] = []
    facts_uncovered: list[str] = []
    """Hidden facts the candidate uncovered by asking."""
    dropped_quotes: int = 0
    """Evidence quotes removed because they were not verbatim in the cited candidate turn."""
    notes: list[str] = []
    """What the grader did that a reader should know (e.g. how a long transcript was handled)."""
    debrief: list[Missed] = []
    """What was left on the table: facts not asked for, reference points not reached, what-ifs unanswered."""
    disagreement: str = ""
    """Set when the scores disagree wildly with the offline grader's reading of the same transcript:
    how, so a reader knows to distrust this grading."""

    def dimension(self, dimension_id: str) -> DimensionScore:
        for dimension in self.dimensions:
            if dimension.id == dimension_id:
                return dimension
        raise KeyError(dimension_id)


@dataclass(frozen=True, slots=True)
class TranscriptTurn:
    seq: int
    role: str
    text: str
    kind: str | None = None


@dataclass
class Transcript:
    """An interview read back from the database, as graders see it."""

    interview_id: int
    problem: Problem
    turns: list[TranscriptTurn]
    facts_asked: list[str] = field(default_factory=list)
    """Facts uncovered by the candidate's questions, from the event log."""
    redirects: list[str] = field(default_factory=list)
    """Stages the interviewer had to steer the candidate to."""
    what_ifs_unanswered: list[str] = field(default_factory=list)
    """What-ifs the candidate never took up (put again once where there was time)."""
    stage_turns: dict[str, int] = field(default_factory=dict)
    """The first turn on which the interviewer read each stage as covered."""
    what_if_turns: dict[str, int] = field(default_factory=dict)
    """The turn on which each what-if was first put."""
    facts_asked_at: dict[str, int] = field(default_factory=dict)
    """The turn on which each fact in ``facts_asked`` was first given."""
    facts_told: dict[str, int] = field(default_factory=dict)
    """Facts the interviewer stated without being asked, with the turn."""
    flagged: list[int] = field(default_factory=list)
    """Candidate turns that work on the interviewer or the grader (the analyst flagged them, or they read
    so): they earn no credit and cannot be evidence."""

    def candidate_turns(self) -> list[TranscriptTurn]:
        return [turn for turn in self.turns if turn.role == "candidate"]

    def credited_turns(self) -> list[TranscriptTurn]:
        """The candidate turns that can earn credit: all but the flagged ones."""
        flagged = set(self.flagged)
        return [turn for turn in self.candidate_turns() if turn.seq not in flagged]

    def turn(self, seq: int) -> TranscriptTurn | None:
        for turn in self.turns:
            if turn.seq == seq:
                return turn
        return None


def as_clause(point: str) -> str:
    """A reference point ("Asks about …") as the rest of a sentence ("a strong candidate asks about …")."""
    return point[:1].lower() + point[1:] if point[1:2].islower() else point


def unanswered_what_ifs_note(transcript: Transcript) -> str:
    """A rationale's "; left N what-if(s) unanswered", or "" when every what-if was taken up."""
    if not transcript.what_ifs_unanswered:
        return ""
    return f"; left {len(transcript.what_ifs_unanswered)} what-if(s) unanswered"


def debrief(transcript: Transcript, rubric: Rubric, missed_points: dict[str, list[str]] | None) -> list[Missed]:
    """What the candidate left on the table, each item placed at the moment it could have come up."""
    problem = transcript.problem
    asked = set(transcript.facts_asked)
    items = [
        Missed(kind="fact", stage=fact.stage, text=fact.answer, **_moment(transcript, fact.stage, fact.id))
        for fact in problem.facts
        if fact.id not in asked
    ]
    for dimension in rubric.dimensions:
        stage = dimension.stage or (dimension.id if dimension.id in STAGE_BY_ID else None)
        for point in (missed_points or {}).get(dimension.id, []):
            where = _moment(transcript, stage, None) if stage else {"turn": None, "moment": "across the interview"}
            items.append(Missed(kind="reference", stage=dimension.id, text=point, **where))
    for what_if_id in dict.fromkeys(transcript.what_ifs_unanswered):
        what_if = next((w for w in problem.what_ifs if w.id == what_if_id), None)
        if what_if is not None:
            turn = transcript.what_if_turns.get(what_if_id)
            moment = f"put to you at turn {turn}" if turn is not None else "put to you"
            items.append(Missed(kind="what_if", stage=what_if.after, text=what_if.text, turn=turn, moment=moment))
    return items


def _moment(transcript: Transcript, stage: str, fact_id: str | None) -> dict[str, int | str | None]:
    name = STAGE_BY_ID[stage].name if stage in STAGE_BY_ID else stage
    told = transcript.facts_told.get(fact_id or "")
    if told is not None:
        return {"turn": told, "moment": f"the interviewer told you at turn {told} without being asked"}
    if stage == "clarification":
        designing = [turn for covered, turn in transcript.stage_turns.items() if covered != "clarification"]
        if designing:
            return {"turn": min(designing), "moment": f"before you started designing (turn {min(designing)})"}
        return {"turn": None, "moment": "while clarifying the problem"}
    turn = transcript.stage_turns.get(stage)
    if turn is None:
        return {"turn": None, "moment": f"{name} never came up"}
    return {"turn": turn, "moment": f"while you worked on {name} (from turn {turn})"}


def verify_evidence(dimensions: list[DimensionScore], transcript: Transcript) -> tuple[int, int]:
    """Drop, in place, every quote that is not verbatim in the candidate turn it cites, and every quote from
    a flagged turn (or that is itself an attempt on the interviewer or the grader). Returns how many of each."""
    from interviewer.grading.attempts import is_attempt

    candidate_text = {turn.seq: turn.text for turn in transcript.candidate_turns()}
    flagged = set(transcript.flagged)
    dropped = refused = 0
    for dimension in dimensions:
        kept = []
        for item in dimension.evidence:
            source = candidate_text.get(item.turn)
            if source is None or not item.quote.strip() or item.quote not in source:
                dropped += 1
            elif item.turn in flagged or is_attempt(item.quote):
                refused += 1
            else:
                kept.append(item)
        dimension.evidence = kept
    return dropped, refused


def finalize(
    *,
    interview_id: int,
    rubric: Rubric,
    grader: str,
    dimensions: list[DimensionScore],
    transcript: Transcript,
    strengths: list[str],
    improvements: list[str],
    notes: list[str] | None = None,
    missed_points: dict[str, list[str]] | None = None,
) -> Scorecard:
    """Check the grader's dimensions against the rubric and the transcript; compute overall and recommendation."""
    by_id = {d.id: d for d in dimensions}
    missing = [d.id for d in rubric.dimensions if d.id not in by_id]
    if missing:
        raise ValueError(f"grader gave no score for dimension(s): {', '.join(missing)}")
    ordered = []
    for rubric_dimension in rubric.dimensions:
        score = by_id[rubric_dimension.id]
        score.name = score.name or rubric_dimension.name
        ordered.append(score)
    dropped, refused = verify_evidence(ordered, transcript)
    notes = list(notes or [])
    if dropped:
        notes.append(f"{dropped} quote(s) were not verbatim in the cited turn and were dropped.")
    if refused:
        notes.append(
            f"{refused} quote(s) came from turns that work on the interviewer or the grader and were dropped: "
            "such turns earn no credit."
        )
    scores = {d.id: d.score for d in ordered}
    overall = rubric.overall(scores)
    return Scorecard(
        interview_id=interview_id,
        rubric_id=rubric.id,
        grader=grader,
        dimensions=ordered,
        overall=overall,
        recommendation=rubric.recommend(overall, scores),
        strengths=strengths,
        improvements=improvements,
        facts_uncovered=list(transcript.facts_asked),
        dropped_quotes=dropped,
        notes=notes,
        debrief=debrief(transcript, rubric, missed_points),
    )
