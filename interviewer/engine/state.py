"""The interview's state: what has been covered, revealed and used, and how much time is gone.

It is stored with every interviewer turn, so a resumed interview continues exactly where
it stopped.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from interviewer.stages import STAGE_IDS

Phase = Literal["opening", "discussion", "wrap_up", "ended"]


def depth_for(signals: int, reasoned: int) -> int:
    """Coverage depth from the distinct signals and the reasoned sentences seen for a stage."""
    if signals >= 5 and reasoned >= 2:
        return 3
    if signals >= 3 or (signals >= 2 and reasoned >= 1):
        return 2
    if signals >= 1:
        return 1
    return 0


class InterviewState(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=False)

    phase: Phase = "opening"
    elapsed_seconds: float = 0.0
    candidate_turns: int = 0
    signals: dict[str, list[str]] = Field(default_factory=lambda: {s: list[str]() for s in STAGE_IDS})
    """Distinct signals seen per stage, in the order they appeared."""
    reasoned: dict[str, int] = Field(default_factory=lambda: dict.fromkeys(STAGE_IDS, 0))
    """Substantive sentences per stage that gave a reason or a figure."""
    facts_revealed: list[str] = Field(default_factory=list)
    facts_asked: list[str] = Field(default_factory=list)
    """Facts the candidate uncovered by asking (the clarification evidence)."""
    probes_used: list[str] = Field(default_factory=list)
    probes_per_stage: dict[str, int] = Field(default_factory=dict)
    depth_when_probed: dict[str, int] = Field(default_factory=dict)
    """Each probed stage's depth when it was last probed: no deeper since means the probe was ignored."""
    what_ifs_used: list[str] = Field(default_factory=list)
    what_if_credit: float = 0.0
    last_what_if_turn: int = -100
    what_if_open: str | None = None
    """The what-if raised last that the candidate has not taken up yet."""
    what_if_asked_again: bool = False
    """The open what-if was put to the candidate a second time; once more unanswered, it is noted."""
    what_ifs_unanswered: list[str] = Field(default_factory=list)
    """What-ifs the candidate never took up (the grader hears of them)."""
    last_focus: str | None = None
    redirects: list[str] = Field(default_factory=list)
    """Stages the interviewer had to steer the candidate to."""
    deflections: int = 0
    last_refocus_turn: int = -100
    """When the interviewer last brought an off-topic candidate back to the problem."""
    refocuses: int = 0
    recent_off_topic: list[bool] = Field(default_factory=list)
    """For the last few candidate turns: did each design some other system?"""
    plan: list[str] = Field(default_factory=list)
    """The stages the candidate said they would go through, in their order."""
    plan_progress_turn: int = -100
    """The candidate turn that stated the plan or last reached a stage of it."""
    new_stage_turn: int = -100
    """The candidate turn that last took up a stage not touched before."""
    pressed: list[str] = Field(default_factory=list)
    """What the persona pressed on so far, as ``topic:stage``: each once per stage."""
    last_press_turn: int = -100
    hints: dict[str, int] = Field(default_factory=dict)
    """Hints given per stage to a stuck candidate."""
    acknowledgements: int = 0
    """Replies that only let the candidate go on."""
    followed_up: list[str] = Field(default_factory=list)
    """The candidate's points the interviewer asked about already (lower-cased), never asked twice."""
    judged_depth: dict[str, int] = Field(default_factory=dict)
    """Depth per stage as the LLM analyst judged it, at most one level above the lexical evidence."""

    def lexical_depth(self, stage: str) -> int:
        return depth_for(len(self.signals.get(stage, ())), self.reasoned.get(stage, 0))

    def depth(self, stage: str) -> int:
        return max(self.lexical_depth(stage), self.judged_depth.get(stage, 0))

    def coverage(self) -> dict[str, int]:
        return {stage: self.depth(stage) for stage in STAGE_IDS}

    def to_json(self) -> dict:
        return self.model_dump(mode="json")

    @classmethod
    def from_json(cls, data: dict | None) -> InterviewState:
        return cls.model_validate(data or {})
