r"""See through obfuscation while keeping a map back to the original text.

``normalise(text)`` returns a :class:`NormalText`: the text as the detectors
read it, and for every character of it the span of original characters it
came from. Detectors find spans in the normalised text; ``to_original`` turns
them back into spans of the text the officer wrote.

What is seen through, in order:

1. zero-width, control and format characters, variation selectors and skin
   tones are dropped;
2. compatibility forms (full-width, mathematical, circled letters, ligatures)
   are folded by NFKC, accents are stripped, and look-alike letters from
   Cyrillic and Greek become their Latin twins;
3. an emoji becomes its Unicode name in words, joined by WORD JOINER (U+2060,
   which no input keeps, step 1), so that the words of an emoji's name can be
   told from the same words in the text (🤡 → " clown\u2060face "; a pattern's
   ``\bclowns?\b`` still matches, ``\s`` does not);
4. leetspeak inside words is read as letters (``k1ll3r`` → ``killer``);
5. letters spaced out with one repeated separator are joined
   (``s c u m`` → ``scum``, ``t.h.u.g`` → ``thug``);
6. a word with letters masked by ``*`` or ``#`` is read as the one word of
   :data:`MASKED_WORDS` it can be (``sc*mbag`` → ``scumbag``, ``f**king`` →
   ``fucking``); a mask that fits no such word, or several, is left alone.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["EMOJI_JOINER", "MASKED_WORDS", "NormalText", "normalise"]

#: Joins the words of an emoji's name in the normalised text (a format character: input never keeps it).
EMOJI_JOINER = "\u2060"

#: Words that people mask with ``*`` or ``#`` to slip them past filters:
#: profanity, insults and the labels for suspects that clause A.iii.guilt
#: forbids. A masked word is read as one of these when exactly one fits.
MASKED_WORDS = frozenset(
    """
    fuck fucks fucked fucker fuckers fucking fuckin motherfucker shit shite shits shitty bullshit
    bitch bitches bastard bastards asshole assholes arsehole arseholes cunt cunts dick dicks
    dickhead prick pricks twat twats wanker wankers bollocks piss pissed crap damn bloody slut
    whore retard retards scum scumbag scumbags dirtbag dirtbags thug thugs idiot idiots moron
    morons killer killers murderer rapist rapists paedo paedos pedo pedos pervert perverts
    animal animals lowlife lowlifes loser losers
    """.split()
)
_MASKED_BY_LENGTH: dict[int, tuple[str, ...]] = {}
for _word in sorted(MASKED_WORDS):
    _MASKED_BY_LENGTH[len(_word)] = (*_MASKED_BY_LENGTH.get(len(_word), ()), _word)
_MASKED = re.compile(r"(?<![A-Za-z*#])[A-Za-z][A-Za-z*#]*[*#][A-Za-z*#]*(?![A-Za-z*#])")

# Cyrillic and Greek letters that look like Latin ones (Unicode confusables).
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "һ": "h",
        "ӏ": "l",
        "ɡ": "g",
        "ı": "i",
        "А": "A",
        "В": "B",
        "Е": "E",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "O",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "У": "Y",
        "Х": "X",
        "І": "I",
        "Ј": "J",
        "Ѕ": "S",
        "Ԁ": "D",
        "α": "a",
        "β": "b",
        "ε": "e",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ω": "w",
        "Α": "A",
        "Β": "B",
        "Ε": "E",
        "Ζ": "Z",
        "Η": "H",
        "Ι": "I",
        "Κ": "K",
        "Μ": "M",
        "Ν": "N",
        "Ο": "O",
        "Ρ": "P",
        "Τ": "T",
        "Υ": "Y",
        "Χ": "X",
        "ß": "ss",
        "ø": "o",
        "Ø": "O",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "‘": "'",
        "’": "'",
        "‚": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "–": "-",
        "—": "-",
        "‐": "-",
        "‑": "-",
        "−": "-",
        "\u00a0": " ",
        "\t": " ",
        "\r": "\n",
    }
)

_LEET = {
    "0": "o",
    "1": "i",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "!": "i",
    "|": "l",
    "€": "e",
}
# A run of word and look-alike characters (matched once per run: linear in the text's length);
# only runs with a letter in them are read as leetspeak.
_LEET_RUN = re.compile(r"[A-Za-z0-9@$!|€]+")
_LETTER = re.compile(r"[A-Za-z]")
_NOT_LEET = re.compile(
    r"^(?:\d+(?:st|nd|rd|th|s|am|pm|a|p|h|hr|hrs|km|kg|mph|kph|ft|in|m|mm|cm|k|x|yo|yrs|g|lbs?)"
    r"|[A-Z]+\d+[A-Z]*|\d+[A-Z]+\d*|[A-Za-z]\d+|[A-Za-z]{1,3}\d{2,}|.*\d{3,}.*)$"
)
_SPACED = re.compile(r"(?<![A-Za-z])[A-Za-z](?:([ .\-_*·])[A-Za-z])(?:\1[A-Za-z]){1,}(?![A-Za-z])")
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Mn", "Me", "Cs", "Co", "Cn", "Zl", "Zp"})


def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    return (0x1F000 <= cp <= 0x1FAFF) or (0x2600 <= cp <= 0x27BF) or (0x2B00 <= cp <= 0x2BFF)


@dataclass(frozen=True, slots=True)
class NormalText:
    """Normalised text and, per character, the original span it came from."""

    text: str
    original: str
    starts: tuple[int, ...] | None  # None: identical to the original
    ends: tuple[int, ...] | None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the normalised text to a span of the original text."""
        if self.starts is None or self.ends is None:
            return start, end
        if not self.starts:
            return 0, 0
        start = min(max(start, 0), len(self.starts) - 1)
        end = min(max(end, start + 1), len(self.ends))
        return self.starts[start], self.ends[end - 1]


