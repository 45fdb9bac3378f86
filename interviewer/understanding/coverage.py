"""Which stage of the agenda a statement works on, read by meaning rather than by its words.

"We'd watch the calibration of the score every day" is monitoring even though it names a metric; "the
model" said in passing while talking about labels is data. A softmax over the sentence model's embedding
reads a sentence's stage (or none: filler, announcements, talk about process). It was fitted on sentences
from candidates' turns that people labelled with the stage an interviewer would credit them to
(``tests/eval/stages/tune.jsonl``; ``python -m bench.understanding_fit`` refits it) and is measured on the
other half.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from interviewer.stages import STAGE_IDS

if TYPE_CHECKING:
    import numpy as np

STAGE_MODEL_FILE = Path(__file__).resolve().parent / "data" / "stages.json"
NONE = "none"
LABELS = (*STAGE_IDS, NONE)
CREDIT_AT = 0.5
"""A sentence counts towards its stage when the reading is at least this sure (below it, a sentence that
straddles two stages counts for neither)."""
TURN_WEIGHT = 1.0
"""How much the turn around a sentence weighs in reading it (labelled test sentences: 67 % read right alone,
72 % with the turn; of those credited to a stage, 75 % and 83 %)."""


@dataclass(frozen=True, slots=True)
class StageReading:
    stage: str | None
    """The stage the sentence is credited to, or None (no stage, or not sure enough)."""
    label: str
    """The likeliest reading, "none" included, however sure."""
    chance: float


class StageReader:
    """The fitted softmax: one row of weights per embedding dimension (and a bias), one column per label."""

    def __init__(self, weights: np.ndarray, scale: float):
        self.weights = weights
        self.scale = scale

    @classmethod
    def load(cls, path: Path = STAGE_MODEL_FILE) -> StageReader:
        import numpy as np

        data = json.loads(path.read_text())
        if tuple(data["labels"]) != LABELS:
            raise ValueError(f"{path} was fitted for other labels: {data['labels']}")
        return cls(np.array(data["weights"], dtype=np.float32), float(data["scale"]))

    def chances(self, vectors: np.ndarray) -> np.ndarray:
        """Per sentence (row), the chance of each label."""
        import numpy as np

        logits = (vectors * self.scale) @ self.weights[:-1] + self.weights[-1]
        logits = np.exp(logits - logits.max(1, keepdims=True))
        result: np.ndarray = logits / logits.sum(1, keepdims=True)
        return result

    def read(self, vectors: np.ndarray) -> list[StageReading]:
        """The stage of each of one turn's sentences, each read together with the turn it sits in ("It is
        cheap to debug" after a sentence on the model is about the model)."""
        if not len(vectors):
            return []
        own = self.chances(vectors)
        chances = own + TURN_WEIGHT * own.mean(0)
        chances /= chances.sum(1, keepdims=True)
        out = []
        for row in chances:
            best = int(row.argmax())
            label, chance = LABELS[best], float(row[best])
            out.append(StageReading(label if label != NONE and chance >= CREDIT_AT else None, label, chance))
        return out


@cache
def default_stage_reader() -> StageReader:
    return StageReader.load()
