"""The detector contract, the pattern detector, and the registry.

Every clause is checked by a :class:`Detector`. Built-in detectors register
themselves with :func:`register`, exactly as a department's own would, and the
engine builds one of each registered class whose clause the pack enables.

Patterns are policy, so most live in the pack (``clauses[].patterns``), each
with an id; a detector keeps in code only the patterns that are structure
rather than phrases (a name after an age, say), and gives those ids too.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, TypeVar

import regex

from postguard.checks.analysed import AnalysedPost
from postguard.checks.scoring import Scorer
from postguard.checks.types import Finding
from postguard.errors import PolicyError
from postguard.policy.schema import Clause, PolicyPack

__all__ = ["REGISTRY", "Detector", "Pattern", "PatternDetector", "detector_for", "register"]

if TYPE_CHECKING:
    from regex import Pattern as Compiled


@dataclass(frozen=True, slots=True)
class Pattern:
    """A regular expression that shows a violation wherever it matches.

    ``id`` names it in findings and in ``postguard eval``. ``context``, when
    given, must also match somewhere in the post (for example: "the killer"
    counts only in a post about an arrest); ``unless``, when given, must match
    nowhere in it (a child named in a missing-person appeal is not
    confidential).
    """

    id: str
    regex: str
    score: float
    explanation: str = ""
    suggestion: str = ""
    context: str | None = None
    unless: str | None = None
    flags: int = re.IGNORECASE
    #: Words that may stand in place of the match as they are (a one-step rewrite), if any.
    replacement: str | None = None

    def compiled(self) -> tuple[Compiled[str], Compiled[str] | None, Compiled[str] | None]:
        """The regexes, compiled by the ``regex`` engine, which can stop a search at a time limit."""
        ctx = regex.compile(self.context, self.flags) if self.context else None
        unless = regex.compile(self.unless, self.flags) if self.unless else None
        return regex.compile(self.regex, self.flags), ctx, unless


class Detector(ABC):
    """Finds violations of one clause in a post."""

    clause: ClassVar[str]

    def __init__(self, pack: PolicyPack, clause: Clause, scorer: Scorer | None = None) -> None:
        self.pack = pack
        self.policy_clause = clause
        self.scorer = scorer

    @abstractmethod
    def detect(self, post: AnalysedPost) -> list[Finding]:
        """Every violation of ``self.clause`` in ``post`` (empty when none)."""


class PatternDetector(Detector):
    """A detector made of patterns: the pack's for its clause, plus any class-level ``patterns``."""

    patterns: ClassVar[tuple[Pattern, ...]] = ()

    def __init__(self, pack: PolicyPack, clause: Clause, scorer: Scorer | None = None) -> None:
        super().__init__(pack, clause, scorer)
        own = {p.id: p for p in self.patterns}
        chosen: list[Pattern] = []
        for entry in clause.patterns:
            if entry.regex is None:  # the pack changes one of this detector's own patterns
                if entry.id not in own:
                    raise PolicyError(
                        f"Clause {clause.id}, pattern '{entry.id}': no regex, and the detector has no "
                        f"pattern of that id to change (its own: {', '.join(own) or 'none'})."
                    )
                changed = {k: getattr(entry, k) for k in entry.model_fields_set if k in _CHANGEABLE}
                own[entry.id] = replace(own[entry.id], **changed)
                if not entry.enabled:
                    del own[entry.id]
            elif entry.enabled:
                fields = (entry.score, entry.explanation, entry.suggestion, entry.context, entry.unless)
                chosen.append(Pattern(entry.id, entry.regex, *fields, replacement=entry.replacement))
        self._compiled = [(p, *p.compiled()) for p in (*chosen, *own.values())]

    @property
    def pattern_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p, *_ in self._compiled)

    def pattern_matches(self, post: AnalysedPost) -> list[tuple[int, int, Pattern]]:
        """Spans (in the normalised text) where a pattern matched, and which.

        Every search runs with the time left for the check: a pattern that would take
        longer stops, and the check fails as too slow rather than passing the post.
        """
        text = post.text
        found: list[tuple[int, int, Pattern]] = []
        try:
            for pattern, compiled, context, unless in self._compiled:
                if context is not None and context.search(text, timeout=post.time_left()) is None:
                    continue
                if unless is not None and unless.search(text, timeout=post.time_left()) is not None:
                    continue
                found.extend(
                    (m.start(), m.end(), pattern)
                    for m in compiled.finditer(text, timeout=post.time_left())
                    if m.end() > m.start()
                )
        except TimeoutError:  # the regex engine's own timeout: the time left ran out mid-search
            post.out_of_time()
        return found

    def pattern_finding(
        self, post: AnalysedPost, start: int, end: int, pattern: Pattern, score: float, trace: str = ""
    ) -> Finding:
        explanation = pattern.explanation or self.policy_clause.explanation
        return post.finding(
            self.clause,
            start,
            end,
            score=score,
            explanation=f"{explanation.rstrip('.')} (matched a known phrase).",
            suggestion=pattern.suggestion or self.policy_clause.suggestion,
            replacement=pattern.replacement,
            source="pattern",
            rule=pattern.id,
            trace=trace or f"pattern {pattern.id} ({pattern.score:.2f})",
        )

    def detect(self, post: AnalysedPost) -> list[Finding]:
        return [self.pattern_finding(post, s, e, p, p.score) for s, e, p in self.pattern_matches(post)]


#: What a pack may change of a detector's own pattern.
_CHANGEABLE = frozenset({"score", "explanation", "suggestion", "context", "unless", "replacement"})

REGISTRY: dict[str, type[Detector]] = {}
D = TypeVar("D", bound=type[Detector])


def register(cls: D) -> D:
    """Class decorator: make ``cls`` the detector for its clause."""
    REGISTRY[cls.clause] = cls
    return cls


def detector_for(clause: str) -> type[Detector] | None:
    """The registered detector class for ``clause``, if any."""
    return REGISTRY.get(clause)
