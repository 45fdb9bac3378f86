"""One place that talks to an OpenAI-compatible Chat Completions endpoint.

Streaming with usage, structured output, explicit timeouts (connect, first token, idle gap
between chunks), retries with Retry-After (by the ``openai`` package, before a reply starts),
and every failure turned into one :class:`LLMError` with a message a user can act on. The API
key never appears in a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import openai

from interviewer.config import Settings
from interviewer.errors import InterviewerError
from interviewer.llm import capabilities, roles
from interviewer.llm.reasoning import ReasoningFilter, strip_reasoning

LOWER_EFFORT = "low"
"""``reasoning_effort`` for the one retry after a reply that was all reasoning and no text."""


class LLMError(InterviewerError):
    """A failed LLM call, described for the user. ``retryable``: trying again may work."""

    def __init__(self, message: str, *, retryable: bool = True, kind: str = "error"):
        super().__init__(message)
        self.retryable = retryable
        self.kind = kind


@dataclass
class StreamStats:
    """What one streamed reply cost and how long it took."""

    started: float = field(default_factory=time.perf_counter)
    first_token_ms: float | None = None
    total_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    finish_reason: str | None = None
    usage_reported: bool = False
    cut: bool = False
    """The client cut the reply at the length limit (the server sent more)."""
    receiving: bool = False
    """Text or reasoning has started to arrive (from then on the idle timeout applies)."""
    reasoning_chars: int = 0
    """Characters of reasoning the model wrote (separate fields or tags in the text), never shown."""


class Connection:
    """One endpoint's settings and its client: opened on first use, closed by :meth:`aclose` (and opened
    again if used after that). The voice, the analyst and the grader of one backend share it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._client: openai.AsyncOpenAI | None = None
        self._opening = threading.Lock()
        """The app's start-up thread may build the client while a request asks for it."""

    @property
    def client(self) -> openai.AsyncOpenAI:
        with self._opening:
            if self._client is None:
                self._client = make_client(self.settings)
            return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()


def make_client(settings: Settings) -> openai.AsyncOpenAI:
    import httpx2

    timeout = httpx2.Timeout(
        connect=settings.connect_timeout,
        read=max(settings.first_token_timeout, settings.idle_timeout, settings.grader_timeout),
        write=60.0,
        pool=settings.connect_timeout,
    )
    key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
    return openai.AsyncOpenAI(
        api_key=key,
        base_url=settings.endpoint,
        timeout=timeout,
        max_retries=settings.max_retries,
    )


async def _post(client: openai.AsyncOpenAI, body: dict[str, Any], *, stream: bool) -> Any:
    """POST /chat/completions with a body we built as plain JSON.

    ``client.chat.completions.create`` walks every message through the package's typed-dict
    transformer, which costs tens of milliseconds per request once a conversation is long; our
    messages are already plain JSON, so they go through the client's generic ``post`` (same auth,
    retries, errors and stream parsing).
    """
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    if stream:
        return await client.post(
            "/chat/completions",
            body=body,
            cast_to=ChatCompletion,
            stream=True,
            stream_cls=openai.AsyncStream[ChatCompletionChunk],
        )
    return await client.post("/chat/completions", body=body, cast_to=ChatCompletion)


async def _send(client: openai.AsyncOpenAI, settings: Settings, body: dict[str, Any], *, stream: bool) -> Any:
    """POST with the messages in the form this model's chat template takes.

    Until the template's role rules are known, the request goes out as built; a refusal that names the
    roles is learnt, and the request sent again under the next stricter rule."""
    endpoint, model = settings.endpoint, body["model"]
    known = capabilities.get(endpoint, model)
    for _ in range(5):
        sent = _with_known_parameters({**body, "messages": roles.adapt(body["messages"], known.roles)}, known)
        try:
            response = await _post(client, sent, stream=stream)
        except openai.APIStatusError as exc:
            learnt = _rejected_parameter(exc, sent)
            if learnt:
                capabilities.learn(endpoint, model, **learnt)
                continue
            stricter = roles.stricter(known.roles)
            if exc.status_code not in (400, 422, 500) or stricter is None or not roles.rejected(_reason(exc)):
                raise
            capabilities.learn(endpoint, model, roles=stricter)
            continue
        if not stream and known.roles is None and roles.has_late_system(sent["messages"]):
            capabilities.learn(endpoint, model, roles="any")  # a stream counts once it has finished
        return response
    raise LLMError(f"{endpoint or 'the endpoint'} refused every arrangement of roles", retryable=False, kind="request")


