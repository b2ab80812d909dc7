"""The checker: a post in, a report out.

``Checker(pack, scorer)`` builds one detector per enabled content clause of
the pack (from the registry; a clause the pack adds with its own ``patterns``
gets a pattern detector), runs them over the analysed post, merges
overlapping findings, applies claimed permissions and decides.

The checker is pure: no database, web or CLI. Whether a claimed permission is
real is asked of a :class:`PermissionResolver`, which the registry implements;
without one, a claim is taken at face value (contract.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol, runtime_checkable

from postguard.checks import detectors as _builtin  # noqa: F401  (registers the built-ins)
from postguard.checks.analysed import AnalysedPost
from postguard.checks.attachments import AttachmentInspector
from postguard.checks.decide import decide
from postguard.checks.detectors.base import Detector, PatternDetector, detector_for
from postguard.checks.scoring import Scorer
from postguard.checks.types import Context, Finding, Post, Report
from postguard.policy.schema import PolicyPack

__all__ = ["Checker", "MediaPermissionResolver", "PermissionResolver"]


class PermissionResolver(Protocol):
    """Says whether a claimed permission may release confidential material."""

    def check_permission(self, permission_id: str, post: Post) -> tuple[bool, str]:
        """``(valid, reason)`` for ``permission_id`` as claimed for ``post``."""
        ...


@runtime_checkable
class MediaPermissionResolver(PermissionResolver, Protocol):
    """A resolver that can also say whether a permission names one attached file by its SHA-256."""

    def check_media_permission(self, permission_id: str, post: Post, sha256: str) -> tuple[bool, str]:
        """``(valid, reason)`` for ``permission_id`` as claimed for the file ``sha256`` of ``post``."""
        ...


def _merge(findings: list[Finding]) -> list[Finding]:
    """Keep the strongest of overlapping findings of the same clause.

    A weaker finding of the very same words still lends its one-step ``replacement``
    (a pattern's) to the one kept (the model's, say, when it scored the words higher).
    """
    kept: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (-f.score, f.start)):
        index = next(
            (
                i
                for i, k in enumerate(kept)
                if k.clause == finding.clause and k.start < finding.end and finding.start < k.end
            ),
            None,
        )
        if index is None:
            kept.append(finding)
            continue
        first = kept[index]
        same_words = (first.start, first.end) == (finding.start, finding.end)
        if same_words and finding.replacement and not first.replacement:
            kept[index] = replace(first, replacement=finding.replacement)
    return sorted(kept, key=lambda f: (f.start, f.clause))


class Checker:
    """Checks posts against every content clause of a policy pack."""

    def __init__(
        self,
        pack: PolicyPack,
        scorer: Scorer | None,
        permissions: PermissionResolver | None = None,
        media: AttachmentInspector | None = None,
    ) -> None:
        self.pack = pack
        self.scorer = scorer
        self.permissions = permissions
        self.media = media
        self.releasable = pack.clause_for("confidential-material")
        self.detectors: list[Detector] = []
        for clause in pack.content_clauses:
            cls = detector_for(clause.id)
            if cls is None:
                if not clause.patterns:
                    continue
                cls = type(f"PackDetector_{clause.id}", (PatternDetector,), {"clause": clause.id})
            self.detectors.append(cls(pack, clause, scorer))

    def with_permissions(self, permissions: PermissionResolver | None) -> Checker:
        """The same checker (pack, scorer, detectors) asking ``permissions`` about claims."""
        twin = object.__new__(Checker)
        twin.__dict__.update(self.__dict__)
        twin.permissions = permissions
        return twin

    @property
    def policy_version(self) -> str:
        return f"{self.pack.policy.title} ({self.pack.policy.date.isoformat()})"

    def check(self, text: str, context: Context | dict[str, object] | None = None) -> Report:
        """Check ``text``; raises :class:`~postguard.errors.InputError` on bad input."""
        ctx = context if isinstance(context, Context) else Context.from_dict(context)
        return self.check_post(Post(text, ctx))

    def with_media(self, media: AttachmentInspector | None) -> Checker:
        """The same checker looking at attachments with ``media`` (None: by their names only)."""
        twin = object.__new__(Checker)
        twin.__dict__.update(self.__dict__)
        twin.media = media
        return twin

    def check_post(self, post: Post) -> Report:
        if not post.context.represents_department:
            return Report("allow", policy_version=self.policy_version)
        analysed = AnalysedPost(post, deadline=time.monotonic() + self.pack.limits.check_seconds)
        found: list[Finding] = []
        seen: list[Finding] = []
        if self.media is not None and post.context.attachments:
            taken = frozenset(a for a in post.context.attachments if self.media.takes(a))
            analysed.inspected = taken
            for name in sorted(taken):
                seen.extend(self.media.inspect(name, self._judge(post)))
            # The text's time starts once the attachments were looked at (bounded by pack.media).
            analysed.deadline = time.monotonic() + self.pack.limits.check_seconds
        for detector in self.detectors:
            found.extend(detector.detect(analysed))
        findings = _merge(found) + seen
        advice: list[Finding] = []
        used: tuple[str, ...] = ()
        if post.context.permissions and any(f.clause == self.releasable for f in findings):
            findings, advice, used = self._apply_permissions(post, findings)
        decision = decide(self.pack.decision_rules, findings, advice)
        return Report(decision, tuple(findings), tuple(advice), self.policy_version, used)

    def _judge(self, post: Post) -> Callable[[str], Report]:
        """Checks words read in an attachment as text of this post (its context, no attachments)."""
        context = replace(post.context, attachments=())
        plain = self.with_media(None)

        def judge(words: str) -> Report:
            return plain.check_post(Post(words, context))

        return judge

    def pattern_hits(self, post: Post) -> list[tuple[str, str]]:
        """(pattern id, clause) of every pattern that matches ``post``, merged or not (for eval)."""
        analysed = AnalysedPost(post)
        return [
            (pattern.id, detector.clause)
            for detector in self.detectors
            if isinstance(detector, PatternDetector)
            for _, _, pattern in detector.pattern_matches(analysed)
        ]

    def _apply_permissions(
        self, post: Post, findings: list[Finding]
    ) -> tuple[list[Finding], list[Finding], tuple[str, ...]]:
        authority = self.pack.policy.authority
        releasable = self.releasable
        valid: list[str] = []
        refused: list[str] = []
        for pid in post.context.permissions:
            if self.permissions is None:
                valid.append(pid)
                continue
            ok, reason = self.permissions.check_permission(pid, post)
            (valid if ok else refused).append(pid if ok else f"{pid} ({reason})")
        # A media finding may also be released by a permission that names its own file.
        per_file: dict[str, list[str]] = {}
        if not valid and isinstance(self.permissions, MediaPermissionResolver):
            for digest in sorted({f.sha256 for f in findings if f.clause == releasable and f.sha256}):
                for pid in post.context.permissions:
                    if self.permissions.check_media_permission(pid, post, digest)[0]:
                        per_file.setdefault(digest, []).append(pid)
        if not valid and not per_file:
            note = f" Claimed permission not honoured: {'; '.join(refused)}."
            return (
                [
                    replace(f, explanation=f.explanation + note) if f.clause == releasable else f
                    for f in findings
                ],
                [],
                (),
            )
        kept: list[Finding] = []
        advice: list[Finding] = []
        used: list[str] = list(valid)
        for f in findings:
            covering = valid or (per_file.get(f.sha256, []) if f.sha256 else [])
            if f.clause != releasable:
                kept.append(f)
            elif not covering:
                note = f" Claimed permission not honoured for this material: {'; '.join(refused)}."
                kept.append(replace(f, explanation=f.explanation + note))
            else:
                used.extend(p for p in covering if p not in used)
                advice.append(
                    replace(
                        f,
                        explanation=(
                            f"{f.explanation.rstrip('.')}; released under the {authority}'s written "
                            f"permission {', '.join(covering)}: a reviewer must confirm that it "
                            "covers this material."
                        ),
                        suggestion="",
                    )
                )
        return kept, advice, tuple(used)
