"""The offline backend: no LLM, deterministic and instant. The default on a fresh machine."""

from __future__ import annotations

from interviewer.engine.analyst import Analyst, OfflineAnalyst
from interviewer.engine.backend import Backend
from interviewer.engine.voice import OfflineVoice, Voice
from interviewer.grading.base import Grader
from interviewer.grading.offline import OfflineGrader
from interviewer.understanding.lexicon import Lexicon


class OfflineBackend(Backend):
    name = "offline"

    @property
    def label(self) -> str:
        return "offline engine (no LLM)"

    def analyst(self, lexicon: Lexicon) -> Analyst:
        return OfflineAnalyst(lexicon)

    def voice(self) -> Voice:
        return OfflineVoice()

    def grader(self) -> Grader:
        return OfflineGrader()
