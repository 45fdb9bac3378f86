"""What in a candidate's turn an interviewer would pick up: a figure they committed to, a choice they
made, a trade-off they named, in their own words.

A good interviewer asks "why 50 ms?" or "why a two-tower model?" rather than "go on". These are found
by the shape of the sentence (a number with a unit; "I'd use ..."; "... rather than ..."), never by
the problem's vocabulary, so they work on any problem and any candidate's wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from interviewer.text import is_question, normalized, sentences

_UNIT = (
    r"(?:ms|milliseconds?|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|%|percent|"
    r"qps|rps|tps|requests?(?: (?:per|a) second)?|k|m|b|million|billion|thousand|gb|tb|mb|pb|"
    r"x|times|users?|items?|events?|examples?|rows?|features?|dimensions?|layers?|gpus?|cpus?|nodes?)"
)
_FIGURE = re.compile(
    r"(?<![\w.])(?:p\d{2}(?:\.\d)?\s+(?:of\s+|under\s+|below\s+)?)?(?:~|about\s+|around\s+|under\s+|below\s+)?"
    r"(?:\d[\d,]*(?:\.\d+)?\s?" + _UNIT + r"|\d{1,2}/\d{1,2}(?:/\d{1,2})? split)(?![\w])",
    re.IGNORECASE,
)
_CHOICE = re.compile(
    r"\b(?:i'?d|i would|i will|i'?ll|we'?d|we would|we'?ll|let'?s|my choice is to|i'?m going to)\s+"
    r"(?:probably\s+|first\s+|just\s+|still\s+)?"
    r"(?:use|go with|pick|choose|start with|train|build|deploy|serve|add|rely on|opt for|prefer)\s+"
    r"(?P<what>[^,.;:!?()]{3,60}?)"
    r"(?=\s+(?:because|since|so that|so|to|for|as|which|that|and then|with|on|in|over|rather|instead)\b|[,.;:!?(]|$)",
    re.IGNORECASE,
)
_TRADE_OFF = re.compile(
    r"(?P<a>\b[\w-]+(?:\s+[\w-]+){0,3})\s+(?P<link>versus|vs\.?|rather than|instead of)\s+"
    r"(?P<b>[\w-]+(?:\s+[\w-]+){0,3})",
    re.IGNORECASE,
)
_WEAK_START = re.compile(r"^(?:a|an|the|some|this|that|it|them|one|something|what|more|less)\b\s*", re.IGNORECASE)
_CLAUSE_END = re.compile(
    r"\s+(?:is|are|was|keeps?|gives?|makes?|costs?|means?|will|would|can|could|should|because|since|so|to|"
    r"for|and|but|which|that|if|when)\b",
    re.IGNORECASE,
)
_FILLER = frozenset({"it", "this", "that", "them", "something", "things", "stuff", "one", "those", "these"})


@dataclass(frozen=True, slots=True)
class Hook:
    kind: str
    """"figure", "trade_off" or "choice"."""
    phrase: str
    """The candidate's own words, as they said them."""

    @property
    def key(self) -> str:
        return normalized(self.phrase)


def hooks_in(text: str) -> list[Hook]:
    """The things worth a follow-up in one turn, most pointed first: figures, then trade-offs, then choices."""
    found: list[Hook] = []
    for sentence in sentences(text):
        if is_question(sentence.text):
            continue
        found += [Hook("figure", m.group(0).strip()) for m in _FIGURE.finditer(sentence.text)]
        found += [h for m in _TRADE_OFF.finditer(sentence.text) if (h := _trade_off(m)) is not None]
        found += [h for m in _CHOICE.finditer(sentence.text) if (h := _choice(m.group("what"))) is not None]
    order = {"figure": 0, "trade_off": 1, "choice": 2}
    unique: dict[str, Hook] = {}
    for hook in found:
        unique.setdefault(hook.key, hook)
    return sorted(unique.values(), key=lambda hook: order[hook.kind])  # stable: first said, first asked


def _choice(what: str) -> Hook | None:
    words = what.split()
    if not 1 <= len(words) <= 8 or words[0].lower() in _FILLER:
        return None
    return Hook("choice", what.strip())


def _trade_off(match: re.Match[str]) -> Hook | None:
    a = _WEAK_START.sub("", match.group("a")).strip()
    b = _CLAUSE_END.split(match.group("b"))[0].strip()
    if not a or not b or a.lower() in _FILLER or b.split()[0].lower() in _FILLER:
        return None
    return Hook("trade_off", f"{a} {match.group('link').lower()} {b}")
