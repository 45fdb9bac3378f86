"""Showing text the app does not control (model replies, server errors, content files, the database).

Every such string reaches the screen through these helpers: :func:`plain` for text, :func:`markdown` for
an interviewer's reply. Both pass it through the engine's terminal sanitiser (no escape sequence reaches
the terminal) and hand Textual a Rich object, which is never read as markup. Notifications and titles
are sanitised once, in the app (``InterviewerApp.notify`` and ``format_title``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from interviewer.terminal import display_safe

if TYPE_CHECKING:
    from rich.markdown import Markdown

__all__ = ["display_safe", "markdown", "plain"]


def plain(text: str, style: str = "") -> Text:
    """``text`` shown as it is: no markup, no escape sequences."""
    return Text(display_safe(text), style=style)


def markdown(text: str) -> Markdown:
    """An interviewer's reply as Markdown: no escape sequences, and links shown with their address
    rather than hidden behind a clickable label."""
    from rich.markdown import Markdown  # its parser is not needed until a reply is shown (not on the home screen)

    return Markdown(display_safe(text) or " ", hyperlinks=False)
