"""What stands between a checked draft and its approval: the pack's ``approval:`` rules as one function.

A finding is cleared at approval in exactly one of these ways, by its clause
and the decision the pack's rules give it:

- under clause C (a personal device without the Commissioner's permission):
  never; the post is submitted again from an allowed device;
- under a clause in ``approval.release_by_permission`` (A.iii.confidential by
  default): only by the Commissioner's confidential-release permission scoped
  to this post, which turns the finding into advice when the check runs;
- blocking, under any other clause: by editing it away, or by a reviewer's
  dispute that another person confirmed (:mod:`postguard.workflow.disputes`);
- for review (not blocking): by the reviewer's recorded reason.

The same function answers at approval and again at publication, with the
report of a check run then, so a change of pack or model in between is seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from postguard.checks.decide import item_decision
from postguard.checks.types import Finding, Report
from postguard.policy.schema import PolicyPack

__all__ = [
    "Outstanding",
    "SpanKey",
    "Way",
    "clearing",
    "disputable",
    "key_of",
    "needs_reason",
    "outstanding",
    "span_key",
    "stored_report",
]

#: A finding as a dispute names it: its clause and where it is in the text.
SpanKey = tuple[str, int, int]


@dataclass(frozen=True, slots=True)
class Outstanding:
    """A finding that approval cannot pass over, and what would clear it."""

    clause: str
    evidence: str
    remedy: str

    def __str__(self) -> str:
        quoted = f' ("{self.evidence}")' if self.evidence else ""
        return f"clause {self.clause}{quoted}: {self.remedy}"


def span_key(clause: str, start: int, end: int) -> SpanKey:
    return (clause, int(start), int(end))


def stored_report(data: dict[str, Any]) -> Report:
    """A report as a draft row keeps it (its contract shape) back as a :class:`Report`."""

    def items(key: str) -> tuple[Finding, ...]:
        return tuple(
            Finding(
                str(f["clause"]),
                int(f["span"][0]),
                int(f["span"][1]),
                str(f.get("evidence", "")),
                float(f.get("score", 0.0)),
                str(f.get("explanation", "")),
                str(f.get("suggestion", "")),
            )
            for f in data.get(key, [])
        )

    decision = data.get("decision", "allow")
    return Report(
        decision if decision in ("allow", "review", "block") else "block",
        items("findings"),
        items("advice"),
        str(data.get("policy_version", "")),
    )


def outstanding(pack: PolicyPack, report: Report, confirmed: Iterable[SpanKey] = ()) -> list[Outstanding]:
    """The findings of ``report`` that no reason can clear, given the ``confirmed`` disputes."""
    settled = set(confirmed)
    left: list[Outstanding] = []
    for finding in report.findings:
        way = clearing(pack, finding)
        if way == "reason" or (way == "dispute" and key_of(finding) in settled):
            continue
        left.append(Outstanding(finding.clause, finding.evidence, _REMEDY[way].format(pack.policy.authority)))
    return left


def needs_reason(pack: PolicyPack, report: Report, confirmed: Iterable[SpanKey] = ()) -> list[Finding]:
    """The findings a reviewer passes over with a recorded reason (all but the confirmed disputes)."""
    settled = set(confirmed)
    return [f for f in report.findings if key_of(f) not in settled]


def disputable(pack: PolicyPack, report: Report, disputed: Iterable[SpanKey] = ()) -> list[Finding]:
    """The blocking findings a reviewer may dispute (those not yet disputed in this submission)."""
    taken = set(disputed)
    return [f for f in report.findings if clearing(pack, f) == "dispute" and key_of(f) not in taken]


Way = Literal["device", "permission", "dispute", "reason"]

_REMEDY: dict[Way, str] = {
    "device": "it was submitted from a personal device without the {}'s written permission; submit it "
    "again from a department device or a permitted one",
    "permission": "only the {}'s confidential-release permission issued for this post (its draft id, "
    "or the SHA-256 of its text and attachments) clears it",
    "dispute": "it blocks the post: edit it away, or dispute it and have another reviewer confirm "
    "the dispute",
    "reason": "",
}


def clearing(pack: PolicyPack, finding: Finding) -> Way:
    """How ``finding`` may be cleared at approval (besides editing it away)."""
    if finding.clause == pack.clause_for("personal-devices"):
        return "device"
    if finding.clause in pack.released_by_permission:
        return "permission"
    verdict = item_decision(pack.decision_rules, finding, "finding")
    return "dispute" if verdict is not None and verdict[0] == "block" else "reason"


def key_of(finding: Finding) -> SpanKey:
    return span_key(finding.clause, finding.start, finding.end)
