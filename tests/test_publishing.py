"""Publishing approved drafts through the connectors, against local servers."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from conftest import World
from postguard import default_checker
from postguard.errors import ConflictError
from postguard.fakes import FakeBluesky, FakeMastodon
from postguard.workflow import Workflow
from postguard.workflow.publish import publish

TEXT = "ROAD CLOSURE: Harbour Road is closed after a collision. Please use the bypass."


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    server = FakeMastodon(token="secret-token")
    yield server
    server.close()


def _approved(world: World, account: str) -> str:
    flow = Workflow(world.registry, world.grants, default_checker())
    draft = flow.create("PIO-1", text=TEXT, account=account)
    flow.submit("PIO-1", draft.code, device="PC-1")
    flow.approve("REV-1", draft.code)
    return draft.code


def _connect(world: World, fake: FakeMastodon, token: str = "secret-token") -> None:
    world.registry.add_account("IT-1", platform="mastodon", handle="@police@fake")
    world.registry.connect_account(
        "IT-1",
        platform="mastodon",
        handle="@police@fake",
        connector="mastodon",
        endpoint=fake.url,
        credential=token,
        keys_dir=world.keys_dir,
    )


def test_publish_to_mastodon_and_the_credential_is_encrypted(world: World, fake: FakeMastodon) -> None:
    _connect(world, fake)
    with world.db.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT credential FROM official_account")).scalar_one()
    assert "secret-token" not in stored and stored
    code = _approved(world, "mastodon:@police@fake")
    row = publish(world.workflow, "PIO-1", code, keys_dir=world.keys_dir, backoff=0)
    assert row.status == "sent" and row.remote_id == "1"
    assert [s["content"] for s in fake.statuses] == [TEXT]
    flow = Workflow(world.registry, world.grants, default_checker())
    assert flow.get(code)["state"] == "published"
    with pytest.raises(ConflictError, match="published"):
        publish(world.workflow, "PIO-1", code, keys_dir=world.keys_dir, backoff=0)


def test_retries_after_failures_and_a_lost_answer_never_post_twice(world: World, fake: FakeMastodon) -> None:
    _connect(world, fake)
    code = _approved(world, "mastodon:@police@fake")
    fake.fail_next, fake.drop_next = 1, 1  # a 503, then posted but the answer is lost, then fine
    row = publish(world.workflow, "PIO-1", code, keys_dir=world.keys_dir, backoff=0)
    assert row.status == "sent" and row.attempts == 3
    assert len(fake.statuses) == 1  # the retry carried the same Idempotency-Key


def test_a_failed_publish_is_reported_and_kept_for_a_retry(world: World, fake: FakeMastodon) -> None:
    _connect(world, fake, token="wrong-token")
    code = _approved(world, "mastodon:@police@fake")
    row = publish(world.workflow, "PIO-1", code, keys_dir=world.keys_dir, backoff=0)
    assert row.status == "failed" and row.attempts == 1 and "401" in row.last_error  # not retryable
    assert Workflow(world.registry, world.grants, default_checker()).get(code)["state"] == "approved"
    world.registry.connect_account(
        "IT-1",
        platform="mastodon",
        handle="@police@fake",
        connector="mastodon",
        endpoint=fake.url,
        credential="secret-token",
        keys_dir=world.keys_dir,
    )
    again = publish(world.workflow, "PIO-1", code, keys_dir=world.keys_dir, backoff=0)
    assert again.status == "sent" and len(fake.statuses) == 1
    with world.db.engine.connect() as conn:
        actions = [
            r[0]
            for r in conn.execute(
                sa.text("SELECT action FROM audit_entry WHERE action LIKE 'publish.%' ORDER BY seq")
            )
        ]
    assert actions == ["publish.failed", "publish.sent"]


def test_an_unapproved_draft_is_not_published(world: World, fake: FakeMastodon) -> None:
    _connect(world, fake)
    flow = Workflow(world.registry, world.grants, default_checker())
    draft = flow.create("PIO-1", text=TEXT, account="mastodon:@police@fake")
    with pytest.raises(ConflictError, match="only an approved draft"):
        publish(world.workflow, "PIO-1", draft.code, keys_dir=world.keys_dir, backoff=0)
    assert fake.requests == 0


def test_the_signed_webhook(world: World) -> None:
    received: list[tuple[bytes, dict[str, str]]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, dict(self.headers)))
            data = json.dumps({"id": "hook-1"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        world.registry.add_account("IT-1", platform="webhook", handle="intranet")
        world.registry.connect_account(
            "IT-1",
            platform="webhook",
            handle="intranet",
            connector="webhook",
            endpoint=f"http://127.0.0.1:{server.server_address[1]}/hook",
            credential="shared-secret",
            keys_dir=world.keys_dir,
        )
        code = _approved(world, "webhook:intranet")
        row = publish(world.workflow, "PIO-1", code, keys_dir=world.keys_dir, backoff=0)
    finally:
        server.shutdown()
        server.server_close()
    assert row.status == "sent" and row.remote_id == "hook-1"
    body, headers = received[0]
    expected = "sha256=" + hmac.new(b"shared-secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Postguard-Signature"] == expected and json.loads(body)["text"] == TEXT


def test_publish_over_the_api_and_the_cli(
    world: World, fake: FakeMastodon, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner

    from postguard.cli.app import app as cli
    from postguard.registry.tokens import create_token
    from postguard.settings import Settings
    from postguard.web import create_app

    monkeypatch.setenv("POSTGUARD_DATABASE_URL", world.db.url)
    monkeypatch.setenv("POSTGUARD_KEYS_DIR", str(world.keys_dir))
    monkeypatch.setenv("POSTGUARD_ACCOUNT_CREDENTIAL", "secret-token")
    world.registry.add_account("IT-1", platform="mastodon", handle="@police@fake")
    result = CliRunner().invoke(
        cli,
        [
            "account",
            "connect",
            "mastodon",
            "@police@fake",
            "--connector",
            "mastodon",
            "--endpoint",
            fake.url,
            "--actor",
            "IT-1",
        ],
    )
    assert result.exit_code == 0, result.output
    first, second = _approved(world, "mastodon:@police@fake"), _approved(world, "mastodon:@police@fake")
    token, _ = create_token(world.registry, "IT-1", member="PIO-1", name="api")
    with TestClient(create_app(Settings(database_url=world.db.url, keys_dir=world.keys_dir))) as client:
        answer = client.post(f"/api/v1/drafts/{first}/publish", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json()["publication"]["status"] == "sent"
    result = CliRunner().invoke(cli, ["publish", second, "--actor", "PIO-1"])
    assert result.exit_code == 0 and "Published" in result.output
    assert len(fake.statuses) == 2


# Bluesky ---------------------------------------------------------------------


@pytest.fixture
def bluesky() -> Iterator[FakeBluesky]:
    server = FakeBluesky("police.example", "app-pass-1234")
    yield server
    server.close()


def _connect_bluesky(world: World, server: FakeBluesky, credential: str) -> None:
    world.registry.add_account("IT-1", platform="bluesky", handle="police.example")
    world.registry.connect_account(
        "IT-1",
        platform="bluesky",
        handle="police.example",
        connector="bluesky",
        endpoint=server.url,
        credential=credential,
        keys_dir=world.keys_dir,
    )


def test_publish_to_bluesky_with_the_idempotency_key_as_record_key(
    world: World, bluesky: FakeBluesky
) -> None:
    _connect_bluesky(world, bluesky, "police.example:app-pass-1234")
    code = _approved(world, "bluesky:police.example")
    row = publish(world.workflow, "PIO-1", code, keys_dir=world.keys_dir, backoff=0)
    assert row.status == "sent"
    assert row.remote_id == f"at://did:plc:fakepolice/app.bsky.feed.post/postguard-{code}"
    assert row.remote_url.endswith(f"/profile/police.example/post/postguard-{code}")
    assert bluesky.texts == [TEXT]


def test_bluesky_retry_after_a_lost_answer_finds_the_record_and_does_not_post_twice(
    world: World, bluesky: FakeBluesky
) -> None:
    _connect_bluesky(world, bluesky, "police.example:app-pass-1234")
    code = _approved(world, "bluesky:police.example")
    bluesky.fail_next, bluesky.drop_next = 1, 1
    row = publish(world.workflow, "PIO-1", code, keys_dir=world.keys_dir, backoff=0)
    assert row.status == "sent" and row.attempts == 3
    assert bluesky.texts == [TEXT]


def test_bluesky_wrong_password_fails_at_once_and_is_kept(world: World, bluesky: FakeBluesky) -> None:
    _connect_bluesky(world, bluesky, "police.example:wrong")
    code = _approved(world, "bluesky:police.example")
    row = publish(world.workflow, "PIO-1", code, keys_dir=world.keys_dir, backoff=0)
    assert row.status == "failed" and row.attempts == 1 and "401" in row.last_error
    assert bluesky.records == {}


def test_bluesky_refuses_a_post_over_300_characters_without_sending(
    world: World, bluesky: FakeBluesky
) -> None:
    from postguard.connectors import ConnectorError
    from postguard.connectors.bluesky import BlueskyConnector

    connector = BlueskyConnector(bluesky.url, "police.example:app-pass-1234")
    with pytest.raises(ConnectorError, match="300") as caught:
        connector.publish("x" * 301, "postguard-D-1")
    assert not caught.value.retryable and bluesky.requests == 0
    connector.close()


# Scheduled publication -------------------------------------------------------


def test_scheduled_draft_is_published_when_due_and_claimed_once(world: World, fake: FakeMastodon) -> None:
    import datetime as dt

    from postguard.errors import ValidationError
    from postguard.workflow.publish import publish_due

    _connect(world, fake)
    code = _approved(world, "mastodon:@police@fake")
    flow = Workflow(world.registry, world.grants, default_checker())
    with pytest.raises(ValidationError, match="future"):
        flow.schedule("PIO-1", code, at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    flow.schedule("PIO-1", code, at=at)
    assert flow.get(code)["state"] == "scheduled"
    with pytest.raises(ConflictError, match="scheduled"):
        publish(world.workflow, "PIO-1", code, keys_dir=world.keys_dir, backoff=0)
    assert publish_due(world.registry, flow, keys_dir=world.keys_dir) == []  # not yet
    later = at + dt.timedelta(minutes=1)
    done = publish_due(world.registry, flow, keys_dir=world.keys_dir, now=later)
    assert len(done) == 1 and done[0][0] == code
    assert not isinstance(done[0][1], str) and done[0][1].status == "sent"
    assert publish_due(world.registry, flow, keys_dir=world.keys_dir, now=later) == []  # claimed once
    assert flow.get(code)["state"] == "published" and len(fake.statuses) == 1


def test_unschedule_returns_the_draft_to_approved(world: World, fake: FakeMastodon) -> None:
    import datetime as dt

    _connect(world, fake)
    code = _approved(world, "mastodon:@police@fake")
    flow = Workflow(world.registry, world.grants, default_checker())
    flow.schedule("PIO-1", code, at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    flow.unschedule("PIO-1", code)
    got = flow.get(code)
    assert got["state"] == "approved" and got["scheduled_for"] is None


def test_publish_due_command_publishes_what_is_due(world: World, fake: FakeMastodon) -> None:
    import datetime as dt

    from typer.testing import CliRunner

    from postguard.cli.app import app

    _connect(world, fake)
    code = _approved(world, "mastodon:@police@fake")
    flow = Workflow(world.registry, world.grants, default_checker())
    flow.schedule("PIO-1", code, at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    env = {"POSTGUARD_DATABASE_URL": world.db.url, "POSTGUARD_KEYS_DIR": str(world.keys_dir)}
    import time

    time.sleep(1.2)
    result = CliRunner().invoke(app, ["publish-due"], env=env)
    assert result.exit_code == 0, result.output
    assert f"Published {code}" in result.output and len(fake.statuses) == 1
    again = CliRunner().invoke(app, ["publish-due"], env=env)
    assert again.exit_code == 0 and "Nothing was due" in again.output
