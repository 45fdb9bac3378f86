"""The scorecard and the rules every grader's output passes through.

Graders propose per-dimension scores with evidence; this module checks the quotes against the
transcript (a quote that is not verbatim in the cited candidate turn is dropped and counted)
and computes the overall score and the recommendation from the rubric, never from the grader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from interviewer.content.models import Problem, Rubric


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


def unanswered_what_ifs_note(transcript: Transcript) -> str:
    """A rationale's "; left N what-if(s) unanswered", or "" when every what-if was taken up."""
    if not transcript.what_ifs_unanswered:
        return ""
    return f"; left {len(transcript.what_ifs_unanswered)} what-if(s) unanswered"


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
    )
