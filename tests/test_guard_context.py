"""What replies may draw on (the guard's context) is kept as turns are added: it must judge every reply
as the context rebuilt from the stored transcript does, before and after a resume."""

from __future__ import annotations

from collections.abc import AsyncIterator

from interviewer.backends import OfflineBackend
from interviewer.engine.events import ReplyDone
from interviewer.engine.guard import Verdict
from interviewer.engine.session import InterviewSession
from interviewer.engine.voice import OfflineVoice, VoiceFailure, VoiceRequest
from tests.helpers import collect, play

# The candidate says, in their own words, figures, terms, a reference point and a passage of facts
# nobody revealed: a reply may repeat those, and only because the conversation holds them.
BEFORE_RESUME = [
    "How many users are there?",
    "I guess around 45% of mail is spam, and raw mail is probably kept for 30 days.",
    "I would split training and evaluation data by time so evaluation mimics future traffic.",
    "Professional spammers rotate domains and templates hourly and adapt within days of each change.",
]
AFTER_RESUME = [
    "I assume human reviewers may only see emails that users reported.",
    "For serving I would keep a budget of 50 ms at p99 on the delivery path.",
]


def _probes(session: InterviewSession) -> list[str]:
    """Replies that repeat what the candidate said, disguised or not, and what nobody said."""
    problem = session.problem
    probes = [
        "So about 45% of mail is spam, kept for 30 days.",
        "Roughly 2% of spam looks like legitimate mail.",
        "Right: split training and evaluation data by time so evaluation mimics future traffic.",
        "Yes, spammers adapt within days, rotating templates and domains hourly, testing the professional filter.",
        "-".join("human reviewers may only see emails that users reported".replace(" ", "")),
        "A budget of 50 ms at p99, on the delivery path.",
        "The rules engine catches about 85% of spam with 3,000 rules.",
    ]
    probes += [point for points in problem.reference.values() for point in points]
    probes += [fact.answer for fact in problem.facts]
    return probes


def _verdicts(session: InterviewSession, context) -> list[Verdict]:
    allowed = set(session.state.facts_revealed)
    return [session.guard.check(probe, allowed, context) for probe in _probes(session)]


class _FailsOnce(OfflineVoice):
    """Streams a few words of a reply, then the connection drops (the turn is stored incomplete). The words
    are ones the guard passes: a hidden figure would now be stopped as it streams, and the reply end in the
    deflection rather than incomplete."""

    async def stream(self, request: VoiceRequest) -> AsyncIterator[str]:
        yield "Good point, and the spam that gets through tends to look like"
        raise VoiceFailure("connection dropped mid-stream")


async def _continue(session: InterviewSession, messages: list[str]) -> None:
    for text in messages:
        events = await collect(session.submit(text))
        assert any(isinstance(e, ReplyDone) and e.complete for e in events)


async def test_the_context_kept_turn_by_turn_judges_as_the_one_rebuilt_from_the_transcript(repo):
    session, _ = await play(repo, BEFORE_RESUME, end=False)
    rebuilt = InterviewSession.load(repo, session.interview_id, OfflineBackend())
    kept = _verdicts(session, await session.conversation())
    assert kept == _verdicts(rebuilt, await rebuilt.conversation())

    # The probes depend on the conversation: without it, some that pass now would trip.
    bare = _verdicts(session, session.guard.context())
    assert sum(k.ok and not b.ok for k, b in zip(kept, bare, strict=True)) >= 3
    assert not all(verdict.ok for verdict in kept), "what nobody said still trips"


async def test_after_a_resume_and_an_incomplete_reply_the_kept_context_still_matches(repo):
    session, _ = await play(repo, BEFORE_RESUME, end=False)
    session.close()
    resumed = InterviewSession.load(repo, session.interview_id, OfflineBackend())
    resumed.voice = _FailsOnce()
    await collect(resumed.submit(AFTER_RESUME[0]))
    assert resumed.pending  # the incomplete reply is stored, but was never part of the conversation
    resumed.voice = OfflineVoice()
    await collect(resumed.respond())
    await _continue(resumed, AFTER_RESUME[1:])

    rebuilt = InterviewSession.load(repo, session.interview_id, OfflineBackend())
    kept = _verdicts(resumed, await resumed.conversation())
    assert kept == _verdicts(rebuilt, await rebuilt.conversation())
    bare = _verdicts(resumed, resumed.guard.context())
    assert sum(k.ok and not b.ok for k, b in zip(kept, bare, strict=True)) >= 4
    incomplete = next(i for i, probe in enumerate(_probes(resumed)) if probe.startswith("Roughly 2%"))
    assert not kept[incomplete].ok, "a hidden figure nobody said stays caught after a resume and an incomplete reply"
