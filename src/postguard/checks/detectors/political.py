"""Clause A.iv.political: political activity while representing the department.

Its phrases are policy and live in the pack (``clauses[A.iv.political].patterns``);
the learned scorer judges what no phrase lists.
"""

from __future__ import annotations

from postguard.checks.detectors.base import register
from postguard.checks.detectors.learned import LearnedDetector

__all__ = ["PoliticalDetector"]


@register
class PoliticalDetector(LearnedDetector):
    clause = "A.iv.political"
