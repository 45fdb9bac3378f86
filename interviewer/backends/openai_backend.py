"""The ``openai`` backend: the interviewer's voice, the analyst and the grader as LLM calls to any
OpenAI-compatible Chat Completions endpoint (OpenAI, Azure, Ollama, vLLM, llama.cpp, LM Studio)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import cached_property

from pydantic import ValidationError

from interviewer import tokens
from interviewer.backends.base import Backend
from interviewer.config import Settings
from interviewer.content.models import Persona, Problem, Rubric
from interviewer.engine.analyst import Analysis, Analyst, Lexicon, OfflineAnalyst, Question
from interviewer.engine.events import Notice, Usage
from interviewer.engine.moves import MoveKind
from interviewer.engine.session import VoiceFailure
from interviewer.engine.state import InterviewState
from interviewer.engine.voice import Voice, VoiceRequest, render_move
from interviewer.grading.base import Grader
from interviewer.grading.scorecard import DimensionScore, Evidence, Scorecard, Transcript, finalize
from interviewer.llm import prompts
from interviewer.llm.client import LLMError, StreamStats, complete_json, make_client, stream_chat, strict_schema
from interviewer.text import sentences, term_set

# Moves the persona's own lines express exactly; no LLM call is needed (or wanted) for them.
_FIXED_LINES = {MoveKind.OPENING, MoveKind.CLOSE, MoveKind.DEFLECT}


class GradingError(Exception):
    """The grader could not produce a valid scorecard; the message says why."""


class OpenAIBackend(Backend):
    name = "openai"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.model = settings.model

    @property
    def label(self) -> str:
        where = self.settings.endpoint or "api.openai.com"
        return f"LLM {self.model} at {where}"

    @cached_property
    def client(self):
        return make_client(self.settings)

    def analyst(self, lexicon: Lexicon) -> Analyst:
        return OfflineAnalyst(lexicon)

    def deep_analyst(self, lexicon: Lexicon) -> Analyst | None:
        if self.settings.analyst != "llm":
            return None
        return LLMAnalyst(self, lexicon.problem, lexicon)

    def voice(self) -> Voice:
        return LLMVoice(self)

    def grader(self) -> Grader:
        return LLMGrader(self)


# ----------------------------------------------------------------------------- voice


class LLMVoice(Voice):
    name = "openai"

    def __init__(self, backend: OpenAIBackend):
        self.backend = backend
        self.settings = backend.settings
        self._last: tuple[list[dict], str, StreamStats, list[str]] | None = None

    def instructions(self, persona: Persona) -> str:
        return prompts.instructions_only(persona)

    def director_note(self, request: VoiceRequest) -> str | None:
        if {move.kind for move in request.moves} <= _FIXED_LINES:
            return None
        return prompts.director_note(
            request.moves,
            request.problem,
            minutes_left=request.minutes_left,
            allow_asked_facts=self.settings.analyst == "llm",
        )

    def messages(self, request: VoiceRequest) -> tuple[list[dict], int]:
        """The request: stable prefix, the append-only conversation, this reply's note; fitted to the window."""
        note = request.note or self.director_note(request) or ""
        messages = [
            {"role": "system", "content": prompts.system_prefix(request.persona, request.problem, request.budget_minutes)},
            *prompts.conversation(request.history, request.notes),
            {"role": "system", "content": note},
        ]
        budget = self.settings.context_window - self.settings.max_reply_tokens
        return tokens.fit_messages(messages, budget, self._model(request.persona), keep_head=1, keep_tail=2)

    def _model(self, persona: Persona) -> str:
        return persona.model or self.settings.model

    async def stream(self, request: VoiceRequest) -> AsyncIterator[str | Usage]:
        if {move.kind for move in request.moves} <= _FIXED_LINES:
            yield "\n\n".join(render_move(request, move) for move in request.moves)
            return
        messages, _ = self.messages(request)
        model = self._model(request.persona)
        notice = _cut_notice(request, messages, model)
        if notice:
            yield notice
        temperature = request.persona.temperature if request.persona.temperature is not None else self.settings.temperature
        stats = StreamStats()
        pieces: list[str] = []
        self._last = (messages, model, stats, pieces)
        try:
            async for piece in stream_chat(
                self.backend.client,
                self.settings,
                model=model,
                messages=messages,
                temperature=temperature,
                max_tokens=self.settings.max_reply_tokens,
                stats=stats,
            ):
                pieces.append(piece)
                yield piece
        except LLMError as exc:
            raise VoiceFailure(str(exc), retryable=exc.retryable) from None
        if not "".join(pieces).strip():
            raise VoiceFailure("the model sent an empty reply", retryable=True)
        self._last = None
        yield self._usage(messages, model, stats, pieces)

    def _usage(self, messages: list[dict], model: str, stats: StreamStats, pieces: list[str]) -> Usage:
        """The server's figures; local tiktoken counts where it sent none."""
        prompt_tokens = stats.prompt_tokens if stats.prompt_tokens is not None else tokens.count_messages(messages, model)
        completion = (
            stats.completion_tokens if stats.completion_tokens is not None else tokens.count_text("".join(pieces), model)
        )
        return Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion,
            cached_tokens=stats.cached_tokens or 0,
            first_token_ms=stats.first_token_ms,
            total_ms=stats.total_ms,
            estimated=not stats.usage_reported,
        )

    def unfinished_usage(self) -> Usage | None:
        if self._last is None:
            return None
        usage, self._last = self._usage(*self._last), None
        return usage


