"""The offline grader, reading by meaning: a dimension earns credit for what the candidate said about
*this* problem.

Every substantive sentence the candidate wrote (each once: a paragraph pasted again counts once) is
embedded with the sentence model. A reference point of the problem counts as met when a sentence says it
closely enough *and* says it more nearly than it says the same dimension's reference points of any other
problem: a fluent generality ("we'd monitor drift and alert on it") fits every problem equally and so
meets none. A transcript that is mostly about another system is noticed and graded as such.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from interviewer.content.models import Dimension, Problem, Rubric
from interviewer.grading.attempts import asks_about_the_interviewer
from interviewer.grading.base import Grader
from interviewer.grading.scorecard import (
    DimensionScore,
    Evidence,
    Scorecard,
    Transcript,
    as_clause,
    finalize,
    unanswered_what_ifs_note,
)
from interviewer.stages import STAGE_IDS
from interviewer.text import has_number, has_reasoning, is_question, is_substantive, normalized, quote_of, sentences
from interviewer.understanding.asks import asks_in
from interviewer.understanding.coverage import LABELS, TURN_WEIGHT, default_stage_reader
from interviewer.understanding.patterns import ASSUMPTION
from interviewer.understanding.relevance import topic_texts

if TYPE_CHECKING:
    import numpy as np

    from interviewer.understanding.encoder import EmbeddingCache

GRADER_NAME = "offline-semantic"
MAX_EVIDENCE = 3

MEETS = 0.5
"""A sentence says a reference point at this cosine similarity or more (and more nearly than elsewhere)."""
SAME = 0.95
"""Two sentences this close say the same thing: the second adds nothing."""
ABOUT_FACT = 0.3
"""A clarification point asks for a fact when the fact matcher gives the fact this chance or more."""
OFF_TOPIC_SHARE = 0.2
"""Below this share of sentences about this problem (rather than another), the candidate designed
something else."""
OFF_STAGE_OWN = 0.05
OFF_STAGE_OTHER = 0.7
"""Evidence for a stage is set aside when the stage reader gives that stage less than OFF_STAGE_OWN and
another stage at least OFF_STAGE_OTHER. Chosen on the tune split of the labelled stage sentences, set
to keep wrong cuts rare rather than to catch most: as evidence for their own stage 0.1 % of sentences
are cut (test split: 0.8 %), as evidence for another stage 41 % (test: 32 %)."""

_TRADE_OFF = re.compile(
    r"\b(?:trade-?offs?|versus|vs\.?|instead of|rather than|on the other hand|at the cost of|the downside|"
    r"downsides?|pros and cons|cheaper but|faster but|simpler but|better but|worse but|in exchange|"
    r"the price is|balance between|balances?|the catch)\b",
    re.IGNORECASE,
)
_STRUCTURE = re.compile(
    r"\b(?:first(?:ly)?|second(?:ly)?|then|next|finally|to summari[sz]e|in summary|let me start|i'?ll start|"
    r"let'?s start|moving on|my plan|the plan is|to recap)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Said:
    turn: int
    text: str
    row: int
    """Its row in the reading's embedding matrix."""
    reasoned: bool
    trade_off: bool
    asked: bool = False
    """A question: it can meet a clarification point ("Asks about …"), and nothing else."""


