"""The policy pack: the shipped one loads, broken ones are refused clearly,
and a department's own pack changes what the checker does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from postguard.checks import Checker
from postguard.checks.model.inference import default_model
from postguard.errors import PolicyError
from postguard.policy import default_pack, load_pack

CONTENT = [
    "A.i",
    "A.ii",
    "A.iii.guilt",
    "A.iii.prosecution",
    "A.iii.confidential",
    "A.iv.political",
    "A.iv.private",
]


def test_default_pack_has_every_clause_of_the_contract() -> None:
    pack = default_pack()
    assert [c.id for c in pack.clauses] == [*CONTENT, "B", "C"]
    assert pack.policy.authority == "Commissioner of Police"
    assert pack.policy.date.isoformat() == "2022-03-24"
    assert {c.id for c in pack.categories} == {
        "social-networking",
        "micro-blogging",
        "photo-video-sharing",
        "wikis",
        "blogs",
        "news-sites",
    }
    for clause in pack.clauses:
        assert clause.text and clause.violates, clause.id


def _write(tmp_path: Path, body: str, name: str = "pack.yaml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_unknown_field_is_named_with_a_suggestion(tmp_path: Path) -> None:
    path = _write(tmp_path, "extends: default\nclauses:\n  - id: A.i\n    severty: high\n")
    with pytest.raises(PolicyError) as info:
        load_pack(path)
    message = str(info.value)
    assert str(path) in message
    assert "clauses[0] (id 'A.i')" in message
    assert "unknown field 'severty'" in message
    assert "line 4" in message


def test_misspelt_field_gets_did_you_mean(tmp_path: Path) -> None:
    path = _write(tmp_path, "extends: default\npolicy:\n  authorty: Chief of Police\n")
    with pytest.raises(PolicyError, match=r"did you mean 'authority'"):
        load_pack(path)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("extends: default\nclauses:\n  - id: A.i\n    threshold: 2\n", "less than or equal to 1"),
        ("extends: default\ndecision_rules:\n  - name: x\n    decision: maybe\n", "decision_rules[0]"),
        ("extends: default\nclauses:\n  - id: A.v\n    title: New\n", "required field is missing"),
        ("policy: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "top level must be a mapping"),
        (
            "extends: default\nclauses:\n  - id: A.v\n    title: t\n    text: t\n    patterns:\n"
            "      - regex: '(unclosed'\n",
            "regex does not compile",
        ),
    ],
)
def test_broken_packs_are_refused_with_place_and_field(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(PolicyError, match=re.escape(expected)):
        load_pack(_write(tmp_path, body))


def test_missing_file_and_extends_loop(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="file not found"):
        load_pack(tmp_path / "nope.yaml")
    _write(tmp_path, "extends: b.yaml\n", "a.yaml")
    _write(tmp_path, "extends: a.yaml\n", "b.yaml")
    with pytest.raises(PolicyError, match="circle"):
        load_pack(tmp_path / "a.yaml")


CHIEF_PACK = """\
extends: default
policy:
  department: Lakeview Police Department
  authority: Chief of Police
clauses:
  - id: A.iv.political
    enabled: false
  - id: A.v
    title: Weapons imagery
    text: Personnel shall not post jokes about firearms.
    violates: [jokes about firearms]
    patterns:
      - regex: '\\bpew[\\s-]?pew\\b'
        score: 0.95
        explanation: Jokes about firearms.
        unless: '\\bwater\\s+pistols?\\b'
      - regex: '\\bbang\\s+bang\\b'
        context: '\\b(?:range|firearms?|rifles?)\\b'
        explanation: Jokes about firearms.
"""


def test_another_departments_pack_changes_the_checker(tmp_path: Path) -> None:
    pack = load_pack(_write(tmp_path, CHIEF_PACK))
    assert pack.policy.authority == "Chief of Police"
    checker = Checker(pack, default_model())
    political = "Vote for Jenkins on Tuesday, the only candidate who backs the police!"
    assert "A.iv.political" not in checker.check(political).clauses
    report = checker.check("Range day today, pew pew!")
    assert "A.v" in report.clauses
    finding = next(f for f in report.findings if f.clause == "A.v")
    assert finding.evidence.lower() == "pew pew"
    # `unless` switches a pattern off for the post; `context` must match for it to apply.
    assert "A.v" not in checker.check("Water pistols at the summer fair, pew pew!").clauses
    assert "A.v" in checker.check("Rifles out at the range, bang bang.").clauses
    assert "A.v" not in checker.check("Bang bang went the fireworks over the harbour.").clauses
    report = checker.check(
        "Confidential radio traffic attached.", {"permissions": ["P-1"], "attachments": ["radio_log.mp3"]}
    )
    assert any("Chief of Police" in a.explanation for a in report.advice)
