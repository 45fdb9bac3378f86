"""Progress across interviews: each dimension's scores over time, and what to practise next."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage import Repository

RECENT = 3
"""How many of the latest gradings decide the weakest dimension."""


@dataclass
class Trend:
    id: str
    name: str
    scores: list[int] = field(default_factory=list)
    """Oldest first, one per graded interview that scored this dimension."""

    @property
    def recent_mean(self) -> float:
        recent = self.scores[-RECENT:]
        return sum(recent) / len(recent) if recent else 0.0

    @property
    def change(self) -> float:
        """Recent mean minus the mean of everything before it (0 with too little history)."""
        earlier = self.scores[:-RECENT]
        if not earlier:
            return 0.0
        return self.recent_mean - sum(earlier) / len(earlier)


@dataclass
class Progress:
    rubric_id: str = ""
    """The rubric these gradings share: scores on different rubrics are different scales, never mixed."""
    interviews: list[tuple[int, datetime, str, float]] = field(default_factory=list)
    """(interview id, date, problem title, overall), oldest first."""
    trends: list[Trend] = field(default_factory=list)
    rubrics: dict[str, int] = field(default_factory=dict)
    """Every rubric with gradings, most recently used first, and how many interviews it graded."""

    @property
    def weakest(self) -> Trend | None:
        scored = [t for t in self.trends if t.scores]
        if not scored:
            return None
        return min(scored, key=lambda t: (t.recent_mean, -len(t.scores)))

    @property
    def other_rubrics(self) -> dict[str, int]:
        return {rubric: count for rubric, count in self.rubrics.items() if rubric != self.rubric_id}


def compute_progress(repo: Repository, limit: int = 200, rubric_id: str | None = None) -> Progress:
    """From each graded interview's latest grading by one rubric (by default the one used last), oldest first."""
    rows = repo.latest_scorecards(limit=limit)
    progress = Progress()
    for _, _, _, card in reversed(rows):
        progress.rubrics[card["rubric_id"]] = progress.rubrics.get(card["rubric_id"], 0) + 1
    if not rows:
        return progress
    progress.rubric_id = rubric_id if rubric_id in progress.rubrics else next(iter(progress.rubrics))
    by_id: dict[str, Trend] = {}
    for interview_id, created_at, title, card in rows:
        if card["rubric_id"] != progress.rubric_id:
            continue
        progress.interviews.append((interview_id, created_at, title, card["overall"]))
        for dimension in card["dimensions"]:
            trend = by_id.get(dimension["id"])
            if trend is None:
                trend = by_id[dimension["id"]] = Trend(dimension["id"], dimension.get("name") or dimension["id"])
                progress.trends.append(trend)
            trend.scores.append(dimension["score"])
    return progress