class _Background:
    """Every known problem's reference points and topic texts, embedded once: what "specific to this
    problem" is measured against."""

    def __init__(self, problems: list[Problem], cache: EmbeddingCache):
        import numpy as np

        self.by_dimension: dict[str, tuple[Any, Any]] = {}
        for dimension in (*STAGE_IDS, "communication"):
            texts, owners = [], []
            for problem in problems:
                for point in problem.reference_for(dimension):
                    texts.append(point)
                    owners.append(problem.id)
            if texts:
                self.by_dimension[dimension] = (cache.matrix(texts), np.array(owners))
        self.topics = {problem.id: cache.matrix(topic_texts(problem)) for problem in problems}

    def best_elsewhere(self, dimension: str, problem_id: str, vectors: np.ndarray) -> np.ndarray:
        """Per sentence, its best similarity to this dimension's points of the other problems."""
        import numpy as np

        if dimension not in self.by_dimension or not len(vectors):
            return np.zeros(len(vectors))
        matrix, owners = self.by_dimension[dimension]
        others = matrix[owners != problem_id]
        result: np.ndarray = (others @ vectors.T).max(0) if len(others) else np.zeros(len(vectors))
        return result

    def share_about(self, problem_id: str, vectors: np.ndarray) -> float:
        """The share of sentences nearer this problem than any other known problem."""
        import numpy as np

        if not len(vectors) or problem_id not in self.topics:
            return 1.0
        ids = list(self.topics)
        best = np.stack([(self.topics[p] @ vectors.T).max(0) for p in ids])
        return float((best.argmax(0) == ids.index(problem_id)).mean())


class SemanticGrader(Grader):
    name = GRADER_NAME

    def __init__(self, encoder: Any, cache: EmbeddingCache, known: list[Problem]):
        self.encoder = encoder
        self.cache = cache
        self.known = known

    async def grade(self, transcript: Transcript, rubric: Rubric, problem: Problem) -> Scorecard:
        return await asyncio.to_thread(self.grade_now, transcript, rubric, problem)

    def grade_now(self, transcript: Transcript, rubric: Rubric, problem: Problem) -> Scorecard:
        problems = [p for p in self.known if p.id != problem.id] + [problem]
        background = _Background(problems, self.cache)
        said, vectors = self._read(transcript)
        statements = [s.row for s in said if not s.asked]
        about = background.share_about(problem.id, vectors[statements])
        off_topic = len(statements) >= 3 and about < OFF_TOPIC_SHARE
        judge = _Judge(problem, rubric.expectation, said, vectors, background, transcript, self.cache, self.encoder)
        dimensions: list[DimensionScore] = []
        missed: dict[str, list[str]] = {}
        for dimension in rubric.dimensions:
            score, missed[dimension.id] = judge.dimension(dimension, off_topic)
            dimensions.append(score)
        notes = ["Graded offline by meaning: what you said about this problem, against its reference points."]
        if off_topic:
            notes.append(
                f"Most of what you designed is not about this problem ({problem.title}): only "
                f"{about:.0%} of your statements were; every dimension is graded on that."
            )
        strengths, improvements = _feedback(dimensions, judge.met, missed)
        return finalize(
            interview_id=transcript.interview_id,
            rubric=rubric,
            grader=GRADER_NAME,
            dimensions=dimensions,
            transcript=transcript,
            strengths=strengths,
            improvements=improvements,
            missed_points=missed,
            notes=notes,
        )

    def off_stage(self, transcript: Transcript, quotes: Sequence[tuple[str, Evidence]]) -> list[bool]:
        """A quote works on another stage when, read with the rest of its turn, every sentence of it is
        almost surely not about ``stage`` (chance below :data:`OFF_STAGE_OWN`) and likely about another
        (:data:`OFF_STAGE_OTHER`)."""
        import numpy as np

        reader = default_stage_reader()
        said = {turn.seq: turn.text for turn in transcript.candidate_turns()}
        turn_chances: dict[int, np.ndarray] = {}
        out = []
        for stage, evidence in quotes:
            parts = [s.text for s in sentences(evidence.quote)]
            if stage not in STAGE_IDS or evidence.turn not in said or not parts:
                out.append(False)
                continue
            if evidence.turn not in turn_chances:
                whole = [s.text for s in sentences(said[evidence.turn])] or [said[evidence.turn]]
                turn_chances[evidence.turn] = reader.chances(self.encoder.encode(whole)).mean(0)
            chances = reader.chances(self.encoder.encode(parts)) + TURN_WEIGHT * turn_chances[evidence.turn]
            chances /= chances.sum(1, keepdims=True)
            own = chances[:, LABELS.index(stage)]
            others = np.delete(chances[:, : len(STAGE_IDS)], STAGE_IDS.index(stage), axis=1).max(1)
            out.append(bool(((own < OFF_STAGE_OWN) & (others >= OFF_STAGE_OTHER)).all()))
        return out

    def _read(self, transcript: Transcript) -> tuple[list[_Said], np.ndarray]:
        """The candidate's substantive statements and their questions, each said once."""
        import numpy as np

        seen: set[str] = set()
        candidates: list[tuple[int, str, bool]] = []  # (turn, sentence, a question?)
        for turn in transcript.credited_turns():
            for sentence in sentences(turn.text):
                key = normalized(sentence.text)
                asked = is_question(sentence.text)
                if asked and asks_about_the_interviewer(sentence.text):
                    continue  # about the interviewer's briefing, not the problem
                if key in seen or not (len(key.split()) >= 3 if asked else is_substantive(sentence.text)):
                    continue
                seen.add(key)
                candidates.append((turn.seq, sentence.text, asked))
        vectors = self.encoder.encode([text for _, text, _ in candidates])
        said: list[_Said] = []
        kept: list[int] = []
        for index, (seq, text, asked) in enumerate(candidates):
            if kept and float((vectors[kept] @ vectors[index]).max()) >= SAME:
                continue  # the same point again, in other words or pasted once more
            kept.append(index)
            reasoned = not asked and (has_reasoning(text) or has_number(text))
            trade_off = not asked and bool(_TRADE_OFF.search(text))
            said.append(_Said(seq, text, len(kept) - 1, reasoned, trade_off, asked))
        return said, (vectors[kept] if kept else np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 384)))


