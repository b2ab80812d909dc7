"""One factory builds the pack, the scorer and the checker: a department's own pack reaches
every entry point (the CLI, the API, the scheduler's publish-due, permit export), and the
scorer is chosen by configuration."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import World, connected_account
from postguard.audit.queries import entries
from postguard.checks.scoring import Scorer, load_scorer
from postguard.cli.app import app
from postguard.errors import ModelError, PolicyError
from postguard.factory import build_checker, build_pack, build_scorer
from postguard.registry.tokens import create_token
from postguard.settings import Settings
from postguard.web import create_app
from postguard.workflow import Workflow

runner = CliRunner()

CUSTOM = """\
extends: default
policy:
  title: Test Force Social Media Policy
  authority: Chief Constable
workflow:
  approval_timeout_hours: 1
clauses:
  - id: A.i
    patterns:
      - id: decorum.test-insult
        regex: '\\bflibbertigibbets?\\b'
        score: 0.95
        explanation: Calls people a flibbertigibbet, which this force's standards forbid.
"""
TITLE = "Test Force Social Media Policy (2022-03-24)"


@pytest.fixture
def pack_file(tmp_path: Path) -> Path:
    path = tmp_path / "force.yaml"
    path.write_text(CUSTOM, encoding="utf-8")
    return path


def test_the_factory_builds_from_settings(pack_file: Path) -> None:
    settings = Settings(policy=pack_file)
    pack = build_pack(settings)
    assert pack.policy.authority == "Chief Constable"
    assert build_pack(Settings(policy=pack_file)) is pack  # loaded once per source
    checker = build_checker(settings)
    report = checker.check("You flibbertigibbet.")
    assert [f.rule for f in report.findings] == ["decorum.test-insult"]
    assert report.policy_version == TITLE
    assert build_scorer(Settings(scorer="none")) is None
    assert build_checker(Settings(scorer="none")).scorer is None


def test_a_custom_pack_reaches_the_cli_check(pack_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGUARD_POLICY", str(pack_file))
    result = runner.invoke(app, ["check", "--json", "--trace", "What a flibbertigibbet."])
    assert result.exit_code == 1, result.output
    finding = json.loads(result.output)["findings"][0]
    assert finding["rule"] == "decorum.test-insult" and finding["source"] == "pattern"
    assert "flibbertigibbet" in finding["explanation"]
    batch = runner.invoke(app, ["check", "--jsonl", "-"], input='{"id": "1", "text": "flibbertigibbets"}\n')
    assert json.loads(batch.stdout.splitlines()[0])["findings"][0]["clause"] == "A.i"


def test_a_custom_pack_reaches_the_api_and_its_workflow(pack_file: Path, world: World) -> None:
    settings = Settings(database_url=world.db.url,
                        keys_dir=world.keys_dir, policy=pack_file)  # fmt: skip
    token, _ = create_token(world.registry, "IT-1", member="PIO-1", name="test")
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        checked = client.post(
            "/api/v1/check", json={"id": "x", "text": "A flibbertigibbet!"}, headers=headers
        )
        assert checked.status_code == 200, checked.text
        assert checked.json()["findings"][0]["clause"] == "A.i"
        body = {"text": "Road closed on Main St.", "account": connected_account(world)}
        made = client.post("/api/v1/drafts", json=body, headers=headers).json()
        assert made["policy"] == TITLE
        sent = client.post(f"/api/v1/drafts/{made['id']}/submit", json={"device": "PC-1"}, headers=headers)
        submitted = sent.json()
        hours = (
            dt.datetime.fromisoformat(submitted["expires_at"])
            - dt.datetime.fromisoformat(submitted["submitted_at"])
        ) / dt.timedelta(hours=1)
        assert round(hours, 2) == 1.0  # the pack's approval timeout, not the shipped 48 hours


def test_a_custom_pack_reaches_publish_due(
    pack_file: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = Workflow(world.registry, world.grants, build_checker(Settings()))
    draft = flow.create("PIO-1", text="Road closed on Main St.", account=connected_account(world))
    flow.submit("PIO-1", draft.code, device="PC-1")
    flow.approve("REV-1", draft.code)
    flow.schedule("REV-1", draft.code, at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    with world.db.engine.begin() as conn:  # the hour has passed
        conn.execute(
            sa.text("UPDATE draft SET scheduled_for = :t"), {"t": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)}
        )
        conn.execute(sa.text("UPDATE official_account SET connector = ''"))  # disconnected since
    url = world.db.url
    monkeypatch.setenv("POSTGUARD_POLICY", str(pack_file))
    result = runner.invoke(app, ["publish-due", "--database", url, "--keys-dir", str(world.keys_dir)])
    assert result.exit_code == 1  # the draft's account has no connector any more, and it says so
    with world.db.session() as session:
        due = list(entries(session, action="publish.due"))
    assert due and due[-1]["detail"]["policy_in_force"] == TITLE


def test_a_custom_pack_reaches_permit_export(
    pack_file: Path, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = world.grants.permit(
        "CP-1", world.commissioner_key, kind="personal-device", member="PIO-1", device="IMEI-1",
        reason="on call", text_="May use the phone.",
    ).code  # fmt: skip
    url = world.db.url
    monkeypatch.setenv("POSTGUARD_POLICY", str(pack_file))
    html = tmp_path / "permit.html"
    result = runner.invoke(
        app,
        ["permit", "export", code, "-o", str(tmp_path / "p.json"), "--html", str(html), "--database", url,
         "--keys-dir", str(world.keys_dir)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Chief Constable" in html.read_text(encoding="utf-8")


class _Constant:
    """A department's own scorer: every sentence scores 0.99 for A.i."""

    name = "constant"
    clauses = ("A.i",)
    thresholds: ClassVar[dict[str, float]] = {"A.i": 0.5}

    def scores(self, text: str, sentences: object) -> np.ndarray:  # type: ignore[type-arg]
        return np.full((len(sentences), 1), 0.99, dtype=np.float32)  # type: ignore[arg-type]


