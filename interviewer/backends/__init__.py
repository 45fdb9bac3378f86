"""LLM backends behind one interface. ``offline`` needs nothing; others arrive as their own modules."""

from interviewer.backends.base import Backend
from interviewer.backends.offline import OfflineBackend

BACKENDS = ("offline",)


def get_backend(name: str | None = None) -> Backend:
    """The backend by name; ``None`` picks automatically (offline until an endpoint is configured)."""
    if name in (None, "auto", "offline"):
        return OfflineBackend()
    raise ValueError(f"unknown backend '{name}'; available: {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "OfflineBackend", "get_backend"]
