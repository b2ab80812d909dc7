"""Turn a sentence into the sparse features the learned model reads.

The same function serves training (as scikit-learn's ``analyzer``) and
inference (in plain NumPy), so the two can never disagree.

Before the n-grams are counted, the text is seen through a *view* that keeps
what real posts carry without letting it drown the words (``view``, version 1):
links become ``urltoken``, @handles ``mentiontoken``, a hashtag keeps its words
(``#KnifeCrimeWeek`` -> ``hashtagtoken knife crime week``), long numbers and
phone numbers become tokens, an age says whether the person is a juvenile
(``agejuvenile``, ``ageadult``), and a run of capitalised words (a likely name)
is marked ``nametoken`` before its words, so "the murder of nametoken" can be
told from "the murder investigation". Nothing is deleted.

Version 2 of the view also reads each emoji as one token of its own
(``emojifacewithrollingeyes``), without character n-grams: the normaliser spells
an emoji's name with its words joined (:data:`~postguard.checks.normalise.EMOJI_JOINER`),
so the "face" of "🙄" is not the "face" of "face court" or "came face to face".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from postguard.checks.normalise import EMOJI_JOINER

__all__ = ["FeatureConfig", "FeatureIndexer", "analyse", "view"]

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]")

_URL = re.compile(r"(?:https?://|www\.)\S+|\b(?:bit\.ly|t\.co|goo\.gl|ow\.ly|tinyurl\.com)/\S+", re.I)
_MENTION = re.compile(r"(?<![\w@])@\w{1,30}")
_HASHTAG = re.compile(r"(?<![\w#])#(\w{1,60})")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_AGE = re.compile(
    r"\b(\d{1,3})\s?-?\s?(?:years?|yrs?|yo|y/o|y\.o\.)(?:[-\s]?old)?\b"  # 16-year-old, 17y/o
    r"|\baged\s+(\d{1,3})\b"  # aged 15
    r"|\((\d{1,2})\)"  # Name (15)
    r"|\b[BWHA]/[MF],?\s*(\d{1,2})\b"  # (B/M, 27)
    r"|(?<=[a-z]),\s(\d{1,2})(?=,|\s(?:from|of|was|is|has|and)\b)",  # Jo Bloggs, 16, of Leeds
    re.I,
)
_EMOJI = re.compile(rf"[a-z0-9-]+(?:{EMOJI_JOINER}[a-z0-9-]+)+")
_NAME = re.compile(r"\b[A-Z][a-z'’]+(?:[-\s](?:[A-Z]\.?\s)?[A-Z][a-z'’]+){1,3}\b")
_LONG_NUMBER = re.compile(r"\b\d{5,}\b")
_PHONE = re.compile(r"\b\d{3}[-.\s]\d{3,4}[-.\s]\d{3,4}\b")
#: A sentence with at least this share of capitalised words is in title case: no names marked.
_TITLE_CASE = 0.6


def _hashtag(match: re.Match[str]) -> str:
    return " hashtagtoken " + " ".join(w.lower() for w in _CAMEL.findall(match.group(1))) + " "


def _age(match: re.Match[str]) -> str:
    years = int(next(g for g in match.groups() if g))
    return " agejuvenile " if years < 18 else " ageadult "


def _emoji(match: re.Match[str]) -> str:
    return " emoji" + match.group().replace(EMOJI_JOINER, "").replace("-", "") + " "


def view(text: str, version: int = 1) -> str:
    """The text as the model's features see it (see the module's docstring)."""
    if version >= 2 and EMOJI_JOINER in text:
        text = _EMOJI.sub(_emoji, text)
    if "/" in text or "www" in text:
        text = _URL.sub(" urltoken ", text)
    if "@" in text:
        text = _MENTION.sub(" mentiontoken ", text)
    if "#" in text:
        text = _HASHTAG.sub(_hashtag, text)
    if any(ch.isdigit() for ch in text):
        text = _PHONE.sub(" phonetoken ", text)
        text = _LONG_NUMBER.sub(" numbertoken ", text)
        text = _AGE.sub(_age, text)
    words = text.split()
    capitalised = sum(1 for w in words if w[:1].isupper())
    if words and capitalised / len(words) < _TITLE_CASE:
        text = _NAME.sub(lambda m: " nametoken " + m.group(), text)
    return text


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Which n-grams make the feature space (stored with the model)."""

    word_ngrams: int = 2
    char_min: int = 3
    char_max: int = 5
    view: int = 0  # 0: the text as it is; 1 or 2: :func:`view`, that version

    def to_dict(self) -> dict[str, int]:
        return {
            "word_ngrams": self.word_ngrams,
            "char_min": self.char_min,
            "char_max": self.char_max,
            "view": self.view,
        }

    def whole(self, word: str) -> bool:
        """Whether ``word`` is read whole, without character n-grams: an emoji in view 2
        (the "party" of "emojipartypopper" is not a political party)."""
        return self.view >= 2 and word.startswith("emoji")

    def words(self, text: str) -> list[str]:
        return _WORD.findall((view(text, self.view) if self.view else text).lower())


def analyse(text: str, config: FeatureConfig = FeatureConfig()) -> list[str]:
    """Features of one sentence: word n-grams and character n-grams of words."""
    words = config.words(text)
    feats = list(words)
    for n in range(2, config.word_ngrams + 1):
        feats.extend(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    if config.char_max:
        for word in words:
            if config.whole(word):
                continue
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
        if config.char_max and not config.whole(word):
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
        words = self.config.words(text)
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
