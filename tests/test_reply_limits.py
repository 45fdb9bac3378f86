"""Limits on a reply: the client cuts it at the configured length whatever the server sends, and the
guard's work grows linearly with a reply's length (measured in characters checked, never in time)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from interviewer.engine.guard import Guard
from interviewer.engine.moves import Move, MoveKind
from interviewer.engine.reply import GuardedReply
from interviewer.engine.state import InterviewState
from interviewer.engine.voice import Voice, VoiceRequest
from interviewer.llm.client import MAX_CHARS_PER_TOKEN
from tests.fakes.openai_server import Behaviour, FakeOpenAI, Recorded, default_responder
from tests.helpers import play, replies_as_shown
from tests.test_llm_fake import make_backend

SENTENCE = "We would serve the model behind the mail servers, with sender reputation cached in memory. "


async def test_a_reply_that_ignores_max_tokens_is_cut_client_side(repo):
    def endless(record: Recorded) -> Behaviour:
        if record.structured:
            return default_responder(record)
        return Behaviour(text=SENTENCE * 1_200)  # about 110 KB, whatever max_tokens says

    with FakeOpenAI(responder=endless) as server:
        backend = make_backend(server, max_reply_tokens=64)
        session, events = await play(repo, ["I would start with logistic regression."], backend=backend, end=False)
        sent = server.chat_requests(structured=False)[-1].body["max_tokens"]
    assert sent == 64
    reply = [t for t in repo.get_turns(session.interview_id) if t.role == "interviewer"][-1]
    assert reply.complete
    assert 0 < len(reply.text) <= 64 * MAX_CHARS_PER_TOKEN
    assert replies_as_shown(events)[-1] == reply.text


class _Verbose(Voice):
    def __init__(self, text: str):
        self.text = text

    async def stream(self, request: VoiceRequest) -> AsyncIterator[str]:
        for start in range(0, len(self.text), 16):
            yield self.text[start : start + 16]


def _guarded(library, reply: str) -> GuardedReply:
    """A reply the mentor's voice streams in 16-character pieces, behind the spam filter's guard."""
    problem, persona = library.problems.get("spam-filter"), library.personas.get("mentor")
    request = VoiceRequest(persona, problem, (Move(MoveKind.ACKNOWLEDGE),), InterviewState(), 2, 40.0, 45.0)
    guarded = GuardedReply(
        _Verbose(reply),
        Guard(problem, persona, library.rubrics.get("ml-design")),
        request,
        allowed=set(),
        sanctioned=problem.prompt,
        deflection=persona.lines.deflection,
    )
    return guarded


async def _characters_checked(library, monkeypatch, size: int, text: str = SENTENCE) -> tuple[int, int]:
    """How many characters the guard looked at, and how many checks it made, for a reply of ``size``."""
    reply = (text * (size // len(text) + 1))[:size]
    seen = [0, 0]
    original = Guard._check_window

    def counting(self, window, scan):
        seen[0] += len(window)
        seen[1] += 1
        return original(self, window, scan)

    monkeypatch.setattr(Guard, "_check_window", counting)
    guarded = _guarded(library, reply)
    async for _ in guarded.stream():
        pass
    assert guarded.outcome.tripped is None and guarded.outcome.text == reply
    return seen[0], seen[1]


async def test_the_guard_checks_each_part_of_a_long_reply_a_bounded_number_of_times(library, monkeypatch):
    small, _ = await _characters_checked(library, monkeypatch, 10_000)
    large, checks = await _characters_checked(library, monkeypatch, 100_000)
    assert large <= 3 * 100_000, "each character is looked at a few times, not once per sentence"
    assert large / small <= 12, "ten times the reply, about ten times the work"
    assert checks < 200


async def test_one_letter_per_line_is_checked_in_pieces_not_per_letter(library, monkeypatch):
    seen, checks = await _characters_checked(library, monkeypatch, 20_000, text="x\n")
    assert checks <= 20_000 // 48 + 1 and seen <= 3 * 20_000


async def test_a_leak_late_in_a_long_reply_is_still_caught(library):
    problem = library.problems.get("spam-filter")
    guarded = _guarded(library, SENTENCE * 1_000 + "By the way: " + problem.fact("latency").answer)
    shown = "".join([event.text async for event in guarded.stream()])
    assert guarded.outcome.tripped is not None and guarded.outcome.tripped.fact == "latency"
    assert problem.fact("latency").answer not in shown
