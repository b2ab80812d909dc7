"""Clause A.iii.guilt: statements on the guilt or innocence of a suspect.

Its phrases are policy and live in the pack (``clauses[A.iii.guilt].patterns``);
the learned scorer judges what no phrase lists.
"""

from __future__ import annotations

from postguard.checks.detectors.base import register
from postguard.checks.detectors.learned import LearnedDetector

__all__ = ["GuiltDetector"]


@register
class GuiltDetector(LearnedDetector):
    clause = "A.iii.guilt"
