"""How well the interviewer understands candidates, on the evaluation set in ``tests/eval``.

Fact recall, precision and over-reveal per problem (the questions of one split, each labelled with the
facts that answer it), and the grading spread of the scripted candidates (strong, weak, keyword-stuffed,
fluent-generic, off-topic, strong on one stage, pasting one paragraph again and again). The figures are
for the *test* split unless asked otherwise: the tune split is what the matcher was fitted on.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import Result
from interviewer.content import ContentLibrary
from interviewer.understanding.asks import asks_in
from interviewer.understanding.facts import context_of

EVAL = Path(__file__).resolve().parent.parent / "tests" / "eval"


@dataclass(frozen=True, slots=True)
class LabelledQuestion:
    problem: str
    id: str
    text: str
    question: bool
    facts: frozenset[str]


def load_questions(split: str) -> list[LabelledQuestion]:
    out = []
    for path in sorted((EVAL / "questions" / split).glob("*.jsonl")):
        for line in path.read_text().splitlines():
            item = json.loads(line)
            out.append(
                LabelledQuestion(path.stem, item["id"], item["text"], item["question"], frozenset(item["facts"]))
            )
    return out


@dataclass
class Tally:
    hit: int = 0
    revealed: int = 0
    wanted: int = 0
    over: int = 0
    messages: int = 0
    misses: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    """What the candidate heard, per question: see :func:`outcome`."""

    def add(self, question: LabelledQuestion, predicted: set[str], offered: set[str] | None = None) -> None:
        if question.question:
            self.outcomes[outcome(question, predicted, offered or set())] += 1
        self.hit += len(predicted & question.facts)
        self.revealed += len(predicted)
        self.wanted += len(question.facts)
        self.over += bool(predicted - question.facts)
        self.messages += 1
        if predicted != question.facts:
            self.misses.append(
                f"{question.id}: {question.text!r} -> {sorted(predicted)} (wanted {sorted(question.facts)})"
            )

    def share(self, *names: str) -> float:
        answerable = names[0].startswith("answerable")
        total = sum(v for k, v in self.outcomes.items() if k.startswith("answerable") == answerable)
        return sum(self.outcomes[name] for name in names) / total if total else 0.0

    @property
    def recall(self) -> float:
        return self.hit / self.wanted if self.wanted else 1.0

    @property
    def precision(self) -> float:
        return self.hit / self.revealed if self.revealed else 1.0

    @property
    def over_reveal(self) -> float:
        """Share of messages answered with a fact they did not ask for."""
        return self.over / self.messages if self.messages else 0.0


def outcome(question: LabelledQuestion, predicted: set[str], offered: set[str]) -> str:
    """What a candidate heard in reply to one labelled question: for a question the spec answers, the
    answer (perhaps with a fact it did not ask for), "which do you mean?" with the right fact among the
    choices, a wrong fact, or "the spec leaves that open" (the misleading one); for a question the spec
    leaves open, "open", "which do you mean?", or a fact it did not ask for."""
    if question.facts:
        if predicted & question.facts:
            return (
                "answerable: answered" if predicted <= question.facts else "answerable: answered, plus a fact not asked"
            )
        if predicted:
            return "answerable: a wrong fact"
        return "answerable: asked which, the right one offered" if offered & question.facts else "answerable: told open"
    if predicted:
        return "open: a fact not asked for"
    return "open: asked which" if offered else "open: told open"


class Corpus:
    """The built-in problems with the semantic model loaded: what fitting and evaluating share."""

    def __init__(self) -> None:
        from interviewer.understanding.encoder import EmbeddingCache, load_encoder

        encoder = load_encoder()
        if isinstance(encoder, str):
            raise SystemExit(f"the semantic model is needed here: {encoder}")
        self.encoder = encoder
        self.cache = EmbeddingCache(encoder)
        self.library = ContentLibrary()
        self._adapter: Any = None
        self._indexes: dict[str, Any] = {}

    def problem(self, problem_id: str) -> Any:
        return self.library.problems.get(problem_id)

    def set_adapter(self, adapter: Any) -> None:
        self._adapter = adapter
        self._indexes.clear()

    def index(self, problem_id: str) -> Any:
        from interviewer.understanding.facts import FactIndex

        if problem_id not in self._indexes:
            self._indexes[problem_id] = FactIndex(self.problem(problem_id), self.cache, self._adapter)
        return self._indexes[problem_id]

    def ask_vectors(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every built-in fact's asks and answer sentences, as (vectors, "problem/fact", problem)."""
        from interviewer.text import sentences

        texts, facts, problems = [], [], []
        for problem_id in self.library.problems.ids():
            for fact in self.problem(problem_id).facts:
                for text in [*fact.asks, *(s.text for s in sentences(fact.answer))]:
                    texts.append(text)
                    facts.append(f"{problem_id}/{fact.id}")
                    problems.append(problem_id)
        return self.cache.matrix(texts).astype(np.float64), np.array(facts), np.array(problems)

    def rows(self, question: LabelledQuestion) -> Iterator[tuple[str, list[float]]]:
        """Per fact, the features of the message's question that fits it best."""
        asks = asks_in(question.text)
        if not asks:
            return
        vectors = self.encoder.encode([a.text for a in asks] + [context_of(question.text, asks)])
        per_ask = [
            self.index(question.problem).feature_rows(a, v, vectors[-1])
            for a, v in zip(asks, vectors[:-1], strict=False)
        ]
        for fact in per_ask[0]:
            yield fact, max((rows[fact] for rows in per_ask), key=lambda row: row[0] + row[4])

    def training_rows(self, questions: list[LabelledQuestion]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, y, groups = [], [], []
        for question in questions:
            for fact, row in self.rows(question):
                x.append(row)
                y.append(float(fact in question.facts))
                groups.append(question.problem)
        return np.array(x), np.array(y), np.array(groups)

    def _ranked(self, questions: list[LabelledQuestion], chances: np.ndarray) -> list[tuple[LabelledQuestion, list]]:
        keyed: list[tuple[LabelledQuestion, list[tuple[float, str]]]] = []
        position = 0
        for question in questions:
            facts = [fact for fact, _ in self.rows(question)]
            ranked = sorted(zip(chances[position : position + len(facts)], facts, strict=True), reverse=True)
            keyed.append((question, ranked))
            position += len(facts)
        return keyed

    def tally_at(
        self, questions: list[LabelledQuestion], chances: np.ndarray, threshold: float, second: float
    ) -> Tally:
        tally = Tally()
        for question, ranked in self._ranked(questions, chances):
            tally.add(question, _choose(ranked, threshold, second))
        return tally

    def best_thresholds(self, questions: list[LabelledQuestion], chances: np.ndarray) -> tuple[float, float]:
        """The decision thresholds that do best on held-out chances: recall plus precision, with a
        second fact per question only when it is nearly certain, and over-reveal held near 2 %."""
        keyed = self._ranked(questions, chances)
        best = (-1.0, 0.5, 0.9)
        for threshold in np.arange(0.2, 0.86, 0.025):
            for second in np.arange(max(threshold, 0.4), 0.99, 0.05):
                tally = Tally()
                for question, ranked in keyed:
                    tally.add(question, _choose(ranked, threshold, second))
                value = tally.recall + tally.precision - 2 * max(0.0, tally.over_reveal - 0.02)
                if value > best[0]:
                    best = (value, round(float(threshold), 3), round(float(second), 3))
        return best[1], best[2]


def _choose(ranked: list[tuple[float, str]], threshold: float, second: float) -> set[str]:
    if not ranked or ranked[0][0] < threshold:
        return set()
    return {ranked[0][1], *(fact for chance, fact in ranked[1:2] if chance >= second)}


# ----------------------------------------------------------------------------- the report


def fact_report(split: str = "test") -> tuple[Tally, dict[str, Tally], str]:
    """The analyst the app uses, on one split: overall and per problem. Also says which analyst it was."""
    from interviewer.engine.analyst import offline_analyst
    from interviewer.understanding.lexicon import Lexicon

    library = ContentLibrary()
    rubric = library.rubrics.get("ml-design")
    total, per_problem = Tally(), {}
    analysts: dict[str, Any] = {}
    kind = ""
    for question in load_questions(split):
        if question.problem not in analysts:
            analysts[question.problem] = offline_analyst(Lexicon(library.problems.get(question.problem), rubric))
            kind = analysts[question.problem].kind
        analysis = analysts[question.problem].analyze_now(question.text)
        predicted = set() if analysis.injection else set(analysis.facts_asked)
        offered = {fact for q in analysis.questions for fact in q.close}
        total.add(question, predicted, offered)
        per_problem.setdefault(question.problem, Tally()).add(question, predicted, offered)
    return total, per_problem, kind


def understanding(quick: bool) -> list[Result]:
    total, per_problem, kind = fact_report("test")
    note = f"{kind} analyst, test split, {total.messages} messages; worst problem recall " + min(
        (f"{p} {t.recall:.2f}" for p, t in per_problem.items()), key=lambda s: float(s.split()[-1])
    )
    return [
        Result("fact recall", "share", [total.recall], target=0.95, higher_is_better=True, note=note),
        Result("fact precision", "share", [total.precision], target=0.95, higher_is_better=True),
        Result("over-reveal (messages)", "share", [total.over_reveal], target=0.02),
    ]


# ----------------------------------------------------------------------------- stages by meaning


@dataclass(frozen=True, slots=True)
class StageReport:
    sentences: int
    accuracy: float
    """Share of labelled sentences whose likeliest reading is their label ("none" included)."""
    credited_precision: float
    """Of the sentences credited to a stage, the share credited to the right one."""
    credited_share: float


def stage_report(split: str = "test") -> StageReport:
    """The stage reader on the labelled sentences of a split's scripted candidates, each read with the
    other sentences of its turn, as the analyst reads them."""
    from interviewer.understanding.coverage import LABELS, default_stage_reader
    from interviewer.understanding.encoder import load_encoder

    rows = [json.loads(line) for line in (EVAL / "stages" / f"{split}.jsonl").read_text().splitlines()]
    encoder = load_encoder()
    reader = default_stage_reader()
    turns: dict[tuple[str, str, int], list[dict]] = {}
    for row in rows:
        turns.setdefault((row["problem"], row["script"], row["turn"]), []).append(row)
    right = credited = credited_right = 0
    for group in turns.values():
        readings = reader.read(encoder.encode([row["text"] for row in group]))
        for row, reading in zip(group, readings, strict=True):
            right += reading.label == row["stage"]
            if reading.stage is not None:
                credited += 1
                credited_right += reading.stage == row["stage"]
    assert all(row["stage"] in LABELS for row in rows)
    return StageReport(len(rows), right / len(rows), credited_right / max(credited, 1), credited / len(rows))


def stages(quick: bool) -> list[Result]:
    report = stage_report("test")
    note = f"test split, {report.sentences} labelled sentences; {report.credited_share:.0%} credited to a stage"
    return [
        Result("stage read right", "share", [report.accuracy], note=note, higher_is_better=True),
        Result("stage credited right", "share", [report.credited_precision], higher_is_better=True),
    ]


# ----------------------------------------------------------------------------- grading spread

KINDS = ("strong", "weak", "stuffed", "generic", "offtopic", "one-stage", "rambling-repeat")


def _scripts(split: str, problems: int | None) -> list[tuple[str, str, str, list[str]]]:
    """(problem, kind, stage for one-stage scripts, messages) for the scripted candidates of a split."""
    out = []
    folders = sorted((EVAL / "candidates" / split).iterdir())[:problems]
    for folder in folders:
        for path in sorted(folder.glob("*.jsonl")):
            kind, stage = path.stem, ""
            if kind.startswith("one-stage-"):
                kind, stage = "one-stage", kind.removeprefix("one-stage-")
            messages = [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]
            out.append((folder.name, kind, stage, messages))
    return out


async def _grade_scripts(split: str, problems: int | None) -> dict[str, list[tuple[float, dict[str, int]]]]:
    from bench.common import play_scripted, temporary_home
    from interviewer.backends import OfflineBackend
    from interviewer.grading import grade_interview
    from interviewer.services import open_repository

    library = ContentLibrary()
    results: dict[str, list[tuple[float, dict[str, int]]]] = {}
    with temporary_home():
        repo = open_repository()
        backend = OfflineBackend()
        grader = backend.grader()
        for problem, kind, stage, messages in _scripts(split, problems):
            session = await play_scripted(
                repo,
                backend,
                problem=library.problems.get(problem),
                persona=library.personas.get("mentor"),
                rubric=library.rubrics.get("ml-design"),
                minutes=60,
                messages=messages,
                end=True,
            )
            card = await grade_interview(repo, session.interview_id, grader)
            scores = {d.id: d.score for d in card.dimensions}
            scores["chosen-stage"] = stage  # type: ignore[assignment]
            results.setdefault(kind, []).append((card.overall, scores))
        repo.close()
    return results


def spread(split: str = "test", problems: int | None = None) -> dict[str, Any]:
    """Mean overall per kind of candidate, and the highest score a one-stage candidate got elsewhere."""
    import asyncio

    results = asyncio.run(_grade_scripts(split, problems))
    means = {kind: sum(o for o, _ in runs) / len(runs) for kind, runs in results.items()}
    skipped = [
        max(
            score
            for stage, score in scores.items()
            if stage not in ("clarification", "communication", "chosen-stage", scores["chosen-stage"])
        )
        for _, scores in results.get("one-stage", [])
    ]
    return {"means": means, "one_stage_skipped": skipped, "runs": results}


def grading_spread(quick: bool) -> list[Result]:
    found = spread("test", 3 if quick else None)
    m = found["means"]
    weak = m["weak"]
    skipped = found["one_stage_skipped"]
    note = "test split; " + ", ".join(f"{kind} {value:.2f}" for kind, value in sorted(m.items()))
    return [
        Result("grading: strong − weak", "points", [m["strong"] - weak], target=1.0, higher_is_better=True, note=note),
        # Margins a weak but honest candidate keeps over the ones gaming the grader: never below 0.
        Result("grading: weak − keyword-stuffed", "points", [weak - m["stuffed"]], target=0.0, higher_is_better=True),
        Result("grading: weak − fluent-generic", "points", [weak - m["generic"]], target=0.0, higher_is_better=True),
        Result("grading: weak − off-topic", "points", [weak - m["offtopic"]], target=0.0, higher_is_better=True),
        Result(
            "grading: one-stage, best skipped stage",
            "score",
            [float(s) for s in skipped],
            target=2.0,
            target_on="p99",
            note=f"{sum(s <= 2 for s in skipped)} of {len(skipped)} one-stage candidates at 2 or less on every skipped stage",
        ),
    ]


def latency(quick: bool) -> list[Result]:
    """The semantic analyst's time per message after load, and its load (weights, then a problem's index)."""
    import time

    from interviewer.engine.analyst import offline_analyst
    from interviewer.understanding import encoder as encoder_module
    from interviewer.understanding.lexicon import Lexicon

    library = ContentLibrary()
    encoder_module._loaded.clear()  # a cold load, as a new process sees it
    started = time.perf_counter()
    analyst = offline_analyst(Lexicon(library.problems.get("spam-filter"), library.rubrics.get("ml-design")))
    load_ms = (time.perf_counter() - started) * 1000
    matcher = getattr(analyst, "matcher", None)
    if matcher is None:
        return [Result("semantic analyst: per message", "ms", [0.0], note="the semantic model is not installed")]
    started = time.perf_counter()
    matcher()
    index_ms = (time.perf_counter() - started) * 1000
    messages = [q.text for q in load_questions("test")][: 60 if quick else None]
    messages += [m for _, _, _, ms in _scripts("test", 1 if quick else 3) for m in ms]
    samples = []
    for text in messages:
        started = time.perf_counter()
        analyst.analyze_now(text)
        samples.append((time.perf_counter() - started) * 1000)
    first_ms = _first_question_fresh()
    return [
        Result(
            "semantic analyst: first question, fresh install",
            "ms",
            [first_ms],
            note="no embeddings cached yet; the question arrives as the interview opens",
        ),
        Result(
            "semantic analyst: per message",
            "ms",
            samples,
            target=15,
            note=f"{len(messages)} questions and design turns",
        ),
        Result(
            "semantic analyst: load",
            "ms",
            [load_ms],
            target=1000,
            note=f"then the problem's index: {index_ms:.0f} ms (cached on disk)",
        ),
    ]


def _first_question_fresh() -> float:
    """The wait for the first question's answer on a fresh install (nothing cached on disk), when it comes
    the moment the interview opens: the worst case, since a candidate usually reads the prompt first."""
    import time

    from bench.common import temporary_home
    from interviewer.engine.analyst import offline_analyst
    from interviewer.understanding.lexicon import Lexicon

    library = ContentLibrary()
    with temporary_home():
        analyst = offline_analyst(Lexicon(library.problems.get("payment-fraud"), library.rubrics.get("ml-design")))
        started = time.perf_counter()
        analyst.warm()
        analyst.analyze_now("roughly how many payments do we handle a day?")
        return (time.perf_counter() - started) * 1000


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.understanding")
    parser.add_argument("--split", default="test", choices=["tune", "test"])
    parser.add_argument("--misses", action="store_true", help="list every question answered wrongly")
    parser.add_argument("--grading", action="store_true", help="also grade the scripted candidates")
    args = parser.parse_args()
    total, per_problem, kind = fact_report(args.split)
    report = stage_report(args.split)
    print(
        f"stage reader on the {args.split} split: {report.accuracy:.3f} of {report.sentences} sentences read right; "
        f"{report.credited_precision:.3f} of those credited to a stage credited right"
    )
    print(f"{kind} analyst on the {args.split} split")
    for problem, tally in sorted(per_problem.items()):
        print(
            f"  {problem:26s} recall {tally.recall:.2f}  precision {tally.precision:.2f}  over {tally.over_reveal:.2f}"
        )
    print(f"  {'all':26s} recall {total.recall:.3f}  precision {total.precision:.3f}  over {total.over_reveal:.3f}")
    print("  what the candidate heard:")
    for name in sorted(total.outcomes):
        print(f"    {name:48s} {total.outcomes[name]:4d}  ({total.share(name):.1%})")
    if args.misses:
        print("\n".join(total.misses))
    if args.grading:
        found = spread(args.split)
        for kind, value in sorted(found["means"].items()):
            print(f"  grading {kind:16s} mean overall {value:.2f}")
        skipped = found["one_stage_skipped"]
        print(
            f"  one-stage candidates at 2 or less on every skipped stage: {sum(s <= 2 for s in skipped)} of {len(skipped)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
