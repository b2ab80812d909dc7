"""Composing: where the post goes, whether it fits there, and one-step rewrites.

The rules live in the workflow (:mod:`postguard.workflow.length`,
:meth:`Workflow.apply_rewrite`); these tests hold them at the service, the API and
the pages (the browser tests drive the pages in Chromium: test_browser_compose.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import World
from postguard import default_checker
from postguard.checks.engine import Checker
from postguard.errors import AccessDeniedError, ConflictError, NotFoundError, PolicyError, ValidationError
from postguard.policy.loader import load_pack
from postguard.registry.signin import set_password
from postguard.registry.tokens import create_token
from postguard.settings import Settings
from postguard.web import create_app
from postguard.workflow import Workflow
from postguard.workflow.length import count_characters, limit_for

MASTODON = "mastodon:@police@social.example"
BLUESKY = "bluesky:@police.example"
UNCONNECTED = "x:@police"
GLOATING = "A 30-year-old man has been arrested for the Harbour Road robbery. #GotHim"
CLEAN = "ROAD CLOSURE: Harbour Road is closed after a collision. Please use the bypass."


def _connect(world: World, account: str, connector: str) -> None:
    platform, _, handle = account.partition(":")
    world.registry.add_account("IT-1", platform=platform, handle=handle)
    world.registry.connect_account(
        "IT-1",
        platform=platform,
        handle=handle,
        connector=connector,
        endpoint="http://127.0.0.1:9",  # never reached: nothing is published here
        credential="not-a-real-token",
        keys_dir=world.keys_dir,
    )


@pytest.fixture
def flow(world: World) -> Workflow:
    _connect(world, MASTODON, "mastodon")
    _connect(world, BLUESKY, "bluesky")
    platform, _, handle = UNCONNECTED.partition(":")
    world.registry.add_account("IT-1", platform=platform, handle=handle)
    return Workflow(world.registry, world.grants, default_checker())


def _audit(world: World, code: str) -> list[tuple[str, dict[str, object]]]:
    with world.db.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT action, detail FROM audit_entry WHERE target = :t ORDER BY seq"),
            {"t": f"draft:{code}"},
        ).all()
    return [(r[0], r[1] if isinstance(r[1], dict) else json.loads(r[1])) for r in rows]


# 1. Where the post goes ------------------------------------------------------------------


def test_a_draft_without_an_account_is_saved_but_not_submitted(flow: Workflow, world: World) -> None:
    draft = flow.create("PIO-1", text=CLEAN)
    assert draft.account is None
    with pytest.raises(ValidationError, match="no official account yet: choose the account"):
        flow.submit("PIO-1", draft.code, device="PC-1")
    assert flow.get(draft.code)["state"] == "checked"
    # The author sets it while editing, and then it goes.
    flow.edit("PIO-1", draft.code, text=CLEAN, account=MASTODON)
    assert flow.submit("PIO-1", draft.code, device="PC-1").state == "submitted"
    edits = [d for a, d in _audit(world, draft.code) if a == "draft.edit"]
    assert edits[-1]["account"] == MASTODON and edits[-1]["account_was"] == ""


def test_an_account_that_cannot_publish_is_refused(flow: Workflow, world: World) -> None:
    with pytest.raises(ValidationError, match="not connected for publishing"):
        flow.create("PIO-1", text=CLEAN, account=UNCONNECTED)
    draft = flow.create("PIO-1", text=CLEAN, account=MASTODON)
    with pytest.raises(ValidationError, match="not connected for publishing"):
        flow.edit("PIO-1", draft.code, text=CLEAN, account=UNCONNECTED)
    assert flow.get(draft.code)["account"] == MASTODON
    # Retired after it was written: it cannot be submitted to it any more.
    world.registry.retire_account("IT-1", platform="mastodon", handle="@police@social.example")
    with pytest.raises(ValidationError, match="retired"):
        flow.submit("PIO-1", draft.code, device="PC-1")


def test_an_account_retired_after_submission_blocks_approval(flow: Workflow, world: World) -> None:
    draft = flow.create("PIO-1", text=CLEAN, account=BLUESKY)
    flow.submit("PIO-1", draft.code, device="PC-1")
    world.registry.retire_account("IT-1", platform="bluesky", handle="@police.example")
    with pytest.raises(ValidationError, match=f"{draft.code} cannot be approved: .*retired"):
        flow.approve("REV-1", draft.code)
    assert flow.get(draft.code)["state"] == "submitted"


def test_the_account_may_be_changed_only_while_the_draft_is_editable(flow: Workflow) -> None:
    draft = flow.create("PIO-1", text=CLEAN, account=MASTODON)
    flow.edit("PIO-1", draft.code, text=CLEAN, account=BLUESKY)
    assert flow.get(draft.code)["account"] == BLUESKY
    flow.edit("PIO-1", draft.code, text=CLEAN)  # no account given: it keeps the one it has
    assert flow.get(draft.code)["account"] == BLUESKY
    flow.submit("PIO-1", draft.code, device="PC-1")
    with pytest.raises(ConflictError, match="submitted"):
        flow.edit("PIO-1", draft.code, text=CLEAN, account=MASTODON)
    with pytest.raises(AccessDeniedError):
        other = flow.create("PIO-1", text=CLEAN, account=MASTODON)
        flow.edit("REV-1", other.code, text=CLEAN, account=BLUESKY)


# 2. Whether it fits ------------------------------------------------------------------------


def test_characters_are_counted_as_the_platforms_count_them() -> None:
    assert count_characters("abc") == 3
    assert count_characters("e\u0301") == 1  # e and a combining accent: one character
    assert count_characters("\U0001f44d\U0001f3fd") == 1  # thumbs up, skin tone
    assert count_characters("\U0001f468\u200d\U0001f469\u200d\U0001f467") == 1  # a family: one grapheme
    assert count_characters("two\nlines") == 9
    url = "https://example.org/a/very/long/path/to/a/page?with=query&and=more"
    assert count_characters(f"See {url}.", 23) == len("See ") + 23 + 1  # the full stop is not the address
    assert count_characters(f"See {url}.") == len(f"See {url}.")  # no url rule: as many as it has
    assert count_characters(f"{url} {url}", 23) == 47


def test_the_shipped_pack_gives_mastodon_and_bluesky_limits_and_a_pack_adds_others(tmp_path: Path) -> None:
    pack = default_checker().pack
    mastodon, bluesky = limit_for(pack, "mastodon"), limit_for(pack, "bluesky")
    assert mastodon and (mastodon.characters, mastodon.url_characters) == (500, 23)
    assert bluesky and (bluesky.characters, bluesky.url_characters) == (300, None)
    assert limit_for(pack, "intranet", "webhook") is None
    own = tmp_path / "pack.yaml"
    own.write_text(
        "extends: default\nlimits:\n  post_length:\n    webhook: {characters: 1000}\n"
        "    mastodon: {characters: 5000, url_characters: 23}\n"
    )
    loaded = load_pack(own)
    webhook = limit_for(loaded, "intranet", "webhook")
    assert webhook and webhook.characters == 1000  # by the connector, when the platform has none
    mastodon, bluesky = limit_for(loaded, "mastodon", "mastodon"), limit_for(loaded, "bluesky")
    assert mastodon and mastodon.characters == 5000
    assert bluesky and bluesky.characters == 300  # kept from the default pack
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: default\nlimits:\n  post_length:\n    bluesky: {characters: 0}\n")
    with pytest.raises(PolicyError, match="characters"):
        load_pack(bad)


def test_text_over_the_accounts_limit_cannot_be_submitted_or_approved(flow: Workflow, world: World) -> None:
    text = ("Harbour Road is closed after a collision; please use the bypass. " * 6).strip()
    assert 300 < len(text) <= 500
    draft = flow.create("PIO-1", text=text, account=BLUESKY)  # saved, so that it can be shortened
    with pytest.raises(ValidationError, match=r"takes at most 300 on bluesky: shorten it by \d+"):
        flow.submit("PIO-1", draft.code, device="PC-1")
    assert flow.get(draft.code)["state"] == "checked"
    flow.edit("PIO-1", draft.code, text=text, account=MASTODON)  # Mastodon takes 500
    assert flow.submit("PIO-1", draft.code, device="PC-1").state == "submitted"
    # A pack that lowers the limit after submission: the approval refuses it too.
    pack = default_checker().pack
    tighter = pack.model_copy(
        update={
            "limits": pack.limits.model_copy(
                update={"post_length": {"mastodon": pack.limits.post_length["bluesky"]}}
            )
        }
    )
    strict = Workflow(world.registry, world.grants, Checker(tighter, default_checker().scorer))
    with pytest.raises(ValidationError, match=f"{draft.code} cannot be approved: .*at most 300"):
        strict.approve("REV-1", draft.code)
    # Approved under the pack that allowed it, then the pack changed: publication holds it back.
    flow.approve("REV-1", draft.code)
    with pytest.raises(ConflictError, match="at most 300"):
        strict.assert_publishable("REV-1", draft.code)
    assert flow.get(draft.code)["state"] == "returned"


def test_a_long_web_address_counts_as_23_on_mastodon(flow: Workflow) -> None:
    url = "https://police.example/appeals/" + "x" * 200
    text = "Road closed after a collision; please use the bypass. " * 8 + url
    assert len(text) > 500
    draft = flow.create("PIO-1", text=text, account=MASTODON)
    assert flow.submit("PIO-1", draft.code, device="PC-1").state == "submitted"


# 3. One-step rewrites ----------------------------------------------------------------------


def test_only_a_findings_replacement_is_offered_and_the_batch_contract_is_unchanged() -> None:
    checker = default_checker()
    report = checker.check(GLOATING + " What a bunch of idiots.")
    by_clause = {f.evidence: f for f in report.findings}
    assert by_clause["#GotHim"].replacement == "#Arrested"
    assert by_clause["idiots"].suggestion and by_clause["idiots"].replacement is None  # advice, not text
    plain = report.to_dict()
    assert all("replacement" not in f for f in plain["findings"])  # contract.md's shape, exactly
    rich = report.to_dict(rewrites=True)["findings"]
    assert [f.get("replacement") for f in rich if f["evidence"] == "#GotHim"] == ["#Arrested"]
    assert [f.get("replacement") for f in rich if f["evidence"] == "idiots"] == [None]


def test_applying_a_rewrite_replaces_the_words_checks_again_and_audits(flow: Workflow, world: World) -> None:
    draft = flow.create("PIO-1", text=GLOATING, account=MASTODON)
    finding = next(f for f in draft.report["findings"] if f.get("replacement"))
    start = finding["span"][0]
    applied = flow.apply_rewrite("PIO-1", draft.code, clause=finding["clause"], start=start)
    assert applied.text == GLOATING.replace("#GotHim", "#Arrested")
    assert applied.report["findings"] == [] and applied.report["decision"] == "allow"
    action, detail = _audit(world, draft.code)[-1]
    assert action == "draft.edit"
    assert detail["rewrite"] == {
        "clause": finding["clause"],
        "span": finding["span"],
        "from": "#GotHim",
        "to": "#Arrested",
    }
    # Nothing is left to apply; the same finding again is not found.
    with pytest.raises(NotFoundError):
        flow.apply_rewrite("PIO-1", draft.code, clause=finding["clause"], start=start)


def test_a_rewrite_is_refused_for_advice_others_and_drafts_under_review(flow: Workflow, world: World) -> None:
    world.registry.add_member("IT-1", service_number="PIO-2", name="Another Officer", roles="pio")
    draft = flow.create("PIO-1", text=GLOATING + " What a bunch of idiots.", account=MASTODON)
    advice = next(f for f in draft.report["findings"] if f["evidence"] == "idiots")
    with pytest.raises(NotFoundError, match="advice is not applied"):
        flow.apply_rewrite("PIO-1", draft.code, clause=advice["clause"], start=advice["span"][0])
    rewrite = next(f for f in draft.report["findings"] if f.get("replacement"))
    with pytest.raises(AccessDeniedError, match="needs the role"):
        flow.apply_rewrite("REV-1", draft.code, clause=rewrite["clause"], start=rewrite["span"][0])
    with pytest.raises(AccessDeniedError, match="only the author"):
        flow.apply_rewrite("PIO-2", draft.code, clause=rewrite["clause"], start=rewrite["span"][0])
    flow.submit("PIO-1", draft.code, device="PC-1")
    with pytest.raises(ConflictError, match="submitted"):
        flow.apply_rewrite("PIO-1", draft.code, clause=rewrite["clause"], start=rewrite["span"][0])
    assert "#GotHim" in flow.get(draft.code)["text"]


# The API and the pages ---------------------------------------------------------------------


@pytest.fixture
def api(world: World, flow: Workflow) -> Iterator[tuple[TestClient, dict[str, str]]]:
    tokens = {m: create_token(world.registry, "IT-1", member=m, name=f"t-{m}")[0] for m in ("PIO-1", "REV-1")}
    app = create_app(Settings(database_url=world.db.url, keys_dir=world.keys_dir))
    with TestClient(app) as client:
        yield client, tokens


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_api_refuses_a_submission_without_an_account_or_too_long(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = api
    pio = _auth(tokens["PIO-1"])
    made = client.post("/api/v1/drafts", json={"text": CLEAN}, headers=pio).json()
    refused = client.post(f"/api/v1/drafts/{made['id']}/submit", json={"device": "PC-1"}, headers=pio)
    assert refused.status_code == 422 and "no official account" in refused.json()["detail"]
    wrong = client.post("/api/v1/drafts", json={"text": CLEAN, "account": UNCONNECTED}, headers=pio)
    assert wrong.status_code == 422 and "not connected" in wrong.json()["detail"]
    long = "Harbour Road is closed. " * 20
    put = client.put(f"/api/v1/drafts/{made['id']}", json={"text": long, "account": BLUESKY}, headers=pio)
    assert put.status_code == 200 and put.json()["account"] == BLUESKY
    too_long = client.post(f"/api/v1/drafts/{made['id']}/submit", json={"device": "PC-1"}, headers=pio)
    assert too_long.status_code == 422 and "at most 300" in too_long.json()["detail"]
    client.put(f"/api/v1/drafts/{made['id']}", json={"text": long, "account": MASTODON}, headers=pio)
    sent = client.post(f"/api/v1/drafts/{made['id']}/submit", json={"device": "PC-1"}, headers=pio)
    assert sent.status_code == 200 and sent.json()["state"] == "submitted"


def test_the_api_offers_and_applies_rewrites(api: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = api
    pio = _auth(tokens["PIO-1"])
    plain = client.post("/api/v1/check", json={"text": GLOATING}, headers=pio).json()
    assert all("replacement" not in f for f in plain["findings"])
    rich = client.post("/api/v1/check?rewrites=true", json={"text": GLOATING}, headers=pio).json()
    # The hashtag gloats (A.i, with the pattern's rewrite); the model may also read it as guilt.
    assert [f.get("replacement") for f in rich["findings"] if f["clause"] == "A.i"] == ["#Arrested"]
    made = client.post("/api/v1/drafts", json={"text": GLOATING, "account": MASTODON}, headers=pio).json()
    finding = made["findings"][0]
    body = {"clause": finding["clause"], "start": finding["span"][0]}
    by_reviewer = client.post(
        f"/api/v1/drafts/{made['id']}/rewrites", json=body, headers=_auth(tokens["REV-1"])
    )
    assert by_reviewer.status_code == 403
    applied = client.post(f"/api/v1/drafts/{made['id']}/rewrites", json=body, headers=pio)
    assert applied.status_code == 200 and applied.json()["text"].endswith("#Arrested")
    again = client.post(f"/api/v1/drafts/{made['id']}/rewrites", json=body, headers=pio)
    assert again.status_code == 404


@pytest.fixture
def site(world: World, flow: Workflow) -> Iterator[TestClient]:
    set_password(world.registry, "IT-1", member="PIO-1", password="password-of-PIO-1")
    settings = Settings(
        database_url=world.db.url, keys_dir=world.keys_dir, secure_cookies=False, scheduler_interval=0
    )
    with TestClient(create_app(settings), follow_redirects=False) as client:
        page = client.get("/signin").text
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        signed = client.post(
            "/signin",
            data={"service_number": "PIO-1", "password": "password-of-PIO-1", "csrf_token": token},
        )
        assert signed.status_code == 303, signed.text
        yield client


def _csrf(client: TestClient) -> str:
    return client.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]


def test_the_compose_page_asks_for_the_account_first_and_counts(site: TestClient) -> None:
    page = site.get("/compose").text
    assert page.index('for="account"') < page.index('for="text"')  # the account comes first
    assert '<select id="account" name="account" required' in page
    assert 'value="x:@police" disabled' in page and "(not connected: cannot publish)" in page
    assert f'value="{MASTODON}" data-limit="500" data-platform="mastodon" data-url-characters="23"' in page
    assert f'value="{BLUESKY}" data-limit="300" data-platform="bluesky">' in page
    assert page.index(MASTODON) > page.index(BLUESKY)  # connected ones, by platform, before the rest
    assert page.index(BLUESKY) < page.index('value="x:@police"')
    assert "choose the account to see its limit" in page


def test_a_draft_page_rewrite_works_without_javascript(
    site: TestClient, flow: Workflow, world: World
) -> None:
    draft = flow.create("PIO-1", text=GLOATING, account=MASTODON)
    page = site.get(f"/drafts/{draft.code}").text
    assert f'formaction="/drafts/{draft.code}/rewrite"' in page
    assert "Apply: replace “#GotHim” with “#Arrested”" in page
    assert "73 of 500 characters (mastodon)" in page  # counted on the server, with no script
    finding = draft.report["findings"][0]
    refused = site.post(
        f"/drafts/{draft.code}/rewrite",
        data={"csrf_token": "wrong", "rewrite": f"{finding['clause']}@{finding['span'][0]}"},
    )
    assert refused.status_code == 403 and "#GotHim" in flow.get(draft.code)["text"]
    done = site.post(
        f"/drafts/{draft.code}/rewrite",
        data={"csrf_token": _csrf(site), "rewrite": f"{finding['clause']}@{finding['span'][0]}", "text": "x"},
    )
    assert done.status_code == 303 and "Rewrite+applied" in done.headers["location"]
    assert flow.get(draft.code)["text"] == GLOATING.replace("#GotHim", "#Arrested")
    assert _audit(world, draft.code)[-1][0] == "draft.edit"


def test_the_edit_form_changes_the_account_and_a_refusal_is_shown(site: TestClient, flow: Workflow) -> None:
    draft = flow.create("PIO-1", text=CLEAN)
    submit = site.post(f"/drafts/{draft.code}/submit", data={"csrf_token": _csrf(site), "device": "PC-1"})
    assert "no+official+account" in submit.headers["location"]
    edit = site.post(
        f"/drafts/{draft.code}/edit", data={"csrf_token": _csrf(site), "text": CLEAN, "account": BLUESKY}
    )
    assert edit.status_code == 303 and "error" not in edit.headers["location"]
    assert flow.get(draft.code)["account"] == BLUESKY
    page = site.get(f"/drafts/{draft.code}").text
    assert f'<option value="{BLUESKY}" selected' in page
