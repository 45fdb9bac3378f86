"""Content checks beyond the schema: what an interview needs from a problem and a persona.

``validate`` says whether a file can be loaded; ``lint`` says whether it makes a good
interview: every stage has facts, probes and reference points, fact cues do not collide, and a
persona has what the offline voice needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from interviewer.content.models import TEMPLATE_RULES, Persona, Problem, Rubric
from interviewer.stages import DIMENSION_IDS, STAGE_IDS
from interviewer.text import term_set

MIN_FACTS = 8
MIN_WHAT_IFS = 3


@dataclass(frozen=True, slots=True)
class Finding:
    item: str
    """``problems/spam-filter`` and the like."""
    message: str

    def __str__(self) -> str:
        return f"{self.item}: {self.message}"


def lint_problem(problem: Problem, rubric: Rubric | None = None) -> list[Finding]:
    where = f"problem '{problem.id}'"
    messages = _coverage_gaps(problem, rubric) + _cue_problems(problem)
    messages += [
        f"fact '{fact.id}' is already stated in the public prompt"
        for fact in problem.facts
        if fact.answer.strip().lower() in problem.prompt.lower()
    ]
    return [Finding(where, message) for message in messages]


def _coverage_gaps(problem: Problem, rubric: Rubric | None) -> list[str]:
    """Too few facts or what-ifs, and stages or dimensions the spec says nothing about."""
    out: list[str] = []
    if len(problem.facts) < MIN_FACTS:
        out.append(f"has {len(problem.facts)} facts; a full spec has at least {MIN_FACTS}")
    if len(problem.what_ifs) < MIN_WHAT_IFS:
        out.append(f"has {len(problem.what_ifs)} what-ifs; a full spec has at least {MIN_WHAT_IFS}")
    fact_stages = {fact.stage for fact in problem.facts}
    for stage in STAGE_IDS:
        if stage not in fact_stages:
            out.append(f"no fact for stage '{stage}'")
        if not problem.probes_for(stage):
            out.append(f"no probe for stage '{stage}'")
    dimensions = [d.id for d in rubric.dimensions] if rubric else list(DIMENSION_IDS)
    out += [f"no reference point for dimension '{d}'" for d in dimensions if not problem.reference_for(d)]
    return out


def _cue_problems(problem: Problem) -> list[str]:
    """Cues that can never match, or that two facts share."""
    out: list[str] = []
    owners: dict[frozenset[str], tuple[str, str]] = {}
    topic = term_set(f"{problem.title}. {problem.prompt}")
    for fact in problem.facts:
        for cue in fact.cues:
            terms = term_set(cue)
            if not terms:
                out.append(f"fact '{fact.id}' cue '{cue}' has no content words and matches nothing")
            elif terms <= topic:
                out.append(f"fact '{fact.id}' cue '{cue}' only repeats the problem's topic and matches nothing")
            else:
                owner = owners.setdefault(terms, (fact.id, cue))
                if owner[0] != fact.id:
                    out.append(f"cue '{cue}' of fact '{fact.id}' collides with cue '{owner[1]}' of fact '{owner[0]}'")
    return out


_PROMPT = re.compile(r"\{prompt\}")


def lint_persona(persona: Persona) -> list[Finding]:
    where = f"persona '{persona.id}'"
    out: list[Finding] = []
    if not _PROMPT.search(persona.lines.opening):
        out.append(Finding(where, "the opening line must contain {prompt}: it is how the candidate hears the problem"))
    for name in TEMPLATE_RULES:
        variants = getattr(persona.templates, name)
        if len(set(variants)) != len(variants):
            out.append(Finding(where, f"templates.{name} lists the same variant twice"))
    return out


def lint_rubric(rubric: Rubric) -> list[Finding]:
    where = f"rubric '{rubric.id}'"
    out: list[Finding] = []
    stages = {d.stage for d in rubric.dimensions if d.stage}
    for stage in STAGE_IDS:
        if stage not in stages:
            out.append(Finding(where, f"no dimension judges stage '{stage}'"))
    for dimension in rubric.dimensions:
        if len(set(dimension.levels)) != 4:
            out.append(Finding(where, f"dimension '{dimension.id}' repeats a level descriptor"))
        for signal in dimension.signals:
            if not term_set(signal):
                out.append(Finding(where, f"dimension '{dimension.id}' signal '{signal}' has no content words"))
    return out
