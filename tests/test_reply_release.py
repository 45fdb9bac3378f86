"""Early release of a streamed reply: the reader sees the first words as they arrive, yet no hidden
passage, figure or disguised letter run is shown in part beyond the few letters any honest reply shares
with it, however the stream is cut into chunks."""

from __future__ import annotations

import base64
import codecs
import re
from collections.abc import AsyncIterator

import pytest

from interviewer.engine import unmask
from interviewer.engine.events import ReplyDelta
from interviewer.engine.guard import RUN_GRAM, Guard
from interviewer.engine.moves import Move, MoveKind
from interviewer.engine.reply import GuardedReply
from interviewer.engine.state import InterviewState
from interviewer.engine.voice import Voice, VoiceRequest
from tests.test_guard_disguise import DISGUISES

PREAMBLE = "Thanks, that is a fair point to raise at this stage of the design, so let me add one thing. "
FIRST_SENTENCE = (
    "A simple linear model is a sensible baseline here, and it keeps serving cheap on the machines you already run. "
)


class _Chunked(Voice):
    """A model streaming ``text`` in pieces cut by ``cut``; counts the pieces it has sent."""

    def __init__(self, text: str, cut):
        self.pieces = cut(text)
        self.sent = 0

    async def stream(self, request: VoiceRequest) -> AsyncIterator[str]:
        for piece in self.pieces:
            self.sent += 1
            yield piece


def _by(size: int):
    return lambda text: [text[i : i + size] for i in range(0, len(text), size)]


def _words(text: str) -> list[str]:
    """Word-sized pieces with their trailing space, as the fake server streams."""
    return re.findall(r"\S+\s*", text)


def _space_first_words(text: str) -> list[str]:
    """Word-sized pieces that carry the space before them, as many models' tokens do."""
    return re.findall(r"\s*\S+", text)


CUTS = {"one character": _by(1), "five characters": _by(5), "words": _words, "words, space first": _space_first_words}


def _guarded(library, voice: Voice, allowed: set[str] | None = None) -> GuardedReply:
    problem, persona = library.problems.get("spam-filter"), library.personas.get("mentor")
    request = VoiceRequest(persona, problem, (Move(MoveKind.ACKNOWLEDGE),), InterviewState(), 2, 40.0, 45.0)
    return GuardedReply(
        voice,
        Guard(problem, persona, library.rubrics.get("ml-design")),
        request,
        allowed=set() if allowed is None else allowed,
        sanctioned=problem.prompt,
        deflection=persona.lines.deflection,
    )


async def test_the_first_words_show_before_the_first_sentence_ends(library):
    for cut in (_words, _space_first_words):
        voice = _Chunked(FIRST_SENTENCE + "What would you use as labels?", cut)
        guarded = _guarded(library, voice)
        sent_at_first_text, shown = None, ""
        async for event in guarded.stream():
            if isinstance(event, ReplyDelta):
                sent_at_first_text = sent_at_first_text or voice.sent
                shown += event.text
        assert sent_at_first_text is not None and sent_at_first_text <= 2, "shown once the first word is whole"
        assert sent_at_first_text < len(FIRST_SENTENCE.split())
        assert shown == FIRST_SENTENCE + "What would you use as labels?" and guarded.outcome.tripped is None


async def test_an_allowed_fact_is_not_held_back_as_a_hidden_one(library):
    answer = library.problems.get("spam-filter").fact("scale").answer
    voice = _Chunked(f"Good question. {answer} Does that change your plan?", _words)
    guarded = _guarded(library, voice, allowed={"scale"})
    deltas = [event.text async for event in guarded.stream() if isinstance(event, ReplyDelta)]
    assert guarded.outcome.tripped is None
    assert len(deltas) >= 3, "released in pieces as it streams, not held to the end"


def _hex(text: str) -> str:
    return " ".join(f"{byte:02x}" for byte in text.encode())


FORMS = {
    **DISGUISES,
    "as written": lambda t: t,
    "reversed": lambda t: t[::-1],
    "rot13": lambda t: codecs.encode(t, "rot13"),
    "base64": lambda t: base64.b64encode(t.encode()).decode(),
    "hex": _hex,
    "tags": lambda t: "".join(chr(0xE0000 + ord(ch)) for ch in t if ord(ch) < 0x7F),
}


def _exposed(shown: str, form: str) -> str:
    """The letters of the disguised passage that were shown (after the preamble; hidden tag letters
    included, and with its vowels masked, its consonants)."""
    assert shown.startswith(PREAMBLE[: len(shown)]), "the honest preamble is shown as written"
    tail = shown[len(PREAMBLE) :]
    said = unmask.letters(unmask.plain(tail)) + unmask.letters(unmask.tag_text(tail))
    return unmask.consonants(said) if form == "vowels masked" else said


async def _shown_before_the_trip(library, reply: str, cut) -> tuple[GuardedReply, str]:
    guarded = _guarded(library, _Chunked(reply, cut))
    deltas = [event.text async for event in guarded.stream() if isinstance(event, ReplyDelta)]
    assert guarded.outcome.tripped is not None, "the guard still trips"
    deflection = library.personas.get("mentor").lines.deflection
    assert deltas[-1].strip() == deflection
    return guarded, "".join(deltas[:-1])


@pytest.mark.parametrize("cut", sorted(CUTS))
@pytest.mark.parametrize("form", sorted(FORMS))
async def test_a_hidden_fact_split_across_chunks_is_never_shown_in_part(library, form, cut):
    answer = library.problems.get("spam-filter").fact("labels").answer
    reply = PREAMBLE + FORMS[form](answer)
    _, shown = await _shown_before_the_trip(library, reply, CUTS[cut])
    assert len(_exposed(shown, form)) < RUN_GRAM, f"{form}: {shown[len(PREAMBLE) :]!r} shown before the trip"


@pytest.mark.parametrize("form", ["as written", "one per line", "reversed words", "vowels masked", "hex"])
async def test_a_reference_point_split_across_chunks_is_never_shown_in_part(library, form):
    point = next(iter(library.problems.get("spam-filter").reference.values()))[0]
    for cut in (_by(1), _words):
        _, shown = await _shown_before_the_trip(library, PREAMBLE + FORMS[form](point), cut)
        assert len(_exposed(shown, form)) < RUN_GRAM, f"{form}: {shown[len(PREAMBLE) :]!r} shown before the trip"


@pytest.mark.parametrize("figure", ["250,000 emails per second", "two hundred and fifty thousand a second"])
async def test_a_hidden_figure_split_across_chunks_is_never_shown_in_part(library, figure):
    for cut in (_by(1), _by(3), _words):
        guarded, shown = await _shown_before_the_trip(library, PREAMBLE + "It peaks near " + figure + ".", cut)
        assert guarded.outcome.tripped.fact == "scale"
        assert (PREAMBLE + "It peaks near ").startswith(shown)
        assert not any(ch.isdigit() for ch in shown) and "two" not in shown[len(PREAMBLE) :]
