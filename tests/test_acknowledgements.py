"""Issue 12: every member reads and acknowledges the policy in force, on SQLite and PostgreSQL.

An acknowledgement is of one pack (its SHA-256): a new pack asks again; the pack's quiz is
graded on the server; a pack may refuse submissions until the member has acknowledged it,
in the workflow (so the API and the pages refuse too); every acknowledgement is audited with
the pack's version and hash.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import World
from postguard import default_checker
from postguard.checks.engine import Checker
from postguard.cli.app import app as cli
from postguard.errors import AccessDeniedError, ConflictError, PolicyError, ValidationError
from postguard.policy.loader import default_pack, load_pack
from postguard.policy.schema import PolicyPack
from postguard.registry.acknowledgements import NO_CLAUSE, Acknowledgements, quiz_for
from postguard.registry.signin import set_password
from postguard.registry.tokens import create_token
from postguard.settings import Settings
from postguard.web import create_app
from postguard.workflow import Workflow

CLEAN = "Road closed on Main St. until 6 pm. Please use Oak Avenue instead."
HANDLE = "@police@social.example"
ACCOUNT = f"mastodon:{HANDLE}"
REQUIRED = """\
extends: default
acknowledgement:
  required_before_submit: true
  quiz: {questions: 2, pass_mark: 2}