def _cut_notice(request: VoiceRequest, messages: list[dict], model: str) -> Notice | None:
    """Tell the candidate when their latest message was too long for the model to read whole."""
    latest = next((text for role, text in reversed(request.history) if role == "candidate"), None)
    sent = next((m["content"] for m in reversed(messages) if m["role"] == "user"), None)
    if latest is None or sent is None or sent == latest:
        return None
    read = tokens.count_text(sent, model)
    total = tokens.count_text(latest, model)
    return Notice(
        f"Your message is long ({total:,} tokens): the interviewer read its first {read:,} tokens, which is what "
        "fits the model's context window. The whole message is stored."
    )


# ----------------------------------------------------------------------------- analyst


MAX_FACTS_PER_QUESTION = 2
"""A question the analyst maps to more facts than this is a fishing expedition: it answers none."""


class LLMAnalyst(Analyst):
    """A structured-output reading of the turn; runs concurrently with the reply.

    It reads text the candidate controls, so a message can talk it into claiming that every hidden
    fact was asked for. Its word only counts where it is plausible: a fact it maps must share a cue
    word with one of the message's actual questions, a question maps to at most two facts, and a
    reading that calls the message an injection confirms nothing.
    """

    def __init__(self, backend: OpenAIBackend, problem: Problem, lexicon: Lexicon | None = None):
        self.backend = backend
        self.problem = problem
        self._fact_ids = {fact.id for fact in problem.facts}
        self._topic = lexicon.topic if lexicon is not None else term_set(f"{problem.title}. {problem.prompt}")
        self._cue_terms = {
            fact.id: frozenset().union(*(term_set(cue) for cue in fact.cues)) - self._topic for fact in problem.facts
        }

    def plausible_facts(self, text: str) -> set[str]:
        """Facts one of the message's questions could be asking for: it shares a cue word with them."""
        asked = [term_set(s.text) - self._topic for s in sentences(text) if s.is_question]
        return {fact for fact, terms in self._cue_terms.items() if any(terms & question for question in asked)}

    async def analyze(self, text: str, state: InterviewState) -> Analysis:
        settings = self.backend.settings
        data, _ = await complete_json(
            self.backend.client,
            settings,
            model=settings.effective_analyst_model,
            messages=prompts.analyst_messages(self.problem, text),
            schema_name="turn_analysis",
            schema=strict_schema(prompts.AnalystOutput),
            temperature=0.0,
            max_tokens=600,
            timeout=settings.analyst_timeout,
        )
        try:
            output = prompts.AnalystOutput.model_validate(data)
        except ValidationError as exc:
            raise LLMError(f"the analyst's answer does not fit its schema: {exc.errors()[0]['msg']}", kind="invalid") from None
        analysis = Analysis(source="llm")
        plausible = set() if output.injection else self.plausible_facts(text)
        for q in output.questions:
            facts = tuple(dict.fromkeys(f for f in q.fact_ids if f in self._fact_ids and f in plausible))
            analysis.questions.append(Question(q.text, facts if len(facts) <= MAX_FACTS_PER_QUESTION else ()))
        analysis.depths = {s.stage: max(0, min(3, s.depth)) for s in output.stages}
        analysis.end_requested = output.end_requested
        analysis.injection = output.injection
        return analysis


# ----------------------------------------------------------------------------- grader


