"""Checking a post against the registry: the one service that the CLI and the workflow share.

A post checked for a member (``postguard check --registry``, a draft's
submission) is checked with the claimed permissions judged by the registry
(genuine, in force, for this kind), and with clause C applied to the device it
comes from; the decision is taken again over everything found. Recording the
check in the audit trail, with each permission that was used, is
:func:`record_check`.
"""

from __future__ import annotations

import hashlib

from postguard.access.publication import device_items
from postguard.access.snapshot import Snapshot, load_snapshot
from postguard.audit.chain import AuditRecord
from postguard.checks.decide import with_items
from postguard.checks.engine import Checker
from postguard.checks.types import Context, Post, Report
from postguard.keys import load_public_if_present
from postguard.registry.grants import Grants

__all__ = ["check_with_registry", "post_digest", "record_check"]


def post_digest(text: str) -> str:
    """A short SHA-256 of the text: how audit entries name a post without holding it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def check_with_registry(
    checker: Checker,
    grants: Grants,
    text: str,
    context: Context,
    *,
    member: str | None,
    draft: str | None = None,
    device: str | None = None,
    snapshot: Snapshot | None = None,
) -> Report:
    """The report for ``text`` as ``member`` would publish it from ``device`` (if given).

    A claimed permission is honoured only if it is a confidential release issued for
    ``member`` (or for no one in particular) and for this post: ``draft`` by its id, or
    the text and attachments by their SHA-256.
    """
    resolver = grants.resolver(member=member, draft=draft)
    report = checker.with_permissions(resolver).check_post(Post(text, context))
    if not device:
        return report
    if snapshot is None:
        trusted = load_public_if_present(grants.keys_dir, "commissioner")
        snapshot = load_snapshot(grants.registry.db, trusted)
    clause = checker.pack.clause_for("personal-devices")
    found, advised = device_items(snapshot, member, device, clause)
    return with_items(report, found, advised, checker.pack.decision_rules)


def record_check(
    grants: Grants,
    actor: str,
    text: str,
    context: Context,
    report: Report,
    *,
    device: str | None = None,
    releasable: str,
) -> None:
    """Audit a check (``check.post``) and each permission it used (``permission.used``), together."""
    registry = grants.registry
    digest = post_digest(text)
    with registry.db.session() as session:
        registry.audit(
            session,
            AuditRecord(
                actor,
                "check.post",
                f"post:sha256:{digest}",
                ",".join(sorted(report.clauses)),
                {
                    "decision": report.decision,
                    "policy": report.policy_version,
                    "findings": [
                        {"clause": f.clause, "span": [f.start, f.end], "score": round(f.score, 3)}
                        for f in report.findings
                    ],
                    "permissions_claimed": list(context.permissions),
                    "device": device,
                },
            ),
        )
        for pid in report.permissions_used:
            registry.audit(
                session,
                AuditRecord(
                    actor,
                    "permission.used",
                    f"permission:{pid}",
                    releasable,
                    {"post": f"sha256:{digest}", "decision": report.decision},
                ),
            )
