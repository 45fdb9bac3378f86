"""The offline grader: a heuristic over the rubric's signals and the problem's reference points.

Credit comes only from substantive sentences (long enough, built with function words, not
a bare list), each adding at most a few signals; reference points must be met within one
sentence; depth needs reasons or figures. A turn that is a list of buzzwords earns nothing.
"""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import dataclass, field

from interviewer.content.models import Dimension, Problem, Rubric
from interviewer.grading.attempts import asks_about_the_interviewer
from interviewer.grading.base import Grader
from interviewer.grading.scorecard import (
    DimensionScore,
    Evidence,
    Scorecard,
    Transcript,
    as_clause,
    finalize,
    unanswered_what_ifs_note,
)
from interviewer.text import (
    has_number,
    has_reasoning,
    is_question,
    is_substantive,
    normalized,
    quote_of,
    sentences,
    term_set,
)
from interviewer.understanding.lexicon import SIGNALS_PER_SENTENCE, Lexicon

GRADER_NAME = "offline-heuristic"
MAX_EVIDENCE = 3

_TRADE_OFF = re.compile(
    r"\b(?:trade-?offs?|versus|vs\.?|instead of|rather than|on the other hand|at the cost of|the downside|"
    r"downsides?|pros and cons|cheaper but|faster but|simpler but|better but|worse but|in exchange|"
    r"the price is|balance between|balances?)\b",
    re.IGNORECASE,
)
_STRUCTURE = re.compile(
    r"\b(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|then|next|finally|to summari[sz]e|in summary|let me start|"
    r"i'?ll start|let'?s start|let'?s move on|moving on|i'?ll cover|i'?d like to cover|my plan|the plan is|"
    r"overall|to recap)\b",
    re.IGNORECASE,
)
_ASSUMPTION = re.compile(r"\b(?:assum\w*|let'?s say|suppose|i'?ll take it that|presumably)\b", re.IGNORECASE)


@dataclass
class _Sentence:
    turn: int
    text: str
    terms: frozenset[str]
    substantive: bool
    reasoned: bool
    question: bool


@dataclass
class _Finding:
    signals: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    reasoned: int = 0
    evidence: list[_Sentence] = field(default_factory=list)

    def points(self) -> int:
        return min(len(self.signals), 6) + 2 * min(len(self.references), 3) + min(self.reasoned, 4)

    def add(self, sentence: _Sentence, hits: list[str], refs: list[str]) -> None:
        self.signals.extend(h for h in hits if h not in self.signals)
        self.references.extend(r for r in refs if r not in self.references)
        self.reasoned += int(sentence.reasoned)
        self.evidence.append(sentence)


# Words that describe what a candidate does rather than what they say; they carry no content.
_META_TERMS = term_set(
    "ask asks candidate mentions explains describes plans considers discusses proposes suggests before choosing "
    "learns hears treats notes uses using knows checks"
)


def _reference_terms(reference: str) -> frozenset[str]:
    return term_set(reference) - _META_TERMS


def _reference_met(reference: frozenset[str], sentence: frozenset[str]) -> bool:
    overlap = len(reference & sentence)
    return overlap >= 2 and overlap >= math.ceil(0.5 * len(reference))


def _level(points: int, cuts: tuple[float, float, float], gate: bool) -> int:
    """1 below the first cut, 4 only when the extra ``gate`` holds too."""
    if points < cuts[0]:
        return 1
    if points < cuts[1]:
        return 2
    if points < cuts[2] or not gate:
        return 3
    return 4


def _references(problem: Problem, dimension: Dimension) -> list[tuple[str, frozenset[str]]]:
    return [(r, _reference_terms(r)) for r in problem.reference.get(dimension.id, [])]


def _credit(
    sentence: _Sentence, signals: list[tuple[str, frozenset[str]]], references: list[tuple[str, frozenset[str]]]
) -> tuple[list[str], list[str]]:
    """The signals (longest first, a few at most) and reference points one sentence earns."""
    if not sentence.substantive or sentence.question:
        return [], []
    hits = sorted((s for s, terms in signals if terms and terms <= sentence.terms), key=len, reverse=True)
    refs = [r for r, terms in references if _reference_met(terms, sentence.terms)]
    return hits[:SIGNALS_PER_SENTENCE], refs


