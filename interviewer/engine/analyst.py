"""The analyst reads one candidate turn: what was asked, which stages it worked on and how deeply,
whether the candidate wants to end, and whether the turn tries to extract the hidden spec.

The offline analyst here is lexical: the problem's fact cues and the rubric's stage signals.
An LLM analyst (structured output) may replace it turn by turn and falls back to this one.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from interviewer.content.models import Problem, Rubric
from interviewer.engine.state import InterviewState
from interviewer.stages import STAGE_IDS
from interviewer.text import has_number, has_reasoning, is_substantive, sentences, term_set

SIGNALS_PER_SENTENCE = 3
"""A sentence adds at most this many signals to a stage, so stuffing one sentence earns little."""


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    facts: tuple[str, ...]


@dataclass
class Analysis:
    questions: list[Question] = field(default_factory=list)
    signals: dict[str, list[str]] = field(default_factory=dict)
    """Signals per stage found in this turn's substantive sentences."""
    reasoned: dict[str, int] = field(default_factory=dict)
    """Sentences per stage that gave a reason or a figure."""
    assumptions: int = 0
    substantive: bool = False
    end_requested: bool = False
    injection: bool = False
    source: str = "offline"
    depths: dict[str, int] = field(default_factory=dict)
    """Stage depths judged directly (the LLM analyst); the offline analyst derives depth from signals."""

    @property
    def facts_asked(self) -> list[str]:
        out: list[str] = []
        for question in self.questions:
            out.extend(f for f in question.facts if f not in out)
        return out

    @property
    def focus(self) -> str | None:
        """The stage this turn worked on most (clarification counts only through questions)."""
        best, best_score = None, 0
        for stage in STAGE_IDS:
            score = len(self.signals.get(stage, ())) + self.reasoned.get(stage, 0)
            if score > best_score:
                best, best_score = stage, score
        return best

    def to_json(self) -> dict:
        return {
            "source": self.source,
            "questions": [{"text": q.text, "facts": list(q.facts)} for q in self.questions],
            "signals": {k: v for k, v in self.signals.items() if v},
            "reasoned": {k: v for k, v in self.reasoned.items() if v},
            "assumptions": self.assumptions,
            "substantive": self.substantive,
            "end_requested": self.end_requested,
            "injection": self.injection,
            **({"depths": self.depths} if self.depths else {}),
        }


class Analyst(ABC):
    @abstractmethod
    async def analyze(self, text: str, state: InterviewState) -> Analysis: ...


# ----------------------------------------------------------------------------- patterns

_SECRET_NOUNS = (
    r"(?:system prompt|(?:your|the interviewer'?s?) (?:prompt|instructions?|notes|brief(?:ing)?|guidelines|rules)|"
    r"hidden\b|secret\b|(?:full|whole|entire|complete|hidden|problem|interview|internal|original) spec(?:ification)?s?\b|"
    r"rubric|reference (?:points?|answers?)|answer key|(?:grading|scoring|evaluation) (?:criteria|guide|notes|scheme|rules)|"
    r"all (?:the |of the |your )?(?:facts|details|answers|information|info)\b|every (?:fact|detail)\b|"
    r"(?:ideal|model|expected|perfect|reference) (?:answer|solution|design)s?)"
)

_INJECTION = [
    re.compile(p, re.IGNORECASE | re.DOTALL)
    for p in (
        r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,30}\b(?:your|all|any|previous|prior|above|earlier|"
        r"system|initial|original|these|those)\b.{0,20}\b(?:instructions?|rules|prompts?|guidelines|directives|"
        r"programming|persona)\b",
        r"\b(?:show|print|reveal|display|output|repeat|dump|leak|list|give|send|paste|read|recite|share|tell|"
        r"spell|write|expose|disclose|copy|translate|encode|what(?:'s| is| are))\b.{0,60}\b" + _SECRET_NOUNS,
        r"\b(?:you are now|you will now|from now on,? you|pretend (?:to be|you are|you're)|(?:please|you should|now),? act as|"
        r"let'?s (?:roleplay|role-play|role play)|(?:roleplay|role-play|role play) as|developer mode|jailbreak mode|"
        r"you are jailbroken|jailbreak yourself|admin mode|debug mode|maintenance mode)\b",
        r"\b(?:interview|session|test|exam) (?:is|has|was) (?:over|ended|finished|done)\b.{0,80}\b(?:show|give|"
        r"tell|reveal|print|share|what)\b",
        r"\b(?:base64|rot13|rot-13|hex(?:adecimal)?|morse|reversed?|backwards|pig latin|caesar)\b.{0,60}"
        r"\b(?:prompt|instructions?|spec|rubric|facts|answers?|notes|hidden)",
        r"\bhow (?:will|would|do|are) (?:i|you|we) (?:be )?(?:grade|graded|score|scored|evaluat|judg)",
        r"<\|?(?:system|im_start|im_end)\|?>|\[/?(?:inst|system)\]|###\s*(?:system|instruction)",
    )
]

_END = re.compile(
    r"\b(?:let'?s (?:end|stop|finish|wrap(?: it)? up|call it)|(?:i'?m|i am|we'?re|we are) (?:done|finished)|"
    r"end (?:the|this) (?:interview|session)|(?:i'?d like|i want|i would like) to (?:end|stop|finish)|"
    r"that'?s all (?:i have|from me)|no more (?:to add|from me))\b",
    re.IGNORECASE,
)

_ASSUMPTION = re.compile(
    r"\b(?:assum\w*|let'?s say|suppose|i'?ll take it that|presumably|my guess is|i'?d guess)\b", re.IGNORECASE
)


def looks_like_injection(text: str) -> bool:
    return any(pattern.search(text) for pattern in _INJECTION)


# ----------------------------------------------------------------------------- offline analyst


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


class OfflineAnalyst(Analyst):
    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon

    async def analyze(self, text: str, state: InterviewState) -> Analysis:
        return self.analyze_now(text)

    def analyze_now(self, text: str) -> Analysis:
        analysis = Analysis()
        analysis.injection = looks_like_injection(text)
        analysis.end_requested = bool(_END.search(text))
        for sentence in sentences(text):
            body = sentence.text
            if sentence.is_question:
                facts = () if analysis.injection else self.lexicon.match_facts(body)
                analysis.questions.append(Question(body, facts))
                continue
            if _ASSUMPTION.search(body) and len(body.split()) >= 4:
                analysis.assumptions += 1
            if not is_substantive(body):
                continue
            analysis.substantive = True
            reasoned = has_reasoning(body) or has_number(body)
            for stage, found in self.lexicon.stage_hits(body).items():
                bucket = analysis.signals.setdefault(stage, [])
                bucket.extend(s for s in found if s not in bucket)
                if reasoned:
                    analysis.reasoned[stage] = analysis.reasoned.get(stage, 0) + 1
        return analysis
