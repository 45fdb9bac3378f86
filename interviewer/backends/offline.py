"""The offline backend: no LLM, deterministic and instant. The default on a fresh machine."""

from __future__ import annotations

from interviewer.config import Settings
from interviewer.engine.analyst import Analyst, offline_analyst, semantic_status
from interviewer.engine.backend import Backend
from interviewer.engine.voice import OfflineVoice, Voice
from interviewer.grading.base import Grader
from interviewer.grading.offline import OfflineGrader
from interviewer.grading.semantic import semantic_grader
from interviewer.understanding.lexicon import Lexicon


class OfflineBackend(Backend):
    name = "offline"
    understanding = "auto"
    """How the analyst and the grader read the candidate (the ``understanding`` setting)."""
    semantic_model: str | None = None

    def __init__(self, settings: Settings | None = None):
        if settings is not None:
            self.understanding = settings.understanding
            self.semantic_model = settings.semantic_model

    @property
    def label(self) -> str:
        return f"offline engine (no LLM), {reading_label(self.understanding, self.semantic_model)}"

    def analyst(self, lexicon: Lexicon) -> Analyst:
        return offline_analyst(lexicon, self.understanding, self.semantic_model)

    def voice(self) -> Voice:
        return OfflineVoice()

    def grader(self) -> Grader:
        return offline_grader(self.understanding, self.semantic_model)


def offline_grader(understanding: str, semantic_model: str | None) -> Grader:
    """The grader that needs no LLM: reading by meaning when the sentence model is there, else by keywords."""
    if understanding != "lexical":
        grader = semantic_grader(semantic_model)
        if grader is not None:
            return grader
    return OfflineGrader()


def reading_label(understanding: str, semantic_model: str | None) -> str:
    """How the candidate is read, as the UI says it; names what is missing when it falls back."""
    if understanding == "lexical":
        return "reading by keywords (understanding = lexical)"
    missing = semantic_status(semantic_model)
    if missing is None:
        return "reading by meaning"
    return f"reading by keywords only: {missing}"