class _Judge:
    """Scores one transcript dimension by dimension, remembering which reference points were met."""

    def __init__(
        self,
        problem: Problem,
        scale: float,
        said: list[_Said],
        vectors: np.ndarray,
        background: _Background,
        transcript: Transcript,
        cache: EmbeddingCache,
        encoder: Any,
    ):
        self.problem, self.scale, self.said, self.vectors = problem, scale, said, vectors
        self.statements = [s for s in said if not s.asked]
        self.background, self.transcript, self.cache, self.encoder = background, transcript, cache, encoder
        self.reader = default_stage_reader()
        self.stages, self.discussed = self._read_stages()
        self.met: dict[str, list[tuple[str, _Said]]] = {}

    def _read_stages(self) -> tuple[list[str | None], set[str]]:
        """Per statement, the stage it works on (read with the rest of its turn, as the interviewer read
        it), and the stages some turn was mainly about: a stage no turn was about was only passed through."""
        import numpy as np

        stages: list[str | None] = [None] * len(self.said)
        discussed: set[str] = set()
        turns: dict[int, list[_Said]] = {}
        for said in self.statements:
            turns.setdefault(said.turn, []).append(said)
        for group in turns.values():
            vectors = self.vectors[[said.row for said in group]]
            readings = self.reader.read(vectors)
            for said, reading in zip(group, readings, strict=True):
                stages[said.row] = reading.stage
            main = LABELS[int(np.argmax(self.reader.chances(vectors).mean(0)))]
            counted = Counter(reading.stage for reading in readings if reading.stage is not None)
            discussed |= {stage for stage, count in counted.items() if count >= 2 or stage == main}
        return stages, discussed

    def dimension(self, dimension: Dimension, off_topic: bool) -> tuple[DimensionScore, list[str]]:
        points = self.problem.reference_for(dimension.id)
        met = self._met(dimension.id, points)
        if dimension.id == "clarification":
            met += [item for item in self._met_by_asking(points) if item[0] not in {p for p, _ in met}]
        self.met[dimension.id] = met
        missed = [point for point in points if point not in {p for p, _ in met}]
        if dimension.id == "clarification" or dimension.stage == "clarification":
            score, rationale, evidence = self._clarification(met, len(points))
        elif dimension.stage is None:
            score, rationale, evidence = self._communication()
        else:
            score, rationale, evidence = self._stage(dimension.stage, met, len(points))
        if off_topic:
            score, rationale = 1, "What was said was about another system, not this problem. " + rationale
        quotes = [Evidence(turn=s.turn, quote=quote_of(s.text)) for s in _distinct(evidence)[:MAX_EVIDENCE]]
        return DimensionScore(
            id=dimension.id, name=dimension.name, score=score, rationale=rationale, evidence=quotes
        ), missed

    def _met(self, dimension: str, points: list[str]) -> list[tuple[str, _Said]]:
        """The reference points some sentence says, specifically, each with its best sentence."""
        if not points or not self.said:
            return []
        import numpy as np

        sims = self.cache.matrix(points) @ self.vectors.T
        elsewhere = self.background.best_elsewhere(dimension, self.problem.id, self.vectors)
        # Evidence for a stage must be about that stage: a sentence on the model does not meet a
        # deployment point because it mentions serving in passing. A question meets only what is asked
        # for in clarifying the problem ("Asks about the latency budget").
        if dimension == "clarification":
            about = np.ones(len(self.said), dtype=bool)
        elif dimension in STAGE_IDS:
            about = np.array([stage == dimension for stage in self.stages])
        else:
            about = np.array([not s.asked for s in self.said])
        met = []
        for index, point in enumerate(points):
            specific = (sims[index] >= MEETS) & (sims[index] >= elsewhere) & about
            if specific.any():
                best = int((sims[index] * specific).argmax())
                met.append((point, self.said[best]))
        return met

    def _met_by_asking(self, points: list[str]) -> list[tuple[str, _Said]]:
        """Clarification points are things to find out ("Asks about volume and peak traffic"): one is met
        when a question drew out a fact the point asks for, as the interviewer's own matcher reads the point."""
        from interviewer.understanding.asks import Ask
        from interviewer.understanding.facts import FactIndex, FactMatcher

        asked = self._answered_questions()
        if not points or not asked:
            return []
        matcher = FactMatcher(FactIndex(self.problem, self.cache), self.encoder)
        met = []
        for point in points:
            reading = matcher.read(point, [Ask(point, point)])[0]
            wanted = [chance.fact for chance in reading.ranked[:2] if chance.chance >= ABOUT_FACT]
            turns = [self.transcript.facts_asked_at[fact] for fact in wanted if fact in self.transcript.facts_asked_at]
            before = [question for question in asked if turns and question.turn < min(turns)]
            if before:
                met.append((point, before[-1]))  # the question just before the answer that gave it
        return met

    def _stage(self, stage: str, met: list[tuple[str, _Said]], total: int) -> tuple[int, str, list[_Said]]:
        on_stage = [s for s in self.said if self.stages[s.row] == stage]
        reasoned = sum(s.reasoned for _, s in met)
        score = self._stage_level(len(met), reasoned, len(on_stage), total)
        if score > 2 and stage not in self.discussed:
            score = 2  # mentioned along the way, never taken up as a topic of its own
        rationale = (
            f"Met {len(met)} of {total} reference point(s) for this problem"
            + (f" ({reasoned} with a reason or a figure)" if met else "")
            + f"; {len(on_stage)} statement(s) on this stage."
        )
        return score, rationale, [s for _, s in met] or [s for s in on_stage if s.reasoned]

    def _stage_level(self, met: int, reasoned: int, on_stage: int, total: int) -> int:
        """A stage is discussed, not passed through: one sentence in passing earns no more than a mention."""
        if met >= max(2, math.ceil(0.5 * total * self.scale)) and reasoned >= 2 and on_stage >= 3:
            return 4
        if met >= max(1, round(0.25 * total * self.scale)) and on_stage >= 2 and reasoned >= 1:
            return 3
        return 2 if on_stage else 1

    def _clarification(self, met: list[tuple[str, _Said]], total: int) -> tuple[int, str, list[_Said]]:
        questions = [
            t
            for t in self.transcript.credited_turns()
            if any(s.is_question and not asks_about_the_interviewer(s.text) for s in sentences(t.text))
        ]
        answered = self._answered_questions()
        assumptions = [s for s in self.statements if ASSUMPTION.search(s.text)]
        uncovered = list(dict.fromkeys(self.transcript.facts_asked))
        facts = len(self.problem.facts)
        if len(uncovered) >= max(3, math.ceil(0.35 * facts * self.scale)) and assumptions:
            score = 4
        elif len(uncovered) >= max(2, round(2 * self.scale)) or (uncovered and met):
            score = 3
        elif questions or assumptions:
            score = 2
        else:
            score = 1
        rationale = (
            f"Uncovered {len(uncovered)} of {facts} fact(s) of the spec by asking, in {len(questions)} turn(s) with "
            f"questions; stated {len(assumptions)} assumption(s)."
        )
        return score, rationale, answered + assumptions

    def _answered_questions(self) -> list[_Said]:
        """The questions the interviewer answered from the spec (the turn after them is an answer)."""
        turns = self.transcript.turns
        out: list[_Said] = []
        flagged = set(self.transcript.flagged)
        for index, turn in enumerate(turns[:-1]):
            if turn.role != "candidate" or turns[index + 1].kind != "answer" or turn.seq in flagged:
                continue
            for sentence in sentences(turn.text):
                # A preamble ("can I ask a few things?") asks nothing: no evidence of clarifying.
                if sentence.is_question and asks_in(sentence.text) and not asks_about_the_interviewer(sentence.text):
                    out.append(_Said(turn.seq, sentence.text, -1 - len(out), False, False))
        return out

    def _communication(self) -> tuple[int, str, list[_Said]]:
        specific = any(self.met.values())
        trade_offs = [s for s in self.statements if s.trade_off]
        redirects = len(self.transcript.redirects)
        if len(self.statements) < 3:
            return 1, "Too little was said to lead the discussion.", []
        if not specific:
            score = 2 if trade_offs else 1
        elif len(trade_offs) >= max(2, round(2 * self.scale)) and redirects <= 1:
            score = 4
        elif trade_offs or redirects == 0:
            score = 3
        else:
            score = 2
        score = max(1, score - len(self.transcript.what_ifs_unanswered))
        rationale = (
            f"{len(trade_offs)} statement(s) weighing a trade-off; the interviewer steered {redirects} time(s)"
            + ("" if specific else "; nothing said was specific to this problem")
            + unanswered_what_ifs_note(self.transcript)
            + "."
        )
        return score, rationale, trade_offs


