"""What the screens need from the engine, in one object that tests can build with fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from interviewer.backends import Backend
from interviewer.config import Settings, load_settings
from interviewer.content import ContentLibrary
from interviewer.engine.clock import Clock, WallClock
from storage import Repository


@dataclass
class AppContext:
    repo: Repository
    library: ContentLibrary
    backend_factory: Callable[[], Backend]
    clock_factory: Callable[[], Clock] = WallClock
    live: bool = True
    """Tick the clock and animate replays; off for snapshot tests, which need still frames."""
    settings: Settings = field(default_factory=load_settings)
    _backend: Backend | None = field(default=None, repr=False)

    @property
    def rubric_id(self) -> str:
        return self.settings.rubric

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = self.backend_factory()
        return self._backend

    def reload_library(self) -> ContentLibrary:
        self.library = ContentLibrary()
        return self.library

    @classmethod
    def from_settings(cls, backend: str | None = None, model: str | None = None, grader_model: str | None = None):
        from interviewer.backends import get_backend
        from interviewer.services import open_repository

        settings = load_settings(backend=backend, model=model, grader_model=grader_model)
        return cls(
            repo=open_repository(),
            library=ContentLibrary(),
            backend_factory=lambda: get_backend(settings.chosen_backend, settings),
            settings=settings,
        )
