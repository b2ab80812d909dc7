"""The watch's alerts (issue 14) on SQLite and PostgreSQL: raising (with its audit entry),
acknowledging (roles, the note, once only), reading, delivery outcomes, the database's own
refusals, and the ``postguard watch`` commands."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from conftest import World
from postguard.audit.queries import entries
from postguard.cli.app import app as cli
from postguard.errors import AccessDeniedError, ConflictError, NoActorError, NotFoundError, ValidationError
from postguard.registry.models import ArchivedPost
from postguard.watch.alerts import (
    KINDS,
    NOTE_MAX,
    acknowledge,
    alerts,
    get_alert,
    open_count,
    raise_alert,
    record_delivery,
)

TEXT = "We got our man! The thug is behind bars."
FINDINGS: list[dict[str, Any]] = [
    {
        "clause": "A.iii.guilt",
        "span": [0, 14],
        "evidence": "We got our man",
        "score": 0.9871,
        "explanation": "Calls a suspect or arrested person guilty before any verdict.",
    },
    {
        "clause": "A.i",
        "span": [16, 40],
        "evidence": "The thug is behind bars.",
        "score": 0.5241,
        "explanation": "Insulting or gloating wording.",
    },
]


def archived_post(world: World, *, text: str = TEXT, platform_id: str = "110001") -> int:
    """A post the watch saw on the account, made outside the workflow; its id."""
    now = dt.datetime.now(dt.UTC)
    with world.db.session() as session:
        row = ArchivedPost(
            platform="mastodon",
            account="mastodon:@police@test.example",
            platform_id=platform_id,
            url=f"https://test.example/@police/{platform_id}",
            text=text,
            media=[],
            posted_at=now - dt.timedelta(minutes=5),
            first_seen_at=now,
            updated_at=now,
            source="watch",
            outside_workflow=True,
            decision="block",
            clauses=" A.i A.iii.guilt ",
            report={"decision": "block", "findings": FINDINGS},
            retain_until=now + dt.timedelta(days=365),
        )
        session.add(row)
        session.flush()
        return row.id


def raised(
    world: World,
    *,
    kind: str = "outside_workflow",
    summary: str = "A post on mastodon:@police@test.example did not go through postguard (block).",
    findings: list[dict[str, Any]] | None = None,
    with_post: bool = True,
    platform_id: str = "110001",
) -> int:
    """An alert raised as the watch raises one (in its own transaction); its id."""
    post_id = archived_post(world, platform_id=platform_id) if with_post else None
    with world.db.session() as session:
        row = raise_alert(
            world.registry,
            session,
            kind=kind,
            summary=summary,
            post_id=post_id,
            detail={"decision": "block", "findings": FINDINGS if findings is None else findings},
        )
        return row.id


def _audited(world: World, action: str) -> list[dict[str, Any]]:
    with world.db.reading() as session:
        return [e for e in entries(session, action=action, limit=100)]


# Raising ------------------------------------------------------------------------------------------


def test_raising_an_alert_adds_it_and_its_audit_entry(world: World) -> None:
    alert_id = raised(world)
    entry = _audited(world, "alert.raise")
    assert len(entry) == 1
    assert entry[0]["target"] == f"alert:{alert_id}" and entry[0]["actor"] == "postguard-watch"
    assert entry[0]["clause"] == "A.i,A.iii.guilt"  # the findings' clauses, as the workflow files them
    assert [f["clause"] for f in entry[0]["detail"]["findings"]] == ["A.iii.guilt", "A.i"]
    alert = get_alert(world.registry, alert_id)
    assert alert["open"] and alert["kind"] == "outside_workflow"
    assert alert["title"] == KINDS["outside_workflow"]
    assert alert["post"]["platform"] == "mastodon" and alert["post"]["text"] == TEXT
    assert alert["post"]["url"] == "https://test.example/@police/110001"
    assert alert["findings"][0]["evidence"] == "We got our man"
    assert alert["acknowledged_at"] is None and alert["delivery"] == {}
    assert open_count(world.registry) == 1


def test_an_alert_raised_in_a_transaction_that_fails_is_not_kept(world: World) -> None:
    with pytest.raises(RuntimeError), world.db.session() as session:
        raise_alert(world.registry, session, kind="deleted", summary="gone", post_id=None, detail={})
        raise RuntimeError("the watch's round failed after raising it")
    assert alerts(world.registry) == [] and _audited(world, "alert.raise") == []


def test_a_kind_that_does_not_exist_or_a_blank_summary_is_refused(world: World) -> None:
    with world.db.session() as session:
        with pytest.raises(ValidationError, match="not a kind of alert"):
            raise_alert(world.registry, session, kind="hacked", summary="x", post_id=None, detail={})
        with pytest.raises(ValidationError, match="needs a summary"):
            raise_alert(world.registry, session, kind="deleted", summary="  ", post_id=None, detail={})


def test_many_clauses_fit_the_audit_entry(world: World) -> None:
    many = [{"clause": f"Z.{n:02d}.long-clause-name", "span": [0, 1]} for n in range(6)]
    raised(world, findings=many, with_post=False)
    clause = _audited(world, "alert.raise")[0]["clause"]
    assert clause == "Z.00.long-clause-name"  # whole clauses only, within the column's 32 characters
    assert len(_audited(world, "alert.raise")[0]["detail"]["findings"]) == 6


# Reading ------------------------------------------------------------------------------------------


def test_alerts_list_open_ones_first_then_newest_first(world: World) -> None:
    first = raised(world, platform_id="1")
    second = raised(world, kind="deleted", summary="A post was deleted.", platform_id="2")
    third = raised(world, kind="edited", summary="A post was edited.", platform_id="3")
    acknowledge(world.registry, "REV-1", third, "Spoke to the PIO.")
    assert [a["id"] for a in alerts(world.registry)] == [second, first, third]
    assert [a["id"] for a in alerts(world.registry, open_only=True)] == [second, first]
    assert [a["id"] for a in alerts(world.registry, limit=1)] == [second]
    listed = alerts(world.registry)[0]
    assert listed["post"]["excerpt"] == TEXT and "text" not in listed["post"]  # the list: an excerpt
    assert open_count(world.registry) == 2
    with pytest.raises(NotFoundError, match="No alert has id 999"):
        get_alert(world.registry, 999)


# Acknowledging ------------------------------------------------------------------------------------


def test_a_reviewer_acknowledges_once_with_a_note_and_it_is_audited(world: World) -> None:
    alert_id = raised(world)
    done = acknowledge(world.registry, "REV-1", alert_id, "  Asked the PIO to take it down.  ")
    assert done["acknowledged_by"] == "REV-1" and done["note"] == "Asked the PIO to take it down."
    assert not done["open"] and done["acknowledged_at"] is not None
    entry = _audited(world, "alert.acknowledge")
    assert len(entry) == 1 and entry[0]["actor"] == "REV-1" and entry[0]["target"] == f"alert:{alert_id}"
    assert entry[0]["detail"]["note"] == "Asked the PIO to take it down."
    assert entry[0]["clause"] == "A.i,A.iii.guilt"
    with pytest.raises(ConflictError, match="acknowledged already, by REV-1"):
        acknowledge(world.registry, "CP-1", alert_id, "Me too.")
    assert get_alert(world.registry, alert_id)["acknowledged_by"] == "REV-1"
    assert open_count(world.registry) == 0


def test_the_commissioner_may_acknowledge(world: World) -> None:
    alert_id = raised(world, with_post=False, kind="deleted", summary="A post was deleted.")
    assert acknowledge(world.registry, "CP-1", alert_id, "Known: removed on my order.")["post"] is None


@pytest.mark.parametrize("member", ["PIO-1", "AUD-1", "IT-1"])
def test_others_may_not_acknowledge_and_the_refusal_is_audited(world: World, member: str) -> None:
    alert_id = raised(world)
    with pytest.raises(AccessDeniedError, match=r"may not alert\.acknowledge"):
        acknowledge(world.registry, member, alert_id, "Seen.")
    assert get_alert(world.registry, alert_id)["open"]
    denied = _audited(world, "denied")
    assert denied[-1]["actor"] == member and denied[-1]["detail"]["action"] == "alert.acknowledge"


def test_acknowledging_needs_an_actor_a_note_and_an_alert(world: World) -> None:
    alert_id = raised(world)
    with pytest.raises(NoActorError):
        acknowledge(world.registry, "", alert_id, "Seen.")
    for blank in ("", "   \n\t"):
        with pytest.raises(ValidationError, match="note is required") as caught:
            acknowledge(world.registry, "REV-1", alert_id, blank)
        assert caught.value.field == "note"
    with pytest.raises(ValidationError, match=f"at most {NOTE_MAX:,}"):
        acknowledge(world.registry, "REV-1", alert_id, "x" * (NOTE_MAX + 1))
    with pytest.raises(NotFoundError):
        acknowledge(world.registry, "REV-1", 4242, "Seen.")
    assert get_alert(world.registry, alert_id)["open"]
    assert _audited(world, "alert.acknowledge") == []


# Delivery outcomes --------------------------------------------------------------------------------


def test_delivery_is_kept_until_the_alert_is_acknowledged(world: World) -> None:
    alert_id = raised(world)
    record_delivery(world.registry, alert_id, "email", "sent to 2")
    record_delivery(world.registry, alert_id, "webhook", "failed: HTTP 502")
    assert get_alert(world.registry, alert_id)["delivery"] == {
        "email": "sent to 2",
        "webhook": "failed: HTTP 502",
    }
    assert [e["detail"] for e in _audited(world, "alert.deliver")] == [
        {"email": "sent to 2"},
        {"webhook": "failed: HTTP 502"},
    ]
    acknowledge(world.registry, "REV-1", alert_id, "Handled.")
    record_delivery(world.registry, alert_id, "email", "sent to 3")  # skipped, not refused
    assert get_alert(world.registry, alert_id)["delivery"]["email"] == "sent to 2"


# The database keeps the rules, whatever writes to it ----------------------------------------------


def _raw(world: World, sql: str, **params: Any) -> None:
    with world.db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_the_database_refuses_to_delete_an_alert(world: World) -> None:
    alert_id = raised(world)
    with pytest.raises(sa.exc.DatabaseError, match="an alert is never deleted"):
        _raw(world, "DELETE FROM alert WHERE id = :id", id=alert_id)
    with pytest.raises(sa.exc.DatabaseError, match="an alert is never deleted"):
        _raw(world, "DELETE FROM alert")
    assert get_alert(world.registry, alert_id)["id"] == alert_id


def test_the_database_refuses_to_change_an_acknowledged_alert(world: World) -> None:
    alert_id = raised(world)
    _raw(world, "UPDATE alert SET summary = 'changed while open' WHERE id = :id", id=alert_id)  # open: may
    acknowledge(world.registry, "REV-1", alert_id, "Handled.")
    for sql in (
        "UPDATE alert SET note = 'rewritten' WHERE id = :id",
        "UPDATE alert SET acknowledged_at = NULL, acknowledged_by = '' WHERE id = :id",
        "UPDATE alert SET delivery = '{}' WHERE id = :id",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="an acknowledged alert cannot be changed"):
            _raw(world, sql, id=alert_id)
    kept = get_alert(world.registry, alert_id)
    assert kept["note"] == "Handled." and kept["acknowledged_by"] == "REV-1"
    assert kept["summary"] == "changed while open"


# The command line ---------------------------------------------------------------------------------


@pytest.fixture
def cli_env(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", world.db.url)
    monkeypatch.setenv("POSTGUARD_KEYS_DIR", str(world.keys_dir))
    monkeypatch.delenv("POSTGUARD_ACTOR", raising=False)
    return world


def test_watch_alerts_lists_them(cli_env: World) -> None:
    runner = CliRunner()
    empty = runner.invoke(cli, ["watch", "alerts"])
    assert empty.exit_code == 0 and "no alert" in empty.output
    first = raised(cli_env, platform_id="1")
    second = raised(cli_env, kind="deleted", summary="A post was deleted from mastodon.", platform_id="2")
    acknowledge(cli_env.registry, "REV-1", first, "Handled.")
    listed = runner.invoke(cli, ["watch", "alerts", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [r["id"] for r in rows] == [second, first] and rows[1]["note"] == "Handled."
    only_open = runner.invoke(cli, ["watch", "alerts", "--open", "--json"])
    assert [r["id"] for r in json.loads(only_open.stdout)] == [second]
    table = runner.invoke(cli, ["watch", "alerts"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert (
        "1 open" in table.stdout
        and "Post deleted" in table.stdout
        and "acknowledged by REV-1" in table.stdout
    )


def test_watch_ack_acknowledges_and_refuses(cli_env: World) -> None:
    alert_id = raised(cli_env)
    runner = CliRunner()
    no_actor = runner.invoke(cli, ["watch", "ack", str(alert_id), "--note", "Seen."])
    assert no_actor.exit_code == 4 and "--actor" in no_actor.output
    pio = runner.invoke(cli, ["watch", "ack", str(alert_id), "--note", "Seen.", "--actor", "PIO-1"])
    assert pio.exit_code == 4 and "may not alert.acknowledge" in pio.output
    blank = runner.invoke(cli, ["watch", "ack", str(alert_id), "--note", " ", "--actor", "REV-1"])
    assert blank.exit_code == 2 and "note is required" in blank.output
    missing = runner.invoke(cli, ["watch", "ack", "999", "--note", "Seen.", "--actor", "REV-1"])
    assert missing.exit_code == 2 and "No alert has id 999" in missing.output
    done = runner.invoke(
        cli, ["watch", "ack", str(alert_id), "--note", "Told the PIO.", "--actor", "REV-1", "--json"]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["acknowledged_by"] == "REV-1"
    again = runner.invoke(cli, ["watch", "ack", str(alert_id), "--note", "Again.", "--actor", "CP-1"])
    assert again.exit_code == 2 and "acknowledged already" in again.output
    assert get_alert(cli_env.registry, alert_id)["note"] == "Told the PIO."
