"""Clause A.iv.private: private business and personal gain.

Its phrases are policy and live in the pack (``clauses[A.iv.private].patterns``);
the learned scorer judges what no phrase lists.
"""

from __future__ import annotations

from postguard.checks.detectors.base import register
from postguard.checks.detectors.learned import LearnedDetector

__all__ = ["PrivateDetector"]


@register
class PrivateDetector(LearnedDetector):
    clause = "A.iv.private"
