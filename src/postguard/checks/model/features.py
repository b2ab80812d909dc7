"""Turn a sentence into the sparse features the learned model reads.

The same function serves training (as scikit-learn's ``analyzer``) and
inference (in plain NumPy), so the two can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FeatureConfig", "FeatureIndexer", "analyse"]

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


class FeatureIndexer:
    """Counts a text's features as vocabulary indices, as fast as plain Python allows.

    Gives exactly the features of :func:`analyse` (a test holds the two
    together), but looks each distinct word's unigram and character n-grams up
    once and remembers them, since posts repeat their words.
    """

    #: How many distinct words to remember (bounded, so hostile input cannot grow it).
    cache_size: int = 200_000

    def __init__(self, vocabulary: dict[str, int], config: FeatureConfig) -> None:
        self.vocabulary = vocabulary
        self.config = config
        self._words: dict[str, tuple[int, ...]] = {}

    def _word(self, word: str) -> tuple[int, ...]:
        found = self._words.get(word)
        if found is not None:
            return found
        vocab, config = self.vocabulary, self.config
        indices: list[int] = []
        own = vocab.get(word)
        if own is not None:
            indices.append(own)
        if config.char_max:
            padded = f" {word} "
            size = len(padded)
            for n in range(config.char_min, min(config.char_max, size) + 1):
                for i in range(size - n + 1):
                    idx = vocab.get("#" + padded[i : i + n])
                    if idx is not None:
                        indices.append(idx)
        found = tuple(indices)
        if len(self._words) < self.cache_size:
            self._words[word] = found
        return found

    def counts(self, text: str) -> dict[int, int]:
        """Vocabulary index -> how often that feature occurs in ``text``."""
        words = _WORD.findall(text.lower())
        counts: dict[int, int] = {}
        get = counts.get
        for word in words:
            for idx in self._word(word):
                counts[idx] = get(idx, 0) + 1
        vocab = self.vocabulary
        for n in range(2, self.config.word_ngrams + 1):
            for i in range(len(words) - n + 1):
                gram = vocab.get(" ".join(words[i : i + n]))
                if gram is not None:
                    counts[gram] = get(gram, 0) + 1
        return counts
