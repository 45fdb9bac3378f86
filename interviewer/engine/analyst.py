"""The analyst reads one candidate turn: what was asked, which stages it worked on and how deeply,
whether the candidate wants to end, and whether the turn tries to extract the hidden spec.

Two offline analysts: the semantic one reads questions by meaning with a sentence model; the lexical
one, used where that model is not installed, by the problem's cue words. An LLM analyst (structured
output) may refine either turn by turn, and falls back to it.
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from interviewer.content.models import WhatIf
from interviewer.engine.state import InterviewState
from interviewer.stages import STAGE_IDS
from interviewer.text import has_number, has_reasoning, is_substantive, normalized, sentences
from interviewer.understanding.asks import asks_in
from interviewer.understanding.coverage import default_stage_reader
from interviewer.understanding.encoder import EmbeddingCache, Encoder, load_encoder
from interviewer.understanding.facts import FactIndex, FactMatcher
from interviewer.understanding.hooks import Hook, hooks_in
from interviewer.understanding.lexicon import Lexicon
from interviewer.understanding.patterns import ASSUMPTION, END_REQUEST, looks_like_injection, sounds_stuck
from interviewer.understanding.plan import stated_plan
from interviewer.understanding.relevance import Relevance, relevance_for
from interviewer.understanding.what_ifs import WhatIfReader, takes_up_by_words


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    facts: tuple[str, ...]
    close: tuple[str, ...] = ()
    """When no fact answers it with confidence: the facts it might mean (the interviewer asks which)."""
    near: tuple[str, ...] = ()
    """The facts its own words come nearest to, answered or not: the only ones another reading of this
    question (the LLM analyst's) may map it to."""


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
    off_topic: str | None = None
    """The message designs something other than this problem: the nearest other problem's title."""
    hooks: list[Hook] = field(default_factory=list)
    """What an interviewer could pick up from this turn: figures, trade-offs, choices, in its words."""
    stuck: bool = False
    """The candidate says they do not know how to go on."""
    plan: list[str] = field(default_factory=list)
    """The stages the candidate says they will go through, in their order, when this turn states a plan."""
    takes_up_what_if: bool | None = None
    """With a what-if open: whether this turn engages with it; None when none is open or the turn only
    asks questions (perhaps about the what-if itself)."""

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
            "questions": [
                {"text": q.text, "facts": list(q.facts), **({"close": list(q.close)} if q.close else {})}
                for q in self.questions
            ],
            "signals": {k: v for k, v in self.signals.items() if v},
            "reasoned": {k: v for k, v in self.reasoned.items() if v},
            "assumptions": self.assumptions,
            "substantive": self.substantive,
            "end_requested": self.end_requested,
            "injection": self.injection,
            **({"depths": self.depths} if self.depths else {}),
            **({"off_topic": self.off_topic} if self.off_topic else {}),
            **({"plan": self.plan} if self.plan else {}),
            **({"stuck": True} if self.stuck else {}),
        }


NEAR_FACTS = 3
"""Facts a question's own words come nearest to. Of the questions the semantic reading misses on the
tuning set, the right fact is among its nearest three for nine in ten."""


class Analyst(ABC):
    @abstractmethod
    async def analyze(self, text: str, state: InterviewState) -> Analysis: ...

    def warm(self) -> None:  # noqa: B027 - an optional hook: most analysts have nothing to prepare
        """Prepare off the caller's thread what the first reading needs (called as the interview opens)."""


class OfflineAnalyst(Analyst):
    """The lexical analyst: a question asks for the facts whose cue words it contains."""

    kind = "lexical"
    source = "offline"

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon

    async def analyze(self, text: str, state: InterviewState) -> Analysis:
        return self.read(text, state)

    def read(self, text: str, state: InterviewState) -> Analysis:
        analysis = self.analyze_now(text)
        analysis.takes_up_what_if = self.reply_to_what_if(text, analysis, state)
        return analysis

    def reply_to_what_if(self, text: str, analysis: Analysis, state: InterviewState) -> bool | None:
        """Whether the turn takes up the open what-if; None when none is open or the turn says nothing
        to judge by (only questions, perhaps about the what-if, or a few words)."""
        if state.what_if_open is None or analysis.injection or not analysis.substantive:
            return None
        what_if = next((item for item in self.lexicon.problem.what_ifs if item.id == state.what_if_open), None)
        return None if what_if is None else self.takes_up(text, what_if)

    def takes_up(self, text: str, what_if: WhatIf) -> bool:
        return takes_up_by_words(text, what_if, self.lexicon.topic)

    def analyze_now(self, text: str) -> Analysis:
        analysis = Analysis(source=self.source)
        analysis.injection = looks_like_injection(text)
        analysis.end_requested = bool(END_REQUEST.search(text))
        asked = self.read_questions(text, analysis.injection)
        analysis.questions = [question for _, question in asked]
        questions = {sentence for sentence, _ in asked}
        statements = [s.text for s in sentences(text) if s.text not in questions]
        analysis.assumptions = sum(bool(ASSUMPTION.search(s)) and len(s.split()) >= 4 for s in statements)
        substantive = [s for s in statements if is_substantive(s)]
        analysis.substantive = bool(substantive)
        readings = [] if analysis.injection else self.stage_signals(substantive)
        for body, hits in zip(substantive, readings, strict=False):
            reasoned = has_reasoning(body) or has_number(body)
            for stage, found in hits.items():
                bucket = analysis.signals.setdefault(stage, [])
                bucket.extend(s for s in found if s not in bucket)
                if reasoned:
                    analysis.reasoned[stage] = analysis.reasoned.get(stage, 0) + 1
        analysis.hooks = [] if analysis.injection else hooks_in(text)
        analysis.plan = [] if analysis.injection else stated_plan(text)
        analysis.stuck = not analysis.injection and sounds_stuck(text)
        return analysis

    def stage_signals(self, statements: list[str]) -> list[dict[str, list[str]]]:
        """Per substantive statement, the stages it works on, each with what shows it (here: signal words)."""
        return [self.lexicon.stage_hits(body) for body in statements]

    def read_questions(self, text: str, injection: bool) -> list[tuple[str, Question]]:
        """(the sentence, what it asks) for each question in the message."""
        out = []
        for sentence in sentences(text):
            if sentence.is_question:
                if injection:
                    out.append((sentence.text, Question(sentence.text, ())))
                    continue
                facts = self.lexicon.match_facts(sentence.text)
                near = self.lexicon.near_facts(sentence.text, NEAR_FACTS)
                out.append((sentence.text, Question(sentence.text, facts, near=near)))
        return out


