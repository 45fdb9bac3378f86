"""The model's context window, where the server can say it, and what an interview needs of it.

OpenAI-compatible ``/v1`` endpoints do not report the context window. Two local servers do, on their
own paths: Ollama's ``/api/show`` (a ``num_ctx`` set in the model's Modelfile, else Ollama's default,
which a ``/v1`` request cannot raise and beyond which Ollama silently drops the start of the prompt)
and llama.cpp's ``/props`` (the ``n_ctx`` the server was started with). What was found is remembered
with the endpoint's other capabilities (0: the server does not say), so it is asked once.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from typing import Any

from interviewer.config import Settings
from interviewer.llm import capabilities

OLLAMA_DEFAULT_CONTEXT = 4_096
"""Ollama's ``num_ctx`` where the model's Modelfile sets none (2,048 before Ollama 0.6)."""
PROBE_SECONDS = 3.0
"""How long asking the server may take; it is asked once per endpoint and model."""
TOKENS_PER_MINUTE = 150
"""Conversation tokens an interview adds per minute, both sides with the director's notes: 100-120 on
the scripted candidates' 45-minute interviews (with the offline voice's replies); a model's replies
run longer."""
UNKNOWN = 0
"""Stored when the server does not say."""
HOW_TO_RAISE = "Ollama: PARAMETER num_ctx in the model's Modelfile; llama.cpp: --ctx-size"
"""Where a larger window is set, for every message that asks for one."""


def window(settings: Settings, model: str, configured: int | None = None) -> int:
    """The prompt tokens this model takes: the setting (``configured``, else ``context_window``), or less
    where the server says so."""
    configured = configured or settings.context_window
    found = capabilities.get(settings.endpoint, model).context
    return min(configured, found) if found else configured


def learn_window(settings: Settings, model: str) -> int | None:
    """Ask the server once (blocking, a few seconds at most); the window it reports, if it does."""
    known = capabilities.get(settings.endpoint, model).context
    if known is None:
        known = server_window(settings, model) or UNKNOWN
        capabilities.learn(settings.endpoint, model, context=known)
    return known or None


def server_window(settings: Settings, model: str) -> int | None:
    """The context window the server reports for ``model``: Ollama's, then llama.cpp's; None if neither."""
    root = _root(settings.endpoint)
    if root is None:
        return None
    shown = _ask(settings, f"{root}/api/show", {"model": model})
    if isinstance(shown, dict) and ("model_info" in shown or "parameters" in shown):
        return _ollama_window(shown)
    props = _ask(settings, f"{root}/props")
    if isinstance(props, dict):
        n_ctx = (props.get("default_generation_settings") or {}).get("n_ctx") or props.get("n_ctx")
        if isinstance(n_ctx, int) and n_ctx > 0:
            return n_ctx
    return None


def needed(budget_minutes: float, prefix_tokens: int, reply_tokens: int) -> int:
    """Tokens a whole interview of this length takes at its last reply."""
    return prefix_tokens + int(budget_minutes * TOKENS_PER_MINUTE) + reply_tokens


def _ollama_window(shown: dict[str, Any]) -> int:
    for line in str(shown.get("parameters") or "").splitlines():
        name, _, value = line.strip().partition(" ")
        if name == "num_ctx" and value.strip().isdigit():
            return int(value.strip())
    trained = next(
        (v for k, v in (shown.get("model_info") or {}).items() if k.endswith(".context_length") and isinstance(v, int)),
        None,
    )
    return min(trained, OLLAMA_DEFAULT_CONTEXT) if trained else OLLAMA_DEFAULT_CONTEXT


def _root(endpoint: str | None) -> str | None:
    """The server's own root (its OpenAI-compatible API sits under ``/v1``); None for OpenAI itself."""
    if not endpoint:
        return None
    root = endpoint.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def _ask(settings: Settings, url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if settings.api_key is not None:
        headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    with (
        contextlib.suppress(OSError, ValueError, urllib.error.URLError),
        urllib.request.urlopen(request, timeout=PROBE_SECONDS) as response,
    ):
        return json.loads(response.read(1_000_000))
    return None