def _with_known_parameters(body: dict[str, Any], known: capabilities.Capabilities) -> dict[str, Any]:
    """The body with the parameters this endpoint and model take: no ``stream_options`` where it was
    rejected (Azure's older API versions), ``max_completion_tokens`` where ``max_tokens`` was (OpenAI's
    reasoning models)."""
    if known.stream_usage is False and "stream_options" in body:
        body = {k: v for k, v in body.items() if k != "stream_options"}
    if known.token_limit == "max_completion_tokens" and "max_tokens" in body:
        body = {k: v for k, v in body.items() if k != "max_tokens"} | {"max_completion_tokens": body["max_tokens"]}
    return body


def _rejected_parameter(exc: openai.APIStatusError, sent: dict[str, Any]) -> dict[str, Any] | None:
    """What a 400 that names one of our parameters teaches, if it does."""
    if exc.status_code not in (400, 422):
        return None
    text = _reason(exc).lower()
    if "stream_options" in sent and "stream_options" in text:
        return {"stream_usage": False}
    if "max_tokens" in sent and "max_completion_tokens" in text:
        return {"token_limit": "max_completion_tokens"}
    return None


def describe(exc: BaseException, settings: Settings, model: str) -> LLMError:
    """A user-facing :class:`LLMError` for anything the ``openai`` package raised.

    Server-provided text is part of some messages; a server (or a proxy) that echoes the caller's key
    in its error must not get the key shown, stored or logged, so it is masked here."""
    error = _describe(exc, settings, model)
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    if key and len(key) >= 8 and key in str(error):
        masked = LLMError(str(error).replace(key, "[the API key]"), retryable=error.retryable, kind=error.kind)
        return masked
    return error


def _describe(exc: BaseException, settings: Settings, model: str) -> LLMError:
    where = settings.endpoint or "the OpenAI API"
    retries = settings.max_retries
    if isinstance(exc, LLMError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        if "connect" in type(exc.__cause__).__name__.lower():
            return LLMError(
                f"could not connect to {where} within {settings.connect_timeout:g} s (after {retries} retries)",
                kind="connect_timeout",
            )
        return LLMError(f"{where} did not answer in time (after {retries} retries)", kind="timeout")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError(f"cannot reach {where}: {_reason(exc)}", kind="connection")
    if isinstance(exc, openai.RateLimitError):
        return LLMError(
            f"{where} is rate limiting requests (HTTP 429) and still was after {retries} retries; "
            "wait a moment and retry",
            kind="rate_limit",
        )
    if isinstance(exc, openai.AuthenticationError):
        return LLMError(f"{where} rejected the API key (HTTP 401): check OPENAI_API_KEY", retryable=False, kind="auth")
    if isinstance(exc, openai.PermissionDeniedError):
        return LLMError(f"{where} refused access (HTTP 403): check the key's permissions", retryable=False, kind="auth")
    if isinstance(exc, openai.NotFoundError):
        return LLMError(
            f"{where} has no model '{model}' (HTTP 404): pick one with --model or `interviewer doctor`",
            retryable=False,
            kind="model",
        )
    if isinstance(exc, openai.BadRequestError):
        return LLMError(f"{where} rejected the request (HTTP 400): {_reason(exc)}", retryable=False, kind="request")
    if isinstance(exc, openai.APIStatusError):
        return LLMError(
            f"{where} failed with HTTP {exc.status_code} (after {retries} retries): {_reason(exc)}", kind="server"
        )
    if isinstance(exc, (json.JSONDecodeError, ValueError, KeyError, TypeError)):
        return LLMError(f"{where} sent a malformed response: {exc}", kind="protocol")
    return LLMError(f"the call to {where} failed: {type(exc).__name__}: {exc}", kind="error")


def _reason(exc: BaseException) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        message = error.get("message") if isinstance(error, dict) else body.get("message")
        if message:
            return str(message)[:300]
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]


