"""What the screens need from the engine, in one object that tests can build with fakes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from interviewer.engine.clock import Clock, WallClock

if TYPE_CHECKING:
    from interviewer.backends import Backend
    from interviewer.config import Settings
    from interviewer.content import ContentLibrary
    from storage import Repository


def _settings() -> Settings:
    from interviewer.config import load_settings

    return load_settings()


@dataclass
class AppContext:
    repo: Repository
    library: ContentLibrary
    backend_factory: Callable[[], Backend]
    clock_factory: Callable[[], Clock] = WallClock
    live: bool = True
    """Tick the clock and animate replays; off for snapshot tests, which need still frames."""
    settings: Settings = field(default_factory=_settings)
    _backend: Backend | None = field(default=None, repr=False)
    _backend_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    """The backend is built once, whether by the start-up worker thread or by a screen that needs it first."""

    @property
    def rubric_id(self) -> str:
        return self.settings.rubric

    @property
    def backend(self) -> Backend:
        with self._backend_lock:
            if self._backend is None:
                self._backend = self.backend_factory()
            return self._backend

    def warm_up(self) -> str:
        """Build the backend and load what its first reply needs (its LLM client library, the tokenizer);
        blocking, so the app runs it on a worker thread once the first screen is drawn. Returns the
        engine's name for the UI."""
        backend = self.backend
        backend.prepare()
        return backend.label

    def reload_library(self) -> ContentLibrary:
        from interviewer.content import ContentLibrary

        self.library = ContentLibrary()
        return self.library

    @classmethod
    def from_settings(cls, backend: str | None = None, model: str | None = None, grader_model: str | None = None):
        from interviewer.config import load_settings
        from interviewer.content import ContentLibrary
        from interviewer.services import open_repository

        settings = load_settings(backend=backend, model=model, grader_model=grader_model)

        def make_backend() -> Backend:
            from interviewer.backends import get_backend  # the engine's imports, off the first screen's path

            return get_backend(settings.chosen_backend, settings)

        return cls(repo=open_repository(), library=ContentLibrary(), backend_factory=make_backend, settings=settings)