def _distinct(items: list[_Said]) -> list[_Said]:
    seen: set[int] = set()
    out = []
    for item in items:
        if item.row not in seen:
            seen.add(item.row)
            out.append(item)
    return out


def _feedback(
    dimensions: list[DimensionScore], met: dict[str, list[tuple[str, _Said]]], missed: dict[str, list[str]]
) -> tuple[list[str], list[str]]:
    """Strengths name what was said, with the turn; improvements name what this problem needed."""
    strengths = [
        f'{d.name}: covered "{met[d.id][0][0]}" (turn {met[d.id][0][1].turn})'
        for d in sorted(dimensions, key=lambda d: -d.score)
        if d.score >= 3 and met.get(d.id)
    ]
    improvements = [
        f"{d.name}: for this problem, a strong candidate {as_clause(missed[d.id][0])}"
        for d in sorted(dimensions, key=lambda d: d.score)
        if d.score <= 3 and missed.get(d.id)
    ]
    return strengths[:4], improvements[:5]


def semantic_grader(semantic_model: str | None = None) -> SemanticGrader | None:
    """The grader that reads by meaning, or None when the sentence model is not installed."""
    from interviewer.content import ContentLibrary
    from interviewer.understanding.encoder import EmbeddingCache, load_encoder

    encoder = load_encoder(semantic_model)
    if isinstance(encoder, str):
        return None
    library = ContentLibrary()
    known = [library.problems.get(problem_id) for problem_id in library.problems.ids()]
    return SemanticGrader(encoder, EmbeddingCache(encoder), known)
