"""A post as the detectors see it: normalised once, split once, shared by all."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NoReturn

from postguard.checks.normalise import NormalText, normalise
from postguard.checks.segment import sentences
from postguard.checks.types import Context, Finding, Post
from postguard.errors import CheckTimeoutError

__all__ = ["AnalysedPost"]


@dataclass(slots=False)
class AnalysedPost:
    """The post, its normalised view and its sentences (spans in the normalised text).

    ``cache`` lets detectors share work for one post (the model's sentence
    scores are computed once for every clause).
    """

    post: Post
    cache: dict[str, Any] = field(default_factory=dict)
    #: ``time.monotonic()`` by which the check must end (patterns are searched with what is left).
    deadline: float = math.inf
    #: Attachments an inspector looked at (so they are not also judged by their names).
    inspected: frozenset[str] = frozenset()

    def time_left(self) -> float:
        """Seconds left for this check; raises :class:`CheckTimeoutError` when none are."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            self.out_of_time()
        return min(left, 3600.0)

    @staticmethod
    def out_of_time() -> NoReturn:
        """Stop the check: it took longer than the pack's ``limits.check_seconds``."""
        raise CheckTimeoutError(
            "The post took too long to check, so it was not allowed: shorten or simplify it."
        )

    @cached_property
    def normal(self) -> NormalText:
        return normalise(self.post.text)

    @property
    def text(self) -> str:
        """The normalised text that detectors search."""
        return self.normal.text

    @property
    def context(self) -> Context:
        return self.post.context

    @cached_property
    def sentences(self) -> list[tuple[int, int]]:
        return sentences(self.normal.text)

    def sentence_at(self, position: int) -> tuple[int, int]:
        """The sentence span (normalised) that holds ``position``."""
        for start, end in self.sentences:
            if start <= position < end:
                return start, end
        return (0, len(self.text))

    def finding(
        self,
        clause: str,
        start: int,
        end: int,
        *,
        score: float,
        explanation: str,
        suggestion: str = "",
        replacement: str | None = None,
        source: str = "",
        rule: str = "",
        trace: str = "",
    ) -> Finding:
        """A finding for a span of the *normalised* text, mapped to the original."""
        o_start, o_end = self.normal.to_original(start, end)
        return Finding(
            clause=clause,
            start=o_start,
            end=o_end,
            evidence=self.post.text[o_start:o_end],
            score=max(0.0, min(1.0, score)),
            explanation=explanation,
            suggestion=suggestion,
            replacement=replacement,
            source=source,
            rule=rule,
            trace=trace,
        )
