"""Clause A.i: conduct and decorum (profanity, slurs, insults, mockery, threats).

Its phrases are policy and live in the pack (``clauses[A.i].patterns``);
the learned scorer judges what no phrase lists.
"""

from __future__ import annotations

from postguard.checks.detectors.base import register
from postguard.checks.detectors.learned import LearnedDetector

__all__ = ["DecorumDetector"]


@register
class DecorumDetector(LearnedDetector):
    clause = "A.i"
