"""Which hidden facts answer a question: by meaning first, words second.

Each fact is known by its example asks (questions written from the candidate's side), the sentences of
its answer and its cues. A question is compared with all of them in the sentence model's space (raw, and
through an adapter learnt from the built-in asks), with BM25 over the same texts as a second, lexical
opinion, and with the problem's "open" questions (what the spec leaves open) as the alternative to every
fact. A small logistic model, fitted on questions the authors never saw (``bench/understanding_fit.py``),
turns those features into the chance that the fact answers the question.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interviewer.content.models import Problem
from interviewer.text import sentences, term_set
from interviewer.understanding.asks import Ask
from interviewer.understanding.lexicon import Lexicon

if TYPE_CHECKING:
    import numpy as np

    from interviewer.understanding.encoder import EmbeddingCache

DATA = Path(__file__).resolve().parent / "data"
ADAPTER_FILE = DATA / "adapter.npy"
MODEL_FILE = DATA / "matcher.json"

FEATURES = (
    "ask_max",
    "ask_top3",
    "answer_max",
    "cue_max",
    "adapted",
    "message",
    "bm25",
    "cue_hit",
    "margin",
    "gap",
    "over_open",
)
"""What the logistic model sees for one (question, fact) pair."""

MAX_FACTS_PER_ASK = 2
CLARIFY_AT = 0.3
"""Below the answer threshold but at this chance or more, a fact is a candidate to ask about ("do you
mean ...?"); below it, the spec leaves the question open."""


@dataclass(frozen=True, slots=True)
class FactChance:
    fact: str
    chance: float


@dataclass(frozen=True, slots=True)
class AskReading:
    ask: Ask
    facts: tuple[str, ...]
    """The facts that answer it (empty: the spec leaves it open)."""
    ranked: tuple[FactChance, ...]
    """Every fact with its chance, best first (for the close calls and the director's notes)."""
    close: tuple[str, ...] = ()
    """When no fact answers it: the one or two it most likely means, if they are likely enough to ask."""


@dataclass(frozen=True, slots=True)
class Combiner:
    """The fitted logistic model and the decision thresholds."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    """A fact answers a question at this chance or more."""
    second_threshold: float
    """A second fact for the same question needs this much (compound questions name both)."""

    def chance(self, row: list[float]) -> float:
        z = self.bias + sum(
            w * (x - m) / s for w, x, m, s in zip(self.weights, row, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> Combiner:
        data = json.loads(path.read_text())
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted for other features: {data['features']}")
        return cls(
            tuple(data["mean"]),
            tuple(data["scale"]),
            tuple(data["weights"]),
            data["bias"],
            data["threshold"],
            data["second_threshold"],
        )


@cache
def default_combiner() -> Combiner:
    return Combiner.load()


@cache
def default_adapter() -> Any:
    """The learnt metric (a 384×384 matrix) or, before it has been fitted, the identity."""
    import numpy as np

    if ADAPTER_FILE.is_file():
        return np.load(ADAPTER_FILE, allow_pickle=False).astype(np.float32)
    return np.eye(384, dtype=np.float32)


class FactIndex:
    """One problem's facts as the matcher reads them: their texts embedded once (and cached on disk)."""

    def __init__(self, problem: Problem, cache: EmbeddingCache, adapter: Any | None = None):
        import numpy as np

        self.problem = problem
        self.fact_ids = [fact.id for fact in problem.facts]
        keys: list[tuple[str, str, str]] = []  # (fact id or "", kind, text)
        for fact in problem.facts:
            keys += [(fact.id, "ask", text) for text in fact.asks]
            keys += [(fact.id, "answer", s.text) for s in sentences(fact.answer)]
            keys += [(fact.id, "cue", text) for text in fact.cues]
        keys += [("", "open", text) for text in problem.open]
        self._fact_of = np.array([k[0] for k in keys])
        self._kind = np.array([k[1] for k in keys])
        self.vectors = cache.matrix([k[2] for k in keys])
        adapter = default_adapter() if adapter is None else adapter
        self._centroids = np.stack([self._centroid(fact) for fact in self.fact_ids]) @ adapter.T
        self.adapter = adapter
        self.lexicon = Lexicon(problem)
        self._bm25 = _BM25(
            {fact.id: [fact.answer, *fact.cues, *fact.asks] for fact in problem.facts}, self.lexicon.topic
        )
        self._masks = {
            fact: {kind: (self._fact_of == fact) & (self._kind == kind) for kind in ("ask", "answer", "cue")}
            for fact in self.fact_ids
        }
        self._open = self._kind == "open"

    def _centroid(self, fact: str) -> np.ndarray:
        import numpy as np

        rows = self.vectors[(self._fact_of == fact) & (self._kind != "cue")]
        centre = rows.mean(0)
        result: np.ndarray = centre / (np.linalg.norm(centre) or 1.0)
        return result

    def feature_rows(self, ask: Ask, vector: np.ndarray, message: np.ndarray) -> dict[str, list[float]]:
        """The features of the question against every fact."""
        sims = self.vectors @ vector
        message_sims = self.vectors @ message
        adapted = self._centroids @ vector
        bm25 = self._bm25.scores(term_set(ask.text) - self.lexicon.topic)
        cue_hits = set(self.lexicon.match_facts(ask.text))
        open_best = float(sims[self._open].max()) if self._open.any() else 0.0
        raw: dict[str, list[float]] = {}
        for index, fact in enumerate(self.fact_ids):
            masks = self._masks[fact]
            asks = sims[masks["ask"]] if masks["ask"].any() else sims[masks["answer"]]
            top = sorted(asks.tolist(), reverse=True)
            raw[fact] = [
                top[0],
                sum(top[:3]) / len(top[:3]),
                float(sims[masks["answer"]].max()),
                float(sims[masks["cue"]].max()) if masks["cue"].any() else 0.0,
                float(adapted[index]),
                float(message_sims[self._fact_of == fact].max()),
                bm25[fact],
                float(fact in cue_hits),
            ]
        return _with_relative_features(raw, open_best)


def _with_relative_features(raw: dict[str, list[float]], open_best: float) -> dict[str, list[float]]:
    """Add how a fact stands against the others and against the open questions."""
    combined = {fact: 0.5 * row[0] + 0.5 * row[4] + 0.3 * row[6] for fact, row in raw.items()}
    best = max(combined.values())
    rows: dict[str, list[float]] = {}
    for fact, row in raw.items():
        others = [v for other, v in combined.items() if other != fact]
        margin = combined[fact] - (max(others) if others else 0.0)
        rows[fact] = [*row, margin, combined[fact] - best, row[0] - open_best]
    return rows


class _BM25:
    """Okapi BM25 over each fact's texts; scores are scaled so the best fact for a question is 1."""

    K1, B = 1.2, 0.75

    def __init__(self, documents: dict[str, list[str]], topic: frozenset[str]):
        self.terms = {
            fact: Counter(t for text in texts for t in term_set(text) - topic) for fact, texts in documents.items()
        }
        self.lengths = {fact: sum(counts.values()) for fact, counts in self.terms.items()}
        self.average = (sum(self.lengths.values()) / len(self.lengths)) or 1.0
        frequency = Counter(t for counts in self.terms.values() for t in counts)
        n = len(self.terms)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}

    def scores(self, query: frozenset[str]) -> dict[str, float]:
        out = {}
        for fact, counts in self.terms.items():
            norm = self.K1 * (1 - self.B + self.B * self.lengths[fact] / self.average)
            out[fact] = sum(self.idf[t] * counts[t] * (self.K1 + 1) / (counts[t] + norm) for t in query if t in counts)
        best = max(out.values(), default=0.0)
        return {fact: (score / best if best > 0 else 0.0) for fact, score in out.items()}


