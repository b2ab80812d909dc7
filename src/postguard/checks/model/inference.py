"""The trained sentence model at run time: NumPy only, no pickles.

The model has two heads over the same TF-IDF features (see
:mod:`postguard.checks.model.features`): a one-vs-rest logistic regression
that judges each *sentence*, and one that judges the *whole post*, so a
sentence is read in the light of the post around it ("lock your sheds, folks"
after "the usual light-fingered visitors"). A sentence's score for a clause
is a logistic join of the two heads' decision values, with weights learned on
out-of-fold predictions (``stack``: how much the post's context counts beside the
sentence itself; models without it use the geometric mean of the two heads'
Platt-scaled probabilities), scaled once more (Platt, at post level) so that the
post's score, its best sentence's, is a calibrated probability. Every scaling is
fitted on out-of-fold predictions. It ships as ``weights/model.npz`` inside the
package.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from postguard.checks.model.features import FeatureConfig, FeatureIndexer
from postguard.errors import ModelError

__all__ = ["SentenceModel", "default_model", "default_model_path", "join_scores", "stack_scores"]


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
    post_coef: npt.NDArray[np.float32]  # (features, clauses): the whole-post head
    post_intercept: npt.NDArray[np.float32]
    post_platt: npt.NDArray[np.float32]
    final_platt: npt.NDArray[np.float32]  # (clauses, 2): calibrates the joined score
    thresholds: dict[str, float]
    config: FeatureConfig
    meta: dict[str, Any]
    stack: npt.NDArray[np.float32] | None = None  # (clauses, 3): w_sentence, w_post, bias
    indexer: FeatureIndexer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "indexer", FeatureIndexer(self.vocabulary, self.config))

    @property
    def name(self) -> str:
        """The scorer's name in decision traces."""
        return "linear"

    @classmethod
    def load(cls, path: Path | None = None) -> SentenceModel:
        path = path or default_model_path()
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
                vocab_list = json.loads(bytes(data["vocabulary"]).decode("utf-8"))
                arrays = {
                    k: data[k]
                    for k in (
                        *(("stack",) if "stack" in data.files else ()),
                        "idf",
                        "coef",
                        "intercept",
                        "platt",
                        "post_coef",
                        "post_intercept",
                        "post_platt",
                        "final_platt",
                    )
                }
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
            post_coef=arrays["post_coef"].astype(np.float32),
            post_intercept=arrays["post_intercept"].astype(np.float32),
            post_platt=arrays["post_platt"].astype(np.float32),
            final_platt=arrays["final_platt"].astype(np.float32),
            thresholds={c: float(t) for c, t in zip(clauses, meta["thresholds"], strict=True)},
            config=FeatureConfig(**meta["features"]),
            meta=meta,
            stack=arrays["stack"].astype(np.float32) if "stack" in arrays else None,
        )

    def _logits(
        self, texts: Sequence[str], coef: npt.NDArray[np.float32], intercept: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        out = np.tile(intercept, (len(texts), 1))
        for row, text in enumerate(texts):
            counts = self.indexer.counts(text)
            if not counts:
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
            weights = tf * self.idf[idx]
            weights /= np.float32(np.sqrt(np.dot(weights, weights)))
            out[row] += weights @ coef[idx]
        return out

    def logits(self, sentences: Sequence[str]) -> npt.NDArray[np.float32]:
        """Raw decision values of the sentence head: a row per sentence, a column per clause."""
        return self._logits(sentences, self.coef, self.intercept)

    def probabilities(self, sentences: Sequence[str]) -> npt.NDArray[np.float32]:
        """The sentence head's probability that each sentence, alone, violates each clause."""
        if not sentences:
            return np.zeros((0, len(self.clauses)), dtype=np.float32)
        return _sigmoid(self.logits(sentences), self.platt)

    def post_probabilities(self, text: str) -> npt.NDArray[np.float32]:
        """The post head's probability that the whole post violates each clause."""
        probs = _sigmoid(self._logits([text], self.post_coef, self.post_intercept), self.post_platt)
        row: npt.NDArray[np.float32] = probs[0]
        return row

    def scores(self, text: str, sentences: Sequence[str]) -> npt.NDArray[np.float32]:
        """Calibrated score of each sentence for each clause, read within its post ``text``."""
        if not sentences:
            return np.zeros((0, len(self.clauses)), dtype=np.float32)
        if self.stack is not None:
            post = self._logits([text], self.post_coef, self.post_intercept)[0]
            joined = stack_scores(self.logits(sentences), post, self.stack)
        else:
            beta = float(self.meta.get("post_weight", 0.5))
            joined = self.probabilities(sentences) ** (1 - beta) * self.post_probabilities(text) ** beta
        return join_scores(joined, self.final_platt)


def _sigmoid(z: npt.NDArray[np.float32], platt: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    result: npt.NDArray[np.float32] = (1.0 / (1.0 + np.exp(-(z * platt[:, 0] + platt[:, 1])))).astype(
        np.float32
    )
    return result


def stack_scores(
    sentence_logits: npt.NDArray[Any], post_logits: npt.NDArray[Any], stack: npt.NDArray[Any]
) -> npt.NDArray[np.float32]:
    """The learned join of the sentence head and the post head (training uses the same)."""
    z = sentence_logits * stack[:, 0] + post_logits * stack[:, 1] + stack[:, 2]
    result: npt.NDArray[np.float32] = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
    return result


def join_scores(joined: npt.NDArray[Any], final_platt: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """Calibrate the geometric mean of the two heads' probabilities (training uses the same)."""
    clipped = np.clip(joined, 1e-6, 1 - 1e-6)
    return _sigmoid(np.log(clipped / (1 - clipped)).astype(np.float32), final_platt.astype(np.float32))


@cache
def default_model() -> SentenceModel:
    """The model shipped in the package, loaded once per process."""
    return SentenceModel.load()
