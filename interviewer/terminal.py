"""Text as it may reach a terminal: the one sanitiser for everything the app shows.

Whatever is shown comes from somewhere the app does not control: the model's replies, an LLM server's
error text, a content file, a stored interview. Any of them can hold escape sequences that a terminal
obeys (OSC 52 writes the clipboard, OSC 8 hides a link, CSI 2J clears the screen, OSC 0 retitles the
window). :func:`display_safe` removes every escape sequence whole and makes any other control character
visible, so nothing shown can move the cursor, recolour, retitle or write to the clipboard. The CLI runs
all of its output through it (:class:`SafeStream`); the TUI through its own helpers in ``tui.safe``,
which also keep the text from being read as markup. Stored text and JSON keep every character.
"""

from __future__ import annotations

import json
import re
from typing import Any, TextIO

_STRING_BODY = r"[^\x07\x1b\x9c]{0,4096}"
"""An OSC/DCS/APC/PM/SOS string's body, bounded so a run of openers without terminators stays linear."""

_SEQUENCE = re.compile(
    "|".join(
        (
            # Control strings: OSC (ESC ]), DCS (ESC P), SOS (ESC X), PM (ESC ^), APC (ESC _), in their
            # 7-bit and 8-bit forms, ended by BEL, ST (ESC \) or the 8-bit ST.
            rf"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]){_STRING_BODY}(?:\x07|\x1b\\|\x9c)",
            # CSI (ESC [ or the 8-bit 0x9B): parameters, intermediates, one final byte.
            r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]",
            # Any other escape: intermediates, then a final byte (ESC c resets, ESC ( B picks a charset);
            # not the openers above, so an unfinished one is shown rather than taking the next character.
            r"\x1b[ -/]*[0-OQ-WYZ\\`-~]",
        )
    )
)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""What is left after the sequences: C0 but newline and tab, DEL, C1, and bidirectional overrides."""


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control pictures": ␛ for ESC, ␀ for NUL, ␍ for CR
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def display_safe(text: str) -> str:
    """``text`` as it may be shown on a terminal or in a document opened in a pager.

    Escape sequences are removed whole; any other control character (a lone ESC, NUL, a carriage return,
    a backspace, a C1 control) and bidirectional overrides become visible symbols, so what is shown is
    what is stored, minus anything a terminal would obey. Newlines and tabs stay. Idempotent.
    """
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_visible, _SEQUENCE.sub("", text))


_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]")


def json_text(data: Any, *, indent: int | None = None) -> str:
    """``data`` as JSON that is safe on a terminal and still decodes to exactly ``data``.

    ``json.dumps`` escapes C0 controls but not DEL, C1 controls or bidirectional overrides; those become
    ``\\uXXXX`` escapes too (they can only occur inside strings, where the escape means the same).
    """
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


class SafeStream:
    """A text stream that passes everything written to it through :func:`display_safe`.

    The CLI puts its stdout and stderr behind one, so no message (a server's error text, a content
    file's field, a stored turn) reaches the terminal with its escape sequences, whichever code prints it.
    """

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(display_safe(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
