"""Patterns that read intent from a message: attempts on the interviewer's hidden spec, requests to end,
stated assumptions."""

from __future__ import annotations

import re

_SECRET_NOUNS = (
    r"(?:system prompt|(?:your|the interviewer'?s?) (?:prompt|instructions?|notes|brief(?:ing)?|guidelines|rules)|"
    r"hidden\b|secret\b|(?:full|whole|entire|complete|hidden|problem|interview|internal|original) spec(?:ification)?s?\b|"
    r"rubric|reference (?:points?|answers?)|answer key|(?:grading|scoring|evaluation) (?:criteria|guide|notes|scheme|rules)|"
    r"all (?:the |of the |your )?(?:facts|details|answers|information|info)\b|every (?:fact|detail)\b|"
    r"(?:ideal|model|expected|perfect|reference) (?:answer|solution|design)s?)"
)

_INJECTION = [
    re.compile(p, re.IGNORECASE | re.DOTALL)
    for p in (
        r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,30}\b(?:your|all|any|previous|prior|above|earlier|"
        r"system|initial|original|these|those)\b.{0,20}\b(?:instructions?|rules|prompts?|guidelines|directives|"
        r"programming|persona)\b",
        r"\b(?:show|print|reveal|display|output|repeat|dump|leak|list|give|send|paste|read|recite|share|tell|"
        r"spell|write|expose|disclose|copy|translate|encode|what(?:'s| is| are))\b.{0,60}\b" + _SECRET_NOUNS,
        r"\b(?:you are now|you will now|from now on,? you|pretend (?:to be|you are|you're)|(?:please|you should|now),? act as|"
        r"let'?s (?:roleplay|role-play|role play)|(?:roleplay|role-play|role play) as|developer mode|jailbreak mode|"
        r"you are jailbroken|jailbreak yourself|admin mode|debug mode|maintenance mode)\b",
        r"\b(?:interview|session|test|exam) (?:is|has|was) (?:over|ended|finished|done)\b.{0,80}\b(?:show|give|"
        r"tell|reveal|print|share|what)\b",
        r"\b(?:base64|rot13|rot-13|hex(?:adecimal)?|morse|reversed?|backwards|pig latin|caesar)\b.{0,60}"
        r"\b(?:prompt|instructions?|spec|rubric|facts|answers?|notes|hidden)",
        r"\bhow (?:will|would|do|are) (?:i|you|we) (?:be )?(?:grade|graded|score|scored|evaluat|judg)",
        r"<\|?(?:system|im_start|im_end)\|?>|\[/?(?:inst|system)\]|###\s*(?:system|instruction)",
    )
]

END_REQUEST = re.compile(
    r"\b(?:let'?s (?:end|stop|finish|wrap(?: it)? up|call it)|(?:i'?m|i am|we'?re|we are) (?:done|finished)|"
    r"end (?:the|this) (?:interview|session)|(?:i'?d like|i want|i would like) to (?:end|stop|finish)|"
    r"that'?s all (?:i have|from me)|no more (?:to add|from me))\b",
    re.IGNORECASE,
)

ASSUMPTION = re.compile(
    r"\b(?:assum\w*|let'?s say|suppose|i'?ll take it that|presumably|my guess is|i'?d guess)\b", re.IGNORECASE
)


def looks_like_injection(text: str) -> bool:
    return any(pattern.search(text) for pattern in _INJECTION)


STUCK = re.compile(
    r"\b(?:i'?m (?:stuck|lost|blanking)|i am (?:stuck|lost)|(?:i'?m |i am )?not sure(?:\W*$| (?:where|what|how|"
    r"about (?:this|that|any of)|i (?:know|can)))|"
    r"no idea|(?:i )?(?:don'?t|do not) know (?:where|what|how)|(?:i )?(?:don'?t|do not) know\W*$|dunno|"
    r"(?:my )?mind (?:is|went|has gone) blank|(?:can'?t|cannot) think of|where (?:should|do|would) i (?:start|begin|go)|"
    r"what should i (?:do|say|talk about|focus on|cover)|any (?:hints?|pointers|tips)|(?:could|can) you (?:give me )?"
    r"(?:a )?(?:hint|nudge)|help me (?:out|here)|never (?:built|done|worked on) (?:one|this|anything like))",
    re.IGNORECASE,
)
STUCK_WORDS_AT_MOST = 25
"""A long turn that says "not sure" somewhere is weighing a choice, not stuck."""


def sounds_stuck(text: str) -> bool:
    """The candidate says they do not know how to go on (short turns only)."""
    return len(text.split()) <= STUCK_WORDS_AT_MOST and bool(STUCK.search(text))
