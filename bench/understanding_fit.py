"""Fit what the semantic fact matcher learns, and write it into the package.

    python -m bench.understanding_fit

1. The adapter: a 384×384 metric over sentence embeddings, learnt from the built-in problems' own
   example asks (content the authors wrote), so that a question lands nearer the fact it asks for than
   the other facts of the same problem. Written to ``interviewer/understanding/data/adapter.npy``.
2. The combiner: a logistic model over the matcher's features, fitted on the *tune* half of the
   evaluation set (questions written without seeing the problem files), with the decision thresholds
   chosen there by cross-validation across problems. Written to ``.../data/matcher.json``.
3. The stage reader: a softmax over sentence embeddings, fitted on the labelled sentences of the tune
   half's scripted candidates (``tests/eval/stages/tune.jsonl``). Written to ``.../data/stages.json``.

    python -m bench.understanding_fit --only stages     # just the stage reader

The *test* half is never read here; ``python -m bench --only understanding`` reports on it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.understanding import EVAL, Corpus, load_questions
from interviewer.understanding.coverage import LABELS, STAGE_MODEL_FILE
from interviewer.understanding.facts import ADAPTER_FILE, FEATURES, MODEL_FILE

SEED = 20261202
EPOCHS = 60
TEMPERATURE = 20.0


def fit_adapter(corpus: Corpus) -> np.ndarray:
    """Metric learning on the asks: softmax over a problem's facts of x·M·centroid, leave-one-out."""
    vectors, fact_of, problem_of = corpus.ask_vectors()
    facts = sorted(set(fact_of.tolist()))
    index = {fact: i for i, fact in enumerate(facts)}
    labels = np.array([index[f] for f in fact_of])
    sums = np.zeros((len(facts), vectors.shape[1]))
    counts = np.zeros(len(facts))
    np.add.at(sums, labels, vectors)
    np.add.at(counts, labels, 1)
    problem_of_fact = np.array([f.split("/")[0] for f in facts])
    metric = np.eye(vectors.shape[1])
    rng = np.random.default_rng(SEED)
    for _ in range(EPOCHS):
        order = rng.permutation(len(vectors))
        for start in range(0, len(order), 256):
            gradient = np.zeros_like(metric)
            batch = order[start : start + 256]
            for i in batch:
                candidates = np.where(problem_of_fact == problem_of[i])[0]
                centres, sizes = sums[candidates].copy(), counts[candidates].copy()
                own = int(np.where(candidates == labels[i])[0][0])
                centres[own] -= vectors[i]
                sizes[own] -= 1
                centres /= np.maximum(sizes, 1)[:, None]
                logits = TEMPERATURE * (vectors[i] @ metric @ centres.T)
                p = np.exp(logits - logits.max())
                p /= p.sum()
                p[own] -= 1.0
                gradient += TEMPERATURE * np.outer(vectors[i], p @ centres)
            metric -= 3.0 * (gradient / len(batch) + 1e-4 * (metric - np.eye(len(metric))))
    # facts.py scores a question x against a fact's centroid c as x · (M c): the adapter is M itself.
    return metric.astype(np.float32)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, iterations: int = 4000) -> tuple:
    mean, scale = x.mean(0), x.std(0) + 1e-9
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-z @ w))
        w -= 0.5 * (z.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0])
    return mean, scale, w


def chances(model: tuple, x: np.ndarray) -> np.ndarray:
    mean, scale, w = model
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    return 1 / (1 + np.exp(-z @ w))


STAGE_SCALE = 5.0
"""Embeddings are scaled before the softmax so that its L2 penalty bites less on the few strong directions."""


def fit_softmax(x: np.ndarray, labels: np.ndarray, classes: int, l2: float = 1e-3, iterations: int = 800) -> np.ndarray:
    """Multinomial logistic regression by gradient descent; the last row of the result is the bias."""
    z = np.hstack([x, np.ones((len(x), 1))])
    target = np.eye(classes)[labels]
    weights = np.zeros((z.shape[1], classes))
    for _ in range(iterations):
        logits = z @ weights
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        penalty = l2 * np.vstack([weights[:-1], np.zeros((1, classes))])
        weights -= 2.0 * (z.T @ (p - target) / len(x) + penalty)
    return weights


def load_stage_sentences(split: str) -> tuple[list[str], np.ndarray]:
    rows = [json.loads(line) for line in (EVAL / "stages" / f"{split}.jsonl").read_text().splitlines()]
    return [row["text"] for row in rows], np.array([LABELS.index(row["stage"]) for row in rows])


def fit_stages(corpus: Corpus) -> None:
    texts, labels = load_stage_sentences("tune")
    weights = fit_softmax(corpus.cache.matrix(texts).astype(np.float64) * STAGE_SCALE, labels, len(LABELS))
    STAGE_MODEL_FILE.write_text(
        json.dumps(
            {
                "labels": list(LABELS),
                "scale": STAGE_SCALE,
                "weights": weights.round(5).tolist(),
                "fitted_on": f"{EVAL.name}/stages/tune.jsonl ({len(texts)} sentences)",
            }
        )
        + "\n"
    )
    print(f"wrote {STAGE_MODEL_FILE} from {len(texts)} labelled sentences")


def main() -> int:
    corpus = Corpus()
    fit_stages(corpus)
    if "--only" in sys.argv and "stages" in sys.argv:
        return 0
    if "--keep-adapter" in sys.argv and ADAPTER_FILE.is_file():
        adapter = np.load(ADAPTER_FILE).astype(np.float32)
    else:
        print("fitting the adapter on the built-in asks ...", flush=True)
        ADAPTER_FILE.parent.mkdir(parents=True, exist_ok=True)
        adapter = fit_adapter(corpus)
        np.save(ADAPTER_FILE, adapter.astype(np.float16), allow_pickle=False)
    corpus.set_adapter(adapter.astype(np.float16).astype(np.float32))
    questions = load_questions("tune")
    x, y, groups = corpus.training_rows(questions)
    print(f"{len(y)} (question, fact) rows from {len(questions)} tune messages; {int(y.sum())} positive")
    # Thresholds by cross-validation across problems: each fold's chances come from a model that never
    # saw that fold's problems.
    problems = sorted(set(groups))
    folds = [problems[i::5] for i in range(5)]
    held_out = np.zeros(len(y))
    for fold in folds:
        mask = np.isin(groups, fold)
        held_out[mask] = chances(fit_logistic(x[~mask], y[~mask]), x[mask])
    for candidate in (0.3, 0.4, 0.5, 0.6, 0.7):
        at = corpus.tally_at(questions, held_out, candidate, max(candidate, 0.6))
        print(
            f"  at {candidate}: recall {at.recall:.3f}, precision {at.precision:.3f}, over-reveal {at.over_reveal:.3f}"
        )
    threshold, second = corpus.best_thresholds(questions, held_out)
    cv = corpus.tally_at(questions, held_out, threshold, second)
    print(
        f"cross-validated on tune: recall {cv.recall:.3f}, precision {cv.precision:.3f}, "
        f"over-reveal {cv.over_reveal:.3f}"
    )
    mean, scale, w = fit_logistic(x, y)
    MODEL_FILE.write_text(
        json.dumps(
            {
                "features": list(FEATURES),
                "mean": mean.round(6).tolist(),
                "scale": scale.round(6).tolist(),
                "weights": w[:-1].round(6).tolist(),
                "bias": round(float(w[-1]), 6),
                "threshold": threshold,
                "second_threshold": second,
                "fitted_on": f"{EVAL.name}/questions/tune",
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {ADAPTER_FILE} and {MODEL_FILE} (threshold {threshold}, second {second})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