MAX_CHARS_PER_TOKEN = 8
"""A reply is cut client-side at ``max_tokens`` times this many characters, whatever the server sends
(English runs about four characters a token, so a reply the limit allows is never cut short)."""


async def stream_chat(
    client: openai.AsyncOpenAI,
    settings: Settings,
    *,
    model: str,
    messages: list[dict[str, Any]],
    temperature: float,
    max_tokens: int,
    stats: StreamStats,
) -> AsyncIterator[str]:
    """Yield the reply's text as it streams, reasoning left out. Fills ``stats``. Raises :class:`LLMError`.

    A reply that is all reasoning and no text (the token limit spent on thinking) is asked for once
    more with a lower reasoning effort; if that is empty too, the error says so."""
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    template_checked = False
    while True:
        shown = False
        try:
            async for text in _stream_once(client, settings, body, model, stats):
                shown = True
                yield text
        except LLMError as exc:
            if exc.kind != "template" or template_checked:
                raise
            template_checked = True  # the roles are known now and the messages re-arranged: once more
            continue
        if shown or not stats.reasoning_chars:
            return
        if "reasoning_effort" in body:
            break
        body = {**body, "reasoning_effort": LOWER_EFFORT}
        stats.reasoning_chars, stats.finish_reason = 0, None
    raise LLMError(
        f"the model wrote {stats.reasoning_chars:,} characters of reasoning and no reply, twice (the second time "
        f"with reasoning_effort={LOWER_EFFORT}); raise max_reply_tokens, or use a model without reasoning",
        kind="reasoning",
    )


async def _stream_once(
    client: openai.AsyncOpenAI, settings: Settings, body: dict[str, Any], model: str, stats: StreamStats
) -> AsyncIterator[str]:
    known = capabilities.get(settings.endpoint, model)
    reasoning = ReasoningFilter(known.think)
    stream = await _open_stream(client, settings, body, model)
    chunks = _timed_chunks(stream, settings, stats)
    limit = body.get("max_completion_tokens") or body.get("max_tokens") or settings.max_reply_tokens
    room = int(limit) * MAX_CHARS_PER_TOKEN
    received = shown = 0  # characters of text received (reasoning in it included) and shown
    try:
        async for chunk in chunks:
            raw = _read_chunk(chunk, stats)
            received += len(raw)
            text = reasoning.feed(raw)[: room - shown]
            if text:
                if stats.first_token_ms is None:
                    stats.first_token_ms = (time.perf_counter() - stats.started) * 1000
                shown += len(text)
                yield text
            if received >= room:
                # The server ignored max_tokens: the reply ends here, as if it had stopped at the limit
                # (counted on what arrives, so a reply held back while it may be reasoning is bounded too).
                stats.finish_reason, stats.cut = "length", True
                break
    except Exception as exc:
        error = exc if isinstance(exc, LLMError) else describe(exc, settings, model)
        rest = reasoning.finish()[: room - shown]  # what was held back is shown, marked incomplete, unless reasoning
        if rest:
            yield rest
        raise error from None
    finally:
        stats.total_ms = (time.perf_counter() - stats.started) * 1000
        await chunks.aclose()
        await _release(stream)
    rest = reasoning.finish()[: room - shown]
    stats.reasoning_chars += reasoning.reasoning_chars
    if rest:
        if stats.first_token_ms is None:  # held back until the end: shown now, all at once
            stats.first_token_ms = stats.total_ms = (time.perf_counter() - stats.started) * 1000
        yield rest
    if stats.finish_reason is None:
        if not stats.receiving and await _template_refused(client, settings, body):
            raise LLMError("the chat template refused the roles", kind="template")
        # A close-delimited stream that stops without a finish reason was cut off (or garbled) on the way.
        raise LLMError(
            "the stream broke off before the reply was finished (connection closed or malformed data)",
            kind="disconnect",
        )
    untried = known.roles is None and roles.has_late_system(body["messages"])
    capabilities.learn(settings.endpoint, model, think=reasoning.learnt, roles="any" if untried else None)
    if reasoning.leaked:
        raise LLMError(
            "the model's reasoning reached its reply before the client knew this model starts inside reasoning; "
            "retry: it is now known",
            kind="reasoning",
        )


