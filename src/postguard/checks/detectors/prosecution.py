"""Clause A.iii.prosecution: comments on cases before the courts.

Its phrases are policy and live in the pack (``clauses[A.iii.prosecution].patterns``);
the learned scorer judges what no phrase lists.
"""

from __future__ import annotations

from postguard.checks.detectors.base import register
from postguard.checks.detectors.learned import LearnedDetector

__all__ = ["ProsecutionDetector"]


@register
class ProsecutionDetector(LearnedDetector):
    clause = "A.iii.prosecution"
