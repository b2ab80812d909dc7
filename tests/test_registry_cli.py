"""The registry's commands, end to end, as IT, the Commissioner and an auditor use them."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from postguard.cli.app import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", f"sqlite:///{tmp_path / 'pg.db'}")
    monkeypatch.setenv("POSTGUARD_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("POSTGUARD_COMMISSIONER_PASSPHRASE", "commissioner cli passphrase")
    monkeypatch.setenv("POSTGUARD_DEPARTMENT_PASSPHRASE", "department cli passphrase")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_registry_from_first_member_to_a_verified_permission(env: Path) -> None:
    ok("db", "init", "--service-number", "1001", "--name", "Ada Admin")
    ok("member", "add", "2002", "--name", "Cora Commissioner", "--roles", "commissioner", "--actor", "1001")
    ok("member", "add", "3003", "--name", "Pat PIO", "--roles", "pio", "--actor", "1001")
    ok("member", "add", "4004", "--name", "Aud Itor", "--roles", "auditor", "--actor", "1001")
    ok(
        "device",
        "add-computer",
        "PC-42",
        "--hostname",
        "pio-02",
        "--address",
        "10.20.0.42",
        "--actor",
        "1001",
    )
    ok("device", "add-personal", "IMEI-1", "--owner", "3003", "--description", "iPhone", "--actor", "1001")
    ok("account", "add", "mastodon", "@police@social.example", "--actor", "1001")
    ok("keys", "init", "--name", "commissioner")
    ok("keys", "init", "--name", "department")
    members = json.loads(ok("member", "list", "--json"))
    assert {m["service_number"] for m in members} == {"1001", "2002", "3003", "4004"}

    au = json.loads(
        ok(
            "authorise",
            "add",
            "--member",
            "3003",
            "--computer",
            "PC-42",
            "--category",
            "micro-blogging",
            "--until",
            "2030-06-30",
            "--reason",
            "press duty",
            "--actor",
            "2002",
            "--json",
        )
    )
    assert au["id"] == "AU-0001" and au["scope"] == "category"
    permit = json.loads(
        ok(
            "permit",
            "add",
            "--kind",
            "personal-device",
            "--member",
            "3003",
            "--device",
            "IMEI-1",
            "--reason",
            "on call",
            "--text",
            "May use the iPhone for the X account.",
            "--until",
            "2030-01-31",
            "--actor",
            "2002",
            "--json",
        )
    )
    shown = json.loads(ok("permit", "show", permit["id"], "--json"))
    assert shown["honoured"] is True

    ok("permit", "export", permit["id"], "-o", "permit.json", "--html", "permit.html")
    assert "Commissioner of Police" in (env / "permit.html").read_text()
    assert "VALID" in ok(
        "permit", "verify", "permit.json", "--public-key", str(env / "keys/commissioner.pub")
    )
    doc = json.loads((env / "permit.json").read_text())
    doc["payload"]["valid_until"] = "2099-01-01T00:00:00+00:00"
    (env / "forged.json").write_text(json.dumps(doc))
    forged = runner.invoke(app, ["permit", "verify", "forged.json"])
    assert forged.exit_code == 1 and "NOT VALID" in forged.output

    ok("audit", "checkpoint", "--actor", "4004")
    assert "intact" in ok("audit", "verify")
    shown_c = json.loads(ok("audit", "show", "--clause", "C", "--json"))
    assert [e["action"] for e in shown_c] == ["permission.add", "device.add"]  # newest first
    ok("audit", "export", "-o", "audit.jsonl")
    lines = (env / "audit.jsonl").read_text().splitlines()
    assert len(lines) >= 10 and all(json.loads(line)["hash"] for line in lines)

    with sqlite3.connect(env / "pg.db") as conn:
        conn.execute("UPDATE audit_entry SET actor = 'x' WHERE seq = 4")
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1 and "entry 4" in broken.output


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["member", "add", "9", "--name", "N", "--actor", "3003"], 4, "may not member.add"),
        (["member", "add", "9", "--name", "N"], 4, "needs an actor"),
        (
            [
                "authorise",
                "add",
                "--member",
                "3003",
                "--computer",
                "PC-42",
                "--all-sites",
                "--from",
                "soon",
                "--reason",
                "r",
                "--actor",
                "1001",
            ],
            2,
            "is not a date",
        ),
        (
            ["authorise", "add", "--member", "3003", "--all-sites", "--reason", "r", "--actor", "1001"],
            2,
            "--computer",
        ),
        (["member", "show", "nobody"], 2, "No member has service number 'nobody'"),
        (["permit", "revoke", "CP-1999-0001", "--reason", "x", "--actor", "2002"], 2, "No permission"),
    ],
)
def test_refusals_and_bad_input_are_clear(env: Path, args: list[str], code: int, needle: str) -> None:
    ok("db", "init", "--service-number", "1001", "--name", "Ada Admin")
    ok("member", "add", "3003", "--name", "Pat PIO", "--roles", "pio", "--actor", "1001")
    ok("member", "add", "2002", "--name", "Cora", "--roles", "commissioner", "--actor", "1001")
    ok("device", "add-computer", "PC-42", "--actor", "1001")
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    assert needle in " ".join(result.output.split())


def test_wrong_passphrase_writes_nothing(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ok("db", "init", "--service-number", "1001", "--name", "Ada Admin")
    ok("member", "add", "2002", "--name", "Cora", "--roles", "commissioner", "--actor", "1001")
    ok("member", "add", "3003", "--name", "Pat", "--roles", "pio", "--actor", "1001")
    ok("device", "add-personal", "IMEI-1", "--owner", "3003", "--actor", "1001")
    ok("keys", "init", "--name", "commissioner")
    monkeypatch.setenv("POSTGUARD_COMMISSIONER_PASSPHRASE", "this is not it at all")
    before = len(json.loads(ok("audit", "show", "--json")))
    result = runner.invoke(
        app,
        [
            "permit",
            "add",
            "--kind",
            "personal-device",
            "--member",
            "3003",
            "--device",
            "IMEI-1",
            "--reason",
            "r",
            "--text",
            "t",
            "--actor",
            "2002",
        ],
    )
    assert result.exit_code == 2 and "passphrase" in result.output
    assert len(json.loads(ok("audit", "show", "--json"))) == before
    assert json.loads(ok("permit", "list", "--json")) == []


def test_an_unmigrated_database_is_refused_with_the_fix(env: Path) -> None:
    result = runner.invoke(app, ["member", "list"])
    assert result.exit_code == 3 and "postguard db upgrade" in " ".join(result.output.split())
    assert "Migrated" in ok("db", "upgrade")
    assert "nothing to do" in ok("db", "upgrade")


def test_check_with_the_registry_honours_real_permissions_and_audits_the_decision(env: Path) -> None:
    ok("db", "init", "--service-number", "1001", "--name", "Ada Admin")
    ok("member", "add", "2002", "--name", "Cora", "--roles", "commissioner", "--actor", "1001")
    ok("member", "add", "3003", "--name", "Pat", "--roles", "pio", "--actor", "1001")
    ok("keys", "init", "--name", "commissioner")
    text = "The victim, Shanice Morgan, was taken to hospital."
    traced = json.loads(runner.invoke(app, ["check", text, "--json", "--trace"]).output)
    digest = traced["post_sha256"]
    assert digest == hashlib.sha256(text.encode()).hexdigest()
    permit = json.loads(
        ok(
            "permit",
            "add",
            "--kind",
            "confidential-release",
            "--member",
            "3003",
            "--post",
            f"sha256:{digest}",
            "--reason",
            "family asked",
            "--text",
            "The victim may be named.",
            "--actor",
            "2002",
            "--json",
        )
    )
    real = runner.invoke(
        app, ["check", text, "--permission", permit["id"], "--registry", "--actor", "3003", "--json"]
    )
    report = json.loads(real.output)
    assert report["decision"] == "review" and not report["findings"]
    assert permit["id"] in report["advice"][0]["explanation"]
    fake = runner.invoke(app, ["check", text, "--permission", "CP-2026-0999", "--registry", "--json"])
    report = json.loads(fake.output)
    assert report["findings"] and "not honoured" in report["findings"][0]["explanation"]
    actions = [e["action"] for e in json.loads(ok("audit", "show", "--json"))]
    assert actions[:3] == ["check.post", "permission.used", "check.post"]  # newest first
    assert "intact" in ok("audit", "verify")
