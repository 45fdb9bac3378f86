"""The guard checks a reply before it is shown.

Least privilege comes first (the rubric and reference points never reach the interviewer's
prompt); this is the second line: a reply that carries hidden facts nobody asked for, the
grader's reference points, or the interviewer's own instructions is caught.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from interviewer.content.models import Persona, Problem, Rubric
from interviewer.text import shingles, words

SHINGLE = 6
"""Words in a row that count as a copied passage."""

_FIGURE = re.compile(r"\d[\d,.]*\s*(?:%|[kmb]\b|ms\b|gb\b|mb\b|tb\b|qps\b)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str = ""
    fact: str | None = None


def _figures(text: str) -> set[str]:
    """Distinctive figures: numbers of two or more digits, or with a unit, normalised."""
    out = set()
    for match in _FIGURE.finditer(text):
        figure = re.sub(r"[\s,]", "", match.group(0).lower()).rstrip(".")
        digits = sum(ch.isdigit() for ch in figure)
        if digits >= 2 or not figure.isdigit():
            out.add(figure)
    return out


def _passages(text: str) -> set[tuple[str, ...]]:
    tokens = words(text)
    if 3 <= len(tokens) < SHINGLE:
        return {tuple(tokens)}
    return shingles(text, SHINGLE)


class Guard:
    def __init__(self, problem: Problem, persona: Persona, rubric: Rubric | None = None, system_prompt: str = ""):
        self.problem = problem
        self._fact_passages = {fact.id: _passages(fact.answer) for fact in problem.facts}
        self._fact_figures = {fact.id: _figures(fact.answer) for fact in problem.facts}
        secret_texts = [point for points in problem.reference.values() for point in points]
        if rubric is not None:
            for dimension in rubric.dimensions:
                secret_texts.extend(dimension.levels)
                secret_texts.append(dimension.judges)
        self._secret_passages: set[tuple[str, ...]] = set()
        for text in secret_texts:
            self._secret_passages |= shingles(text, SHINGLE)
        instructions = persona.style + ("\n" + system_prompt if system_prompt else "")
        self._instruction_passages = shingles(instructions, SHINGLE + 2)

    def known_figures(self, context: str) -> frozenset[str]:
        """The figures in text the reply may draw on; compute once per reply and pass to :meth:`check`."""
        return frozenset(_figures(context))

    def check(
        self,
        reply: str,
        allowed_facts: set[str] | frozenset[str],
        context: str = "",
        known: frozenset[str] | None = None,
    ) -> Verdict:
        """``allowed_facts``: revealed before or answered in this reply. ``context``: text already in the
        conversation or in this reply's sanctioned material (what-ifs, probes), whose figures are fair;
        ``known``: those figures, when the caller computed them already."""
        reply_shingles = shingles(reply, SHINGLE)
        reply_tokens = " " + " ".join(words(reply)) + " "
        known_figures = (known if known is not None else _figures(context)).union(
            *(self._fact_figures[f] for f in allowed_facts if f in self._fact_figures)
        )
        reply_figures = _figures(reply)
        hidden = [f for f in self._fact_passages if f not in allowed_facts]
        for fact_id in hidden:
            for passage in self._fact_passages[fact_id]:
                if len(passage) >= SHINGLE and passage in reply_shingles:
                    return Verdict(False, f"reply reveals hidden fact '{fact_id}' that was not asked for", fact_id)
                if len(passage) < SHINGLE and f" {' '.join(passage)} " in reply_tokens:
                    return Verdict(False, f"reply reveals hidden fact '{fact_id}' that was not asked for", fact_id)
        # Then paraphrases that carry a fact's figures.
        for fact_id in hidden:
            leaked = (self._fact_figures[fact_id] & reply_figures) - known_figures
            if leaked:
                return Verdict(
                    False, f"reply gives a figure ({sorted(leaked)[0]}) from hidden fact '{fact_id}' not asked for", fact_id
                )
        quoted = reply_shingles & self._secret_passages
        if quoted:
            # A passage that the reply may say anyway (an allowed fact, a probe) is not a leak.
            sanctioned = [context, *(self.problem.fact(f).answer for f in allowed_facts if f in self._fact_passages)]
            quoted -= shingles("\n".join(sanctioned), SHINGLE)
        if quoted:
            return Verdict(False, "reply quotes the grader's reference points or the rubric")
        if shingles(reply, SHINGLE + 2) & self._instruction_passages:
            return Verdict(False, "reply echoes the interviewer's instructions")
        return Verdict(True)