CONTEXT_WORDS = 60
"""The context a question is also read in: its sentences and the one before each, at most this many words
(a long design message is not encoded whole for the sake of one question in it)."""


def context_of(message: str, asks: list[Ask]) -> str:
    parts = sentences(message)
    asking = {ask.sentence for ask in asks}
    keep: list[str] = []
    for index, sentence in enumerate(parts):
        if sentence.text.strip() in asking:
            for text in (parts[index - 1].text if index else "", sentence.text):
                if text and text not in keep:
                    keep.append(text)
    words = " ".join(keep).split()
    return " ".join(words[:CONTEXT_WORDS]) or message


class FactMatcher:
    """Reads the questions of a message against one problem's facts."""

    def __init__(self, index: FactIndex, encoder: Any, combiner: Combiner | None = None):
        self.index = index
        self.encoder = encoder
        self.combiner = combiner or default_combiner()

    def read(self, message: str, asks: list[Ask]) -> list[AskReading]:
        if not asks:
            return []
        vectors = self.encoder.encode([ask.text for ask in asks] + [context_of(message, asks)])
        readings = []
        for ask, vector in zip(asks, vectors[:-1], strict=True):
            rows = self.index.feature_rows(ask, vector, vectors[-1])
            ranked = sorted(
                (FactChance(fact, self.combiner.chance(row)) for fact, row in rows.items()),
                key=lambda item: -item.chance,
            )
            chosen = self._chosen(ranked)
            close = () if chosen else tuple(item.fact for item in ranked[:2] if item.chance >= CLARIFY_AT)
            readings.append(AskReading(ask, chosen, tuple(ranked), close))
        return readings

    def _chosen(self, ranked: list[FactChance]) -> tuple[str, ...]:
        if not ranked or ranked[0].chance < self.combiner.threshold:
            return ()
        chosen = [ranked[0].fact]
        for item in ranked[1:MAX_FACTS_PER_ASK]:
            if item.chance >= self.combiner.second_threshold:
                chosen.append(item.fact)
        return tuple(chosen)
