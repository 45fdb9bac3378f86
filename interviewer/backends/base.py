"""The backend seam: what an interviewer engine needs from an LLM (or from no LLM at all)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from interviewer.engine.analyst import Analyst, Lexicon
from interviewer.engine.voice import Voice
from interviewer.grading.base import Grader


class Backend(ABC):
    """Provides the analyst, the voice and the grader. The director is shared by all backends."""

    name: str = "backend"
    model: str | None = None

    @property
    def label(self) -> str:
        """How the UI names it, e.g. ``offline engine`` or ``openai: gpt-4.1-mini``."""
        return f"{self.name}: {self.model}" if self.model else self.name

    @abstractmethod
    def analyst(self, lexicon: Lexicon) -> Analyst: ...

    def deep_analyst(self, lexicon: Lexicon) -> Analyst | None:
        """An optional slower analyst that runs concurrently with the reply and refines the state."""
        return None

    @abstractmethod
    def voice(self) -> Voice: ...

    @abstractmethod
    def grader(self) -> Grader: ...
