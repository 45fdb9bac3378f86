"""What a candidate's message says, read without a model: cue words and stage signals.

The problem's fact cues and the rubric's stage signals, compiled once per interview into term sets.
The analyst and the offline grader share it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from interviewer.content.models import Problem, Rubric
from interviewer.stages import STAGE_IDS
from interviewer.text import term_set

SIGNALS_PER_SENTENCE = 3
"""A sentence adds at most this many signals to a stage, so stuffing one sentence earns little."""


@dataclass(frozen=True, slots=True)
class _Cue:
    fact: str
    terms: frozenset[str]
    """Every term must be in the question for the cue to match."""
    weight: float
    """How much a match says about this fact: rarer terms weigh more, the problem's own topic nothing."""


LOW_INFORMATION = {"volume": 0.3}
"""Terms that appear in many questions and say little alone ("how many", "how much")."""

KEEP_RATIO = 0.5
"""Within one question, facts scoring below this share of the best match are dropped."""

_SUB_QUESTION = re.compile(
    r"(?:,|;|\s)\s*(?:and|also|plus|or)\s+(?=(?:what|what's|how|which|who|when|where|why|is|are|do|does|did|can|"
    r"could|will|would|should|any)\b)",
    re.IGNORECASE,
)


def split_questions(question: str) -> list[str]:
    """ "How many users, and what is the latency budget?" asks two things."""
    parts = [part.strip() for part in _SUB_QUESTION.split(question)]
    return [part for part in parts if part]


class Lexicon:
    """The problem's fact cues and the rubric's stage signals, as term sets, compiled once."""

    def __init__(self, problem: Problem, rubric: Rubric | None = None):
        self.problem = problem
        self.topic = term_set(f"{problem.title}. {problem.prompt}")
        cue_terms = [(fact.id, term_set(cue)) for fact in problem.facts for cue in fact.cues]
        facts_with: dict[str, set[str]] = {}
        for fact_id, terms in cue_terms:
            for term in terms:
                facts_with.setdefault(term, set()).add(fact_id)
        self.cues: list[_Cue] = []
        for fact_id, terms in cue_terms:
            informative = terms - self.topic
            if not informative:
                continue  # a cue made only of the problem's own topic would match every question
            weight = sum(LOW_INFORMATION.get(t, 1.0) / len(facts_with[t]) for t in informative)
            self.cues.append(_Cue(fact_id, terms, weight))
        self.stage_signals: dict[str, list[tuple[str, frozenset[str]]]] = {s: [] for s in STAGE_IDS}
        for dimension in rubric.dimensions if rubric is not None else ():
            if dimension.stage is None:
                continue
            for signal in dimension.signals:
                terms = term_set(signal)
                if terms:
                    self.stage_signals[dimension.stage].append((signal, terms))
        self._fact_order = {fact.id: index for index, fact in enumerate(problem.facts)}

    def match_facts(self, question: str) -> tuple[str, ...]:
        """The facts a question asks for, and only those.

        A cue matches when all its terms are in the (sub-)question. Among the facts matched in
        one sub-question, weak matches are dropped (below ``KEEP_RATIO`` of the best), and so is
        a fact whose matching cue is strictly contained in another fact's matching cue.
        """
        found: list[str] = []
        for part in split_questions(question):
            for fact in self._match_one(part):
                if fact not in found:
                    found.append(fact)
        return tuple(sorted(found, key=self._fact_order.__getitem__))

    def near_facts(self, question: str, limit: int) -> tuple[str, ...]:
        """The facts whose cues share the most (by weight) with the question, matched or not: a looser
        reading than :meth:`match_facts`, for checking what another reader maps the question to."""
        asked = term_set(question) - self.topic
        shared: dict[str, float] = {}
        for cue in self.cues:
            overlap = cue.terms & asked
            if overlap:
                score = cue.weight * len(overlap) / len(cue.terms)
                shared[cue.fact] = max(shared.get(cue.fact, 0.0), score)
        return tuple(sorted(shared, key=lambda fact: -shared[fact])[:limit])

    def _match_one(self, question: str) -> list[str]:
        asked = term_set(question)
        if not asked:
            return []
        best: dict[str, _Cue] = {}
        for cue in self.cues:
            if cue.terms <= asked:
                current = best.get(cue.fact)
                if current is None or (cue.weight, len(cue.terms)) > (current.weight, len(current.terms)):
                    best[cue.fact] = cue
        if not best:
            return []
        top = max(cue.weight for cue in best.values())
        strong = {fact: cue for fact, cue in best.items() if cue.weight >= KEEP_RATIO * top}
        return [
            fact
            for fact, cue in strong.items()
            if not any(other != fact and cue.terms < other_cue.terms for other, other_cue in strong.items())
        ]

    def stage_hits(self, sentence: str) -> dict[str, list[str]]:
        present = term_set(sentence)
        hits: dict[str, list[str]] = {}
        for stage, signals in self.stage_signals.items():
            found = [signal for signal, terms in signals if terms <= present]
            if found:
                # Longer signals first: "class imbalance" says more than "class".
                found.sort(key=lambda s: -len(s))
                hits[stage] = found[:SIGNALS_PER_SENTENCE]
        return hits
