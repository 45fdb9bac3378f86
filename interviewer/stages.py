"""The public agenda: the stages an ML design interview moves through.

Stage ids are the vocabulary shared by problems (facts, probes, what-ifs), rubrics
(dimensions) and the engine's coverage state. Names and descriptions are public: the
candidate sees them in the agenda.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Stage:
    id: str
    name: str
    summary: str
    opener: str
    """A neutral question that opens the stage when the problem has no unused probe left."""


STAGES: tuple[Stage, ...] = (
    Stage(
        "clarification",
        "Problem clarification",
        "use case, users, scale, constraints, assumptions",
        "What would you want to know about the problem before designing anything?",
    ),
    Stage(
        "data",
        "Data",
        "sources, labels and their quality, volume, splits, leakage",
        "Where would the training data come from, and how would you get labels?",
    ),
    Stage(
        "metrics",
        "Metrics",
        "offline and online metrics, which error costs more, baselines",
        "How would you measure whether the system is any good, offline and online?",
    ),
    Stage(
        "model",
        "Model",
        "approaches from simple to complex, features, loss, training, trade-offs",
        "What model would you start with, and what would you move to later?",
    ),
    Stage(
        "deployment",
        "Deployment",
        "serving path, latency, memory, compute, scale, cost",
        "How would this be served in production, and what are the constraints?",
    ),
    Stage(
        "monitoring",
        "Monitoring",
        "what to watch, drift, alerts, data refresh",
        "Once it is live, how do you know it keeps working?",
    ),
    Stage(
        "iteration",
        "Iteration & safety",
        "error analysis, improvements without regressions, bias, abuse, security",
        "How would you improve it over time, and what could go wrong for users?",
    ),
)

STAGE_IDS: tuple[str, ...] = tuple(stage.id for stage in STAGES)
STAGE_BY_ID: dict[str, Stage] = {stage.id: stage for stage in STAGES}

COMMUNICATION = "communication"
"""The dimension that is judged across the whole interview rather than in one stage."""

DIMENSION_IDS: tuple[str, ...] = (*STAGE_IDS, COMMUNICATION)

StageId = Literal["clarification", "data", "metrics", "model", "deployment", "monitoring", "iteration"]
DimensionId = Literal[
    "clarification", "data", "metrics", "model", "deployment", "monitoring", "iteration", "communication"
]
