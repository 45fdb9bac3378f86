"""The base of every screen: ``self.app`` is typed as this app, so ``self.app.context`` type-checks."""

from __future__ import annotations

from textual import getters
from textual.screen import Screen

from tui.app import InterviewerApp


class AppScreen(Screen[None]):
    app = getters.app(InterviewerApp)
