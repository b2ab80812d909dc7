"""The watch: what reached the accounts without postguard, edits, deletions, and their alerts, read
from the fake Mastodon and the fake Bluesky as the real services serve them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from conftest import World
from postguard import default_checker
from postguard.cli.app import app as cli
from postguard.fakes import FakeBluesky, FakeMastodon
from postguard.registry.models import ArchivedPost, AuditEntry, PostVersion
from postguard.settings import Settings
from postguard.watch.alerts import alerts
from postguard.watch.deliver import AlertDelivery
from postguard.watch.run import Watch
from postguard.workflow import Workflow
from postguard.workflow.publish import publish

pytestmark = pytest.mark.slow  # fake servers, and an SMTP server

MASTODON = "mastodon:@police@fake"
BLUESKY = "bluesky:police.example"
APPROVED = "ROAD CLOSURE: Harbour Road is closed after a collision. Please use the bypass."
VIOLATING = "Off the record: the suspect we arrested yesterday is guilty, no doubt about it. He will go down."


@pytest.fixture
def mastodon(world: World) -> Iterator[FakeMastodon]:
    fake = FakeMastodon(token="secret-token")
    world.registry.add_account("IT-1", platform="mastodon", handle="@police@fake")
    world.registry.connect_account(
        "IT-1",
        platform="mastodon",
        handle="@police@fake",
        connector="mastodon",
        endpoint=fake.url,
        credential="secret-token",
        keys_dir=world.keys_dir,
    )
    yield fake
    fake.close()


@pytest.fixture
def bluesky(world: World) -> Iterator[FakeBluesky]:
    fake = FakeBluesky("police.example", "app-password")
    world.registry.add_account("IT-1", platform="bluesky", handle="police.example")
    world.registry.connect_account(
        "IT-1",
        platform="bluesky",
        handle="police.example",
        connector="bluesky",
        endpoint=fake.url,
        credential="police.example:app-password",
        keys_dir=world.keys_dir,
    )
    yield fake
    fake.close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    from test_alert_delivery import free_port

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def _watch(world: World, tmp_path: object = None, *, smtp_port: int | None = None) -> Watch:
    settings = Settings(
        smtp_host="127.0.0.1" if smtp_port else None,
        smtp_port=smtp_port or 25,
        alert_email_to=["reviewers@police.example", "commissioner@police.example"] if smtp_port else [],
        alert_email_from="postguard@police.example",
    )
    return Watch(
        world.registry,
        default_checker(),
        keys_dir=world.keys_dir,
        media_root=None,
        deliver=AlertDelivery.from_settings(settings).deliver,
    )


def _publish(world: World, account: str, text: str = APPROVED) -> str:
    flow = Workflow(world.registry, world.grants, default_checker())
    draft = flow.create("PIO-1", text=text, account=account)
    flow.submit("PIO-1", draft.code, device="PC-1")
    flow.approve("REV-1", draft.code)
    row = publish(flow, "PIO-1", draft.code, keys_dir=world.keys_dir, backoff=0)
    assert row.status == "sent"
    return row.remote_id


def _versions(world: World, platform_id: str) -> list[tuple[str, str]]:
    with world.db.reading() as session:
        post = session.scalar(sa.select(ArchivedPost).where(ArchivedPost.platform_id == platform_id))
        assert post is not None
        rows = session.scalars(
            sa.select(PostVersion).where(PostVersion.post_id == post.id).order_by(PostVersion.number)
        ).all()
        return [(v.kind, v.text) for v in rows]


def test_a_violating_post_made_on_mastodon_is_found_and_alerted_by_web_and_email(
    world: World, mastodon: FakeMastodon, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    published = _publish(world, MASTODON)
    from_app = mastodon.post_from_app(VIOLATING)["id"]
    result = _watch(world, smtp_port=port).run()
    assert result.errors == []
    by_id = {line["platform_id"]: line for line in result.posts}
    assert set(by_id) == {published, from_app}
    assert by_id[published]["outside_workflow"] is False and by_id[published]["alerts"] == []
    outside = by_id[from_app]
    assert outside["outside_workflow"] is True
    assert outside["decision"] in ("block", "review")
    assert {"A.iii.guilt"} <= {f["clause"] for f in outside["findings"]}
    assert outside["url"].endswith(f"/@police/{from_app}")
    # In the web app: an open alert, with its findings, for the reviewers and the Commissioner.
    [alert] = alerts(world.registry, open_only=True)
    assert alert["kind"] == "outside_workflow" and alert["post"]["account"] == MASTODON
    assert alert["delivery"].get("email", "").startswith("sent to 2")
    # By e-mail.
    [mail] = box.messages
    assert "reviewers@police.example" in mail["To"] and "outside" in mail["Subject"].lower()
    assert from_app in mail.get_payload()  # type: ignore[operator]
    # Audited: what was seen and the alert.
    with world.db.reading() as session:
        actions = session.scalars(sa.select(AuditEntry.action)).all()
    assert actions.count("archive.seen") == 2 and "alert.raise" in actions
    # A second round finds nothing new and raises nothing.
    again = _watch(world).run()
    assert again.posts == [] and again.alerts == []


def test_an_edit_and_a_deletion_are_versions_and_an_edit_of_an_approved_post_alerts(
    world: World, mastodon: FakeMastodon
) -> None:
    published = _publish(world, MASTODON)
    other = mastodon.post_from_app("Thanks to everyone who came to the open day!")["id"]
    _watch(world).run()
    mastodon.edit(published, APPROVED + " The suspect is guilty.")  # changed after approval, in the app
    mastodon.delete(other)
    result = _watch(world).run()
    assert [line["platform_id"] for line in result.edits] == [published]
    assert [line["platform_id"] for line in result.deletions] == [other]
    assert _versions(world, published) == [
        ("original", APPROVED),
        ("edit", APPROVED + " The suspect is guilty."),
    ]
    assert _versions(world, other)[-1][0] == "deletion"
    kinds = sorted(a["kind"] for a in alerts(world.registry, open_only=True))
    assert kinds == ["deleted", "edited_after_approval", "outside_workflow"]
    edited = next(a for a in alerts(world.registry) if a["kind"] == "edited_after_approval")
    assert edited["detail"]["approved_text"] == APPROVED
    assert {"A.iii.guilt"} <= {f["clause"] for f in edited["detail"]["findings"]}


def test_edits_between_two_rounds_are_kept_from_the_history(world: World, mastodon: FakeMastodon) -> None:
    status = mastodon.post_from_app("Lost dog found near the station.")["id"]
    _watch(world).run()
    mastodon.edit(status, "Lost dog found near the station. Owner please call.")
    mastodon.edit(status, "Lost dog found near the station. Owner found, thank you!")
    _watch(world).run()
    assert [kind for kind, _ in _versions(world, status)] == ["original", "edit", "edit"]
    assert _versions(world, status)[1][1] == "Lost dog found near the station. Owner please call."


def test_a_violating_post_made_on_bluesky_is_found_and_alerted(
    world: World, bluesky: FakeBluesky, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    uri = bluesky.post_from_app(VIOLATING)
    result = _watch(world, smtp_port=port).run()
    [line] = result.posts
    assert line["platform_id"] == uri and line["outside_workflow"] is True
    assert {"A.iii.guilt"} <= {f["clause"] for f in line["findings"]}
    assert [a["kind"] for a in alerts(world.registry)] == ["outside_workflow"]
    assert len(box.messages) == 1
    bluesky.edit(uri, "Appeal: have you seen this bicycle? Call 101.")
    second = _watch(world).run()
    assert [e["platform_id"] for e in second.edits] == [uri]
    bluesky.delete(uri)
    third = _watch(world).run()
    assert [d["platform_id"] for d in third.deletions] == [uri]
    assert [kind for kind, _ in _versions(world, uri)] == ["original", "edit", "deletion"]


def test_a_post_published_through_postguard_on_bluesky_is_matched(world: World, bluesky: FakeBluesky) -> None:
    uri = _publish(world, BLUESKY)
    [line] = _watch(world).run().posts
    assert line["platform_id"] == uri and line["outside_workflow"] is False
    assert alerts(world.registry) == []


def test_watch_run_json_for_cron(
    world: World, mastodon: FakeMastodon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", world.db.url)
    monkeypatch.setenv("POSTGUARD_KEYS_DIR", str(world.keys_dir))
    from_app = mastodon.post_from_app(VIOLATING)["id"]
    result = CliRunner().invoke(cli, ["watch", "run", "--json"])
    assert result.exit_code == 0, result.output
    [line] = [json.loads(x) for x in result.stdout.splitlines() if x.strip()]
    assert {"platform_id", "url", "outside_workflow", "decision", "findings"} <= set(line)
    assert line["platform_id"] == from_app and line["outside_workflow"] is True and line["findings"]
    refused = CliRunner().invoke(cli, ["watch", "run", "--actor", "PIO-1"])
    assert refused.exit_code == 4
    mastodon.close()  # the platform away: reported, exit 1, no traceback
    down = CliRunner().invoke(cli, ["watch", "run"])
    assert down.exit_code == 1 and f"error: {MASTODON}: mastodon: cannot reach" in down.stderr


def test_two_rounds_at_once_keep_one_post_and_one_alert(world: World, mastodon: FakeMastodon) -> None:
    """Several service processes each run the watch: a post is kept, and alerted, once."""
    import threading

    mastodon.post_from_app(VIOLATING)
    watches = [_watch(world), _watch(world)]
    results: list[object] = []
    threads = [threading.Thread(target=lambda w=w: results.append(w.run())) for w in watches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2
    with world.db.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(ArchivedPost)) == 1
    assert [a["kind"] for a in alerts(world.registry)] == ["outside_workflow"]


def test_imported_history_does_not_send_the_first_round_back_years(
    world: World, mastodon: FakeMastodon
) -> None:
    """An account's past imported from its export: the watch still reads only its look-back window
    (a round would otherwise go back to the newest imported post, years ago)."""
    import datetime as dt

    from postguard.archive.store import Seen, keep

    old = mastodon.post_from_app("Appeal from 2019", created_at=dt.datetime(2019, 5, 1, tzinfo=dt.UTC))
    middle = mastodon.post_from_app("Spring fair", created_at=dt.datetime(2019, 6, 1, tzinfo=dt.UTC))
    recent = mastodon.post_from_app("Road closed on Mill Lane until 6pm.")
    with world.db.session() as session:  # as 'postguard archive import' keeps it
        keep(
            session,
            Seen(
                "mastodon",
                MASTODON,
                old["id"],
                old["url"],
                "Appeal from 2019",
                dt.datetime(2019, 5, 1, tzinfo=dt.UTC),
            ),
            source="import",
            report=None,
            retention_days=3650,
        )
    result = _watch(world).run()
    assert [line["platform_id"] for line in result.posts] == [recent["id"]]  # not the 2019 posts
    assert middle["id"] not in {line["platform_id"] for line in result.posts}
