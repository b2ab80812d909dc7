"""Measure the checker on a labelled JSON Lines set (``postguard eval``).

Per clause: precision, recall and F1 over posts; macro-F1 over the clauses
present in the set; the false-positive rate on clean posts (posts with no
labels that got any finding); per pattern id: how often it fired, its
precision (the post carries the pattern's clause) and its share of the
clause's posts (recall); and the posts it got wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from postguard.checks.engine import Checker
from postguard.checks.types import Context, Post
from postguard.errors import InputError

__all__ = ["ClauseScore", "Evaluation", "Miss", "PatternScore", "evaluate"]


@dataclass(frozen=True)
class ClauseScore:
    clause: str
    support: int
    tp: int
    fp: int
    fn: int

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


@dataclass
class Evaluation:
    posts: int = 0
    clean_posts: int = 0
    clean_flagged: int = 0
    unreadable: int = 0
    scores: dict[str, ClauseScore] = field(default_factory=dict)
    patterns: dict[str, PatternScore] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)

    @property
    def macro_f1(self) -> float:
        present = [s for s in self.scores.values() if s.support]
        return sum(s.f1 for s in present) / len(present) if present else 0.0

    @property
    def clean_fp_rate(self) -> float:
        return self.clean_flagged / self.clean_posts if self.clean_posts else 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "posts": self.posts,
            "macro_f1": round(self.macro_f1, 4),
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
            "patterns": {
                p.pattern: {
                    "clause": p.clause,
                    "fired": p.fired,
                    "precision": round(p.precision, 4),
                    "recall": round(p.recall, 4),
                }
                for p in self.patterns.values()
            },
            "errors": [
                {"id": m.id, "expected": sorted(m.expected), "got": sorted(m.got)} for m in self.misses
            ],
        }


def _lines(path: Path) -> Iterable[tuple[int, str]]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        yield from enumerate(fh, 1)


def evaluate(checker: Checker, path: Path, progress: Callable[[int], None] = lambda _n: None) -> Evaluation:
    """Check every labelled post of ``path`` and score the results."""
    clauses = [c.id for c in checker.pack.content_clauses]
    counts = {c: [0, 0, 0, 0] for c in clauses}  # support, tp, fp, fn
    result = Evaluation()
    patterns: dict[str, PatternScore] = {}
    for number, line in _lines(path):
        if not line.strip():
            continue
        progress(number)
        try:
            data = json.loads(line)
            expected = frozenset(data["labels"])
            post = Post(data["text"], Context.from_dict(data.get("context")))
            report = checker.check_post(post)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, InputError):
            result.unreadable += 1
            continue
        result.posts += 1
        fired = dict(checker.pattern_hits(post)) if post.context.represents_department else {}
        for pattern_id, clause in fired.items():
            score = patterns.setdefault(pattern_id, PatternScore(pattern_id, clause))
            score.fired += 1
            score.tp += clause in expected
        got = report.clauses
        if not expected:
            result.clean_posts += 1
            result.clean_flagged += bool(got)
        for clause in clauses:
            e, g = clause in expected, clause in got
            counts[clause][0] += e
            counts[clause][1] += e and g
            counts[clause][2] += g and not e
            counts[clause][3] += e and not g
        if expected != got:
            result.misses.append(Miss(str(data.get("id", number)), data["text"], expected, got))
    result.scores = {c: ClauseScore(c, *v) for c, v in counts.items()}
    for score in patterns.values():
        score.support = counts[score.clause][0] if score.clause in counts else 0
    result.patterns = dict(sorted(patterns.items()))
    return result
