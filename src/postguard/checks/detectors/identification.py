"""Clause A.ii, identification: an official-capacity post from a personal
account must identify the writer as a member of the department.

The rule is the pack's: a rank or role that is the writer's (a name follows
it, or the writer claims it) and the department's name, anywhere in the text.
Official-account posts and personal-capacity posts never violate A.ii.
"""

from __future__ import annotations

import re

from postguard.checks.analysed import AnalysedPost
from postguard.checks.detectors.base import Detector, register
from postguard.checks.scoring import Scorer
from postguard.checks.types import Finding
from postguard.policy.schema import Clause, PolicyPack

__all__ = ["IdentificationDetector"]

_NAME = r"(?:\s*(?:\d{2,6}|#\d+)\s*)?\s*(?-i:[A-Z](?:[a-z'’-]+|\.)|[A-Z]{2,}\b)"
_CLAIM = r"(?:i'?m|i\s+am|this\s+is|it'?s|posting\s+as|writing\s+as|speaking\s+as|as|your|from\s+your)\s+(?:the\s+|a\s+|an\s+|your\s+)?(?:local\s+|new\s+|area\s+|duty\s+)?"


@register
class IdentificationDetector(Detector):
    clause = "A.ii"

    def __init__(self, pack: PolicyPack, clause: Clause, scorer: Scorer | None = None) -> None:
        super().__init__(pack, clause, scorer)
        ident = pack.identification
        ranks = "|".join(f"(?:{r})" for r in ident.ranks)
        roles = "|".join(f"(?:{r})" for r in ident.roles) or "(?!)"
        self._signature = re.compile(
            rf"\b(?:(?:{ranks}){_NAME}|{_CLAIM}(?:{ranks}|{roles})|(?:{roles}))", re.IGNORECASE
        )
        self._department = [re.compile(p) for p in ident.department_patterns]

    def identifies_writer(self, text: str) -> bool:
        """True when ``text`` gives the writer's rank or role and the department's name."""
        return self._signature.search(text) is not None and any(p.search(text) for p in self._department)

    def detect(self, post: AnalysedPost) -> list[Finding]:
        ctx = post.context
        if ctx.account != "personal" or ctx.capacity != "official":
            return []
        if self.identifies_writer(post.text):
            return []
        has_rank = self._signature.search(post.text) is not None
        missing = (
            "the department's name" if has_rank else "the writer's rank or role and the department's name"
        )
        return [
            post.finding(
                self.clause,
                *post.sentences[0] if post.sentences else (0, len(post.text)),
                score=0.9 if not has_rank else 0.75,
                explanation=(f"Posted in an official capacity from a personal account without {missing}."),
                suggestion=self.policy_clause.suggestion.replace("{department}", self.pack.policy.department),
                source="rule",
                rule="identification.signature",
                trace=f"personal account, official capacity; rank or role {'found' if has_rank else 'missing'}",
            )
        ]
