"""Issue 11: each way around the policy, and each failure, that an attacker or a careless user
found, reproduced; each must now fail to get through. Database items run on SQLite and
PostgreSQL (the ``world`` fixture)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import World, connected_account
from postguard.checks import Checker
from postguard.checks.model.inference import default_model
from postguard.errors import AccessDeniedError, CheckTimeoutError, ConflictError, ValidationError
from postguard.policy.loader import load_pack
from postguard.registry.db import Database
from postguard.registry.signin import MAX_FAILURES, TooManyAttemptsError, set_password, sign_in
from postguard.registry.tokens import create_token
from postguard.settings import Settings
from postguard.web import create_app
from postguard.web.app import MAX_BODY
from postguard.workflow.checking import post_digest
from postguard.workflow.disputes import reviews_export

GUILTY = "We got our man! The thug was arrested at his home in Northfield this morning."
VICTIM = "The victim, Shanice Morgan, is recovering in hospital. Thank you for your help."
CLEAN = "ROAD CLOSURE: Harbour Road is closed after a collision. Please use the bypass."
PASSWORD = "correct horse battery staple"

#: A pattern that backtracks exponentially on "aaaa…" with no "b": the regex engine's bane.
CATASTROPHIC = (
    "extends: default\nlimits:\n  check_seconds: {seconds}\nclauses:\n  - id: A.i\n    patterns:\n"
    "      - id: decorum.catastrophic\n        regex: '(?:a|aa)+b'\n        score: 0.9\n"
)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _audit(world: World, action: str) -> list[sa.Row[tuple[str, str, str]]]:
    with world.db.engine.connect() as conn:
        return list(
            conn.execute(
                sa.text("SELECT actor, target, detail FROM audit_entry WHERE action = :a ORDER BY seq"),
                {"a": action},
            )
        )


@pytest.fixture
def service(world: World) -> Iterator[tuple[TestClient, dict[str, str]]]:
    tokens = {m: create_token(world.registry, "IT-1", member=m, name=f"t-{m}")[0] for m in world_members()}
    app = create_app(Settings(database_url=world.db.url, keys_dir=world.keys_dir, secure_cookies=False))
    with TestClient(app) as client:
        yield client, tokens


def world_members() -> tuple[str, ...]:
    return ("IT-1", "CP-1", "PIO-1", "REV-1", "AUD-1")


# 1. A slow input stalls everything ------------------------------------------------------------


@pytest.mark.parametrize("unit", ["!", ".", "1", "a!", "#a", "x. ", "l33t ", "@b "])
def test_hostile_input_takes_time_linear_in_its_size(unit: str) -> None:
    """64 KiB of '!' took 70 s (quadratic sentence and leetspeak scanning): now 8 times the
    text takes about 8 times as long (quadratic would be 64 times)."""
    checker = Checker(load_pack(), default_model())
    checker.check("warm the caches up.")

    def seconds(size: int) -> float:
        text = (unit * (size // len(unit) + 1))[:size]
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            checker.check(text)
            best = min(best, time.perf_counter() - start)
        return best

    small, large = seconds(4096), seconds(32768)
    assert large / max(small, 1e-4) < 24, f"{unit!r}: 4 KiB {small:.4f} s, 32 KiB {large:.4f} s"
    checker.check((unit * 70000)[:65536])  # the whole 64 KiB, well inside the per-check limit


def test_a_catastrophic_pack_pattern_is_cut_off_by_the_check_limit(tmp_path: Path) -> None:
    pack = tmp_path / "slow.yaml"
    pack.write_text(CATASTROPHIC.format(seconds=0.3), encoding="utf-8")
    checker = Checker(load_pack(pack), default_model())
    start = time.perf_counter()
    with pytest.raises(CheckTimeoutError, match="took too long"):
        checker.check("a" * 60 + "!")
    assert time.perf_counter() - start < 5
    assert checker.check("Road closed on Main Street.").decision == "allow"


def test_a_slow_check_does_not_hold_up_other_requests(world: World, tmp_path: Path) -> None:
    pack = tmp_path / "slow.yaml"
    pack.write_text(CATASTROPHIC.format(seconds=1.5), encoding="utf-8")
    token, _ = create_token(world.registry, "IT-1", member="PIO-1", name="slow")
    app = create_app(Settings(database_url=world.db.url, keys_dir=world.keys_dir, policy=pack))
    finished: dict[str, float] = {}

    async def scenario() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
        ):
            start = time.perf_counter()

            async def slow() -> int:
                answer = await client.post(
                    "/api/v1/check", json={"text": "a" * 60 + "!"}, headers=_auth(token)
                )
                finished["slow"] = time.perf_counter() - start
                return answer.status_code

            async def quick() -> int:
                await asyncio.sleep(0.2)  # the slow check is under way
                answer = await client.get("/api/v1/drafts", headers=_auth(token))
                finished["quick"] = time.perf_counter() - start
                return answer.status_code

            return tuple(await asyncio.gather(slow(), quick()))  # type: ignore[return-value]

    slow_status, quick_status = asyncio.run(scenario())
    assert slow_status == 422 and quick_status == 200
    assert finished["quick"] < finished["slow"], finished


# 2. The author's context switches off the checks ---------------------------------------------


def test_a_draft_for_an_official_account_cannot_claim_a_personal_context(
    service: tuple[TestClient, dict[str, str]], world: World
) -> None:
    client, tokens = service
    sent = client.post(
        "/api/v1/drafts",
        json={"text": GUILTY, "context": {"account": "personal", "capacity": "personal"}},
        headers=_auth(tokens["PIO-1"]),
    )
    assert sent.status_code == 422 and "official" in sent.json()["detail"]
    made = client.post(
        "/api/v1/drafts",
        json={"text": GUILTY, "account": connected_account(world)},
        headers=_auth(tokens["PIO-1"]),
    ).json()
    edited = client.put(
        f"/api/v1/drafts/{made['id']}",
        json={"text": GUILTY, "context": {"capacity": "personal"}},
        headers=_auth(tokens["PIO-1"]),
    )
    assert edited.status_code == 422
    # Someone who edits the row by hand gains nothing: the stored context is read as official.
    with world.db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE draft SET context = :c WHERE code = :d"),
            {"c": '{"account": "personal", "capacity": "personal"}', "d": made["id"]},
        )
    submitted = client.post(
        f"/api/v1/drafts/{made['id']}/submit", json={"device": "PC-1"}, headers=_auth(tokens["PIO-1"])
    ).json()
    assert submitted["decision"] == "block" and submitted["findings"]


# 3. Written permissions are not scoped -------------------------------------------------------


def test_a_release_for_another_post_or_member_approves_nothing(world: World) -> None:
    flow = world.workflow
    other = flow.create(
        "PIO-1",
        text="The victim, Mary Jones, thanks the public for their help.",
        account=connected_account(world),
    )
    elsewhere = world.grants.permit(
        "CP-1",
        world.commissioner_key,
        kind="confidential-release",
        member="PIO-1",
        post=other.code,
        reason="family asked",
        text_="Mary Jones may be named.",
    ).code
    draft = flow.create("PIO-1", text=VICTIM, account=connected_account(world))
    flow.submit("PIO-1", draft.code, device="PC-1")
    with pytest.raises(ValidationError, match="another post"):
        flow.approve("REV-1", draft.code, reason="consent", permission=elsewhere)
    for_someone_else = world.grants.permit(
        "CP-1",
        world.commissioner_key,
        kind="confidential-release",
        member="REV-1",
        post=draft.code,
        reason="x",
        text_="y",
    ).code
    with pytest.raises(ValidationError, match="issued for REV-1"):
        flow.approve("REV-1", draft.code, reason="consent", permission=for_someone_else)
    # Claimed by the author in the draft's context, it is judged just the same.
    flow.return_("REV-1", draft.code, comment="Attach the permission.")
    flow.edit("PIO-1", draft.code, text=VICTIM, context={"permissions": [elsewhere]})
    assert flow.get(draft.code)["findings"][0]["clause"] == "A.iii.confidential"


def test_the_api_check_honours_a_permission_only_for_its_post(
    service: tuple[TestClient, dict[str, str]], world: World
) -> None:
    client, tokens = service
    fake = client.post(
        "/api/v1/check",
        json={"text": VICTIM, "context": {"permissions": ["CP-2026-0001"]}},
        headers=_auth(tokens["PIO-1"]),
    ).json()
    assert fake["findings"] and not fake.get("advice")
    scoped = world.grants.permit(
        "CP-1",
        world.commissioner_key,
        kind="confidential-release",
        member="PIO-1",
        post="sha256:" + __import__("hashlib").sha256(VICTIM.encode()).hexdigest(),
        reason="family asked",
        text_="May be named.",
    ).code
    honoured = client.post(
        "/api/v1/check",
        json={"text": VICTIM, "context": {"permissions": [scoped]}},
        headers=_auth(tokens["PIO-1"]),
    ).json()
    assert not honoured["findings"] and honoured["advice"]
    other = client.post(
        "/api/v1/check",
        json={"text": VICTIM + " More soon.", "context": {"permissions": [scoped]}},
        headers=_auth(tokens["PIO-1"]),
    ).json()
    assert other["findings"]


# 4. One reviewer can approve a blocked post --------------------------------------------------


def test_a_blocked_post_is_not_approved_with_ok(world: World) -> None:
    flow = world.workflow
    draft = flow.create("PIO-1", text=GUILTY, account=connected_account(world))
    flow.submit("PIO-1", draft.code, device="PC-1")
    with pytest.raises(ValidationError, match="blocks the post"):
        flow.approve("REV-1", draft.code, reason="ok")


def test_publication_checks_again_and_holds_what_the_approval_did_not_clear(world: World) -> None:
    """The scheduler published 'We got our man! The thug…': an approved row edited by hand, or a
    pack changed after approval, is caught by the check at publication."""
    flow = world.workflow
    draft = flow.create("PIO-1", text=CLEAN, account=connected_account(world))
    flow.submit("PIO-1", draft.code, device="PC-1")
    flow.approve("REV-1", draft.code)
    with world.db.engine.begin() as conn:  # the text swapped after approval, in the database
        conn.execute(sa.text("UPDATE draft SET text = :t WHERE code = :d"), {"t": GUILTY, "d": draft.code})
    with pytest.raises(ConflictError, match="not published"):
        flow.assert_publishable("PIO-1", draft.code)
    held = flow.get(draft.code)
    assert held["state"] == "returned" and held["reviews"][-1]["action"] == "held"
    assert _audit(world, "publish.held")
    # A draft set to approved by hand, with no approval at all, is held too.
    other = flow.create("PIO-1", text=CLEAN, account=connected_account(world))
    with world.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE draft SET state = 'approved' WHERE code = :d"), {"d": other.code})
    with pytest.raises(ConflictError, match="approval"):
        flow.assert_publishable("PIO-1", other.code)


def test_a_revoked_release_stops_the_publication(world: World) -> None:
    flow = world.workflow
    draft = flow.create("PIO-1", text=VICTIM, account=connected_account(world))
    code = world.grants.permit(
        "CP-1",
        world.commissioner_key,
        kind="confidential-release",
        member="PIO-1",
        post=draft.code,
        reason="family asked",
        text_="May be named.",
    ).code
    flow.submit("PIO-1", draft.code, device="PC-1")
    flow.approve("REV-1", draft.code, reason="family consent", permission=code)
    flow.assert_publishable("PIO-1", draft.code)  # still in force: nothing to hold
    world.grants.revoke_permission("CP-1", code, "consent withdrawn")
    with pytest.raises(ConflictError, match="confidential-release"):
        flow.assert_publishable("PIO-1", draft.code)


def test_confirmed_disputes_become_training_examples(world: World, tmp_path: Path) -> None:
    from postguard.checks.labelled import LabelRules, read_labelled

    flow = world.workflow
    draft = flow.create("PIO-1", text=GUILTY, account=connected_account(world))
    flow.submit("PIO-1", draft.code, device="PC-1")
    findings = flow.get(draft.code)["findings"]
    disputed = {f["clause"] for f in findings}
    for f in findings:
        row = flow.dispute("REV-1", draft.code, clause=f["clause"], start=f["span"][0], reason="A quote.")
        flow.confirm_dispute("CP-1", draft.code, row.id)
    flow.approve("REV-1", draft.code)
    pack = load_pack()
    rows = list(reviews_export(world.registry, pack.learned_clause_ids))
    assert len(rows) == 1 and rows[0]["labels"] == [] and rows[0]["disputed"] == sorted(disputed)
    path = tmp_path / "reviews.jsonl"
    path.write_text("".join(__import__("json").dumps(r) + "\n" for r in rows), encoding="utf-8")
    [example] = read_labelled([path], LabelRules.of(pack))
    assert example.source == "reviews" and example.text == GUILTY and not example.labels


# 5. IT can give itself approval rights -------------------------------------------------------


def test_nobody_changes_their_own_roles(world: World) -> None:
    with pytest.raises(AccessDeniedError, match="own roles"):
        world.registry.grant_roles("IT-1", "IT-1", "reviewer")
    with pytest.raises(AccessDeniedError, match="own roles"):
        world.registry.change_member("IT-1", "IT-1", roles=["it_admin", "commissioner"])
    with pytest.raises(AccessDeniedError, match="Commissioner"):
        world.registry.grant_roles("IT-1", "PIO-1", "reviewer")
    assert "reviewer" not in world.registry.read(lambda s: world.registry.member(s, "PIO-1").roles)


def test_the_last_it_admin_and_commissioner_stay(world: World) -> None:
    with pytest.raises(ConflictError, match="last active it_admin"):
        world.registry.change_member("IT-1", "IT-1", active=False)
    with pytest.raises(ConflictError, match="last active commissioner"):
        world.registry.change_member("IT-1", "CP-1", roles=["officer"])
    with pytest.raises(ConflictError, match="last active commissioner"):
        world.registry.change_member("IT-1", "CP-1", active=False)


def test_a_removed_role_stops_at_once_here_and_within_the_token_ttl_elsewhere(
    service: tuple[TestClient, dict[str, str]], world: World
) -> None:
    from postguard.web.deps import TOKEN_TTL

    client, token = service
    assert client.get("/api/v1/reviews", headers=_auth(token["REV-1"])).status_code == 200
    changed = client.patch("/api/v1/members/REV-1", json={"roles": ["officer"]}, headers=_auth(token["IT-1"]))
    assert changed.status_code == 200, changed.text
    assert client.get("/api/v1/reviews", headers=_auth(token["REV-1"])).status_code == 403  # at once
    # Changed by another process (here: another Registry over the same database).
    assert client.get("/api/v1/reviews", headers=_auth(token["CP-1"])).status_code == 200
    world.registry.add_member("IT-1", service_number="CP-2", name="Deputy", roles=[])
    world.registry.grant_roles("CP-1", "CP-2", "commissioner")
    world.registry.change_member("IT-1", "CP-1", roles=["officer"])
    time.sleep(TOKEN_TTL + 0.1)
    assert client.get("/api/v1/reviews", headers=_auth(token["CP-1"])).status_code == 403


# 8. One slow caller locks out the rest -------------------------------------------------------


def test_reads_go_on_while_another_connection_holds_the_write_lock(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'lock.db'}", create=True)
    db.upgrade()
    holder = threading.Event()
    release = threading.Event()

    def writer() -> None:
        with db.session() as session:  # BEGIN IMMEDIATE: holds SQLite's one write lock
            session.execute(sa.text("SELECT 1"))
            holder.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    assert holder.wait(10)
    try:
        start = time.perf_counter()
        with db.reading() as session:
            assert session.execute(sa.text("SELECT count(*) FROM member")).scalar_one() == 0
        assert time.perf_counter() - start < 1.0
    finally:
        release.set()
        thread.join()


def test_argon2_runs_outside_any_write_transaction(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from postguard.registry import signin

    set_password(world.registry, "IT-1", member="PIO-1", password=PASSWORD)
    open_writes: list[int] = []
    real_session = world.registry.db.session
    depth = [0]

    def counting_session():  # type: ignore[no-untyped-def]
        class Wrapped:
            def __enter__(self):  # type: ignore[no-untyped-def]
                depth[0] += 1
                self.inner = real_session()
                return self.inner.__enter__()

            def __exit__(self, *exc):  # type: ignore[no-untyped-def]
                depth[0] -= 1
                return self.inner.__exit__(*exc)

        return Wrapped()

    real = signin._hasher

    class Hasher:
        def verify(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            open_writes.append(depth[0])
            return real.verify(*args, **kwargs)

        def hash(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            return real.hash(*args, **kwargs)

    monkeypatch.setattr(world.registry.db, "session", counting_session)
    monkeypatch.setattr(signin, "_hasher", Hasher())
    sign_in(world.registry, service_number="PIO-1", password=PASSWORD, address="10.0.0.1")
    with pytest.raises(AccessDeniedError):
        sign_in(world.registry, service_number="PIO-1", password="wrong password!", address="10.0.0.1")
    assert open_writes == [0, 0]


# 9. Unbounded and unauthenticated work -------------------------------------------------------


def test_an_unauthenticated_body_is_refused_before_it_is_read(
    service: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = service
    sent = [0]

    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            sent[0] += 1
            yield b"x" * 65536

    refused = client.post("/api/v1/check", content=chunks(), headers={"Content-Type": "application/json"})
    assert refused.status_code == 401
    too_big = client.post(
        "/api/v1/check",
        content=(b"x" * 65536 for _ in range(MAX_BODY // 65536 + 4)),
        headers={**_auth(tokens["PIO-1"]), "Content-Type": "application/json"},
    )
    assert too_big.status_code == 413


def test_failed_sign_ins_are_limited_by_address_and_audited_once(world: World) -> None:
    set_password(world.registry, "IT-1", member="CP-1", password=PASSWORD)
    for _ in range(MAX_FAILURES):
        with pytest.raises(AccessDeniedError):
            sign_in(world.registry, service_number="CP-1", password="not it at all", address="10.9.9.9")
    with pytest.raises(AccessDeniedError, match="Too many failed"):
        sign_in(world.registry, service_number="CP-1", password=PASSWORD, address="10.9.9.9")
    # The Commissioner is not locked out by someone else's address.
    assert sign_in(world.registry, service_number="CP-1", password=PASSWORD, address="10.1.1.1").cookie
    entries = _audit(world, "signin.failed") + _audit(world, "signin.locked")
    assert len(entries) == 2 and {e.actor for e in entries} == {"anonymous"}
    assert all('"CP-1"' in e.detail for e in entries)
    with pytest.raises(TooManyAttemptsError):
        for _ in range(40):
            try:
                sign_in(world.registry, service_number="X-9", password="whatever it is", address="10.7.7.7")
            except TooManyAttemptsError:
                raise
            except AccessDeniedError:
                pass
    assert len(_audit(world, "signin.throttled")) == 1


def test_post_digest_names_a_post_without_holding_it() -> None:
    assert post_digest(GUILTY) != post_digest(CLEAN) and len(post_digest(GUILTY)) == 16


def test_two_it_admins_grant_a_privileged_role_where_the_pack_says_so(world: World) -> None:
    from postguard.policy.schema import Governance
    from postguard.registry.service import Registry

    registry = Registry(world.db, origin="test", governance=Governance(grant_by="two-it-admins"))
    registry.add_member("IT-1", service_number="IT-2", name="Second Admin", roles=["it_admin"])
    with pytest.raises(AccessDeniedError, match="two it_admins"):
        registry.grant_roles("IT-1", "PIO-1", "reviewer")
    request = registry.request_roles("IT-1", "PIO-1", "reviewer")
    with pytest.raises(AccessDeniedError, match="asked for it"):
        registry.decide_role_request("IT-1", request.code, grant=True)
    with pytest.raises(AccessDeniedError):
        registry.decide_role_request("PIO-1", request.code, grant=True)
    assert registry.decide_role_request("IT-2", request.code, grant=True).state == "granted"
    assert "reviewer" in registry.read(lambda s: registry.member(s, "PIO-1").roles)
    with pytest.raises(ConflictError, match="granted already"):
        registry.decide_role_request("IT-2", request.code, grant=False)
    with pytest.raises(AccessDeniedError, match="own roles"):
        registry.request_roles("IT-2", "IT-2", "commissioner")


# 6. The audit tail can be cut off unseen -----------------------------------------------------


def _rechain(world: World, *, drop_action: str | None = None, edit_seq: int | None = None) -> None:
    """What someone with the database does: remove or edit entries, then recompute every hash and
    renumber, so that the chain links up again; and delete the checkpoint rows."""
    from postguard.audit.chain import GENESIS, entry_hash

    with world.db.engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT * FROM audit_entry ORDER BY seq")).mappings().all()
        conn.execute(sa.text("DELETE FROM audit_entry"))
        conn.execute(sa.text("DELETE FROM audit_checkpoint"))
        prev, seq = GENESIS, 0
        for row in rows:
            if drop_action is not None and row["action"] == drop_action:
                continue
            seq += 1
            fields = {k: row[k] for k in ("at", "actor", "action", "clause", "target", "origin", "detail")}
            if row["seq"] == edit_seq:
                fields["actor"] = "rewriter"
            digest = entry_hash(seq=seq, **fields, prev_hash=prev)
            conn.execute(
                sa.text(
                    "INSERT INTO audit_entry (seq, at, actor, action, clause, target, origin, detail, "
                    "prev_hash, hash) VALUES (:seq, :at, :actor, :action, :clause, :target, :origin, "
                    ":detail, :prev, :hash)"
                ),
                {"seq": seq, **fields, "prev": prev, "hash": digest},
            )
            prev = digest


def _witnessed(world: World, path: Path) -> None:
    from postguard.audit.checkpoints import checkpoint_if_due
    from postguard.audit.witness import Witness

    assert checkpoint_if_due(world.db.session, world.department_key, Witness(path)) is not None


def _verify(world: World, path: Path | None) -> object:
    from postguard.audit.verify import verify
    from postguard.audit.witness import read_heads
    from postguard.keys import load_public

    heads = read_heads(path) if path is not None else None
    return verify(world.db.engine, load_public(world.keys_dir, "department"), witness=heads)


def test_consistency_proofs_follow_rfc_6962_and_refuse_a_changed_prefix() -> None:
    import hashlib

    from postguard.audit.merkle import MerkleLevels, merkle_root, verify_consistency

    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(40)]
    levels = MerkleLevels()
    for leaf in leaves:
        levels.add(leaf)
    for n in range(1, 41):
        assert levels.root(n) == merkle_root(leaves[:n])
        for m in range(1, n + 1):
            proof = levels.consistency_proof(m, n)
            assert verify_consistency(m, n, levels.root(m), levels.root(n), proof)
            if m < n:
                assert not verify_consistency(m, n, merkle_root([b"x", *leaves[1:m]]), levels.root(n), proof)
                assert not verify_consistency(
                    m, n, levels.root(m), merkle_root([*leaves[: n - 1], b"y"]), proof
                )


def test_a_cut_tail_is_caught_by_the_witness_and_not_without(world: World, tmp_path: Path) -> None:
    witness = tmp_path / "witness.jsonl"
    for n in range(5):
        world.registry.add_computer("IT-1", asset_tag=f"PC-W{n}")
    _witnessed(world, witness)
    with world.db.engine.begin() as conn:
        newest = conn.execute(sa.text("SELECT max(seq) FROM audit_entry")).scalar_one()
        conn.execute(sa.text("DELETE FROM audit_entry WHERE seq > :s"), {"s": newest - 3})
        conn.execute(sa.text("DELETE FROM audit_checkpoint"))
    blind = _verify(world, None)
    assert blind.ok and blind.uncovered == blind.entries  # the reproduction: "intact", but nothing covers it
    seen = _verify(world, witness)
    assert not seen.ok and "were deleted" in seen.problem


def test_a_rewritten_and_rechained_trail_is_caught_by_the_witness(world: World, tmp_path: Path) -> None:
    witness = tmp_path / "witness.jsonl"
    for n in range(4):
        world.registry.add_computer("IT-1", asset_tag=f"PC-R{n}")
    _witnessed(world, witness)
    world.registry.add_computer("IT-1", asset_tag="PC-R9")
    _witnessed(world, witness)
    _rechain(world, edit_seq=3)
    assert _verify(world, None).ok  # every hash recomputed and no checkpoint left: unseen
    seen = _verify(world, witness)
    assert not seen.ok and "rewritten" in seen.problem
    # The witness itself cannot be edited unseen: its heads are signed.
    lines = witness.read_text().splitlines()
    witness.write_text(lines[0].replace('"size":', '"size":1') + "\n")
    forged = _verify(world, witness)
    assert not forged.ok and ("not signed" in forged.problem or "more entries" in forged.problem)


def test_a_revived_permission_is_refused_while_the_witness_remembers_its_revocation(
    world: World, tmp_path: Path
) -> None:
    from postguard.audit.witness import Witness
    from postguard.keys import load_public
    from postguard.registry.grants import Grants
    from postguard.registry.service import Registry

    witness_path = tmp_path / "witness.jsonl"
    code = world.grants.permit(
        "CP-1",
        world.commissioner_key,
        kind="personal-device",
        member="PIO-1",
        device="IMEI-1",
        reason="on call",
        text_="May use the phone.",
    ).code
    world.grants.revoke_permission("CP-1", code, "phone lost")
    _witnessed(world, witness_path)
    # The attack: clear revoked_at, rewrite the revocation out of the trail, delete checkpoints.
    with world.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE permission SET revoked_at = NULL, revoked_reason = ''"))
    _rechain(world, drop_action="permission.revoke")
    assert world.grants.honoured(code).valid  # without the witness: revived
    witness = Witness(witness_path, trusted=load_public(world.keys_dir, "department"))
    guarded = Grants(Registry(world.db, origin="test", witness=witness), world.keys_dir)
    verdict = guarded.honoured(code)
    assert not verdict.valid and "revoked" in verdict.reason
    from postguard.access.snapshot import load_snapshot

    snapshot = load_snapshot(world.db, load_public(world.keys_dir, "commissioner"), witness)
    assert code not in {p.code for p in snapshot.permissions}


def test_uncovered_entries_are_reported_and_fail_strict(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from postguard.cli.app import app

    monkeypatch.setenv("POSTGUARD_DATABASE_URL", world.db.url)
    monkeypatch.setenv("POSTGUARD_KEYS_DIR", str(world.keys_dir))
    runner = CliRunner()
    loose = runner.invoke(app, ["audit", "verify"])
    assert loose.exit_code == 0 and "not yet covered" in loose.output
    strict = runner.invoke(app, ["audit", "verify", "--strict", "--json"])
    assert strict.exit_code == 1 and '"uncovered"' in strict.output
    witness = tmp_path / "w.jsonl"
    _witnessed(world, witness)
    covered = runner.invoke(app, ["audit", "verify", "--strict", "--witness", str(witness)])
    assert covered.exit_code == 0, covered.output
    assert "1 witnessed heads proved consistent" in " ".join(covered.output.split())


def test_the_service_signs_and_witnesses_checkpoints_by_itself(world: World, tmp_path: Path) -> None:
    from conftest import PASSPHRASES
    from postguard.audit.witness import read_heads

    witness = tmp_path / "witness.jsonl"
    settings = Settings(
        database_url=world.db.url,
        keys_dir=world.keys_dir,
        department_passphrase=PASSPHRASES["department"],
        audit_witness=witness,
        checkpoint_interval=0.2,
        audit_spool=tmp_path / "spool.jsonl",
    )
    with TestClient(create_app(settings)):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not witness.exists():
            time.sleep(0.05)
        world.registry.add_computer("IT-1", asset_tag="PC-AUTO")
        with world.db.engine.connect() as conn:
            newest = conn.execute(sa.text("SELECT max(seq) FROM audit_entry")).scalar_one()
        while time.monotonic() < deadline and read_heads(witness)[-1].size < newest:
            time.sleep(0.05)
    heads = read_heads(witness)
    assert heads[-1].size == newest
    assert _verify(world, witness).uncovered == 0
    wrong = Settings(
        database_url=world.db.url, keys_dir=world.keys_dir, department_passphrase="not the passphrase"
    )
    with pytest.raises(Exception, match="passphrase"):
        create_app(wrong)


# 7. Audit entries are not lost ---------------------------------------------------------------


def test_access_decisions_are_spooled_when_the_trail_cannot_be_written(
    world: World, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from postguard.access.point import AccessPoint
    from postguard.audit.chain import AuditRecord
    from postguard.policy.loader import load_pack as pack

    spool = tmp_path / "spool.jsonl"
    point = AccessPoint(world.db, pack(), world.keys_dir, audit=False, spool=spool)
    request.addfinalizer(point.close)  # its refresher thread must not outlive the test's database
    records = [AuditRecord("PIO-1", "access.decide", f"site:s{n}", "B", {"allowed": False}) for n in range(3)]
    working = point.db.session

    def broken():  # type: ignore[no-untyped-def]
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    point.db.session = broken  # type: ignore[method-assign]
    point._write(records, tries=2)
    assert len(spool.read_text().splitlines()) == 3  # spooled, not dropped
    point._write(records[:1], tries=1)
    assert len(spool.read_text().splitlines()) == 4
    point.db.session = working  # type: ignore[method-assign]
    point._write([])
    assert spool.read_text() == ""
    written = _audit(world, "access.decide")
    assert [r.target for r in written] == ["site:s0", "site:s1", "site:s2", "site:s0"]
    assert all("spooled_at" in r.detail for r in written)


def test_decisions_are_kept_in_memory_when_even_the_spool_fails(
    world: World, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from postguard.access.point import AccessPoint
    from postguard.audit.chain import AuditRecord
    from postguard.policy.loader import load_pack as pack

    point = AccessPoint(world.db, pack(), world.keys_dir, audit=False, spool=tmp_path / "no" / "such" / "dir")
    request.addfinalizer(point.close)
    working = point.db.session
    point.db.session = lambda: (_ for _ in ()).throw(OSError("disk gone"))  # type: ignore[method-assign]
    point._guarded([AuditRecord("PIO-1", "access.decide", "site:kept", "B", {})])
    point.db.session = working  # type: ignore[method-assign]
    point.spool = None
    point._write([])
    assert [r.target for r in _audit(world, "access.decide")] == ["site:kept"]


# 10. Bad input that still crashes or misleads --------------------------------------------------


def test_hostile_batch_lines_get_error_lines_and_the_run_goes_on(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from postguard.cli.app import app

    lines = [
        "[" * 3000 + "]" * 3000,
        '{"id": "deep", "text": ' + "[" * 3000 + "]" * 3000 + "}",
        '{"id": "digits", "text": "x", "n": ' + "9" * 100_000 + "}",
        json.dumps({"id": "nul", "text": "Road closed\u0000 on Main St."}),
        json.dumps({"id": 7, "text": "Road closed on Main St."}),
        json.dumps({"id": "fine", "text": CLEAN}),
    ]
    batch = tmp_path / "posts.jsonl"
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", "--jsonl", str(batch), "--workers", "1"])
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert len(answers) == len(lines)
    assert all("error" in a for a in answers[:4]), answers[:4]
    assert answers[4] == {"id": 7, "decision": "allow", "findings": []}  # any JSON scalar id is copied
    assert "Traceback" not in result.output
    assert answers[5]["id"] == "fine" and answers[5]["decision"] == "allow"


def test_markup_and_escape_codes_in_names_and_details_are_printed_as_text(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from postguard.cli.app import app

    hostile = "[bold red]Chief[/bold red] \x1b[2J\x1b[31mX\u202e"
    world.registry.add_member("IT-1", service_number="PC-99", name=hostile, roles=["pio"])
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", world.db.url)
    monkeypatch.setenv("POSTGUARD_KEYS_DIR", str(world.keys_dir))
    runner = CliRunner()
    for command in (["member", "list"], ["audit", "show", "--action", "member.add"]):
        result = runner.invoke(app, command, env={"COLUMNS": "400"})
        assert result.exit_code == 0, result.output
        assert "[bold red]Chief[/bold red]" in result.output, command
        assert "\x1b" not in result.output and "\u202e" not in result.output
        shown = result.output.replace("\\u001b", "\\x1b")  # the audit's detail is JSON, escaped as JSON
        assert "\\x1b[2J" in shown and "\\u202e" in shown


def test_nul_bytes_are_refused_in_names_and_texts(world: World) -> None:
    with pytest.raises(ValidationError, match="NUL"):
        world.registry.add_member("IT-1", service_number="PC-98", name="Ada\x00Admin", roles=["pio"])
    with pytest.raises(Exception, match="NUL"):
        world.workflow.create("PIO-1", text="Road closed\x00 on Main St.")
    with world.db.engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT count(*) FROM member WHERE service_number = 'PC-98'")).scalar() == 0
        )


def test_squid_does_not_decode_a_line_break_into_an_allowed_host(
    world: World, request: pytest.FixtureRequest
) -> None:
    from postguard.access.catalogue import parse_destination
    from postguard.access.point import AccessPoint
    from postguard.access.squid import answer_line

    assert parse_destination("facebook.com%0A0") is None
    assert parse_destination("facebook.com\n0") is None
    point = AccessPoint(world.db, load_pack(), world.keys_dir, audit=False)
    request.addfinalizer(point.close)
    answer = answer_line(point, "3 PIO-1 10.0.0.5 facebook.com%0A0")
    assert answer.startswith("3 ERR"), answer
    assert answer_line(point, "12 PIO-1 10.0.0.5").startswith("12 ERR")  # one field short


def test_the_squid_helper_refuses_without_its_database_and_creates_none(tmp_path: Path) -> None:
    import subprocess
    import sys

    missing = tmp_path / "gone.db"
    run = subprocess.run(
        [sys.executable, "-m", "postguard", "squid-helper", "--database", f"sqlite:///{missing}"],
        input=b"0 PIO-1 10.0.0.5 facebook.com:443\n1 PIO-1 10.0.0.5 www.example.org:443\n",
        capture_output=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "POSTGUARD_KEYS_DIR": str(tmp_path / "keys")},
    )
    answers = run.stdout.decode().splitlines()
    assert [a.split()[:2] for a in answers] == [["0", "ERR"], ["1", "ERR"]], run.stderr.decode()
    assert (
        "no database" in run.stderr.decode().lower() or "there is no database" in run.stderr.decode().lower()
    )
    assert not missing.exists()


def test_a_deleted_database_is_not_recreated_empty(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    db = Database(url, create=True)
    db.upgrade()
    (tmp_path / "r.db").unlink()
    db.engine.dispose()  # the next connection (another process, or after the pool recycles)
    with pytest.raises(Exception, match="unable to open"), db.session() as session:
        session.execute(sa.text("SELECT 1"))
    assert not (tmp_path / "r.db").exists()


def test_the_database_and_its_wal_are_private(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}", create=True)
    db.upgrade()
    with db.session() as session:
        session.execute(sa.text("SELECT 1"))
    files = [p for p in tmp_path.iterdir() if p.name.startswith("p.db")]
    assert files and all(p.stat().st_mode & 0o077 == 0 for p in files), [oct(p.stat().st_mode) for p in files]


def test_platform_urls_become_links_only_when_they_are_web_addresses() -> None:
    from postguard.web.pages.common import link_url

    assert link_url("https://social.example/@police/1") == "https://social.example/@police/1"
    for bad in (
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "data:text/html,x",
        "//evil.example",
        "",
        None,
    ):
        assert link_url(bad) == "", bad


# Low, but done -------------------------------------------------------------------------------


def test_key_files_are_sealed_with_strong_scrypt_and_errors_name_no_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from conftest import SHIPPED_SCRYPT_N
    from postguard import keys
    from postguard.errors import SigningKeyError, WrongPassphraseError

    monkeypatch.setattr(keys, "SCRYPT_N", SHIPPED_SCRYPT_N)
    folder = tmp_path / "secret-keys-folder"
    keys.init_key(folder, "commissioner", "a long enough passphrase")
    stored = json.loads((folder / "commissioner.key").read_text())
    assert stored["kdf"] == "scrypt" and stored["n"] >= 2**17 and stored["r"] >= 8
    assert "PRIVATE KEY" not in (folder / "commissioner.key").read_text()
    assert (folder / "commissioner.key").stat().st_mode & 0o077 == 0
    assert keys.load_signing(folder, "commissioner", "a long enough passphrase").key_id
    with pytest.raises(WrongPassphraseError) as wrong:
        keys.load_signing(folder, "commissioner", "not the passphrase")
    assert "secret-keys-folder" not in str(wrong.value)
    with pytest.raises(SigningKeyError) as missing:
        keys.load_signing(folder, "department", "a long enough passphrase")
    assert "secret-keys-folder" not in str(missing.value)
    # A crafted file cannot make loading take minutes, nor its header be changed unseen.
    costly = {**stored, "n": 2**30}
    (folder / "commissioner.key").write_text(json.dumps(costly))
    with pytest.raises(SigningKeyError, match="cost"):
        keys.load_signing(folder, "commissioner", "a long enough passphrase")
    (folder / "commissioner.key").write_text(json.dumps({**stored, "r": 9}))
    with pytest.raises(WrongPassphraseError):
        keys.load_signing(folder, "commissioner", "a long enough passphrase")


def test_a_key_file_from_an_earlier_version_still_loads(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from postguard.keys import PublicKey, _key_id, load_signing

    key = Ed25519PrivateKey.generate()
    tmp_path.joinpath("department.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"an older passphrase"),
        )
    )
    public = PublicKey(key.public_key(), _key_id(key.public_key()))
    tmp_path.joinpath("department.pub").write_text(public.pem())
    assert load_signing(tmp_path, "department", "an older passphrase").key_id == public.key_id


def test_wrong_passphrases_on_the_permission_api_are_audited_then_throttled(
    world: World, service: tuple[TestClient, dict[str, str]]
) -> None:
    from conftest import PASSPHRASES
    from postguard.registry.permissions import MAX_PASSPHRASE_FAILURES

    client, tokens = service
    body = {
        "kind": "personal-device",
        "member": "PIO-1",
        "device": "IMEI-1",
        "reason": "on call",
        "text": "Constable Officer may use their own phone for the department's account.",
        "passphrase": "a guess",
    }
    for _ in range(MAX_PASSPHRASE_FAILURES):
        wrong = client.post("/api/v1/permissions", json=body, headers=_auth(tokens["CP-1"]))
        assert wrong.status_code == 422 and "passphrase" in wrong.json()["detail"]
        assert str(world.keys_dir) not in wrong.text
    failed = _audit(world, "key.passphrase-failed")
    assert len(failed) == MAX_PASSPHRASE_FAILURES and {r.actor for r in failed} == {"CP-1"}
    right = {**body, "passphrase": PASSPHRASES["commissioner"]}
    throttled = client.post("/api/v1/permissions", json=right, headers=_auth(tokens["CP-1"]))
    assert throttled.status_code == 429, throttled.text
    assert len(_audit(world, "key.passphrase-failed")) == MAX_PASSPHRASE_FAILURES
    with world.db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM permission")).scalar() == 0


def test_unknown_service_numbers_cost_one_password_hash_like_known_ones(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing: an unknown number must not answer faster (argon2 runs either way)."""
    from postguard.registry import signin

    set_password(world.registry, "IT-1", member="PIO-1", password=PASSWORD)
    calls: list[str] = []
    real = signin._hasher

    class Counting:
        def verify(self, stored: str, password: str) -> bool:
            calls.append(stored)
            return real.verify(stored, password)

    monkeypatch.setattr(signin, "_hasher", Counting())
    for number in ("PIO-1", "NOBODY-7"):
        with pytest.raises(AccessDeniedError, match="Service number or password is wrong"):
            sign_in(world.registry, service_number=number, password="not the password", address="10.3.3.3")
    assert len(calls) == 2 and all(c.startswith("$argon2id$") for c in calls)


