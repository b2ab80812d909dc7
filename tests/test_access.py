"""Access decisions (clauses B and C), the access point's cache and audit, and the CLI."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import World
from postguard.access.catalogue import Catalogue
from postguard.access.decide import AccessRequest, decide
from postguard.access.point import AccessPoint
from postguard.access.publication import device_items
from postguard.access.snapshot import DeviceView, Grant, Snapshot, load_snapshot
from postguard.access.squid import serve
from postguard.cli.app import app
from postguard.keys import load_public
from postguard.policy import default_pack
from postguard.policy.schema import AccessRules

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
PAST, FUTURE = NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=30)
CATALOGUE = Catalogue(default_pack())


def _grant(
    code: str,
    member: str | None,
    computer: str | None,
    scope: str,
    target: str = "",
    start: dt.datetime = PAST,
    end: dt.datetime | None = FUTURE,
) -> Grant:
    return Grant(code, member, computer, None, scope, target, start, end)


SNAPSHOT = Snapshot(
    members={"pio": True, "cop": True, "gone": False, "dev": True},
    computers={"PC-1": True, "PC-2": True, "PC-OLD": False},
    computer_by_address={"10.0.0.1": "PC-1", "10.0.0.2": "PC-2", "10.0.0.9": "PC-OLD"},
    devices={"PHONE-1": DeviceView("dev", True), "PHONE-2": DeviceView("cop", True)},
    authorisations=(
        _grant("AU-1", "pio", "PC-1", "category", "micro-blogging"),
        _grant("AU-2", None, "PC-2", "site", "facebook.com"),
        _grant("AU-3", "cop", None, "site", "youtube.com", end=PAST + dt.timedelta(days=1)),  # expired
        _grant("AU-4", "cop", None, "all", start=FUTURE),  # not yet
        _grant("AU-5", "dev", "PC-1", "all"),
    ),
    permissions=(Grant("CP-1", "dev", None, "PHONE-1", "device", "", PAST, FUTURE),),
)


@pytest.mark.parametrize(
    ("request_", "allowed", "clause", "grant", "why"),
    [
        (AccessRequest("https://x.com/police", "pio", address="10.0.0.1"), True, "B", "AU-1", "authorised"),
        (AccessRequest("t.co/xyz", "pio", computer="PC-1"), True, "B", "AU-1", "authorised"),
        (
            AccessRequest("facebook.com", "pio", address="10.0.0.1"),
            False,
            "B",
            None,
            "no current authorisation",
        ),
        (AccessRequest("m.facebook.com", "cop", address="10.0.0.2"), True, "B", "AU-2", "authorised"),
        (AccessRequest("instagram.com", "cop", address="10.0.0.2"), False, "B", None, "no current"),
        (AccessRequest("youtube.com", "cop", address="10.0.0.1"), False, "B", None, "no current"),  # expired
        (AccessRequest("reddit.com", "cop", address="10.0.0.1"), False, "B", None, "no current"),  # not yet
        (AccessRequest("example.org", "nobody", address="192.0.2.1"), True, "", None, "not a social media"),
        (AccessRequest("x.com", "nobody", address="10.0.0.1"), False, "B", None, "not a member"),
        (AccessRequest("x.com", "gone", address="10.0.0.1"), False, "B", None, "not active"),
        (AccessRequest("x.com", None, address="10.0.0.1"), False, "B", None, "no member is signed in"),
        (AccessRequest("x.com", "pio", address="192.0.2.1"), False, "B", None, "not a registered department"),
        (AccessRequest("x.com", "pio", address="10.0.0.9"), False, "B", None, "retired"),
        (AccessRequest("http://93.184.216.34/", "pio", address="10.0.0.1"), False, "B", None, "the address"),
        (AccessRequest("93.184.216.34:443", "dev", address="10.0.0.1"), True, "B", "AU-5", "authorised"),
        (AccessRequest("::::", "pio", address="10.0.0.1"), False, "B", None, "cannot be read"),
        (AccessRequest("x.com", "dev", device="PHONE-1"), True, "C", "CP-1", "written permission CP-1"),
        (AccessRequest("x.com", "cop", device="PHONE-2"), False, "C", None, "no current written permission"),
        (AccessRequest("x.com", "dev", device="PHONE-9"), False, "C", None, "not a registered personally"),
    ],
)
def test_decisions(request_: AccessRequest, allowed: bool, clause: str, grant: str | None, why: str) -> None:
    decision = decide(SNAPSHOT, CATALOGUE, AccessRules(), _at(request_))
    assert (decision.allowed, decision.clause, decision.grant) == (allowed, clause, grant), decision.reason
    assert why in decision.reason


def _at(request: AccessRequest) -> AccessRequest:
    return AccessRequest(
        request.destination, request.member, request.computer, request.address, request.device, NOW
    )


def test_raw_addresses_follow_the_pack() -> None:
    request = _at(AccessRequest("10.1.2.3", "pio", address="10.0.0.1"))
    assert not decide(SNAPSHOT, CATALOGUE, AccessRules(raw_ip="deny"), request).allowed
    assert decide(SNAPSHOT, CATALOGUE, AccessRules(raw_ip="allow"), request).allowed


def test_clause_c_at_publication() -> None:
    findings, advice = device_items(SNAPSHOT, "dev", "PHONE-1", "C", NOW)
    assert not findings and advice[0].clause == "C" and "CP-1" in advice[0].explanation
    findings, advice = device_items(SNAPSHOT, "cop", "PHONE-2", "C", NOW)
    assert findings[0].clause == "C" and not advice and findings[0].suggestion
    assert device_items(SNAPSHOT, "pio", "PC-1", "C", NOW) == ([], [])
    assert device_items(SNAPSHOT, "pio", "UNKNOWN", "C", NOW)[0]


# The access point and the helper on a real registry ---------------------------


def _authorised_world(world: World) -> str:
    world.registry.add_member("IT-1", service_number="9001", name="Sam Social", roles="pio")
    world.registry.change_computer("IT-1", "PC-1", addresses=["10.0.0.5", "127.0.0.1"])
    return world.grants.authorise("IT-1", member="9001", computer="PC-1", scope="all", reason="press").code


def _answers(point: AccessPoint, lines: list[bytes]) -> list[str]:
    out = io.BytesIO()
    serve(point, io.BytesIO(b"".join(lines)), out)
    return out.getvalue().decode().splitlines()


def test_helper_answers_every_channel_whatever_the_input(world: World) -> None:
    _authorised_world(world)
    point = AccessPoint(world.db, default_pack(), world.keys_dir, ttl=30, via="squid")
    try:
        lines = [f"{i} 9001 10.0.0.5 facebook.com -\n".encode() for i in range(100)]
        lines += [
            b"\n",  # empty
            b"200 9001\n",  # missing fields
            b"201 PIO-1 10.0.0.5 x.com:443 -\n",  # CONNECT host:port, no authorisation
            b"202 %39%30%30%31 10.0.0.5 www.youtube.com -\n",  # URL-encoded login
            b"203 n\xc3\xa4me 10.0.0.5 x.com -\n",  # non-ASCII login
            b"204 \xff\xfe 10.0.0.5 x.com -\n",  # not UTF-8
            b"205 9001 192.0.2.77 x.com -\n",  # unknown address
            b"206 - 10.0.0.5 x.com -\n",  # nobody signed in
            b"207 9001 10.0.0.5 " + b"a" * 70_000 + b"\n",  # over-long line
            b"208 9001 10.0.0.5 example.org -\n",  # not social media
            b"9001 10.0.0.5 x.com\n",  # no channel, no acl argument
        ]
        answers = _answers(point, lines)
    finally:
        point.close()
    assert len(answers) == len(lines)
    assert all(a.startswith(f"{i} OK") for i, a in enumerate(answers[:100]))
    rest = dict(
        zip(
            [
                "empty",
                "missing",
                "connect",
                "encoded",
                "nonascii",
                "badutf",
                "unknown",
                "nobody",
                "long",
                "other",
                "nochannel",
            ],
            answers[100:],
            strict=True,
        )
    )
    assert rest["empty"].startswith("ERR") and rest["missing"].startswith("200 ERR")
    assert rest["connect"].startswith("201 ERR") and "clause B" in rest["connect"]
    assert rest["encoded"].startswith("202 OK")
    assert rest["nonascii"].startswith("203 ERR") and rest["badutf"].startswith("204 ERR")
    assert rest["unknown"].startswith("205 ERR") and "not a registered department computer" in rest["unknown"]
    assert rest["nobody"].startswith("206 ERR")
    assert rest["long"].startswith("207 ERR") and "too long" in rest["long"]
    assert rest["other"].startswith("208 OK") and rest["nochannel"].startswith("OK")
    assert all('message="' in a and 'log="' in a for a in answers)


def test_a_revoked_authorisation_stops_within_the_ttl(world: World) -> None:
    code = _authorised_world(world)
    point = AccessPoint(world.db, default_pack(), world.keys_dir, ttl=0.5)
    try:
        request = AccessRequest("https://x.com/", "9001", address="10.0.0.5")
        assert point.decide(request).allowed
        world.grants.revoke_authorisation("IT-1", code, "no longer needed")
        assert point.decide(request).allowed  # cached, and the snapshot is not yet refreshed
        deadline = time.monotonic() + 0.5 * 3
        while point.decide(request).allowed and time.monotonic() < deadline:
            time.sleep(0.05)
        denied = point.decide(request)
        assert not denied.allowed and "no current authorisation" in denied.reason
    finally:
        point.close()


def test_an_unreadable_registry_means_cannot_tell(world: World, tmp_path: Path) -> None:
    from postguard.registry.db import Database

    broken = Database(f"sqlite:///{tmp_path / 'never-migrated.db'}", create=True)  # no tables: reads fail
    point = AccessPoint(broken, default_pack(), world.keys_dir, ttl=30, audit=False)
    try:
        decision = point.decide(AccessRequest("x.com", "PIO-1", address="10.0.0.5"))
        assert not decision.allowed and "cannot tell" in decision.reason
        assert point.decide(AccessRequest("example.org", "PIO-1", address="10.0.0.5")).allowed is False
    finally:
        point.close()


def test_decisions_are_audited_and_reported(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    _authorised_world(world)
    point = AccessPoint(world.db, default_pack(), world.keys_dir, ttl=30, via="squid")
    for member in ("9001", "PIO-1", "PIO-1"):
        point.decide(AccessRequest("https://www.facebook.com/", member, address="10.0.0.5"))
    point.decide(AccessRequest("https://example.org/", "PIO-1", address="10.0.0.5"))  # outside: not audited
    point.close()
    from postguard.audit.queries import entries

    with world.db.session() as session:
        audited = list(entries(session, action="access.decide"))
    assert [(e["actor"], e["detail"]["allowed"]) for e in audited] == [("9001", True), ("PIO-1", False)]
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", world.db.url)
    monkeypatch.setenv("POSTGUARD_KEYS_DIR", str(world.keys_dir))
    result = CliRunner().invoke(app, ["access", "report", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {(r["member"], r["site"], r["outcome"]) for r in rows} == {
        ("9001", "facebook.com", "allowed"),
        ("PIO-1", "facebook.com", "refused"),
    }
    result = CliRunner().invoke(app, ["access", "decide", "--member", "PIO-1", "--computer", "PC-1", "x.com"])
    assert result.exit_code == 1 and "REFUSED" in result.output and "clause B" in result.output


def test_clause_c_through_check_with_the_registry(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", world.db.url)
    monkeypatch.setenv("POSTGUARD_KEYS_DIR", str(world.keys_dir))
    text = "Road closed on Main Street this morning."
    args = ["check", text, "--registry", "--actor", "PIO-1", "--device", "IMEI-1", "--json"]
    refused = json.loads(CliRunner().invoke(app, args).output)
    assert refused["decision"] == "block" and refused["findings"][0]["clause"] == "C"
    code = world.grants.permit(
        "CP-1",
        world.commissioner_key,
        kind="personal-device",
        member="PIO-1",
        device="IMEI-1",
        reason="on call",
        text_="May use the phone.",
    ).code
    allowed = json.loads(CliRunner().invoke(app, args).output)
    assert allowed["decision"] == "allow" and code in allowed["advice"][0]["explanation"]
    assert load_public(world.keys_dir, "commissioner").key_id == world.commissioner_key.key_id
    snapshot = load_snapshot(world.db, None)  # without the public key no permission is honoured
    assert snapshot.permissions == ()


def test_sites_commands() -> None:
    runner = CliRunner()
    found = runner.invoke(app, ["sites", "lookup", "https://video.xx.fbcdn.net/v/1.mp4", "--json"])
    assert found.exit_code == 0 and json.loads(found.output)["category"] == "social-networking"
    outside = runner.invoke(app, ["sites", "lookup", "https://www.gov.uk/"])
    assert outside.exit_code == 1 and "outside the policy" in outside.output
    assert runner.invoke(app, ["sites", "lookup", "::::"]).exit_code == 2
    listed = json.loads(runner.invoke(app, ["sites", "list", "--category", "wikis", "--json"]).output)
    assert {"site": "wikipedia.org", "category": "wikis"} in listed
