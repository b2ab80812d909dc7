"""Detectors that join precise patterns with the learned scorer.

Patterns catch the phrases that are always violations; the scorer judges
every sentence for what patterns cannot list ("proud of the team for taking
this animal off our streets"). A sentence scored at or above the clause's
threshold becomes a finding, narrowed to its most telling part. Explanations
and suggestions come from the pack.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import regex

from postguard.checks.analysed import AnalysedPost
from postguard.checks.detectors.base import PatternDetector
from postguard.checks.scoring import Scorer
from postguard.checks.types import Finding
from postguard.policy.schema import Clause, PolicyPack

__all__ = ["LearnedDetector"]

_PIECE = re.compile(r"[^,;:()\u2013\u2014-]+(?:[,;:()\u2013\u2014-]|$)")
_MODEL_CACHE = "model.sentence_scores"


class LearnedDetector(PatternDetector):
    """Patterns plus the learned scorer, for one content clause.

    A sentence that one of the clause's ``neutral`` regexes matches from end to end
    (the policy's own "does not violate" shapes) is not flagged by the scorer.
    """

    def __init__(self, pack: PolicyPack, clause: Clause, scorer: Scorer | None = None) -> None:
        super().__init__(pack, clause, scorer)
        self._neutral = [regex.compile(r) for r in clause.neutral]

    def is_neutral(self, sentence: str, timeout: float | None = None) -> bool:
        """Whether one of the clause's ``neutral`` shapes matches ``sentence`` from end to end
        (training asks this too, so that it scores posts as the checker does)."""
        return any(r.fullmatch(sentence, timeout=timeout) for r in self._neutral)

    def neutral(self, post: AnalysedPost, sentence: str) -> bool:
        try:
            return self.is_neutral(sentence, post.time_left())
        except TimeoutError:  # the regex engine's own timeout: the check's time ran out
            post.out_of_time()

    def sentence_scores(self, post: AnalysedPost) -> npt.NDArray[np.float32] | None:
        if self.scorer is None or self.clause not in self.scorer.clauses or not self.policy_clause.learned:
            return None
        probs = post.cache.get(_MODEL_CACHE)
        if probs is None:
            probs = self.scorer.scores(post.text, [post.text[s:e] for s, e in post.sentences])
            post.cache[_MODEL_CACHE] = probs
        column = self.scorer.clauses.index(self.clause)
        result: npt.NDArray[np.float32] = probs[:, column]
        return result

    def threshold(self) -> float:
        if self.policy_clause.threshold is not None:
            return self.policy_clause.threshold
        assert self.scorer is not None
        return self.scorer.thresholds.get(self.clause, 0.5)

    def _narrow(self, post: AnalysedPost, start: int, end: int) -> tuple[int, int]:
        """The part of a sentence (between commas, dashes...) the scorer finds worst."""
        assert self.scorer is not None
        pieces = [
            (start + m.start(), start + m.end())
            for m in _PIECE.finditer(post.text[start:end])
            if len(m.group().split()) >= 2
        ]
        if len(pieces) < 2:
            return start, end
        column = self.scorer.clauses.index(self.clause)
        probs = self.scorer.scores(post.text, [post.text[s:e] for s, e in pieces])[:, column]
        best = int(np.argmax(probs))
        if probs[best] < 0.5 * self.threshold():
            return start, end
        s, e = pieces[best]
        while e > s and not post.text[e - 1].isalnum() and post.text[e - 1] not in "!?.'\"":
            e -= 1
        while s < e and post.text[s].isspace():
            s += 1
        return s, e

    def detect(self, post: AnalysedPost) -> list[Finding]:
        matches = self.pattern_matches(post)
        scores = self.sentence_scores(post)
        if scores is None:
            return [self.pattern_finding(post, s, e, p, p.score) for s, e, p in matches]
        assert self.scorer is not None
        name = self.scorer.name
        findings: list[Finding] = []
        threshold = self.threshold()
        for index, (s_start, s_end) in enumerate(post.sentences):
            prob = float(scores[index])
            inside = [(s, e, p) for s, e, p in matches if s_start <= s < s_end]
            for s, e, pattern in inside:
                trace = f"pattern {pattern.id} ({pattern.score:.2f}); {name} {prob:.2f}"
                findings.append(self.pattern_finding(post, s, e, pattern, max(pattern.score, prob), trace))
            if not inside and prob >= threshold and not self.neutral(post, post.text[s_start:s_end]):
                start, end = self._narrow(post, s_start, s_end)
                explanation = self.policy_clause.explanation
                findings.append(
                    post.finding(
                        self.clause,
                        start,
                        end,
                        score=prob,
                        explanation=f"{explanation.rstrip('.')} (judged by the learned model).",
                        suggestion=self.policy_clause.suggestion,
                        source="model",
                        rule=name,
                        trace=f"{name} {prob:.2f} >= threshold {threshold:.2f}",
                    )
                )
        placed = {(s, e) for s, e, _ in matches if any(a <= s < b for a, b in post.sentences)}
        for s, e, pattern in matches:
            if (s, e) not in placed:
                findings.append(self.pattern_finding(post, s, e, pattern, pattern.score))
        return findings
