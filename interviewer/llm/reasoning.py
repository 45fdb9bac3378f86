"""Reasoning a model writes before its reply, kept out of everything the reply reaches.

Reasoning models put their thinking in one of two places: separate fields of the message or delta
(``reasoning_content`` or ``reasoning``; the client reads ``content`` only, so those never get in),
or inside ``content`` between ``<think>`` and ``</think>`` (llama.cpp without a reasoning format,
Ollama for some models). In ``content`` a tag can be missing: templates that open the think block
in the prompt (DeepSeek-R1's) make the reply *start* inside it, with no opening tag; a reply cut off
at the token limit never closes it. :class:`ReasoningFilter` is a small state machine over the
streamed text that copes with both, and with a tag split across chunks.

How a model's replies start (``tags``) is learnt from its first reply and remembered:

- ``None`` (not known yet): text is held back until a tag decides it or the reply ends;
- ``"none"``/``"tags"``: the reply starts as visible text, a leading ``<think>`` opens reasoning;
- ``"implicit"``: the reply starts inside reasoning, up to the first ``</think>``.
"""

from __future__ import annotations

import re

OPEN_TAGS = ("<think>", "<thinking>", "<reasoning>")
CLOSE_TAGS = ("</think>", "</thinking>", "</reasoning>")
_TAGS = OPEN_TAGS + CLOSE_TAGS
_ANY_TAG = re.compile("|".join(re.escape(tag) for tag in _TAGS), re.IGNORECASE)

HOLD, START, OUTSIDE, INSIDE = "hold", "start", "outside", "inside"


class ReasoningFilter:
    """Feed the reply's text piece by piece; get back only what the candidate may see."""

    def __init__(self, tags: str | None = None):
        self.state = INSIDE if tags == "implicit" else START if tags in ("none", "tags") else HOLD
        self.held = ""
        """Text not yet decided: a possible partial tag, or everything while the state is ``hold``."""
        self.reasoning_chars = 0
        self.saw_open = False
        self.saw_close = False
        self.leaked = False
        """Visible text had already been given out when a closing tag showed it was reasoning."""
        self._given = 0

    def feed(self, text: str) -> str:
        self.held += text
        out: list[str] = []
        while match := _ANY_TAG.search(self.held):
            before, tag, self.held = self.held[: match.start()], match.group().lower(), self.held[match.end() :]
            if tag in CLOSE_TAGS:
                out.append(self._close(before))
            else:
                out.append(self._open(before))
        if self.state != HOLD:
            keep = _partial_tag_length(self.held)  # a tag may be split across chunks
            ready, self.held = self.held[: len(self.held) - keep], self.held[len(self.held) - keep :]
            out.append(self._visible(ready))
        return "".join(out)

    def finish(self) -> str:
        """The rest, at the end of the reply. Reasoning never closed stays hidden."""
        rest, self.held = self.held, ""
        if self.state == HOLD:
            self.state = START
        return self._visible(rest)

    @property
    def learnt(self) -> str | None:
        """How this model's replies start, as far as this reply tells."""
        if self.saw_close and not self.saw_open:
            return "implicit"
        if self.saw_open:
            return "tags"
        return "none" if self.state in (START, OUTSIDE) else None

    def _open(self, before: str) -> str:
        shown = self._visible(before)
        if self.state in (HOLD, START):
            self.saw_open = True
            self.state = INSIDE
        # An opening tag in the middle of visible text is left out, not obeyed.
        return shown

    def _close(self, before: str) -> str:
        self.saw_close = True
        if self.state == INSIDE:
            self.reasoning_chars += len(before.strip())
        else:
            # A closing tag without an opening one: everything before it was reasoning.
            self.reasoning_chars += len(before.strip()) + self._given
            self.leaked = self._given > 0
        self.state = START
        return ""

    def _visible(self, text: str) -> str:
        if not text:
            return ""
        if self.state == INSIDE:
            self.reasoning_chars += len(text.strip())
            return ""
        if self.state == HOLD:
            self.state = START
        if self.state == START:
            if not text.strip():
                return ""  # whitespace before a possible opening tag, or between reasoning and reply
            self.state = OUTSIDE
            text = text.lstrip()
        self._given += len(text)
        return text


def _partial_tag_length(text: str) -> int:
    """How many characters at the end of ``text`` could begin a tag."""
    lowered = text[-12:].lower()
    for size in range(min(len(lowered), 12), 0, -1):
        tail = lowered[-size:]
        if any(tag.startswith(tail) for tag in _TAGS):
            return size
    return 0


def strip_reasoning(text: str) -> tuple[str, int]:
    """A whole reply without its reasoning, and how many characters of reasoning there were."""
    stream = ReasoningFilter()
    visible = stream.feed(text) + stream.finish()
    return visible, stream.reasoning_chars