async def _template_refused(client: openai.AsyncOpenAI, settings: Settings, body: dict[str, Any]) -> bool:
    """Whether a stream that ended before its first chunk was a chat template refusing the roles.

    llama-cpp-python answers a streamed request with 200 and, when the template raises, an empty stream;
    the same messages unstreamed (one token) bring the template's error, and :func:`_send` learns from it."""
    model = body["model"]
    before = capabilities.get(settings.endpoint, model).roles
    if roles.stricter(before) is None or not roles.has_late_system(body["messages"]):
        return False
    # Probed also when "any" was learnt: a request of another shape may have passed where this one fails.
    probe = {"model": model, "messages": body["messages"], "max_tokens": 1}
    for _ in range(2):
        try:
            await asyncio.wait_for(
                _send(client.with_options(max_retries=0), settings, probe, stream=False), settings.first_token_timeout
            )
        except openai.APIConnectionError:
            # The server closed the connection the empty stream came on; the pool may hand that one out
            # again: once more, on a fresh one.
            continue
        except Exception:  # whatever else went wrong, the probe learnt nothing
            pass
        break
    return capabilities.get(settings.endpoint, model).roles != before


async def _open_stream(client: openai.AsyncOpenAI, settings: Settings, body: dict[str, Any], model: str) -> Any:
    waited = settings.first_token_timeout + settings.connect_timeout
    try:
        return await asyncio.wait_for(_send(client, settings, body, stream=True), timeout=waited)
    except TimeoutError:
        where = settings.endpoint or "the OpenAI API"
        raise LLMError(f"{where} took the request but sent nothing within {waited:g} s", kind="timeout") from None
    except Exception as exc:
        raise describe(exc, settings, model) from None


async def _timed_chunks(stream: Any, settings: Settings, stats: StreamStats) -> AsyncGenerator[Any, None]:
    """The stream's chunks, with the first-token timeout before the first text and the idle timeout after."""
    iterator = stream.__aiter__()
    try:
        while True:
            first = not stats.receiving
            wait = settings.first_token_timeout if first else settings.idle_timeout
            try:
                yield await asyncio.wait_for(iterator.__anext__(), timeout=wait)
            except StopAsyncIteration:
                return
            except TimeoutError:
                if first:
                    raise LLMError(f"no reply from the model within {wait:g} s", kind="timeout") from None
                raise LLMError(f"the reply stalled: no data for {wait:g} s", kind="stall") from None
    finally:
        # Closed here, on this event loop: left to the garbage collector, the stream's generators are
        # finalised later, on whatever loop runs then.
        close = getattr(iterator, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()


def _read_chunk(chunk: Any, stats: StreamStats) -> str:
    """The text in one streamed chunk; usage and the finish reason go into ``stats``."""
    usage = getattr(chunk, "usage", None)
    if usage is not None:
        stats.usage_reported = True
        stats.prompt_tokens = usage.prompt_tokens
        stats.completion_tokens = usage.completion_tokens
        details = getattr(usage, "prompt_tokens_details", None)
        stats.cached_tokens = getattr(details, "cached_tokens", None) if details else None
    text = ""
    for choice in chunk.choices or ():
        delta = choice.delta
        refusal = getattr(delta, "refusal", None) if delta is not None else None
        if refusal:
            raise LLMError(f"the model refused to reply: {refusal[:200]}", kind="refusal")
        if choice.finish_reason:
            stats.finish_reason = choice.finish_reason
            if choice.finish_reason == "content_filter":
                raise LLMError("the endpoint's content filter stopped the reply", kind="refusal")
        text += (delta.content if delta is not None else None) or ""
        # Reasoning in its own field (vLLM, LM Studio, Ollama, llama.cpp with a reasoning format): counted, never kept.
        thought = (getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None)) if delta else None
        if isinstance(thought, str) and thought:
            stats.reasoning_chars += len(thought)
            stats.receiving = True
    if text:
        stats.receiving = True
    return text


