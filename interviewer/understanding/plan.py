"""The plan a candidate announces: "I'll clarify the goal, then data and labels, the model, serving, and
finish with monitoring". An interviewer lets a candidate who follows their own plan lead, and steps in
only once the plan stalls.

A plan is a message that says it lays out an order (I'll start / go through / cover, first ... then,
my plan is) and names at least three stages of the public agenda, by the everyday words for them, in
one sentence or one list. The stages come in the order the candidate named them.
"""

from __future__ import annotations

import re

from interviewer.text import sentences

MIN_STAGES = 3
"""Fewer stages named is a remark about what comes next, not a plan."""
MAX_WORDS_BETWEEN = 5
"""A plan lists its stages: on average at most this many words from one stage named to the next."""

_STAGE_WORDS: dict[str, str] = {
    "clarification": r"requirements?|clarif\w*|scop(?:e|ing)|goals?|use[- ]cases?|objectives?|constraints",
    "data": r"training data|training sets?|data(?:set)?s?|labels?|label+ing",
    "metrics": r"metrics?|evals?|evaluat\w*|measur\w*|success criteria",
    "model": r"model(?:s|l?ing)?|architecture|approach|algorithms?|features?|training",
    "deployment": r"deploy\w*|serv(?:e|ing)|infra(?:structure)?|production|inference|scal(?:e|ing)",
    "monitoring": r"monitor\w*|observability|drift|alert\w*",
    "iteration": r"iterat\w*|improv\w*|safety|fairness|risks?|abuse|next steps|future work",
}
_STAGE = re.compile("|".join(f"(?P<{stage}>\\b(?:{words})\\b)" for stage, words in _STAGE_WORDS.items()), re.I)
_ORDERING = re.compile(
    r"\b(?:(?:i'?ll|i will|i'?d like to|i want to|let me|let's|i'm going to|i am going to|we'll|we can)\s+"
    r"(?:\w+\s+){0,2}?(?:start|begin|cover|go through|walk (?:you )?through|structure|talk (?:about|through)|"
    r"break (?:it|this) down|organi[sz]e)"
    r"|my plan|the plan|plan is|agenda|roadmap|outline|structure (?:it|this))",
    re.I,
)
_LIST_BREAK = re.compile(r"\n\s*(?:[-*\u2022]|\d+[.)])\s+")


def stated_plan(text: str) -> list[str]:
    """The stages of the plan the message lays out, in the candidate's order; [] when it states none."""
    if not _ORDERING.search(text):
        return []
    spans = [text] if _LIST_BREAK.search(text) else [sentence.text for sentence in sentences(text)]
    for span in spans:
        stages = _stages_named(span)
        if len(stages) >= MIN_STAGES:
            return stages
    return []


def _stages_named(span: str) -> list[str]:
    """The stages a span lists, in order; [] when they are spread through prose rather than listed."""
    named: list[str] = []
    starts: list[int] = []
    for match in _STAGE.finditer(span):
        stage = match.lastgroup
        if stage is not None and stage not in named:
            named.append(stage)
            starts.append(match.start())
    if len(named) < 2:
        return named
    words_between = len(span[starts[0] : starts[-1]].split()) - (len(named) - 1)
    return named if words_between / (len(named) - 1) <= MAX_WORDS_BETWEEN else []
