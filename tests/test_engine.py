"""The engine: permissions, decisions from the pack's rules, merging, the Python API."""

from __future__ import annotations

from pathlib import Path

import pytest

import postguard
from postguard.checks import Checker, Post
from postguard.checks.decide import decide
from postguard.checks.model.inference import default_model
from postguard.checks.types import Finding
from postguard.errors import EmptyTextError, TextTooLongError
from postguard.policy import default_pack, load_pack

LEAK = "Here's the internal memo about next week's shift changes."


def test_python_api_checks_a_post() -> None:
    report = postguard.check("We got our man!", context={"account": "official"})
    assert report.decision == "block"
    assert [f.clause for f in report.findings] == ["A.iii.guilt"]
    assert report.to_dict("p-1")["findings"][0]["span"] == [0, 14]


def test_claimed_permission_turns_confidential_findings_into_advice(checker: Checker) -> None:
    plain = checker.check(LEAK)
    assert "A.iii.confidential" in plain.clauses
    permitted = checker.check(LEAK, {"permissions": ["CP-2024-0117"]})
    assert "A.iii.confidential" not in permitted.clauses
    assert permitted.decision == "review"
    assert permitted.advice and "CP-2024-0117" in permitted.advice[0].explanation
    assert "Commissioner of Police" in permitted.advice[0].explanation
    assert permitted.to_dict()["advice"][0]["clause"] == "A.iii.confidential"


class _Registry:
    def check_permission(self, permission_id: str, post: Post) -> tuple[bool, str]:
        return (permission_id == "CP-GOOD", "revoked on 2024-05-01")


def test_a_resolver_decides_whether_a_permission_is_honoured() -> None:
    checker = Checker(default_pack(), default_model(), permissions=_Registry())
    refused = checker.check(LEAK, {"permissions": ["CP-BAD"]})
    assert "A.iii.confidential" in refused.clauses
    assert "CP-BAD (revoked on 2024-05-01)" in refused.findings[0].explanation
    honoured = checker.check(LEAK, {"permissions": ["CP-GOOD"]})
    assert not honoured.findings and honoured.advice


def _finding(clause: str, score: float) -> Finding:
    return Finding(clause, 0, 1, "x", score, "why")


def test_decisions_follow_the_packs_rules() -> None:
    rules = default_pack().decision_rules
    assert decide(rules, [], []) == "allow"
    assert decide(rules, [_finding("A.i", 0.5)], []) == "review"
    assert decide(rules, [_finding("A.i", 0.95)], []) == "block"
    assert decide(rules, [], [_finding("A.iii.confidential", 0.9)]) == "review"


def test_a_pack_can_send_a_clause_to_review_only(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(
        "extends: default\ndecision_rules:\n"
        "  - {name: identification is for a reviewer, match: {clauses: [A.ii]}, decision: review}\n"
        "  - {name: confident, match: {min_score: 0.75}, decision: block}\n"
        "  - {name: any, decision: review}\n",
        encoding="utf-8",
    )
    checker = Checker(load_pack(path), default_model())
    report = checker.check("Road closed on Main Street.", {"account": "personal", "capacity": "official"})
    assert report.clauses == {"A.ii"} and report.decision == "review"


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_text_is_refused(checker: Checker, text: str) -> None:
    with pytest.raises(EmptyTextError):
        checker.check(text)


def test_text_over_64_kib_is_refused(checker: Checker) -> None:
    with pytest.raises(TextTooLongError, match="64 KiB"):
        checker.check("a" * (64 * 1024 + 1))
    assert checker.check("Road closed. " * 5000).decision == "allow"


def test_bad_context_is_refused(checker: Checker) -> None:
    with pytest.raises(ValueError, match="account"):
        checker.check("Road closed.", {"account": "secret"})


def test_a_stronger_finding_of_the_same_words_keeps_the_patterns_rewrite() -> None:
    from postguard.checks.engine import _merge

    def found(score: float, start: int, end: int, replacement: str | None, source: str) -> Finding:
        return Finding("A.i", start, end, "#GotHim", score, "why", replacement=replacement, source=source)

    model, pattern = found(0.9, 10, 17, None, "model"), found(0.8, 10, 17, "#Arrested", "pattern")
    [kept] = _merge([pattern, model])
    assert kept.source == "model" and kept.score == 0.9 and kept.replacement == "#Arrested"
    # Words that only overlap: the rewrite was for the pattern's words, so it is not lent.
    [kept] = _merge([found(0.8, 12, 17, "#Arrested", "pattern"), model])
    assert kept.replacement is None
