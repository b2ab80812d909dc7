"""The trained sentence model at run time: NumPy only, no pickles.

The model is a one-vs-rest logistic regression over TF-IDF features of a
sentence (see :mod:`postguard.checks.model.features`), with Platt scaling
fitted on out-of-fold predictions so that its scores are calibrated
probabilities. It ships as ``weights/model.npz`` inside the package.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from postguard.checks.model.features import FeatureConfig, analyse
from postguard.errors import ModelError

__all__ = ["SentenceModel", "default_model", "default_model_path"]


def default_model_path() -> Path:
    return Path(str(resources.files("postguard.checks.model") / "weights" / "model.npz"))


@dataclass(frozen=True)
class SentenceModel:
    clauses: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: npt.NDArray[np.float32]
    coef: npt.NDArray[np.float32]  # (features, clauses)
    intercept: npt.NDArray[np.float32]
    platt: npt.NDArray[np.float32]  # (clauses, 2): a, b of sigmoid(a * logit + b)
    thresholds: dict[str, float]
    config: FeatureConfig
    meta: dict[str, Any]

    @classmethod
    def load(cls, path: Path | None = None) -> SentenceModel:
        path = path or default_model_path()
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
                vocab_list = json.loads(bytes(data["vocabulary"]).decode("utf-8"))
                arrays = {k: data[k] for k in ("idf", "coef", "intercept", "platt")}
        except FileNotFoundError:
            raise ModelError(
                f"No trained model at '{path}'. Train one with 'postguard model train'."
            ) from None
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(f"The model file '{path}' cannot be read: {exc}.") from None
        clauses = tuple(meta["clauses"])
        return cls(
            clauses=clauses,
            vocabulary={f: i for i, f in enumerate(vocab_list)},
            idf=arrays["idf"].astype(np.float32),
            coef=arrays["coef"].astype(np.float32),
            intercept=arrays["intercept"].astype(np.float32),
            platt=arrays["platt"].astype(np.float32),
            thresholds={c: float(t) for c, t in zip(clauses, meta["thresholds"], strict=True)},
            config=FeatureConfig(**meta["features"]),
            meta=meta,
        )

    def logits(self, sentences: list[str]) -> npt.NDArray[np.float32]:
        """Raw decision values, one row per sentence and one column per clause."""
        out = np.tile(self.intercept, (len(sentences), 1))
        vocab = self.vocabulary
        for row, sentence in enumerate(sentences):
            counts = Counter(idx for idx in map(vocab.get, analyse(sentence, self.config)) if idx is not None)
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), np.float32, len(counts))
            weights = tf * self.idf[idx]
            weights /= np.float32(np.sqrt(np.dot(weights, weights)))
            out[row] += weights @ self.coef[idx]
        return out

    def probabilities(self, sentences: list[str]) -> npt.NDArray[np.float32]:
        """Calibrated probability that each sentence violates each clause."""
        if not sentences:
            return np.zeros((0, len(self.clauses)), dtype=np.float32)
        z = self.logits(sentences) * self.platt[:, 0] + self.platt[:, 1]
        result: npt.NDArray[np.float32] = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        return result


@cache
def default_model() -> SentenceModel:
    """The model shipped in the package, loaded once per process."""
    return SentenceModel.load()
