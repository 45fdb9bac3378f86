"""The analyst reads one candidate turn: what was asked, which stages it worked on and how deeply,
whether the candidate wants to end, and whether the turn tries to extract the hidden spec.

The offline analyst here is lexical: the problem's fact cues and the rubric's stage signals.
An LLM analyst (structured output) may replace it turn by turn and falls back to this one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from interviewer.engine.state import InterviewState
from interviewer.stages import STAGE_IDS
from interviewer.text import has_number, has_reasoning, is_substantive, sentences
from interviewer.understanding.lexicon import Lexicon
from interviewer.understanding.patterns import ASSUMPTION, END_REQUEST, looks_like_injection


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


class OfflineAnalyst(Analyst):
    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon

    async def analyze(self, text: str, state: InterviewState) -> Analysis:
        return self.analyze_now(text)

    def analyze_now(self, text: str) -> Analysis:
        analysis = Analysis()
        analysis.injection = looks_like_injection(text)
        analysis.end_requested = bool(END_REQUEST.search(text))
        for sentence in sentences(text):
            body = sentence.text
            if sentence.is_question:
                facts = () if analysis.injection else self.lexicon.match_facts(body)
                analysis.questions.append(Question(body, facts))
                continue
            if ASSUMPTION.search(body) and len(body.split()) >= 4:
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