def test_common_passwords_are_refused(world: World) -> None:
    for common in ("password1234", "qwertyuiop123", "iloveyou2024!", "PIO-1PIO-1PIO-1"):
        with pytest.raises(ValidationError, match="too easy"):
            set_password(world.registry, "IT-1", member="PIO-1", password=common)


def test_a_password_change_ends_other_sessions_and_idle_ones_end(world: World) -> None:
    import datetime as dt

    from postguard.registry.signin import IDLE_MINUTES, session_holder

    set_password(world.registry, "IT-1", member="PIO-1", password=PASSWORD)
    phone = sign_in(world.registry, service_number="PIO-1", password=PASSWORD, address="10.4.4.4")
    desk = sign_in(world.registry, service_number="PIO-1", password=PASSWORD, address="10.4.4.5")
    assert session_holder(world.registry, phone.cookie) and session_holder(world.registry, desk.cookie)
    set_password(
        world.registry, "PIO-1", member="PIO-1", password=PASSWORD + " again", keep_session=desk.cookie
    )
    assert session_holder(world.registry, phone.cookie) is None  # the stolen phone's session ends
    assert session_holder(world.registry, desk.cookie) is not None
    idle = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=IDLE_MINUTES + 1)
    with world.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE web_session SET last_seen_at = :t"), {"t": idle})
    assert session_holder(world.registry, desk.cookie) is None


def test_browser_actions_are_audited_as_web_with_the_address(world: World) -> None:
    app = create_app(
        Settings(
            database_url=world.db.url, keys_dir=world.keys_dir, secure_cookies=False, scheduler_interval=0
        )
    )
    set_password(world.registry, "IT-1", member="PIO-1", password=PASSWORD)
    with TestClient(app, follow_redirects=False) as site:
        page = site.get("/signin").text
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        signed = site.post(
            "/signin", data={"service_number": "PIO-1", "password": PASSWORD, "csrf_token": token}
        )
        assert signed.status_code == 303, signed.text
        csrf = site.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]
        made = site.post("/compose", data={"text": CLEAN, "csrf_token": csrf})
        assert made.status_code == 303
    with world.db.engine.connect() as conn:
        origin = conn.execute(
            sa.text("SELECT origin FROM audit_entry WHERE action = 'draft.create' ORDER BY seq DESC LIMIT 1")
        ).scalar_one()
    assert origin == "web:testclient", origin