async def _release(stream: Any) -> None:
    """Release the connection, also after a timeout or an error."""
    close = getattr(stream, "close", None)
    if close is None:
        return
    with contextlib.suppress(Exception):  # the connection is gone already; nothing to release
        await close()


async def complete_json(
    client: openai.AsyncOpenAI,
    settings: Settings,
    *,
    model: str,
    messages: list[dict[str, Any]],
    schema_name: str,
    schema: dict[str, Any],
    temperature: float,
    max_tokens: int,
    seconds: float,
) -> tuple[Any, dict[str, int | None]]:
    """One structured-output call within ``seconds``. Returns the parsed JSON and the usage. Raises
    :class:`LLMError`."""
    body: dict[str, Any] = {"model": model, "messages": messages, "temperature": temperature, "max_tokens": max_tokens}
    for attempt in range(2):
        response = await _post_structured(client, settings, body, schema_name, schema, seconds)
        choice = _only_choice(response)
        content, thought = _without_reasoning(choice.message)
        if content.strip() or not thought:
            break
        if attempt == 1:
            raise LLMError(
                f"the model wrote {thought:,} characters of reasoning and no answer, twice (the second time with "
                f"reasoning_effort={LOWER_EFFORT}); raise the token limit, or use a model without reasoning",
                kind="reasoning",
            )
        body = {**body, "reasoning_effort": LOWER_EFFORT}
    usage = response.usage
    usage_info = {
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "completion_tokens": usage.completion_tokens if usage else None,
    }
    try:
        return parse_json(content), usage_info
    except json.JSONDecodeError as exc:
        cut_off = choice.finish_reason == "length"
        hint = " (cut off at the token limit)" if cut_off else ""
        raise LLMError(
            f"the model's answer is not valid JSON{hint}: {exc.msg} at char {exc.pos}",
            kind="cut_off" if cut_off else "invalid",
        ) from None


def _only_choice(response: Any) -> Any:
    if not response.choices:
        raise LLMError("the endpoint returned no choices", kind="protocol")
    choice = response.choices[0]
    if getattr(choice.message, "refusal", None):
        raise LLMError(f"the model refused: {choice.message.refusal[:200]}", kind="refusal")
    if choice.finish_reason == "content_filter":
        raise LLMError("the endpoint's content filter stopped the answer", kind="refusal")
    return choice


def _without_reasoning(message: Any) -> tuple[str, int]:
    """A whole reply's text without its reasoning, and how many characters of reasoning it had (in the
    text, between think tags, or in a ``reasoning_content``/``reasoning`` field, which is dropped)."""
    content, thought = strip_reasoning(message.content or "")
    field_ = getattr(message, "reasoning_content", None) or getattr(message, "reasoning", None)
    return content, thought + (len(field_) if isinstance(field_, str) else 0)


STRUCTURED_MODES = ("json_schema", "json_object", "prompt")
"""How JSON is asked for, in the order tried: a strict schema, ``json_object`` with the schema
(llama-cpp-python), and the schema in the prompt with no ``response_format`` at all."""