def _fold(ch: str) -> str:
    """One original character as the detectors should read it ('' to drop)."""
    if ch == "\n":
        return ch
    mapped = ch.translate(_HOMOGLYPHS)
    if mapped != ch:
        return mapped
    if _is_emoji(ch):
        if 0x1F3FB <= ord(ch) <= 0x1F3FF or 0x1F1E6 <= ord(ch) <= 0x1F1FF:
            return ""  # skin tones and flag letters carry no words
        name = unicodedata.name(ch, "")
        return f" {name.lower().replace(' ', EMOJI_JOINER)} " if name else ""
    if unicodedata.category(ch) in _DROP_CATEGORIES:
        return ""
    folded = unicodedata.normalize("NFKD", ch)
    out = "".join(c for c in folded if not unicodedata.combining(c))
    out = unicodedata.normalize("NFKC", out).translate(_HOMOGLYPHS)
    return "".join(c for c in out if unicodedata.category(c) not in _DROP_CATEGORIES)


def _unleet(token: str) -> str:
    """Read leetspeak in a word: a run of look-alike symbols between letters,
    or at the start of a word before letters (``1d10ts`` -> ``idiots``)."""
    if _NOT_LEET.match(token) or sum(c.isalpha() for c in token) < 2:
        return token
    chars = list(token)
    i = 0
    while i < len(token):
        if token[i] not in _LEET:
            i += 1
            continue
        j = i
        while j < len(token) and token[j] in _LEET:
            j += 1
        left = i > 0 and token[i - 1].isalpha()
        right = j < len(token) and token[j].isalpha()
        starts_word = i == 0 and right and token[0] not in "@!|"
        if (left and right) or starts_word:
            chars[i:j] = [_LEET[c] for c in token[i:j]]
        i = j
    return "".join(chars)


def _leet_tokens(text: str) -> list[str]:
    return [m.group() for m in _LEET_RUN.finditer(text) if _LETTER.search(m.group())]


def _quick(text: str) -> bool:
    """True when the text needs no normalisation at all (the common case)."""
    return (
        text.isascii()
        and text.isprintable()
        and not any(_unleet(token) != token for token in _leet_tokens(text))
        and _SPACED.search(text) is None
        and _MASKED.search(text) is None
    )


def _unmask(token: str) -> str:
    """The one masked word ``token`` can be, in its case, or ``token`` itself."""
    lower = token.lower()
    fits = [
        word
        for word in _MASKED_BY_LENGTH.get(len(token), ())
        if all(t in "*#" or t == w for t, w in zip(lower, word, strict=True))
    ]
    if len(fits) != 1 or sum(c.isalpha() for c in token) < 1:
        return token
    letters = [c for c in token if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return fits[0].upper()
    return "".join(w.upper() if t.isupper() else w for t, w in zip(token, fits[0], strict=True))


def normalise(text: str) -> NormalText:
    """Return ``text`` as the detectors should read it, with a map back."""
    if _quick(text.replace("\n", " ")):
        return NormalText(text, text, None, None)
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        folded = _fold(ch) if not (ch.isascii() and ch.isprintable()) else ch
        for c in folded:
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
    joined = "".join(chars)
    for match in _LEET_RUN.finditer(joined):
        token = match.group()
        if _LETTER.search(token) is None:
            continue
        fixed = _unleet(token)
        if fixed != token:
            chars[match.start() : match.end()] = list(fixed)
    joined = "".join(chars)
    for match in _MASKED.finditer(joined):
        fixed = _unmask(match.group())
        if fixed != match.group():
            chars[match.start() : match.end()] = list(fixed)
    joined = "".join(chars)
    keep = [True] * len(chars)
    for match in _SPACED.finditer(joined):
        for j in range(match.start(), match.end()):
            if not joined[j].isalpha():
                keep[j] = False
    if not all(keep):
        chars = [c for c, k in zip(chars, keep, strict=True) if k]
        starts = [s for s, k in zip(starts, keep, strict=True) if k]
        ends = [e for e, k in zip(ends, keep, strict=True) if k]
    return NormalText("".join(chars), text, tuple(starts), tuple(ends))
