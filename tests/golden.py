"""Golden transcripts: what the engine stores for fixed scripts, to prove a refactor changes nothing.

``python -m tests.golden`` rewrites ``tests/data/golden.json`` from the current engine; do that only when
a change of behaviour is intended, and say so in the commit. ``tests/test_golden.py`` compares.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
GOLDEN = DATA / "golden.json"

PROBLEMS = ("spam-filter", "payment-fraud", "self-driving-perception", "movie-recommender")
PERSONAS = ("mentor", "bar-raiser", "neutral", "research-scientist", "startup-cto")
SCRIPTS = ("spam-strong.txt", "spam-weak.txt", "spam-keywords.txt", "golden-mixed.txt")
MINUTES = (45.0, 20.0)


def _script(name: str) -> list[str]:
    return [line for line in (DATA / name).read_text().splitlines() if line.strip()]


def _turns(repo: Any, interview_id: int) -> list[dict]:
    return [
        {
            "seq": t.seq,
            "role": t.role,
            "kind": t.kind,
            "text": t.text,
            "complete": t.complete,
            "moves": t.moves,
            "meta": t.meta,
            "elapsed": round(t.elapsed_seconds or 0.0, 3),
        }
        for t in repo.get_turns(interview_id)
    ]


def _events(repo: Any, interview_id: int) -> list[list]:
    return [[e.type, e.payload, e.turn_seq] for e in repo.get_events(interview_id)]


async def _offline_run(repo: Any, problem: str, persona: str, script: str, minutes: float) -> dict:
    from interviewer.backends import OfflineBackend
    from interviewer.grading import grade_interview
    from tests.helpers import play

    session, _ = await play(repo, _script(script), problem=problem, persona=persona, minutes=minutes)
    card = await grade_interview(repo, session.interview_id, OfflineBackend().grader())
    interview = repo.get_interview(session.interview_id)
    return {
        "turns": _turns(repo, session.interview_id),
        "events": _events(repo, session.interview_id),
        "state": interview.state,
        "scorecard": {
            "overall": card.overall,
            "recommendation": card.recommendation,
            "dimensions": [[d.id, d.score, [[e.turn, e.quote] for e in d.evidence]] for d in card.dimensions],
        },
    }


def capture_offline() -> dict[str, dict]:
    """Every problem × persona × script × minutes on the offline engine, in a fresh database."""
    from interviewer.services import open_repository

    runs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        repo = open_repository(f"sqlite:///{folder}/golden.db")
        try:
            for problem in PROBLEMS:
                for persona in PERSONAS:
                    for script in SCRIPTS:
                        for minutes in MINUTES:
                            key = f"{problem}/{persona}/{script}/{minutes:g}"
                            runs[key] = asyncio.run(_offline_run(repo, problem, persona, script, minutes))
        finally:
            repo.close()
    return runs


def capture_llm_requests() -> dict[str, list]:
    """The messages the LLM voice sends for one interview through the fake server (lexical analyst)."""
    from interviewer.backends.openai_backend import OpenAIBackend
    from interviewer.config import load_settings
    from interviewer.services import open_repository
    from tests.fakes.openai_server import FakeOpenAI
    from tests.helpers import play

    out: dict[str, list] = {}
    for problem, persona in (("spam-filter", "mentor"), ("payment-fraud", "bar-raiser")):
        with FakeOpenAI() as fake, tempfile.TemporaryDirectory() as folder:
            settings = load_settings(
                base_url=fake.base_url, model="fake-model", grader_model="fake-grader", analyst="offline"
            )
            repo = open_repository(f"sqlite:///{folder}/golden.db")
            try:
                asyncio.run(
                    play(
                        repo,
                        _script("golden-mixed.txt"),
                        problem=problem,
                        persona=persona,
                        backend=OpenAIBackend(settings),
                    )
                )
            finally:
                repo.close()
            requests = [request.messages for request in fake.chat_requests(structured=False)]
            # The last request holds the whole conversation with every earlier note in place.
            out[f"{problem}/{persona}"] = [requests[-1], [messages[-1] for messages in requests]]
    return out


KEPT_WHOLE = ("mentor/golden-mixed.txt/45", "bar-raiser/golden-mixed.txt/45")
"""Runs kept whole in the file (the others by digest only), so a difference can be shown, not just found."""


def digest(record: dict) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def capture() -> dict:
    runs = capture_offline()
    return {
        "digests": {key: digest(record) for key, record in runs.items()},
        "whole": {key: record for key, record in runs.items() if key.endswith(KEPT_WHOLE)},
        "llm_requests": capture_llm_requests(),
    }


def main() -> int:
    GOLDEN.write_text(json.dumps(capture(), ensure_ascii=False, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
