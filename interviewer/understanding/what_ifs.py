"""Did the candidate take up the what-if the interviewer raised, or carry on as if it had not been said?

A reply takes it up when one of its sentences is near the what-if in meaning, when it shares several
words with it, or when the whole reply is nearer the what-if than anything else the interview could be
discussing (the problem's other what-ifs and its stage probes). Without the sentence model, shared
words decide alone.

Measured on 292 replies written for the built-in what-ifs by someone who saw only the what-if and the
public prompt (half took it up, half went on with another part of the design): tuned on the replies for
half the problems, 0.86 of the other half are read right (0.84 of the replies read as "went on" did).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from interviewer.content.models import Problem, WhatIf
from interviewer.stages import STAGE_IDS
from interviewer.text import sentences, term_set

if TYPE_CHECKING:
    import numpy as np

    from interviewer.understanding.encoder import EmbeddingCache, Encoder

SENTENCE_AT = 0.38
"""A sentence this near the what-if takes it up."""
SHARED_WORDS_AT = 3
"""So do this many of the what-if's words, with the sentence model; without it, two."""
LEXICAL_SHARED_WORDS_AT = 2


def shared_words(text: str, what_if: WhatIf, topic: frozenset[str] = frozenset()) -> int:
    """Words the reply shares with the what-if, leaving out the problem's own (``topic``): every reply on
    this problem says "mail" for the spam filter."""
    return len((term_set(text) & term_set(what_if.text)) - topic)


def takes_up_by_words(text: str, what_if: WhatIf, topic: frozenset[str] = frozenset()) -> bool:
    """The lexical reading, where the sentence model is not installed."""
    return shared_words(text, what_if, topic) >= LEXICAL_SHARED_WORDS_AT


class WhatIfReader:
    """Reads replies to one problem's what-ifs by meaning; the problem's texts are embedded once."""

    def __init__(self, problem: Problem, encoder: Encoder, cache: EmbeddingCache):
        self.problem = problem
        self.topic = term_set(f"{problem.title}. {problem.prompt}")
        self.encoder = encoder
        self._what_ifs = {item.id: index for index, item in enumerate(problem.what_ifs)}
        self._what_if_vectors = cache.matrix([item.text for item in problem.what_ifs]) if problem.what_ifs else None
        probes = [probe for stage in STAGE_IDS[1:] for probe in problem.probes_for(stage)]
        self._probe_vectors = cache.matrix(probes) if probes else None

    def takes_up(self, text: str, what_if: WhatIf) -> bool:
        if shared_words(text, what_if, self.topic) >= SHARED_WORDS_AT:
            return True
        index = self._what_ifs.get(what_if.id)
        if index is None or self._what_if_vectors is None:
            return False
        parts = [text, *(sentence.text for sentence in sentences(text))]
        vectors = self.encoder.encode(parts)
        target = self._what_if_vectors[index]
        nearest_sentence = float((vectors[1:] @ target).max()) if len(parts) > 1 else float(vectors[0] @ target)
        return nearest_sentence >= SENTENCE_AT or float(vectors[0] @ target) >= self._nearest_other(vectors[0], index)

    def _nearest_other(self, vector: np.ndarray, index: int) -> float:
        assert self._what_if_vectors is not None
        scores = [float(score) for position, score in enumerate(self._what_if_vectors @ vector) if position != index]
        if self._probe_vectors is not None:
            scores.append(float((self._probe_vectors @ vector).max()))
        return max(scores, default=-1.0)
