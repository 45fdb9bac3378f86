"""How the interviewer behaves, on the scripted candidates in ``tests/eval/candidates`` (offline engine).

Per interview: replies the guard replaced although nothing secret was said (on the offline engine every
reply is honest, so every trip is a false one), bare acknowledgements, replies said word for word
before, what-ifs after the wrap-up, and skipped stages never steered to before the wrap-up. Also every
opening over every problem x persona x length. ``python -m bench.behaviour [tune|test] [--show N]``
prints the figures and, with ``--show``, N transcripts to read; ``python -m bench.behaviour personas [split]``
what each persona does differently (presses, follow-ups, hints) on the same candidates.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Result, play_scripted, temporary_home
from interviewer.content import ContentLibrary
from interviewer.engine.director import DISCUSSION_STAGES
from interviewer.text import normalized

EVAL = Path(__file__).resolve().parent.parent / "tests" / "eval" / "candidates"
WHAT_IF_REPLIES = EVAL.parent / "what_if_replies"
LENGTHS = (30, 45, 60, 90)


@dataclass
class Tally:
    interviews: int = 0
    replies: int = 0
    guarded: list[str] = field(default_factory=list)
    bare: int = 0
    repeats: list[str] = field(default_factory=list)
    late_what_ifs: int = 0
    skipped: int = 0
    skipped_reached: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    moves: Counter[str] = field(default_factory=Counter)
    never_steered: list[str] = field(default_factory=list)

    def add(self, name: str, turns: list[Any], state: Any) -> None:
        self.interviews += 1
        replies = [t for t in turns if t.role == "interviewer"][1:]  # the opening is counted apart
        self.replies += len(replies)
        seen: set[str] = set()
        wrapped = False
        for turn in replies:
            self.kinds[turn.kind] += 1
            for move in turn.moves or []:
                self.moves[f"press:{move.get('hook')}" if move["kind"] == "press" else move["kind"]] += 1
            if (turn.meta or {}).get("guarded"):
                self.guarded.append(f"{name} turn {turn.seq}: {turn.meta['guarded']}")
            self.bare += turn.kind == "acknowledge"
            key = normalized(turn.text)
            if key in seen and turn.kind not in ("closing",):
                self.repeats.append(f"{name} turn {turn.seq}: {turn.text[:80]!r}")
            seen.add(key)
            self.late_what_ifs += wrapped and turn.kind == "what_if"
            wrapped = wrapped or turn.kind == "wrap_up"
        self._coverage(name, state)

    def _coverage(self, name: str, state: Any) -> None:
        """Stages the candidate skipped (never covered, or only once steered there): was each steered to?"""
        steered = set(state.redirects)
        skipped = {stage for stage in DISCUSSION_STAGES if state.depth(stage) == 0} | steered
        self.skipped += len(skipped)
        self.skipped_reached += len(skipped & steered)
        self.never_steered += [f"{name}: {stage}" for stage in sorted(skipped - steered)]

    @property
    def bare_share(self) -> float:
        return self.bare / self.replies if self.replies else 0.0


def _scripts(split: str) -> list[tuple[str, str, Path]]:
    return [
        (folder.name, path.stem, path)
        for folder in sorted((EVAL / split).iterdir())
        for path in sorted(folder.glob("*.jsonl"))
    ]


async def play_scripts(split: str, persona: str = "neutral", limit: int | None = None) -> tuple[Tally, list[str]]:
    """Every scripted candidate of a split, played to the end; the tally and each transcript as text."""
    from interviewer.backends import OfflineBackend
    from interviewer.script import read_candidate_script
    from interviewer.services import open_repository

    library = ContentLibrary()
    backend = OfflineBackend()
    tally, transcripts = Tally(), []
    with temporary_home():
        repo = open_repository()
        for problem_id, kind, path in _scripts(split)[:limit]:
            messages = read_candidate_script(path)
            session = await play_scripted(
                repo,
                backend,
                problem=library.problems.get(problem_id),
                persona=library.personas.get(persona),
                rubric=library.rubrics.get("ml-design"),
                minutes=_minutes_for(messages),
                messages=messages,
            )
            turns = repo.get_turns(session.interview_id)
            tally.add(f"{problem_id}/{kind}", turns, session.state)
            transcripts.append(_transcript(f"{problem_id}/{kind}", turns))
        repo.close()
        await backend.aclose()
    return tally, transcripts


def _minutes_for(messages: list[str]) -> float:
    """An interview as long as the script: its last message falls where time runs out, as when a real
    candidate talks until the end (the scripted clock's typing time, plus a short reply each turn)."""
    from interviewer.engine.clock import ScriptedClock

    clock = ScriptedClock()
    seconds = sum(clock.lap(text, "candidate") + clock.lap(" ".join(["word"] * 25), "interviewer") for text in messages)
    return round(seconds / 60 / 0.97, 1)


def _transcript(name: str, turns: list[Any]) -> str:
    lines = [f"=== {name}"]
    for turn in turns:
        who = "C" if turn.role == "candidate" else f"I[{turn.kind}]"
        lines.append(f"{turn.seq:>3} {who}: {turn.text}")
    return "\n".join(lines)


async def openings() -> tuple[int, list[str]]:
    """Every problem x persona x length: openings that lost the problem statement to the guard."""
    from interviewer.backends import OfflineBackend
    from interviewer.services import open_repository

    library = ContentLibrary()
    backend = OfflineBackend()
    lost: list[str] = []
    count = 0
    with temporary_home():
        repo = open_repository()
        for problem in map(library.problems.get, library.problems.ids()):
            for persona in map(library.personas.get, library.personas.ids()):
                for minutes in LENGTHS:
                    session = await play_scripted(
                        repo,
                        backend,
                        problem=problem,
                        persona=persona,
                        rubric=library.rubrics.get("ml-design"),
                        minutes=float(minutes),
                    )
                    opening = repo.get_turns(session.interview_id)[0]
                    count += 1
                    if (opening.meta or {}).get("guarded") or problem.prompt not in opening.text:
                        lost.append(f"{problem.id} x {persona.id} x {minutes}")
        repo.close()
        await backend.aclose()
    return count, lost


QUESTIONS = EVAL.parent / "questions"


async def questions_guarded(split: str) -> tuple[int, list[str]]:
    """Every question of the understanding corpus asked in an interview on its problem (every persona in
    turn, one long interview per problem and persona): replies the guard replaced. On the offline engine
    every reply is honest, so each is a false trip."""
    import json

    from interviewer.backends import OfflineBackend
    from interviewer.services import open_repository

    library = ContentLibrary()
    backend = OfflineBackend()
    guarded: list[str] = []
    replies = 0
    with temporary_home():
        repo = open_repository()
        for path in sorted((QUESTIONS / split).glob("*.jsonl")):
            messages = [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]
            for persona in map(library.personas.get, library.personas.ids()):
                session = await play_scripted(
                    repo,
                    backend,
                    problem=library.problems.get(path.stem),
                    persona=persona,
                    rubric=library.rubrics.get("ml-design"),
                    minutes=600.0,
                    messages=messages,
                )
                turns = [t for t in repo.get_turns(session.interview_id) if t.role == "interviewer"]
                replies += len(turns)
                guarded += [f"{path.stem} x {persona.id} turn {t.seq}" for t in turns if (t.meta or {}).get("guarded")]
        repo.close()
        await backend.aclose()
    return replies, guarded


@dataclass
class WhatIfReading:
    right: int = 0
    total: int = 0
    read_as_ignored: int = 0
    ignored_right: int = 0
    wrong: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0

    @property
    def ignored_precision(self) -> float:
        """Of the replies read as going on without the what-if, the share that did (a re-ask was due)."""
        return self.ignored_right / self.read_as_ignored if self.read_as_ignored else 1.0


def what_if_reading(split: str, understanding: str = "auto") -> WhatIfReading:
    """Replies written to each built-in what-if (half take it up, half go on with something else): how
    many the analyst reads right."""
    import json

    from interviewer.engine.analyst import offline_analyst
    from interviewer.understanding.lexicon import Lexicon

    library = ContentLibrary()
    analysts: dict[str, Any] = {}
    tally = WhatIfReading()
    for line in (WHAT_IF_REPLIES / f"{split}.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["problem"] not in analysts:
            analysts[row["problem"]] = offline_analyst(Lexicon(library.problems.get(row["problem"])), understanding)
        analyst = analysts[row["problem"]]
        taken_up = analyst.takes_up(row["text"], library.problems.get(row["problem"]).what_if(row["what_if"]))
        right = taken_up == (row["label"] == "answers")
        tally.total += 1
        tally.right += right
        tally.read_as_ignored += not taken_up
        tally.ignored_right += not taken_up and right
        if not right:
            tally.wrong.append(f"{row['label']}: {row['problem']}/{row['what_if']}: {row['text'][:90]}")
    return tally


def behaviour(quick: bool) -> list[Result]:
    count, lost = asyncio.run(openings())
    tally, _ = asyncio.run(play_scripts("test", limit=14 if quick else None))
    note = f"test split, {tally.interviews} scripted interviews, {tally.replies} replies"
    reached = tally.skipped_reached / tally.skipped if tally.skipped else 1.0
    reading = what_if_reading("test")
    asked, guarded = asyncio.run(questions_guarded("test"))
    return [
        Result("openings without the problem", "count", [len(lost)], target=0, note=f"of {count} combinations"),
        Result("guarded honest replies", "count", [len(tally.guarded)], target=0, note=note),
        Result(
            "guarded replies to honest questions",
            "count",
            [len(guarded)],
            target=0,
            note=f"test question corpus x every persona, {asked} replies",
        ),
        Result("bare acknowledgements", "share", [tally.bare_share], target=0.15),
        Result("verbatim repeats", "count", [len(tally.repeats)], target=0),
        Result("what-ifs after the wrap-up", "count", [tally.late_what_ifs], target=0),
        Result("skipped stages steered to", "share", [reached], target=1.0, higher_is_better=True),
        Result(
            "what-if replies read right",
            "share",
            [reading.accuracy],
            higher_is_better=True,
            note=f"test split, {reading.total} replies; read as ignored and ignored: {reading.ignored_precision:.2f}",
        ),
    ]


def persona_contrast(split: str, limit: int | None = None) -> dict[str, Counter[str]]:
    """Per persona, over one split's scripted candidates: what each reply did, by move (presses by topic)."""
    library = ContentLibrary()
    contrast: dict[str, Counter[str]] = {}
    for persona in library.personas.ids():
        tally, _ = asyncio.run(play_scripts(split, persona=persona, limit=limit))
        contrast[persona] = tally.moves
        contrast[persona]["replies"] = tally.replies
    return contrast


def _print_contrast(split: str) -> None:
    contrast = persona_contrast(split)
    columns = ("press:figures", "press:trade_offs", "press:cost", "press:shipping", "follow_up", "hint", "acknowledge")
    print(f"{split}: moves per 100 replies, by persona")
    print(f"  {'persona':<20}" + "".join(f"{c:>18}" for c in columns))
    for persona, moves in contrast.items():
        per = 100 / max(1, moves["replies"])
        print(f"  {persona:<20}" + "".join(f"{moves[c] * per:>18.1f}" for c in columns))


def main(argv: list[str]) -> int:
    if argv and argv[0] == "questions":
        asked, guarded = asyncio.run(questions_guarded(argv[1] if len(argv) > 1 else "tune"))
        print(f"guarded replies to honest questions: {len(guarded)} of {asked}", *guarded[:10], sep="\n    ")
        return 0
    if argv and argv[0] == "personas":
        _print_contrast(argv[1] if len(argv) > 1 else "tune")
        return 0
    split = argv[0] if argv and not argv[0].startswith("-") else "tune"
    show = int(argv[argv.index("--show") + 1]) if "--show" in argv else 0
    tally, transcripts = asyncio.run(play_scripts(split))
    print(f"{split}: {tally.interviews} interviews, {tally.replies} replies")
    print(f"  guarded honest replies: {len(tally.guarded)}", *tally.guarded[:10], sep="\n    ")
    print(f"  bare acknowledgements: {tally.bare} ({tally.bare_share:.1%})")
    print(f"  verbatim repeats: {len(tally.repeats)}", *tally.repeats[:10], sep="\n    ")
    print(f"  what-ifs after the wrap-up: {tally.late_what_ifs}")
    print(f"  skipped stages steered to before the wrap-up: {tally.skipped_reached} of {tally.skipped}")
    print(*tally.never_steered[:10], sep="\n    ")
    print(f"  reply kinds: {dict(tally.kinds.most_common())}")
    for understanding in ("auto", "lexical"):
        reading = what_if_reading(split, understanding)
        print(
            f"  what-if replies read right ({understanding}): {reading.right} of {reading.total} "
            f"({reading.accuracy:.1%}); read as ignored and ignored: {reading.ignored_precision:.1%}"
        )
    for text in transcripts[:show]:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
