"""Turn findings and advice into allow / review / block, by the pack's rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from postguard.checks.types import Finding, Report
from postguard.policy.schema import DECISION_ORDER, Decision, DecisionRule, ItemMatch

__all__ = ["decide", "item_decision", "with_items"]


def _matches(match: ItemMatch, item: Finding) -> bool:
    return (
        not match.clauses or item.clause in match.clauses
    ) and match.min_score <= item.score <= match.max_score


def item_decision(rules: Iterable[DecisionRule], item: Finding, kind: str) -> tuple[Decision, str] | None:
    """The decision (and the rule's name) of the first rule matching ``item``."""
    for rule in rules:
        if rule.applies_to == kind and _matches(rule.match, item):
            return rule.decision, rule.name
    return None


def decide(
    rules: tuple[DecisionRule, ...], findings: Iterable[Finding], advice: Iterable[Finding]
) -> Decision:
    """The most severe decision over all items; ``allow`` when none applies."""
    decision: Decision = "allow"
    for kind, items in (("finding", findings), ("advice", advice)):
        for item in items:
            result = item_decision(rules, item, kind)
            if result and DECISION_ORDER[result[0]] > DECISION_ORDER[decision]:
                decision = result[0]
    return decision


def with_items(
    report: Report, findings: Iterable[Finding], advice: Iterable[Finding], rules: tuple[DecisionRule, ...]
) -> Report:
    """``report`` with more findings and advice (from outside the text, clause C say), decided again."""
    all_findings, all_advice = (*report.findings, *findings), (*report.advice, *advice)
    return replace(
        report, findings=all_findings, advice=all_advice, decision=decide(rules, all_findings, all_advice)
    )