"""


def _right(pack: PolicyPack, member: str) -> dict[str, str]:
    return {q.id: q.answer for q in quiz_for(pack, member)}


def _wrong(pack: PolicyPack, member: str) -> dict[str, str]:
    return {q.id: next(o.value for o in q.options if o.value != q.answer) for q in quiz_for(pack, member)}


def _connected_account(world: World) -> None:
    """An official account a draft can be submitted for (it is never published to here)."""
    world.registry.add_account("IT-1", platform="mastodon", handle=HANDLE)
    world.registry.connect_account(
        "IT-1",
        platform="mastodon",
        handle=HANDLE,
        connector="mastodon",
        endpoint="https://social.example",
        credential="not-used",
        keys_dir=world.keys_dir,
    )


def _required_pack(tmp_path: Path) -> Path:
    path = tmp_path / "required.yaml"
    path.write_text(REQUIRED, encoding="utf-8")
    return path


def _audit(world: World, action: str) -> list[dict[str, object]]:
    with world.db.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT actor, target, detail FROM audit_entry WHERE action = :a ORDER BY seq"),
            {"a": action},
        )
        return [{"actor": r[0], "target": r[1], "detail": json.loads(r[2])} for r in rows]


# The pack: its hash, its settings ------------------------------------------------------------


def test_the_pack_hash_is_stable_and_changes_with_the_pack(tmp_path: Path) -> None:
    pack = default_pack()
    assert len(pack.sha256) == 64 and pack.sha256 == load_pack().sha256  # loaded twice, one hash
    assert pack.version == "Social Media Policy (2022-03-24)"
    same = tmp_path / "same.yaml"
    same.write_text("extends: default\n", encoding="utf-8")
    assert load_pack(same).sha256 == pack.sha256  # the pack as loaded, not the file's bytes
    changed = tmp_path / "changed.yaml"
    changed.write_text("extends: default\nclauses:\n  - id: A.i\n    text: Be polite.\n", encoding="utf-8")
    assert load_pack(changed).sha256 != pack.sha256
    copied = pack.model_copy(update={"policy": pack.policy.model_copy(update={"title": "Another"})})
    assert copied.sha256 != pack.sha256  # nothing cached survives a copy


def test_the_shipped_pack_asks_for_a_quiz_and_a_broken_quiz_is_refused(tmp_path: Path) -> None:
    rules = default_pack().acknowledgement
    assert rules.quiz is not None and rules.quiz.questions == 3 and rules.quiz.needed == 3
    assert rules.required_before_submit is False
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "extends: default\nacknowledgement:\n  quiz: {questions: 2, pass_mark: 3}\n", encoding="utf-8"
    )
    with pytest.raises(PolicyError, match="pass_mark"):
        load_pack(bad)
    off = "".join(
        f"  - {{id: {c}, enabled: false}}\n"
        for c in (
            "A.i",
            "A.iii.guilt",
            "A.iii.prosecution",
            "A.iii.confidential",
            "A.iv.political",
            "A.iv.private",
        )
    )
    bad.write_text(  # A.ii, B and C have five examples between them
        f"extends: default\nacknowledgement:\n  quiz: {{questions: 6, pass_mark: 1}}\nclauses:\n{off}",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match=r"only \d+ examples"):
        load_pack(bad)
    bad.write_text("extends: default\nacknowledgement:\n  requred_before_submit: true\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="did you mean 'required_before_submit'"):
        load_pack(bad)


def test_the_quiz_is_drawn_from_the_examples_the_same_on_every_reload() -> None:
    pack = default_pack()
    first = quiz_for(pack, "PIO-1")
    assert first == quiz_for(pack, "PIO-1") and len(first) == 3
    assert len({q.id for q in first}) == 3
    examples = {e: c.id for c in pack.clauses for e in c.violates} | {
        e: NO_CLAUSE for c in pack.clauses for e in c.does_not_violate
    }
    for q in first:
        assert examples[q.example] == q.answer
        values = [o.value for o in q.options]
        assert q.answer in values and NO_CLAUSE in values and len(values) == len(set(values)) == 4
        # The answer is not given away outside the options: no field, and not the clause id as a
        # word of the question ("C" is the clause, the "C" of "Commissioner" is not).
        public = q.public()
        shown = json.dumps({k: v for k, v in public.items() if k != "options"})
        assert "answer" not in public
        assert re.search(rf"(?<![\w.]){re.escape(q.answer)}(?![\w.])", shown) is None
    drawn = {tuple(q.id for q in quiz_for(pack, f"M-{n}")) for n in range(12)}
    assert len(drawn) > 1  # members get different questions


# Acknowledging ------------------------------------------------------------------------------


def test_acknowledging_is_audited_with_the_version_and_hash(world: World) -> None:
    pack = default_pack()
    acks = Acknowledgements(world.registry, pack)
    assert "PIO-1" in [m["service_number"] for m in acks.unacknowledged()]
    row = acks.acknowledge("PIO-1", sha256=pack.sha256, answers=_right(pack, "PIO-1"))
    assert row.pack_sha256 == pack.sha256 and row.quiz_correct == 3
    assert acks.has_acknowledged("PIO-1") and not acks.has_acknowledged("AUD-1")
    assert "PIO-1" not in [m["service_number"] for m in acks.unacknowledged()]
    [entry] = _audit(world, "policy.acknowledge")
    assert entry["actor"] == "PIO-1" and entry["target"] == "member:PIO-1"
    assert entry["detail"] == {
        "version": pack.version,
        "sha256": pack.sha256,
        "quiz": {"questions": 3, "correct": 3, "needed": 3},
    }
    with pytest.raises(ConflictError, match="already"):
        acks.acknowledge("PIO-1", sha256=pack.sha256, answers=_right(pack, "PIO-1"))


def test_wrong_quiz_answers_are_refused_and_the_attempt_audited(world: World) -> None:
    pack = default_pack()
    acks = Acknowledgements(world.registry, pack)
    with pytest.raises(ValidationError, match=r"0 of 3 answers are right and 3 are needed"):
        acks.acknowledge("PIO-1", sha256=pack.sha256, answers=_wrong(pack, "PIO-1"))
    two_right = _right(pack, "PIO-1")
    first = next(iter(two_right))
    two_right[first] = _wrong(pack, "PIO-1")[first]
    with pytest.raises(ValidationError, match="question 1"):
        acks.acknowledge("PIO-1", sha256=pack.sha256, answers=two_right)
    with pytest.raises(ValidationError, match=r"0 of 3"):
        acks.acknowledge("PIO-1", sha256=pack.sha256, answers={})  # no answers at all
    with pytest.raises(ValidationError, match="not among your questions"):  # another member's quiz
        acks.acknowledge("PIO-1", sha256=pack.sha256, answers=_right(pack, "AUD-1") | _right(pack, "PIO-1"))
    assert not acks.has_acknowledged("PIO-1")
    assert [e["detail"]["quiz"]["correct"] for e in _audit(world, "policy.quiz-failed")] == [0, 2, 0]  # type: ignore[index]
    assert _audit(world, "policy.acknowledge") == []


def test_what_was_read_must_be_the_pack_in_force(world: World) -> None:
    pack = default_pack()
    acks = Acknowledgements(world.registry, pack)
    with pytest.raises(ConflictError, match="Read the policy in force again"):
        acks.acknowledge("PIO-1", sha256="0" * 64, answers=_right(pack, "PIO-1"))
    world.registry.change_member("IT-1", "AUD-1", active=False)
    with pytest.raises(AccessDeniedError, match="not an active member"):
        acks.acknowledge("AUD-1", sha256=pack.sha256, answers=_right(pack, "AUD-1"))
    assert "AUD-1" not in [m["service_number"] for m in acks.unacknowledged()]


def test_a_new_pack_version_asks_again(world: World, tmp_path: Path) -> None:
    old = default_pack()
    Acknowledgements(world.registry, old).acknowledge(
        "PIO-1", sha256=old.sha256, answers=_right(old, "PIO-1")
    )
    path = tmp_path / "new.yaml"
    path.write_text("extends: default\npolicy:\n  date: 2027-01-01\n", encoding="utf-8")
    new = load_pack(path)
    acks = Acknowledgements(world.registry, new)
    missing = {m["service_number"]: m for m in acks.unacknowledged()}
    assert missing["PIO-1"]["last_acknowledged"]["version"] == old.version  # type: ignore[index]
    assert missing["PIO-1"]["last_acknowledged"]["sha256"] == old.sha256  # type: ignore[index]
    assert missing["AUD-1"]["last_acknowledged"] is None
    with pytest.raises(ConflictError):  # acknowledging what was read before is not this pack
        acks.acknowledge("PIO-1", sha256=old.sha256, answers=_right(new, "PIO-1"))
    row = acks.acknowledge("PIO-1", sha256=new.sha256, answers=_right(new, "PIO-1"))
    assert row.pack_version == "Social Media Policy (2027-01-01)"
    assert [e["detail"]["sha256"] for e in _audit(world, "policy.acknowledge")] == [old.sha256, new.sha256]  # type: ignore[index]


def test_the_database_keeps_one_acknowledgement_per_member_and_pack(world: World) -> None:
    pack = default_pack()
    Acknowledgements(world.registry, pack).acknowledge(
        "PIO-1", sha256=pack.sha256, answers=_right(pack, "PIO-1")
    )
    with world.db.engine.connect() as conn, pytest.raises(sa.exc.IntegrityError):
        member_id = conn.execute(sa.text("SELECT id FROM member WHERE service_number = 'PIO-1'")).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO acknowledgement (member_id, pack_version, pack_sha256, at, quiz_questions, "
                "quiz_correct, quiz_answers) VALUES (:m, 'v', :h, CURRENT_TIMESTAMP, 0, 0, '{}')"
            ),
            {"m": member_id, "h": pack.sha256},
        )


def test_the_migration_adds_the_table_and_goes_back(world: World) -> None:
    from alembic import command

    from postguard.registry import db as db_module

    pack = default_pack()
    Acknowledgements(world.registry, pack).acknowledge(
        "PIO-1", sha256=pack.sha256, answers=_right(pack, "PIO-1")
    )
    config = db_module._alembic_config()
    with world.db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0008")
    with world.db.engine.connect() as conn:
        assert "acknowledgement" not in sa.inspect(conn).get_table_names()
    world.db.upgrade()
    with world.db.engine.connect() as conn:
        unique = sa.inspect(conn).get_unique_constraints("acknowledgement")
        assert {"member_id", "pack_sha256"} in [set(u["column_names"]) for u in unique]
    assert not Acknowledgements(world.registry, pack).has_acknowledged("PIO-1")  # gone with the table
    Acknowledgements(world.registry, pack).acknowledge(
        "PIO-1", sha256=pack.sha256, answers=_right(pack, "PIO-1")
    )


def test_a_pack_without_a_quiz_acknowledges_at_once(world: World, tmp_path: Path) -> None:
    path = tmp_path / "noquiz.yaml"
    path.write_text("extends: default\nacknowledgement:\n  quiz: null\n", encoding="utf-8")
    pack = load_pack(path)
    assert quiz_for(pack, "PIO-1") == ()
    row = Acknowledgements(world.registry, pack).acknowledge("PIO-1", sha256=pack.sha256)
    assert row.quiz_questions == 0


# Acknowledging before submitting ----------------------------------------------------------------


def test_submitting_waits_for_the_acknowledgement_the_pack_requires(world: World, tmp_path: Path) -> None:
    pack = load_pack(_required_pack(tmp_path))
    _connected_account(world)
    flow = Workflow(world.registry, world.grants, Checker(pack, default_checker().scorer))
    draft = flow.create("PIO-1", text=CLEAN, account=ACCOUNT)  # writing a draft is not refused
    with pytest.raises(AccessDeniedError, match=r"has not acknowledged the policy in force.*/policy"):
        flow.submit("PIO-1", draft.code, device="PC-1")
    assert flow.get(draft.code)["state"] == "checked"
    [denied] = [e for e in _audit(world, "denied") if e["actor"] == "PIO-1"]
    assert "acknowledged" in str(denied["detail"])
    # Acknowledging the shipped pack is not acknowledging this one.
    shipped = default_pack()
    Acknowledgements(world.registry, shipped).acknowledge(
        "PIO-1", sha256=shipped.sha256, answers=_right(shipped, "PIO-1")
    )
    with pytest.raises(AccessDeniedError, match="has not acknowledged"):
        flow.submit("PIO-1", draft.code, device="PC-1")
    Acknowledgements(world.registry, pack).acknowledge(
        "PIO-1", sha256=pack.sha256, answers=_right(pack, "PIO-1")
    )
    assert flow.submit("PIO-1", draft.code, device="PC-1").state == "submitted"


def test_the_shipped_pack_does_not_hold_up_submissions(world: World) -> None:
    _connected_account(world)
    flow = world.workflow
    draft = flow.create("PIO-1", text=CLEAN, account=ACCOUNT)
    assert flow.submit("PIO-1", draft.code, device="PC-1").state == "submitted"


# The API ------------------------------------------------------------------------------------------


@pytest.fixture
def api(world: World, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], PolicyPack]]:
    path = _required_pack(tmp_path)
    _connected_account(world)
    headers = {}
    for member in ("PIO-1", "AUD-1"):
        token, _ = create_token(world.registry, "IT-1", member=member, name=f"ack-{member}")
        headers[member] = {"Authorization": f"Bearer {token}"}
    settings = Settings(database_url=world.db.url, keys_dir=world.keys_dir, policy=path, scheduler_interval=0)
    with TestClient(create_app(settings)) as client:
        yield client, headers, load_pack(path)


def test_the_api_shows_the_policy_and_refuses_a_submission_until_acknowledged(
    api: tuple[TestClient, dict[str, dict[str, str]], PolicyPack],
) -> None:
    client, headers, pack = api
    shown = client.get("/api/v1/policy", headers=headers["PIO-1"]).json()
    assert shown["version"] == pack.version and shown["sha256"] == pack.sha256
    assert shown["acknowledged"] is None and shown["required_before_submit"] is True
    assert [c["id"] for c in shown["clauses"]] == [c.id for c in pack.clauses]
    assert len(shown["quiz"]["questions"]) == 2 and "answer" not in json.dumps(shown["quiz"])

    made = client.post(
        "/api/v1/drafts", json={"text": CLEAN, "account": ACCOUNT}, headers=headers["PIO-1"]
    ).json()
    refused = client.post(
        f"/api/v1/drafts/{made['id']}/submit", json={"device": "PC-1"}, headers=headers["PIO-1"]
    )
    assert refused.status_code == 403 and "/api/v1/policy/acknowledge" in refused.json()["detail"]

    wrong = client.post(
        "/api/v1/policy/acknowledge",
        json={"sha256": pack.sha256, "answers": _wrong(pack, "PIO-1")},
        headers=headers["PIO-1"],
    )
    assert wrong.status_code == 422 and "0 of 2" in wrong.json()["detail"]
    stale = client.post(
        "/api/v1/policy/acknowledge",
        json={"sha256": default_pack().sha256, "answers": _right(pack, "PIO-1")},
        headers=headers["PIO-1"],
    )
    assert stale.status_code == 409
    done = client.post(
        "/api/v1/policy/acknowledge",
        json={"sha256": pack.sha256, "answers": _right(pack, "PIO-1")},
        headers=headers["PIO-1"],
    )
    assert done.status_code == 201, done.text
    assert done.json()["pack_sha256"] == pack.sha256 and done.json()["member"] == "PIO-1"
    assert (
        client.get("/api/v1/policy", headers=headers["PIO-1"]).json()["acknowledged"]["pack_sha256"]
        == pack.sha256
    )
    sent = client.post(
        f"/api/v1/drafts/{made['id']}/submit", json={"device": "PC-1"}, headers=headers["PIO-1"]
    )
    assert sent.status_code == 200 and sent.json()["state"] == "submitted"


def test_who_has_not_acknowledged_is_for_overseers(
    api: tuple[TestClient, dict[str, dict[str, str]], PolicyPack],
) -> None:
    client, headers, pack = api
    assert client.get("/api/v1/policy/unacknowledged", headers=headers["PIO-1"]).status_code == 403
    listed = client.get("/api/v1/policy/unacknowledged", headers=headers["AUD-1"]).json()
    assert listed["sha256"] == pack.sha256
    assert {m["service_number"] for m in listed["unacknowledged"]} == {
        "IT-1",
        "CP-1",
        "PIO-1",
        "REV-1",
        "AUD-1",
    }
    client.post(
        "/api/v1/policy/acknowledge",
        json={"sha256": pack.sha256, "answers": _right(pack, "AUD-1")},
        headers=headers["AUD-1"],
    )
    listed = client.get("/api/v1/policy/unacknowledged", headers=headers["AUD-1"]).json()
    assert "AUD-1" not in {m["service_number"] for m in listed["unacknowledged"]}
    extra = client.post(
        "/api/v1/policy/acknowledge",
        json={"sha256": pack.sha256, "answers": {}, "member": "PIO-1"},
        headers=headers["AUD-1"],
    )
    assert extra.status_code == 422  # no one acknowledges for someone else


# The pages ------------------------------------------------------------------------------------------


def _sign_in(client: TestClient, member: str) -> str:
    page = client.get("/signin").text
    form = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/signin",
        data={"service_number": member, "password": f"password-of-{member}", "csrf_token": form},
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/policy").text
    return page.split('name="csrf-token" content="')[1].split('"')[0]


def test_the_policy_page_acknowledges_with_csrf_and_the_banner_goes(world: World) -> None:
    pack = default_pack()
    for member in ("PIO-1", "AUD-1"):
        set_password(world.registry, "IT-1", member=member, password=f"password-of-{member}")
    settings = Settings(
        database_url=world.db.url, keys_dir=world.keys_dir, secure_cookies=False, scheduler_interval=0
    )
    with TestClient(create_app(settings), follow_redirects=False) as client:
        csrf = _sign_in(client, "PIO-1")
        drafts = client.get("/drafts").text
        assert 'class="acknowledge-banner"' in drafts and 'href="/policy"' in drafts
        page = client.get("/policy").text
        assert pack.sha256 in page and pack.clauses[0].text[:40] in page
        for q in quiz_for(pack, "PIO-1"):
            assert f'name="{q.id}"' in page
        form = {"sha256": pack.sha256, **_right(pack, "PIO-1")}
        assert client.post("/policy/acknowledge", data=form).status_code == 403  # no CSRF token
        wrong = client.post("/policy/acknowledge", data={**form, **_wrong(pack, "PIO-1"), "csrf_token": csrf})
        assert wrong.status_code == 422 and "0 of 3 answers are right" in wrong.text
        done = client.post("/policy/acknowledge", data={**form, "csrf_token": csrf})
        assert done.status_code == 303
        assert 'class="acknowledge-banner"' not in client.get("/drafts").text
        assert "You acknowledged" in client.get("/policy").text
        client.post("/signout", data={"csrf_token": csrf})
        _sign_in(client, "AUD-1")
        dashboard = client.get("/dashboard").text
        section = dashboard.split('id="acknowledgements"')[1].split("</section>")[0]
        assert "AUD-1" in section and "IT-1" in section and "PIO-1" not in section


# The CLI ---------------------------------------------------------------------------------------------


def test_member_list_unacknowledged(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", world.db.url)
    monkeypatch.setenv("POSTGUARD_KEYS_DIR", str(world.keys_dir))
    pack = default_pack()
    Acknowledgements(world.registry, pack).acknowledge(
        "PIO-1", sha256=pack.sha256, answers=_right(pack, "PIO-1")
    )
    runner = CliRunner()
    listed = runner.invoke(cli, ["member", "list", "--unacknowledged", "--json"])
    assert listed.exit_code == 0, listed.output
    numbers = [m["service_number"] for m in json.loads(listed.stdout)]
    assert "PIO-1" not in numbers and {"IT-1", "CP-1", "REV-1", "AUD-1"} <= set(numbers)
    table = runner.invoke(cli, ["member", "list", "--unacknowledged"])
    assert table.exit_code == 0 and "AUD-1" in table.stdout and "PIO-1" not in table.stdout
    assert pack.version in table.stdout


def test_policy_acknowledge_at_the_command_line(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGUARD_DATABASE_URL", world.db.url)
    monkeypatch.setenv("POSTGUARD_KEYS_DIR", str(world.keys_dir))
    pack = default_pack()
    runner = CliRunner()
    unanswered = runner.invoke(cli, ["policy", "acknowledge", "--actor", "PIO-1"])
    assert unanswered.exit_code != 0 and "--answer" in unanswered.output
    wrong = [f"--answer={q}={a}" for q, a in _wrong(pack, "PIO-1").items()]
    refused = runner.invoke(cli, ["policy", "acknowledge", "--actor", "PIO-1", *wrong])
    assert refused.exit_code != 0 and "0 of 3 answers are right" in refused.output
    right = [f"--answer={q}={a}" for q, a in _right(pack, "PIO-1").items()]
    done = runner.invoke(cli, ["policy", "acknowledge", "--actor", "PIO-1", *right])
    assert done.exit_code == 0, done.output
    assert "PIO-1 acknowledged Social Media Policy (2022-03-24)" in done.output
    assert Acknowledgements(world.registry, pack).has_acknowledged("PIO-1")
