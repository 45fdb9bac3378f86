"""Is the candidate talking about this problem? Compared with every other problem the app knows.

A problem is known by its topic texts: title and prompt, the facts' answers and the reference points.
A statement is about this problem when it is nearer this problem's texts than any other problem's; a
design message that is clearly nearer another problem (a spam filter, for the video-recommendation
prompt) and far from this one is off topic. The other problems are the built-in ones (and the user's).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from interviewer.content.models import Problem
from interviewer.stages import STAGE_IDS

if TYPE_CHECKING:
    import numpy as np

    from interviewer.understanding.encoder import EmbeddingCache

OFF_TOPIC_MARGIN = 0.1
"""A message is off topic when another problem is nearer by this much ..."""
OFF_TOPIC_CEILING = 0.45
"""... and this problem is no nearer than this."""
KIN_AT = 0.55
"""Problems whose headlines (title and prompt) are this near are of one kind (two recommenders, two spam
filters): a design that fits the other fits this one too, so it is never off topic for being nearer it."""
LEAD_WORDS = 48
"""Relevance reads a message's opening words: enough to tell what it is about, cheap to encode."""


def topic_texts(problem: Problem) -> list[str]:
    points = [point for dimension in (*STAGE_IDS, "communication") for point in problem.reference_for(dimension)]
    return [f"{problem.title}. {problem.prompt}", *(fact.answer for fact in problem.facts), *points]


@dataclass(frozen=True, slots=True)
class Aboutness:
    own: float
    """How near the message is to this problem's texts."""
    other: float
    """How near it is to the nearest other problem's."""
    other_problem: str | None

    @property
    def off_topic(self) -> bool:
        return self.other - self.own > OFF_TOPIC_MARGIN and self.own < OFF_TOPIC_CEILING


class Relevance:
    def __init__(self, problem: Problem, others: list[Problem], cache: EmbeddingCache):
        self.problem = problem
        self.own = cache.matrix(topic_texts(problem))
        distinct = [p for p in others if p.id != problem.id and not _kin(problem, p, cache)]
        self.others = [(p.title, cache.matrix(topic_texts(p))) for p in distinct]

    def of(self, vector: np.ndarray) -> Aboutness:
        own = float((self.own @ vector).max())
        best, title = 0.0, None
        for other_title, matrix in self.others:
            value = float((matrix @ vector).max())
            if value > best:
                best, title = value, other_title
        return Aboutness(own, best, title)

    def lead(self, message: str) -> str:
        return " ".join(message.split()[:LEAD_WORDS])


def _kin(problem: Problem, other: Problem, cache: EmbeddingCache) -> bool:
    headlines = cache.matrix([topic_texts(problem)[0], topic_texts(other)[0]])
    return float(headlines[0] @ headlines[1]) >= KIN_AT


_known_lock = threading.Lock()
_known: list[Problem] | None = None


def known_problems() -> list[Problem]:
    """Every problem the app can load (built-in and the user's), read once per process."""
    global _known
    with _known_lock:
        if _known is None:
            from interviewer.content import ContentLibrary

            library = ContentLibrary()
            _known = [library.problems.get(problem_id) for problem_id in library.problems.ids()]
        return _known


def relevance_for(problem: Problem, cache: EmbeddingCache) -> Relevance:
    return Relevance(problem, known_problems(), cache)
