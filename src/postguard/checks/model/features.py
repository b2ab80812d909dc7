"""Turn a sentence into the sparse features the learned model reads.

The same function serves training (as scikit-learn's ``analyzer``) and
inference (in plain NumPy), so the two can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FeatureConfig", "analyse"]

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]")


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Which n-grams make the feature space (stored with the model)."""

    word_ngrams: int = 2
    char_min: int = 3
    char_max: int = 5

    def to_dict(self) -> dict[str, int]:
        return {"word_ngrams": self.word_ngrams, "char_min": self.char_min, "char_max": self.char_max}


def analyse(text: str, config: FeatureConfig = FeatureConfig()) -> list[str]:
    """Features of one sentence: word n-grams and character n-grams of words."""
    words = _WORD.findall(text.lower())
    feats = list(words)
    for n in range(2, config.word_ngrams + 1):
        feats.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    if config.char_max:
        for word in words:
            padded = f" {word} "
            size = len(padded)
            for n in range(config.char_min, min(config.char_max, size) + 1):
                feats.extend("#" + padded[i : i + n] for i in range(size - n + 1))
    return feats
