"""The interviewer's voice as an LLM: the director's moves rendered by a model, streamed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from interviewer import tokens
from interviewer.content.models import Persona
from interviewer.engine.events import Notice, Usage
from interviewer.engine.moves import MoveKind
from interviewer.engine.voice import Voice, VoiceFailure, VoiceRequest, render_move
from interviewer.llm import context, prompts
from interviewer.llm.client import Connection, LLMError, StreamStats, stream_chat

# Moves the persona's own lines express exactly; no LLM call is needed (or wanted) for them.
_FIXED_LINES = {MoveKind.OPENING, MoveKind.CLOSE, MoveKind.DEFLECT}


class LLMVoice(Voice):
    name = "openai"

    def __init__(self, connection: Connection):
        self.connection = connection
        self.settings = connection.settings
        self._last: tuple[list[dict], str, StreamStats, list[str]] | None = None
        self._window_checked = False

    def instructions(self, persona: Persona) -> str:
        return prompts.instructions_only(persona)

    def director_note(self, request: VoiceRequest) -> str | None:
        if {move.kind for move in request.moves} <= _FIXED_LINES:
            return None
        return prompts.director_note(
            request.moves,
            request.problem,
            minutes_left=request.minutes_left,
        )

    def messages(self, request: VoiceRequest) -> tuple[list[dict], int]:
        """The request: stable prefix, the append-only conversation, this reply's note; fitted to the window."""
        note = request.note or self.director_note(request) or ""
        messages = [
            {
                "role": "system",
                "content": prompts.system_prefix(request.persona, request.problem, request.budget_minutes),
            },
            *prompts.conversation(request.history, request.notes),
            {"role": "system", "content": note},
        ]
        budget = context.window(self.settings, self._model(request.persona)) - self.settings.max_reply_tokens
        return tokens.fit_messages(messages, budget, self._model(request.persona), keep_head=1, keep_tail=2)

    def _model(self, persona: Persona) -> str:
        return persona.model or self.settings.model

    def _window_warning(self, request: VoiceRequest, model: str) -> Notice | None:
        """Asks the server for the model's context window (once per endpoint and model); warns when a whole
        interview of this length would not fit in it."""
        context.learn_window(self.settings, model)
        window = context.window(self.settings, model)
        prefix = tokens.count_text(
            prompts.system_prefix(request.persona, request.problem, request.budget_minutes), model
        )
        need = context.needed(request.budget_minutes, prefix, self.settings.max_reply_tokens)
        if window >= need:
            return None
        return Notice(
            f"The model's context window is {window:,} tokens; a {round(request.budget_minutes):,}-minute interview needs "
            f"about {need:,}. Later in the interview the earliest turns will be left out of what the interviewer "
            f"reads (the transcript keeps them). A larger window helps ({context.HOW_TO_RAISE}), then the "
            "context_window setting."
        )

    async def stream(self, request: VoiceRequest) -> AsyncIterator[str | Usage | Notice]:
        if {move.kind for move in request.moves} <= _FIXED_LINES:
            yield "\n\n".join(render_move(request, move) for move in request.moves)
            return
        model = self._model(request.persona)
        if not self._window_checked:
            self._window_checked = True
            warning = await asyncio.to_thread(self._window_warning, request, model)
            if warning:
                yield warning
        # Counting tokens (and the tokenizer's first load) is CPU work: a worker thread does it.
        messages, _ = await asyncio.to_thread(self.messages, request)
        notice = await asyncio.to_thread(_cut_notice, request, messages, model)
        if notice:
            yield notice
        temperature = (
            request.persona.temperature if request.persona.temperature is not None else self.settings.temperature
        )
        stats = StreamStats()
        pieces: list[str] = []
        self._last = (messages, model, stats, pieces)
        try:
            async for piece in stream_chat(
                self.connection.client,
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
        yield await asyncio.to_thread(self._usage, messages, model, stats, pieces)

    def _usage(self, messages: list[dict], model: str, stats: StreamStats, pieces: list[str]) -> Usage:
        """The server's figures; local tiktoken counts where it sent none."""
        prompt_tokens = (
            stats.prompt_tokens if stats.prompt_tokens is not None else tokens.count_messages(messages, model)
        )
        completion = (
            stats.completion_tokens
            if stats.completion_tokens is not None
            else tokens.count_text("".join(pieces), model)
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