def constant_scorer(_path: Path | None) -> Scorer:
    return _Constant()


def test_another_scorer_plugs_in_by_name_without_touching_the_detectors() -> None:
    scorer = load_scorer("test_factory:constant_scorer")
    assert scorer is not None and scorer.name == "constant"
    checker = build_checker(Settings(scorer="test_factory:constant_scorer"))
    report = checker.check("Road closed on Main St.")
    assert [(f.clause, f.rule) for f in report.findings] == [("A.i", "constant")]
    assert "constant 0.99" in report.findings[0].trace


def test_unknown_scorers_and_broken_packs_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="Unknown scorer 'bert'"):
        load_scorer("bert")
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_scorer("no_such_module:factory")
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: default\nclauses:\n  - id: A.iii.confidential\n    patterns:\n"
                   "      - id: confidential.no-such\n        score: 0.5\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(PolicyError, match="no pattern of that id"):
        build_checker(Settings(policy=bad))


def test_the_pack_changes_a_detectors_own_pattern_by_id(tmp_path: Path) -> None:
    quiet = tmp_path / "quiet.yaml"
    quiet.write_text("extends: default\nclauses:\n  - id: A.iii.confidential\n    patterns:\n"
                     "      - id: confidential.victim-object-of-crime\n        enabled: false\n"
                     "      - id: confidential.juvenile-named-after-age\n"
                     "        explanation: The pack's own words.\n", encoding="utf-8")  # fmt: skip
    checker = build_checker(Settings(policy=quiet, scorer="none"))
    assert not checker.check("Officers say a man attacked John Smith in the park.").findings
    found = checker.check("Police arrested 15-year-old John Smith yesterday.").findings
    assert found and found[0].explanation.startswith("The pack's own words")
