"""The ``openai`` backend: the interviewer's voice, the analyst and the grader as LLM calls to any
OpenAI-compatible Chat Completions endpoint (OpenAI, Azure, Ollama, vLLM, llama.cpp, LM Studio)."""

from __future__ import annotations

from interviewer.config import Settings
from interviewer.engine.analyst import Analyst, offline_analyst
from interviewer.engine.backend import Backend
from interviewer.engine.voice import Voice
from interviewer.grading.base import Grader
from interviewer.llm.analyst import LLMAnalyst
from interviewer.llm.client import Connection
from interviewer.llm.grader import LLMGrader
from interviewer.llm.voice import LLMVoice
from interviewer.understanding.lexicon import Lexicon


class OpenAIBackend(Backend):
    name = "openai"
    can_stream = True
    supports_schema = True

    def __init__(self, settings: Settings):
        self.settings = settings
        self.model = settings.model
        self.connection = Connection(settings)

    @property
    def label(self) -> str:
        where = self.settings.endpoint or "api.openai.com"
        return f"LLM {self.model} at {where}"

    def prepare(self) -> None:
        from interviewer import tokens

        tokens.get_encoding(tokens.encoding_name_for(self.model))
        self.connection.client  # noqa: B018 (built now, not when the first request is due)

    @property
    def llm_analyst(self) -> bool:
        return self.settings.analyst == "llm"

    @property
    def grader_model(self) -> str | None:
        return self.settings.effective_grader_model

    def with_grader_model(self, model: str) -> OpenAIBackend:
        return OpenAIBackend(self.settings.model_copy(update={"grader_model": model}))

    def analyst(self, lexicon: Lexicon) -> Analyst:
        return offline_analyst(lexicon, self.settings.understanding, self.settings.semantic_model)

    def deep_analyst(self, lexicon: Lexicon) -> Analyst | None:
        return LLMAnalyst(self.connection, lexicon.problem) if self.llm_analyst else None

    def voice(self) -> Voice:
        return LLMVoice(self.connection)

    def grader(self) -> Grader:
        from interviewer.backends.offline import offline_grader

        return LLMGrader(self.connection, offline_grader(self.settings.understanding, self.settings.semantic_model))

    async def aclose(self) -> None:
        await self.connection.aclose()
