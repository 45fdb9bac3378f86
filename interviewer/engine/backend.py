"""The backend port: what the engine needs from an LLM (or from no LLM at all).

A backend provides the analyst, the voice and the grader; the director is shared by all. The engine
only ever sees this class: implementations live in :mod:`interviewer.backends` (small factories) over
:mod:`interviewer.llm` and the offline twins beside their abstract bases. Callers ask the capability
flags, never the backend's name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from interviewer.engine.analyst import Analyst
from interviewer.engine.voice import Voice
from interviewer.grading.base import Grader
from interviewer.understanding.lexicon import Lexicon


class Backend(ABC):
    name: str = "backend"
    """Stored with each interview: which engine held it."""
    model: str | None = None
    """The interviewer's model, or None without an LLM."""
    can_stream: bool = False
    """Replies come from a model token by token: they use tokens and cost money."""
    supports_schema: bool = False
    """The grader asks its model for structured output, so another grader model can be chosen."""

    @property
    def label(self) -> str:
        """How the UI names it, e.g. ``offline engine`` or ``LLM gpt-4.1-mini at ...``."""
        return f"{self.name}: {self.model}" if self.model else self.name

    @property
    def llm_analyst(self) -> bool:
        """An LLM reads each turn alongside the reply (see :meth:`deep_analyst`)."""
        return False

    @property
    def grader_model(self) -> str | None:
        """The model that grades; None for the offline heuristic grader."""
        return None

    def prepare(self) -> None:
        """Load what the first reply would otherwise wait for (a client library, a tokenizer). Blocking:
        an app calls it on a worker thread at start-up; a reply that comes first loads what it needs itself."""
        return None

    def with_grader_model(self, model: str) -> Backend:
        """The same backend grading with another model (only where :attr:`supports_schema`)."""
        return self

    @abstractmethod
    def analyst(self, lexicon: Lexicon) -> Analyst: ...

    def deep_analyst(self, lexicon: Lexicon) -> Analyst | None:
        """An optional slower analyst that runs concurrently with the reply and refines the state."""
        return None

    @abstractmethod
    def voice(self) -> Voice: ...

    @abstractmethod
    def grader(self) -> Grader: ...

    async def aclose(self) -> None:  # noqa: B027 (a backend without connections has nothing to release)
        """Release connections; the backend opens new ones if it is used again."""
