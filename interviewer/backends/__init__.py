"""LLM backends behind one interface: ``offline`` (no LLM) and ``openai`` (any compatible endpoint)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from interviewer.backends.offline import OfflineBackend
from interviewer.engine.backend import Backend

if TYPE_CHECKING:
    from interviewer.config import Settings

BACKENDS = ("auto", "offline", "openai")


def get_backend(name: str | None = None, settings: Settings | None = None) -> Backend:
    """The backend by name, or by the settings: ``auto`` is ``openai`` when an endpoint is configured."""
    if settings is None:
        from interviewer.config import load_settings

        settings = load_settings(backend=name if name in BACKENDS else None)
    chosen = settings.chosen_backend if name in (None, "auto") else name
    if chosen == "offline":
        return OfflineBackend(settings)
    if chosen == "openai":
        from interviewer.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(settings)
    raise ValueError(f"unknown backend '{name}'; available: {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "OfflineBackend", "get_backend"]
