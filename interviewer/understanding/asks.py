"""What a message asks: its questions, one per thing asked, with the preamble taken off.

"Before I design anything, can I ask a few questions? Who are the users, and how many are there?" asks
two things; its first sentence asks permission, not information. A statement ("I'll assume a few years
of logs") asks nothing. A list inside a message ("1. latency? 2. which devices?") asks each item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from interviewer.text import is_question, sentences, words
from interviewer.understanding.lexicon import split_questions


@dataclass(frozen=True, slots=True)
class Ask:
    text: str
    """The question as matched: one clause of one sentence."""
    sentence: str
    """The whole sentence it came from, as written."""


# Asking leave to ask, or announcing questions: no information is requested by these alone.
_PERMISSION = re.compile(
    r"^(?:(?:ok(?:ay)?|so|right|great|thanks|hi|hey|alright)[,!.]?\s+)*"
    r"(?:before (?:i|we) (?:\w+\s+){0,4}?(?:anything|start|begin|dive in|jump in|get going|design)\w*[,.]?\s*)?"
    r"(?:(?:can|could|may|might|mind if|do you mind if|is it ok(?:ay)? if) (?:i|we) "
    r"(?:ask|check|clarify|confirm|run through|go through|get)\b|(?:i'?d|i would|let me|i want to|i'll|i will) "
    r"(?:like to )?(?:ask|check|clarify|confirm|start with)\b|(?:a )?(?:few|couple(?: of)?|some|quick|one or two) "
    r"(?:more )?(?:questions?|things|clarifications|details)\b)",
    re.IGNORECASE,
)
_CONTENT_AFTER_PERMISSION = re.compile(
    r"\b(?:ask|check|clarify|confirm)\s+(?:you\s+)?(?:about\s+)?(?=(?:what|how|who|which|when|where|why|whether|if)\b)",
    re.IGNORECASE,
)
_ONLY_ANNOUNCES = re.compile(
    r"^(?:[\w',]+\s+){0,12}?(?:questions?|things|clarifications|details|stuff)"
    r"(?:\s+(?:first|before\s+(?:(?:i|we)\s+)?\w+(?:\s+anything)?|quickly|to start|up front|about (?:this|it|the problem)))?"
    r"\s*[?.!:]*$",
    re.IGNORECASE,
)
_ENUMERATED = re.compile(
    r"(?:^|\s)(?:\(?\d+[.)]|[-*•–]|one,|two,|three,|four,|first(?:ly)?,|second(?:ly)?,|third(?:ly)?,|also,)\s+",
    re.IGNORECASE,
)
_EMBEDDED_QUESTION = re.compile(
    r"[,;]\s+(?:and\s+|but\s+|so\s+)?(?:(?:does|do|did|is|are|can|could|will|would|should|has|have)"
    r"\s+(?:we|you|they|it|i|the|this|that|there|our|your|any)\b|(?:what's|what is|what are|what do|what does)\s)",
    re.IGNORECASE,
)
_LIST_AFTER_COLON = re.compile(r"^(?P<lead>[^:]{3,80}):\s+(?P<items>.+)$", re.DOTALL)
_AND_THEN_ASKS = re.compile(r"^\s*(?:and|or)\s+|\s+and\s+(?=(?:whether|how|which|what|if)\b)", re.IGNORECASE)
_REQUEST = re.compile(
    r"\b(?:i'?d (?:like|love) to (?:know|understand|hear)|i want to (?:know|understand)|curious (?:about|whether|if|how)|"
    r"wondering (?:about|whether|if|how|what)|need to (?:know|understand)|tell me (?:about|how|what|whether)|"
    r"walk me through|can you (?:share|tell|say|describe)|could you (?:share|tell|say|describe)|"
    r"(?:things|questions|stuff) i'?d (?:like|want) to (?:know|ask|check)|wanna know|keen to (?:know|understand))\b",
    re.IGNORECASE,
)
# Asking by saying what would help: "It'd help to know...", "Not sure whether...", "Some idea of the team size
# would be useful", "Curious what happens when...". Ways of asking in English, not words of any problem.
_INDIRECT = re.compile(
    r"\b(?:help(?:s|ful)?|useful|good|great|nice|handy|valuable)\s+(?:for me\s+|me\s+)?to\s+(?:know|hear|learn|"
    r"understand|get a (?:sense|feel|picture)|confirm|check|find out)\b|"
    r"^(?:knowing|understanding|(?:a|some)\s+(?:sense|idea|feel|ballpark|picture|rough (?:idea|number|figure)))\b"
    r".*\b(?:would|'d)\s+(?:really\s+)?(?:help|be (?:useful|helpful|good|great|nice|handy|valuable))\b|"
    r"\b(?:curious|wondering|interested|keen|hoping)\b(?:\s+\w+){0,2}?\s+(?:about|in|on|whether|if|how|what|which|"
    r"who|when|where|why|to (?:know|hear|learn|understand|see))\b|"
    # "Not sure whether we get issuer reports" asks; "not sure where to go from here" is the candidate stuck.
    r"\b(?:not|un)\s*(?:sure|clear)\b(?:\s+(?:on|about))?\s+(?:whether|if|how|what|which|who|when|where)\b"
    r"(?!\s+(?:else|to)\b)|"
    r"\bi(?:'d|'m| would| am)?\s+(?:\w+\s+){0,2}?(?:want|like|love|need|hope|hoping|trying|keen)\s+to\s+(?:know|hear|"
    r"learn|understand|check|confirm|figure out|work out|find out|get a (?:sense|feel|handle|picture))\b|"
    r"\b(?:appreciate|love|like)\s+(?:a|an|some|any)\s+(?:sense|idea|feel|ballpark|estimate|rough)\b|"
    r"\bit\s+(?:might|may|would|could)\s+(?:really\s+)?matter\b.*\b(?:whether|if|how|what)\b|"
    r"^(?:kind of|sort of|kinda|also|just|really)\s+(?:want|need|like)\s+to\s+(?:know|hear|understand)\b|"
    r"\bwould (?:love|like) to (?:know|hear|learn|understand)\b|\btrying to get at\b|\bwould help me\b",
    re.IGNORECASE,
)


# Words of a preamble ("quick q before I start", "a couple of things first"): a part made of these alone
# asks nothing, whatever it sits next to.
_PREAMBLE_WORDS = frozenset(
    words(
        "quick q qs question questions before i we start begin dive jump in get going a few couple of some "
        "things thing first can could may ask one or two more so ok okay just real really"
    )
)


_ASKING_WORDS = frozenset(
    words("is are do does did can could will would should what how which who when where why any have has")
)


def _only_announces(part: str) -> bool:
    """ "A couple of questions first": announces questions, asks none ("is there any legal stuff" does ask)."""
    first = words(part)[:1]
    if not _ONLY_ANNOUNCES.match(part):
        return False
    return bool(_PERMISSION.match(part)) or not (first and first[0] in _ASKING_WORDS)


def _only_preamble(part: str) -> bool:
    return not is_question(part) and set(words(part)) <= _PREAMBLE_WORDS


def asks_in(message: str) -> list[Ask]:
    """The questions the message asks, in order; none for a statement or a bare preamble."""
    out: list[Ask] = []
    announced = False
    for sentence in sentences(message):
        text = sentence.text.strip()
        # "Can I ask a few things? 1) the subscribers, 2) the catalogue": after an announcement, a list asks.
        listed = (announced or bool(_PERMISSION.match(text))) and _enumerates(text)
        announced = announced or bool(_PERMISSION.match(text)) or _only_announces(text)
        if not (listed or _asks_something(text)):
            continue
        body = _without_permission(text)
        if body is None:
            continue
        for item in _items(body):
            for part in split_questions(item):
                part = part.strip(" ,;:-–")
                if any(ch.isalpha() for ch in part) and not _only_announces(part) and not _only_preamble(part):
                    out.append(Ask(part, text))
    return out or _terse(message)


def _enumerates(sentence: str) -> bool:
    return len([p for p in _ENUMERATED.split(sentence) if p and p.strip(" ,;:")]) > 1


TERSE_WORDS = 7
"""A whole message this short, without a full stop, is asked in chat shorthand ("peak QPS", "labels from where")."""
_NOT_TERSE = re.compile(
    r"^(?:ok(?:ay)?|k|sure|yes|yeah|yep|no|nope|right|thanks?|thank you|cheers|got it|makes sense|sounds good|cool|"
    r"great|nice|perfect|understood|noted|fair|agreed|i see|ah|hmm+|done|next|go on|continue|moving on|let'?s|"
    r"i|i'm|i'll|i'd|we|we'll|we'd|my|our|so|then|now|that|this|it|yes|hello|hi|hey)\b",
    re.IGNORECASE,
)


def _terse(message: str) -> list[Ask]:
    """A short fragment as the whole message asks what it names; an acknowledgement or a plan does not."""
    text = message.strip()
    if not text or text[-1] in ".!" or not 1 <= len(words(text)) <= TERSE_WORDS or _NOT_TERSE.match(text):
        return []
    return [Ask(text, text)]


def _asks_something(sentence: str) -> bool:
    return is_question(sentence) or any(
        pattern.search(sentence) for pattern in (_REQUEST, _INDIRECT, _EMBEDDED_QUESTION)
    )


def _without_permission(sentence: str) -> str | None:
    """The sentence without a leading "can I ask"; None when that is all it says."""
    if not _PERMISSION.match(sentence):
        return sentence
    content = _CONTENT_AFTER_PERMISSION.search(sentence)
    if content is not None:
        rest = sentence[content.end() :].strip()
        return rest if len(rest.split()) >= 2 else None
    if _only_announces(sentence) or len(sentence.split()) <= 6:
        return None
    # "Could I check the latency budget?": a permission form that does name what it wants.
    return sentence


def _items(sentence: str) -> list[str]:
    """A list inside one sentence asks each item: "1) the scale 2) the latency", or "I'd like to know: the
    latency, which devices, and whether we can precompute"."""
    pieces = [p for p in _ENUMERATED.split(sentence) if p and p.strip(" ,;:")]
    if len(pieces) > 1 or (pieces and pieces[0] != sentence):
        return pieces
    listed = _LIST_AFTER_COLON.match(sentence)
    if listed is not None and _REQUEST.search(listed.group("lead")):
        items = _split_outside_brackets(listed.group("items"))
        if len(items) > 1:
            return items
    return [sentence]


def _split_outside_brackets(text: str) -> list[str]:
    """Split a list at its separators, but not inside "(TV, phone, web)"."""
    depth, start, out = 0, 0, []
    for index, char in enumerate(text):
        depth += char == "("
        depth -= char == ")" and depth > 0
        if depth == 0 and char in ",;":
            out.append(text[start:index])
            start = index + 1
    out.append(text[start:])
    items: list[str] = []
    for piece in out:
        items += [p for p in _AND_THEN_ASKS.split(piece) if p and p.strip()]
    return [item.strip() for item in items if item.strip()]
