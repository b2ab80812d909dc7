"""Split a post into sentences, so a finding points at the words that matter."""

from __future__ import annotations

import re

__all__ = ["sentences"]

# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr st rd ave blvd hwy no nos vs etc approx est dept insp sgt cst const det supt
    ch lt capt cpl col gen gov sen rep hon jr sr co corp inc ltd mt ft p a m e g i u s jan feb
    mar apr jun jul aug sep sept oct nov dec tel ph ext fig pc dc ds di asp ssp dsp acp cmdr
    ofc tpr dep comm assoc univ apt bldg nr opp cnr
    """.split()
)
# Every alternative starts only at the start of its run (the look-behinds) and takes the run
# whole (possessive), so a post of 64 KiB of "!" or "." is split in linear time.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]++[\"')\]]*+(?=\s)|(?<!\n)\n++|\s[-•·▪►]\s|(?<=\S)\s{3,}+")
_WORD_BEFORE = re.compile(r"([A-Za-z]+)\.$")


def sentences(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the sentences of ``text``, whitespace trimmed.

    Every non-blank part of ``text`` lies in exactly one span.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        piece = text[start:end]
        if match.group().startswith(".") and "\n" not in match.group():
            word = _WORD_BEFORE.search(text[max(start, match.start() - 12) : match.start() + 1])
            if word and word.group(1).lower() in _ABBREVIATIONS:
                continue
            nxt = text[end:].lstrip()[:1]
            if nxt and (nxt.islower() or nxt.isdigit()):
                continue
        if piece.strip():
            spans.append(_trim(text, start, end))
            start = end
    if text[start:].strip():
        spans.append(_trim(text, start, len(text)))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
