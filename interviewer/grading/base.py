"""The grader interface, and grading an interview stored in the database."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from interviewer.content.models import Problem, Rubric
from interviewer.errors import InterviewerError
from interviewer.grading.scorecard import Evidence, Scorecard, Transcript, TranscriptTurn

if TYPE_CHECKING:
    from storage import Repository


class GradingError(InterviewerError):
    """The grader could not produce a valid scorecard; the message says why."""


class Grader(ABC):
    name: str = "grader"

    @abstractmethod
    async def grade(self, transcript: Transcript, rubric: Rubric, problem: Problem) -> Scorecard:
        """Score the transcript against the rubric. Implementations end with :func:`finalize`."""

    def off_stage(self, transcript: Transcript, quotes: Sequence[tuple[str, Evidence]]) -> list[bool]:
        """For each (stage, quote): whether the quote plainly works on another stage, so it cannot evidence
        this one. A grader that cannot read stages by meaning keeps every quote."""
        return [False] * len(quotes)


def load_transcript(repo: Repository, interview_id: int) -> Transcript:
    """Read an interview back from the database, as graders see it."""
    interview = repo.get_interview(interview_id)
    problem = Problem.model_validate(interview.problem)
    rows = repo.get_turns(interview_id)
    turns = [TranscriptTurn(seq=t.seq, role=t.role, text=t.text, kind=t.kind) for t in rows]
    flagged = flagged_turns(turns, {t.seq for t in rows if ((t.meta or {}).get("analysis") or {}).get("injection")})
    transcript = Transcript(interview_id, problem, turns, flagged=flagged)
    for event in repo.get_events(interview_id):
        payload, seq = event.payload, event.turn_seq
        match event.type:
            case "fact_revealed" if payload.get("asked"):
                if payload["fact"] not in transcript.facts_asked:
                    transcript.facts_asked.append(payload["fact"])
                    if seq is not None:
                        transcript.facts_asked_at[payload["fact"]] = seq
            case "fact_revealed" if seq is not None:
                transcript.facts_told.setdefault(payload["fact"], seq)
            case "redirect":
                transcript.redirects.append(payload.get("stage", ""))
            case "what_if_unanswered":
                transcript.what_ifs_unanswered.append(payload.get("what_if", ""))
            case "what_if" if seq is not None and not payload.get("again"):
                transcript.what_if_turns.setdefault(payload.get("what_if", ""), seq)
            case "stage_covered" if seq is not None:
                transcript.stage_turns.setdefault(payload.get("stage", ""), seq)
    return transcript


def flagged_turns(turns: list[TranscriptTurn], analyst_flagged: set[int]) -> list[int]:
    """The candidate turns that work on the interviewer or the grader: flagged by the analyst during the
    interview, or reading so now."""
    from interviewer.grading.attempts import is_attempt

    return [t.seq for t in turns if t.role == "candidate" and (t.seq in analyst_flagged or is_attempt(t.text))]


async def grade_interview(
    repo: Repository, interview_id: int, grader: Grader, rubric: Rubric | None = None
) -> Scorecard:
    """Grade a stored interview (with its own rubric unless another is given) and store the scorecard.
    Database work runs on a worker thread, so a host's event loop never waits on it."""
    interview = await asyncio.to_thread(repo.get_interview, interview_id)
    rubric = rubric or Rubric.model_validate(interview.rubric)
    transcript = await asyncio.to_thread(load_transcript, repo, interview_id)
    card = await grader.grade(transcript, rubric, transcript.problem)
    await asyncio.to_thread(
        repo.add_scorecard,
        interview_id,
        rubric_id=card.rubric_id,
        grader=card.grader,
        overall=card.overall,
        recommendation=card.recommendation,
        data=card.model_dump(mode="json"),
    )
    return card
