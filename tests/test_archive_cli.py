"""``postguard archive import / export / verify``: the platforms' exports in, a records export out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from archive_exports import MASTODON_EXPECTED, TWITTER_EXPECTED, write_mastodon, write_twitter
from conftest import World
from postguard.cli.app import app as cli
from postguard.registry.models import ArchivedPost, AuditEntry


@pytest.fixture
def env(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", world.db.url)
    monkeypatch.setenv("POSTGUARD_KEYS_DIR", str(world.keys_dir))
    monkeypatch.setenv("POSTGUARD_MEDIA_ROOT", str(tmp_path / "media"))
    return world


def _posts(world: World) -> list[ArchivedPost]:
    with world.db.reading() as session:
        return list(session.scalars(sa.select(ArchivedPost).order_by(ArchivedPost.id)))


def _audited(world: World, action: str) -> list[dict[str, object]]:
    with world.db.reading() as session:
        rows = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all()
        return [json.loads(r.detail) for r in rows]


def test_import_twice_adds_once_and_is_audited(env: World, tmp_path: Path) -> None:
    export = write_twitter(tmp_path / "x", "zip")
    runner = CliRunner()
    first = runner.invoke(cli, ["archive", "import", str(export), "--actor", "AUD-1", "--json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.output)
    assert summary["added"] == len(TWITTER_EXPECTED) and summary["already"] == 0
    assert summary["left_out"].get("retweet", 0) >= 1  # someone else's words are not the department's
    again = json.loads(
        runner.invoke(cli, ["archive", "import", str(export), "--actor", "AUD-1", "--json"]).output
    )
    assert again["added"] == 0 and again["already"] == len(TWITTER_EXPECTED)
    posts = _posts(env)
    assert {p.platform_id for p in posts} == set(TWITTER_EXPECTED)
    assert all(p.source == "import" and p.platform == "twitter" for p in posts)
    assert all(len(p.report.get("findings", [])) >= 0 and p.policy_version for p in posts)  # checked
    with_media = [p for p in posts if p.media]
    files = [m for p in with_media for m in p.media]
    assert files and sum(1 for m in files if m.get("sha256")) == summary["media"] >= 1
    assert len(files) == summary["media"] + summary["missing_media"]  # a file the export lacks is counted
    stored = tmp_path / "media"
    assert any(stored.rglob("*")), "the photos and videos went into the media store"
    audits = _audited(env, "archive.import")
    assert len(audits) == 2 and audits[0]["added"] == len(TWITTER_EXPECTED) and audits[0]["sha256"]


def test_an_export_of_a_registered_account_takes_its_name(env: World, tmp_path: Path) -> None:
    env.registry.add_account("IT-1", platform="mastodon", handle="@Police@social.example")
    export = write_mastodon(tmp_path / "m", "folder")
    result = CliRunner().invoke(cli, ["archive", "import", str(export), "--actor", "CP-1"])
    assert result.exit_code == 0, result.output
    posts = _posts(env)
    assert {p.platform_id for p in posts} == set(MASTODON_EXPECTED)
    assert {p.account for p in posts} == {"mastodon:@Police@social.example"}  # as the watch names it
    assert all(p.account_id is not None for p in posts)


def test_import_is_refused_to_an_author_and_for_what_is_not_an_export(env: World, tmp_path: Path) -> None:
    export = write_twitter(tmp_path / "x", "zip")
    refused = CliRunner().invoke(cli, ["archive", "import", str(export), "--actor", "PIO-1"])
    assert refused.exit_code == 4 and "refused" in refused.output
    assert _posts(env) == []
    junk = tmp_path / "notes.txt"
    junk.write_text("just some notes\n")
    bad = CliRunner().invoke(cli, ["archive", "import", str(junk), "--actor", "AUD-1"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "tweets.js" in bad.output and "outbox.json" in bad.output  # it says what it takes


def test_export_then_verify_and_a_tampered_copy_fails(env: World, tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["archive", "import", str(write_twitter(tmp_path / "x", "zip")), "--actor", "AUD-1"])
    folder = tmp_path / "records"
    done = runner.invoke(cli, ["archive", "export", str(folder), "--actor", "AUD-1", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["posts"] == len(TWITTER_EXPECTED)
    assert _audited(env, "archive.export")[0]["posts"] == len(TWITTER_EXPECTED)
    ok = runner.invoke(cli, ["archive", "verify", str(folder)])
    assert ok.exit_code == 0 and "intact" in ok.output
    posts = folder / "posts.jsonl"
    posts.write_text(posts.read_text().replace("Road closed", "Road opened"))
    tampered = runner.invoke(cli, ["archive", "verify", str(folder)])
    assert tampered.exit_code == 1 and "posts.jsonl" in tampered.output
    again = runner.invoke(cli, ["archive", "export", str(folder), "--actor", "AUD-1"])
    assert again.exit_code == 2  # never into a folder that holds something
    refused = runner.invoke(cli, ["archive", "export", str(tmp_path / "r2"), "--actor", "PIO-1"])
    assert refused.exit_code == 4


def test_scan_writes_its_report_and_is_audited(env: World, tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["archive", "import", str(write_twitter(tmp_path / "x", "zip")), "--actor", "AUD-1"])
    out = tmp_path / "scan"
    done = runner.invoke(
        cli, ["archive", "scan", "--out", str(out), "--workers", "1", "--actor", "AUD-1", "--json"]
    )
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["posts"] == len(TWITTER_EXPECTED)
    assert (
        (out / "report.html").is_file()
        and (out / "counts.csv").is_file()
        and (out / "findings.csv").is_file()
    )
    assert _audited(env, "archive.scan")[0]["posts"] == len(TWITTER_EXPECTED)
    again = runner.invoke(cli, ["archive", "scan", "--out", str(out), "--actor", "AUD-1"])
    assert again.exit_code == 2 and "--resume" in again.output  # never mixed into an earlier scan
    refused = runner.invoke(cli, ["archive", "scan", "--out", str(tmp_path / "s2"), "--actor", "PIO-1"])
    assert refused.exit_code == 4