class LLMGrader(Grader):
    def __init__(self, backend: OpenAIBackend):
        self.backend = backend
        self.settings = backend.settings
        self.name = self.settings.effective_grader_model
        self.requests: list[list[dict]] = []

    def messages(self, transcript: Transcript, rubric: Rubric, problem: Problem) -> tuple[list[dict], list[str]]:
        """The grading request, fitted to the grader's context without dropping any turn."""
        model = self.settings.effective_grader_model
        system = prompts.grader_system(rubric, problem)
        budget = self.settings.effective_grader_context - self.settings.grader_max_tokens
        shortened: dict[int, str] = {}
        notes: list[str] = []

        def build() -> list[dict]:
            return [
                {"role": "system", "content": system},
                {"role": "user", "content": "Transcript:\n\n" + prompts.numbered_transcript(transcript, shortened)},
            ]

        messages = build()
        if tokens.count_messages(messages, model) <= budget:
            return messages, notes
        # First shorten the interviewer's turns (the candidate is graded), then the longest candidate turns.
        for turn in transcript.turns:
            if turn.role == "interviewer":
                shortened[turn.seq] = tokens.truncate_text(turn.text, 40, model)
        messages = build()
        if tokens.count_messages(messages, model) > budget:
            candidate = sorted(transcript.candidate_turns(), key=lambda t: -len(t.text))
            cap = 2_000
            while tokens.count_messages(messages, model) > budget and cap >= 50:
                for turn in candidate:
                    shortened[turn.seq] = tokens.truncate_text(turn.text, cap, model)
                messages = build()
                cap //= 2
        cut = sorted(t.seq for t in transcript.candidate_turns() if t.seq in shortened and shortened[t.seq] != t.text)
        notes.append(
            "The transcript was longer than the grader's context: interviewer turns were shortened"
            + (f", and candidate turns {', '.join(map(str, cut))} were cut to their opening part" if cut else "")
            + "; no turn was left out."
        )
        if tokens.count_messages(messages, model) > budget:
            raise GradingError(
                f"the transcript does not fit the grader's context window ({self.settings.effective_grader_context} "
                "tokens) even with every turn shortened; set grader_context_window for a larger model"
            )
        return messages, notes

    async def grade(self, transcript: Transcript, rubric: Rubric, problem: Problem) -> Scorecard:
        messages, notes = self.messages(transcript, rubric, problem)
        ids = [d.id for d in rubric.dimensions]
        problems: list[str] = []
        for attempt in range(2):  # one request, plus at most one retry on invalid output
            self.requests.append(messages)
            try:
                data, _ = await complete_json(
                    self.backend.client,
                    self.settings,
                    model=self.settings.effective_grader_model,
                    messages=messages,
                    schema_name="scorecard",
                    schema=prompts.grader_schema(ids),
                    temperature=self.settings.grader_temperature,
                    max_tokens=self.settings.grader_max_tokens,
                    timeout=self.settings.grader_timeout,
                )
                dimensions, strengths, improvements = _check_grader_output(data, ids)
            except LLMError as exc:
                if exc.kind not in ("invalid", "protocol") or attempt == 1:
                    raise GradingError(f"grading failed: {exc}") from None
                problems.append(str(exc))
                continue
            except ValueError as exc:
                problems.append(str(exc))
                if attempt == 1:
                    raise GradingError(f"the grader's answer was invalid twice: {'; '.join(problems)}") from None
                continue
            if problems:
                notes.append(f"The first answer was invalid ({problems[0]}); the retry was used.")
            return finalize(
                interview_id=transcript.interview_id,
                rubric=rubric,
                grader=self.name,
                dimensions=dimensions,
                transcript=transcript,
                strengths=strengths,
                improvements=improvements,
                notes=notes,
            )
        raise GradingError("grading failed")  # not reached: the loop returns or raises


def _check_grader_output(data: object, ids: list[str]) -> tuple[list[DimensionScore], list[str], list[str]]:
    """Validate what the grader said; servers may ignore the schema, so check everything."""
    if not isinstance(data, dict) or not isinstance(data.get("dimensions"), dict):
        raise ValueError('the answer has no "dimensions" object')
    graded = data["dimensions"]
    unknown = [key for key in graded if key not in ids]
    if unknown:
        raise ValueError(f"unknown dimension '{unknown[0]}'")
    missing = [i for i in ids if i not in graded]
    if missing:
        raise ValueError(f"no score for {', '.join(missing)}")
    scores: list[DimensionScore] = []
    for dimension_id in ids:
        raw = graded[dimension_id]
        if isinstance(raw, dict) and isinstance(raw.get("score"), int) and not 1 <= raw["score"] <= 4:
            raise ValueError(f"score {raw['score']} for '{dimension_id}' is outside 1-4")
        try:
            item = prompts.GradedDimension.model_validate(
                {**raw, "evidence": [e for e in raw.get("evidence", []) if isinstance(e, dict)][:3]}
                if isinstance(raw, dict) else raw
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(map(str, error["loc"]))
            raise ValueError(f"dimension '{dimension_id}' field {where}: {error['msg']}") from None
        scores.append(
            DimensionScore(
                id=dimension_id,
                score=item.score,
                rationale=item.rationale.strip() or "(no rationale given)",
                evidence=[Evidence(turn=e.turn, quote=e.quote) for e in item.evidence if e.quote.strip()],
            )
        )
    lists = []
    for key in ("strengths", "improvements"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f'"{key}" is not a list of strings')
        lists.append([v.strip() for v in value if v.strip()][:6])
    return scores, lists[0], lists[1]