async def _post_structured(
    client: openai.AsyncOpenAI,
    settings: Settings,
    body: dict[str, Any],
    schema_name: str,
    schema: dict[str, Any],
    seconds: float,
) -> Any:
    """POST asking for JSON; in ``auto`` mode learn, per endpoint and model, which form is taken.

    A form the server rejects (LM Studio answers ``json_object`` with 400, llama-cpp-python a
    ``json_schema`` with 500, vLLM a schema feature it lacks with 400) is learnt and the next tried."""
    endpoint, model = settings.endpoint, body["model"]
    known = capabilities.get(endpoint, model)
    mode = settings.structured_output if settings.structured_output != "auto" else known.structured or "json_schema"
    while True:
        probing = settings.structured_output == "auto" and known.structured is None
        # While probing, a try goes without retries: a server that rejects a form with a 500
        # (llama-cpp-python) should not be retried, only asked the other way.
        caller = client.with_options(max_retries=0) if probing else client
        try:
            response = await asyncio.wait_for(
                _send(caller, settings, _structured_body(body, mode, schema_name, schema), stream=False), seconds
            )
        except TimeoutError:
            raise LLMError(f"no answer from the model within {seconds:g} s", kind="timeout") from None
        except Exception as exc:
            following = STRUCTURED_MODES.index(mode) + 1
            if probing and _rejects_format(exc) and following < len(STRUCTURED_MODES):
                mode = STRUCTURED_MODES[following]
                continue
            if probing:  # anything else: once more, now with the usual retries
                try:
                    response = await asyncio.wait_for(
                        _send(client, settings, _structured_body(body, mode, schema_name, schema), stream=False),
                        seconds,
                    )
                except TimeoutError:
                    raise LLMError(f"no answer from the model within {seconds:g} s", kind="timeout") from None
                except Exception as again:
                    raise describe(again, settings, model) from None
            else:
                raise describe(exc, settings, model) from None
        if settings.structured_output == "auto":
            capabilities.learn(endpoint, model, structured=mode)
        return response


def _structured_body(body: dict[str, Any], mode: str, schema_name: str, schema: dict[str, Any]) -> dict[str, Any]:
    if mode == "json_object":
        return {**body, "response_format": {"type": "json_object", "schema": schema}}
    if mode == "json_schema":
        format_ = {"name": schema_name, "schema": portable_schema(schema), "strict": True}
        return {**body, "response_format": {"type": "json_schema", "json_schema": format_}}
    ask = (
        "\n\nAnswer with one JSON object and nothing else (no prose, no code fence), matching this JSON schema:\n"
        + json.dumps(portable_schema(schema), separators=(",", ":"))
    )
    messages = list(body["messages"])
    first = messages[0]
    if first["role"] == "system":
        messages[0] = {**first, "content": first["content"] + ask}
    else:
        messages.insert(0, {"role": "system", "content": ask.strip()})
    return {**body, "messages": messages}


def _rejects_format(exc: BaseException) -> bool:
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 422, 500):
        return False
    text = f"{getattr(exc, 'body', '')} {exc}".lower()
    return any(word in text for word in ("json_schema", "json_object", "response_format", "schema"))


def parse_json(text: str) -> Any:
    """The JSON object in a model's answer, repaired where a model commonly breaks it: a code fence,
    prose around the object, trailing commas, raw newlines inside strings. Raises ``JSONDecodeError``."""
    text = _strip_fences(text)
    try:
        # strict=False: small models put raw newlines or tabs inside strings; the meaning is intact.
        return json.loads(text, strict=False)
    except json.JSONDecodeError as exc:
        first_error = exc
    start, end = text.find("{"), text.rfind("}")
    if start != -1 and end > start:
        candidate = text[start : end + 1]
        for attempt in (candidate, re.sub(r",\s*([}\]])", r"\1", candidate)):
            with contextlib.suppress(json.JSONDecodeError):
                return json.loads(attempt, strict=False)
    raise first_error


def _strip_fences(text: str) -> str:
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        if stripped.rstrip().endswith("```"):
            stripped = stripped.rstrip()[:-3]
    return stripped


def strict_schema(model: type) -> dict[str, Any]:
    """A pydantic model's JSON schema in the strict form structured outputs expect: refs inlined,
    every property required, no additional properties. Length bounds stay in (``maxLength``);
    :func:`portable_schema` drops them for endpoints that reject them."""
    schema = model.model_json_schema()  # type: ignore[attr-defined]
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].rsplit("/", 1)[-1]])
            out = {k: resolve(v) for k, v in node.items() if k not in ("title", "default")}
            if out.get("type") == "object" and "properties" in out:
                out["required"] = list(out["properties"])
                out["additionalProperties"] = False
            return out
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def portable_schema(schema: Any) -> Any:
    """The schema without ``maxLength``/``minLength``, which OpenAI's strict mode does not accept."""
    if isinstance(schema, dict):
        return {k: portable_schema(v) for k, v in schema.items() if k not in ("maxLength", "minLength")}
    if isinstance(schema, list):
        return [portable_schema(item) for item in schema]
    return schema
