"""Measure the checker on labelled posts (``postguard eval``): what a reviewer needs to trust it.

Per clause: precision, recall, F1 and support over posts; macro-F1 over the
clauses present; the false-positive rate on clean posts (posts with no labels
that got any finding); the confusion between clauses (for each clause a post
carries, which clauses were found instead); per pattern id: how often it fired,
its precision and its share of the clause's posts; the worst false positives
(highest scores first) and the misses, each with its evidence; and the same
figures per source.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from postguard.checks.engine import Checker
from postguard.checks.labelled import LabelledPost
from postguard.checks.types import Post

__all__ = ["ClauseScore", "Evaluation", "Miss", "PatternScore", "WrongFinding", "evaluate"]


@dataclass
class ClauseScore:
    clause: str
    support: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class PatternScore:
    """One pattern's record on the set: posts it fired on, and on how many the label agreed."""

    pattern: str
    clause: str
    fired: int = 0
    tp: int = 0
    support: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.fired if self.fired else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.support if self.support else 0.0


@dataclass(frozen=True)
class Miss:
    id: str
    text: str
    expected: frozenset[str]
    got: frozenset[str]
    source: str = ""


@dataclass(frozen=True)
class WrongFinding:
    """A false positive (a finding the labels do not have) or a miss (a label nothing found)."""

    id: str
    clause: str
    score: float
    evidence: str
    how: str
    source: str


@dataclass
class Evaluation:
    posts: int = 0
    clean_posts: int = 0
    clean_flagged: int = 0
    unreadable: int = 0
    scores: dict[str, ClauseScore] = field(default_factory=dict)
    patterns: dict[str, PatternScore] = field(default_factory=dict)
    confusion: dict[str, Counter[str]] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)
    false_positives: list[WrongFinding] = field(default_factory=list)
    missed: list[WrongFinding] = field(default_factory=list)
    by_source: dict[str, Evaluation] = field(default_factory=dict)

    @property
    def macro_f1(self) -> float:
        present = [s for s in self.scores.values() if s.support]
        return sum(s.f1 for s in present) / len(present) if present else 0.0

    @property
    def clean_fp_rate(self) -> float:
        return self.clean_flagged / self.clean_posts if self.clean_posts else 0.0

    def _count(self, item: LabelledPost, got: frozenset[str]) -> None:
        self.posts += 1
        if not item.labels:
            self.clean_posts += 1
            self.clean_flagged += bool(got)
        for clause, score in self.scores.items():
            expected, found = clause in item.labels, clause in got
            score.support += expected
            score.tp += expected and found
            score.fp += found and not expected
            score.fn += expected and not found
        for clause in item.labels:
            row = self.confusion.setdefault(clause, Counter())
            row.update(got - item.labels or {"(none)"} if clause not in got else {clause})

    def to_dict(self, *, details: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "posts": self.posts,
            "macro_f1": round(self.macro_f1, 4),
            "clean_posts": self.clean_posts,
            "clean_false_positive_rate": round(self.clean_fp_rate, 4),
            "unreadable": self.unreadable,
            "clauses": {
                c: {
                    "support": s.support,
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                }
                for c, s in self.scores.items()
            },
            "confusion": {c: dict(row) for c, row in self.confusion.items()},
        }
        if not details:
            return out
        out["patterns"] = {
            p.pattern: {
                "clause": p.clause,
                "fired": p.fired,
                "precision": round(p.precision, 4),
                "recall": round(p.recall, 4),
            }
            for p in self.patterns.values()
        }
        out["false_positives"] = [vars(w) for w in self.false_positives]
        out["missed"] = [vars(w) for w in self.missed]
        out["errors"] = [
            {"id": m.id, "expected": sorted(m.expected), "got": sorted(m.got)} for m in self.misses
        ]
        if self.by_source:
            out["by_source"] = {k: v.to_dict(details=False) for k, v in self.by_source.items()}
        return out


def evaluate(
    checker: Checker,
    items: Iterable[LabelledPost],
    progress: Callable[[int], None] = lambda _n: None,
    *,
    worst: int = 50,
) -> Evaluation:
    """Check every labelled post and score the results (``worst``: how many wrong findings to keep)."""
    clauses = [c.id for c in checker.pack.content_clauses]
    result = Evaluation(scores={c: ClauseScore(c) for c in clauses})
    patterns: dict[str, PatternScore] = {}
    wrong: list[WrongFinding] = []
    missed: list[WrongFinding] = []
    for number, item in enumerate(items, 1):
        progress(number)
        post = Post(item.text, item.context)
        report = checker.check_post(post)
        got = report.clauses
        result._count(item, got)
        source = result.by_source.setdefault(
            item.source, Evaluation(scores={c: ClauseScore(c) for c in clauses})
        )
        source._count(item, got)
        fired = dict(checker.pattern_hits(post)) if post.context.represents_department else {}
        for pattern_id, clause in fired.items():
            score = patterns.setdefault(pattern_id, PatternScore(pattern_id, clause))
            score.fired += 1
            score.tp += clause in item.labels
        for finding in report.findings:
            if finding.clause not in item.labels:
                wrong.append(
                    WrongFinding(
                        item.id, finding.clause, finding.score, finding.evidence, finding.trace, item.source
                    )
                )
        for clause in sorted(item.labels - got):
            shown = "; ".join(item.evidence(clause)) or item.text[:160]
            missed.append(WrongFinding(item.id, clause, 0.0, shown, "nothing found", item.source))
        if item.labels != got:
            result.misses.append(Miss(item.id, item.text, item.labels, got, item.source))
    for score in patterns.values():
        score.support = result.scores[score.clause].support if score.clause in result.scores else 0
    result.patterns = dict(sorted(patterns.items()))
    result.false_positives = sorted(wrong, key=lambda w: -w.score)[:worst]
    result.missed = missed[:worst]
    if len(result.by_source) == 1:
        result.by_source = {}
    return result
