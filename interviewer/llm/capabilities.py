"""What one endpoint and model accept, learnt from their answers and remembered between runs.

Servers differ in ways a request cannot ask about: whether reasoning arrives inside ``content``,
whether the chat template takes a system message after the first one, which ``response_format``
works, whether ``stream_options`` and ``max_tokens`` are accepted. The client learns each the first
time it matters (a rejected request is sent again in the form that works) and ``interviewer doctor``
probes them all; what was learnt is kept in ``capabilities.json`` in the data folder, per endpoint
and model, so a new interview starts without probing again.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from interviewer import paths

FILE = "capabilities.json"


@dataclass
class Capabilities:
    think: str | None = None
    """How replies start: ``none`` (no reasoning in content), ``tags`` (``<think>`` opens it),
    ``implicit`` (the reply starts inside reasoning, up to ``</think>``)."""
    roles: str | None = None
    """``any`` (system messages anywhere), ``first`` (only a leading system message), ``none`` (no system role)."""
    structured: str | None = None
    """The ``response_format`` that works: ``json_schema``, ``json_object``, or ``prompt`` (JSON asked for in words)."""
    token_limit: str | None = None
    """``max_tokens`` or ``max_completion_tokens``."""
    stream_usage: bool | None = None
    """Whether ``stream_options`` is accepted (False: it is left out, and usage is counted locally)."""
    context: int | None = None
    """The model's context window in tokens, where the server says (Ollama's ``/api/show``)."""


_known: dict[str, Capabilities] | None = None
_loaded_from: Path | None = None


def _path() -> Path:
    return paths.data_dir() / FILE


def _key(endpoint: str | None, model: str) -> str:
    return f"{endpoint or 'https://api.openai.com/v1'} {model}"


def _all() -> dict[str, Capabilities]:
    global _known, _loaded_from
    path = _path()
    if _known is None or _loaded_from != path:
        _known, _loaded_from = {}, path
        with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
            names = {f.name for f in fields(Capabilities)}
            for key, value in json.loads(path.read_text(encoding="utf-8")).items():
                _known[key] = Capabilities(**{k: v for k, v in value.items() if k in names})
    return _known


def get(endpoint: str | None, model: str) -> Capabilities:
    """What is known about this endpoint and model (a live object: later learning shows in it)."""
    return _all().setdefault(_key(endpoint, model), Capabilities())


def learn(endpoint: str | None, model: str, **found: Any) -> None:
    """Remember what was found (values that are None are left as they were); stored at once."""
    known = get(endpoint, model)
    changed = False
    for name, value in found.items():
        if value is not None and getattr(known, name) != value:
            setattr(known, name, value)
            changed = True
    if changed:
        save()


def forget(endpoint: str | None, model: str) -> None:
    """Drop what is known (``interviewer doctor`` probes afresh)."""
    _all()[_key(endpoint, model)] = Capabilities()
    save()


def save() -> None:
    """Write the file; a folder that cannot be written only means probing again next time."""
    path = _path()
    data = {key: {k: v for k, v in asdict(value).items() if v is not None} for key, value in _all().items()}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{FILE}.{os.getpid()}")
        partial.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        partial.replace(path)