MAX_QUESTIONS_READ = 16
"""Questions read by meaning in one message; a pasted wall of question marks is not read to the end."""
MAX_STATEMENTS_READ = 40
"""Statements whose stage is read by meaning in one message (a pasted essay is not read to the end)."""


class SemanticAnalyst(OfflineAnalyst):
    """Reads questions by meaning: each thing a message asks is matched to the facts that answer it
    (:mod:`interviewer.understanding.facts`); a permission to ask or a statement asks for nothing.

    The problem's texts are embedded once (and cached on disk); :meth:`warm` does that on a worker
    thread while the interview opens, so the first question does not wait for it."""

    kind = "semantic"
    source = "semantic"

    def __init__(self, lexicon: Lexicon, encoder: Encoder):
        super().__init__(lexicon)
        self.encoder = encoder
        self._cache = EmbeddingCache(encoder)
        self._matcher: FactMatcher | None = None
        self._relevance: Relevance | None = None
        self._what_ifs: WhatIfReader | None = None
        # One lock each: a question waits for the facts' index, never for the larger one being built.
        self._locks = {name: threading.Lock() for name in ("matcher", "relevance", "what_ifs")}
        self._stages = default_stage_reader()

    def warm(self) -> None:
        threading.Thread(target=self._warm, name="semantic-index", daemon=True).start()

    def _warm(self) -> None:
        # What the first question needs comes first; the index of every other problem (for telling an
        # off-topic design) is larger and only needed once the candidate starts designing.
        self.matcher()
        self.relevance()
        self.what_ifs()

    def matcher(self) -> FactMatcher:
        with self._locks["matcher"]:
            if self._matcher is None:
                self._matcher = FactMatcher(FactIndex(self.lexicon.problem, self._cache), self.encoder)
            return self._matcher

    def relevance(self) -> Relevance:
        with self._locks["relevance"]:
            if self._relevance is None:
                self._relevance = relevance_for(self.lexicon.problem, self._cache)
            return self._relevance

    def what_ifs(self) -> WhatIfReader:
        with self._locks["what_ifs"]:
            if self._what_ifs is None:
                self._what_ifs = WhatIfReader(self.lexicon.problem, self.encoder, self._cache)
            return self._what_ifs

    async def analyze(self, text: str, state: InterviewState) -> Analysis:
        # A reading by meaning runs the encoder (a long message: hundreds of ms of CPU): on a worker
        # thread, so the host's event loop (the TUI's) keeps drawing meanwhile.
        return await asyncio.to_thread(self.read, text, state)

    def takes_up(self, text: str, what_if: WhatIf) -> bool:
        return self.what_ifs().takes_up(text, what_if)

    def analyze_now(self, text: str) -> Analysis:
        analysis = super().analyze_now(text)
        if analysis.substantive and not analysis.questions and not analysis.injection and not analysis.plan:
            relevance = self.relevance()
            vector = self.encoder.encode([relevance.lead(text)])[0]
            about = relevance.of(vector)
            analysis.off_topic = about.other_problem if about.off_topic else None
        return analysis

    def stage_signals(self, statements: list[str]) -> list[dict[str, list[str]]]:
        """Per statement, the one stage it works on by meaning; the signal is the statement itself (in
        short), so a stage deepens with each distinct thing said about it, and a paste adds nothing."""
        readings = self._stages.read(self.encoder.encode(statements[:MAX_STATEMENTS_READ]))
        out: list[dict[str, list[str]]] = [{} for _ in statements]
        for index, (body, reading) in enumerate(zip(statements, readings, strict=False)):
            if reading.stage is not None:
                out[index] = {reading.stage: ["said: " + " ".join(normalized(body).split()[:12])]}
        return out

    def read_questions(self, text: str, injection: bool) -> list[tuple[str, Question]]:
        asks = asks_in(text)[:MAX_QUESTIONS_READ]
        if injection:
            return [(ask.sentence, Question(ask.text, ())) for ask in asks]
        return [
            (r.ask.sentence, Question(r.ask.text, r.facts, r.close, tuple(c.fact for c in r.ranked[:NEAR_FACTS])))
            for r in self.matcher().read(text, asks)
        ]


def offline_analyst(lexicon: Lexicon, understanding: str = "auto", semantic_model: str | None = None) -> OfflineAnalyst:
    """The semantic analyst when its model is installed (and not turned off), else the lexical one."""
    if understanding == "lexical":
        return OfflineAnalyst(lexicon)
    encoder = load_encoder(semantic_model)
    if isinstance(encoder, str):
        return OfflineAnalyst(lexicon)
    return SemanticAnalyst(lexicon, encoder)


def semantic_status(semantic_model: str | None = None) -> str | None:
    """None when the semantic analyst can run; otherwise why not, for the user."""
    encoder = load_encoder(semantic_model)
    return encoder if isinstance(encoder, str) else None