def _is_assumption(sentence: _Sentence) -> bool:
    return not sentence.question and bool(_ASSUMPTION.search(sentence.text)) and len(sentence.text.split()) >= 4


def _asked_terms(questions: list[_Sentence], lexicon: Lexicon, problem: Problem) -> list[frozenset[str]]:
    """A question is credited with what it asked and with the answer it drew out."""
    return [q.terms.union(*(term_set(problem.fact(f).answer) for f in lexicon.match_facts(q.text))) for q in questions]


def _clarification_met(
    references: list[tuple[str, frozenset[str]]], asked: list[frozenset[str]], assumptions: list[_Sentence]
) -> list[str]:
    said = asked + [s.terms for s in assumptions]
    return [r for r, terms in references if any(_reference_met(terms, t) for t in said)]


class OfflineGrader(Grader):
    name = GRADER_NAME

    async def grade(self, transcript: Transcript, rubric: Rubric, problem: Problem) -> Scorecard:
        return await asyncio.to_thread(self.grade_now, transcript, rubric, problem)

    def grade_now(self, transcript: Transcript, rubric: Rubric, problem: Problem) -> Scorecard:
        corpus: list[_Sentence] = []
        seen: set[str] = set()
        for turn in transcript.credited_turns():
            for sentence in sentences(turn.text):
                key = normalized(sentence.text)
                if key in seen:
                    continue  # said before (a paragraph pasted again earns nothing more)
                seen.add(key)
                question = is_question(sentence.text)
                if question and asks_about_the_interviewer(sentence.text):
                    continue  # a question about the interviewer's briefing clarifies nothing about the problem
                corpus.append(
                    _Sentence(
                        turn=turn.seq,
                        text=sentence.text,
                        terms=term_set(sentence.text),
                        substantive=is_substantive(sentence.text),
                        reasoned=has_reasoning(sentence.text) or has_number(sentence.text),
                        question=question,
                    )
                )
        scale = rubric.expectation
        dimensions: list[DimensionScore] = []
        misses: dict[str, list[str]] = {}
        for dimension in rubric.dimensions:
            if dimension.id == "clarification" or dimension.stage == "clarification":
                score, rationale, evidence, missed = self._clarification(dimension, corpus, transcript, problem, scale)
            elif dimension.stage is None:
                score, rationale, evidence, missed = self._communication(dimension, corpus, transcript, scale)
            else:
                score, rationale, evidence, missed = self._stage(dimension, corpus, problem, scale)
            misses[dimension.id] = missed
            dimensions.append(
                DimensionScore(
                    id=dimension.id,
                    name=dimension.name,
                    score=score,
                    rationale=rationale,
                    evidence=[Evidence(turn=s.turn, quote=quote_of(s.text)) for s in evidence[:MAX_EVIDENCE]],
                )
            )
        strengths, improvements = self._feedback(rubric, dimensions, misses)
        return finalize(
            interview_id=transcript.interview_id,
            rubric=rubric,
            grader=GRADER_NAME,
            dimensions=dimensions,
            transcript=transcript,
            strengths=strengths,
            improvements=improvements,
            missed_points=misses,
            notes=["Graded by the offline heuristic: rubric signals and reference points in substantive sentences."],
        )

    # ------------------------------------------------------------------ per dimension

    def _stage(self, dimension: Dimension, corpus: list[_Sentence], problem: Problem, scale: float):
        signals = [(s, term_set(s)) for s in dimension.signals]
        references = _references(problem, dimension)
        finding = _Finding()
        relevance: dict[int, int] = {}
        for sentence in corpus:
            hits, refs = _credit(sentence, signals, references)
            if hits or refs:
                finding.add(sentence, hits, refs)
                relevance[id(sentence)] = 3 * len(refs) + len(hits) + int(sentence.reasoned)
        if not finding.evidence:
            return 1, "No substantive discussion of this area was found.", [], [r for r, _ in references]
        gate = bool(finding.references) and finding.reasoned >= 2
        score = _level(finding.points(), (1, 6 * scale, 11 * scale), gate)
        # Most relevant evidence first: sentences that meet reference points and hit several signals.
        finding.evidence.sort(key=lambda s: (-relevance[id(s)], s.turn))
        rationale = (
            f"Found {len(finding.signals)} distinct signal(s), {len(finding.references)} of "
            f"{len(references)} reference point(s), {finding.reasoned} reasoned sentence(s)."
        )
        missed = [r for r, _ in references if r not in finding.references]
        return score, rationale, finding.evidence, missed

    def _clarification(
        self, dimension: Dimension, corpus: list[_Sentence], transcript: Transcript, problem: Problem, scale: float
    ):
        questions = [s for s in corpus if s.question]
        assumptions = [s for s in corpus if _is_assumption(s)]
        references = _references(problem, dimension)
        if not questions and not assumptions:
            missed = [r for r, _ in references]
            return 1, "The candidate asked no clarifying questions and stated no assumptions.", [], missed
        lexicon = Lexicon(problem)
        met = _clarification_met(references, _asked_terms(questions, lexicon, problem), assumptions)
        uncovered = list(dict.fromkeys(transcript.facts_asked))
        points = (
            2 * min(len(uncovered), 5) + min(len(questions), 4) + 2 * min(len(assumptions), 2) + 2 * min(len(met), 2)
        )
        total = len(problem.facts)
        gate = len(uncovered) >= max(3, math.ceil(0.4 * total)) and bool(assumptions)
        score = _level(points, (1, 7 * scale, 12 * scale), gate)
        # Evidence: the questions that uncovered facts, then stated assumptions.
        revealing = [q for q in questions if lexicon.match_facts(q.text)]
        evidence = revealing + assumptions + [q for q in questions if q not in revealing]
        rationale = (
            f"Asked {len(questions)} question(s), uncovering {len(uncovered)} of {total} hidden fact(s); "
            f"stated {len(assumptions)} assumption(s)."
        )
        return score, rationale, evidence, [r for r, _ in references if r not in met]

    def _communication(self, dimension: Dimension, corpus: list[_Sentence], transcript: Transcript, scale: float):
        substantive = [s for s in corpus if s.substantive and not s.question]
        trade_offs = [s for s in substantive if _TRADE_OFF.search(s.text)]
        structure = [s for s in substantive if _STRUCTURE.search(s.text)]
        signals = [(s, term_set(s)) for s in dimension.signals]
        signal_hits = {sig for s in substantive for sig, terms in signals if terms and terms <= s.terms}
        redirects = len(transcript.redirects)
        ignored = len(transcript.what_ifs_unanswered)
        if len(substantive) < 3:
            return 1, "Too little substantive discussion to lead.", substantive, []
        points = 2 * min(len(trade_offs), 4) + min(len(structure), 3) + min(len(signal_hits), 3) - 2 * redirects
        points += min(len(substantive) // 5, 3) - 3 * ignored
        gate = len(trade_offs) >= 2 and redirects <= 1 and not ignored
        score = _level(points, (1, 5 * scale, 10 * scale), gate=gate)
        rationale = (
            f"{len(trade_offs)} sentence(s) weighing trade-offs, {len(structure)} structuring the discussion; "
            f"the interviewer had to steer {redirects} time(s)" + unanswered_what_ifs_note(transcript) + "."
        )
        return score, rationale, trade_offs + structure, []

    # ------------------------------------------------------------------ feedback

    def _feedback(self, rubric: Rubric, dimensions: list[DimensionScore], misses: dict[str, list[str]]):
        strengths: list[str] = []
        improvements: list[str] = []
        for score in sorted(dimensions, key=lambda d: -d.score):
            # What the candidate said, never the rubric's wording of the level (which claims things unsaid).
            if score.score >= 3 and score.evidence:
                strengths.append(f'{score.name}: "{score.evidence[0].quote}" (turn {score.evidence[0].turn})')
        for score in sorted(dimensions, key=lambda d: (d.score, -rubric.dimension(d.id).weight)):
            if score.score >= 4:
                continue
            target = rubric.dimension(score.id).levels[score.score]  # the next level up
            missed = misses.get(score.id) or []
            hint = f" For this problem, a strong candidate {as_clause(missed[0])}" if missed else ""
            improvements.append(f"{score.name}: aim for level {score.score + 1}: {target}{hint}")
        return strengths[:4], improvements[:5]
