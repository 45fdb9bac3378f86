"""Grading: the scorecard, the grader interface and the offline heuristic grader."""

from interviewer.grading.base import Grader, GradingError, grade_interview, load_transcript
from interviewer.grading.scorecard import DimensionScore, Evidence, Scorecard, Transcript, TranscriptTurn, finalize

__all__ = [
    "DimensionScore",
    "Evidence",
    "Grader",
    "GradingError",
    "Scorecard",
    "Transcript",
    "TranscriptTurn",
    "finalize",
    "grade_interview",
    "load_transcript",
]
