"""Drafts, the review queue and the first page (issue 12), on SQLite and PostgreSQL.

Withdrawing (final, audited, refused to others, enforced in the workflow and the API); finding
drafts (filtered and paginated in SQL); what changed between submissions; the first page's
lists; the draft page's findings, names and permission.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import World
from postguard.errors import AccessDeniedError, ConflictError, ValidationError
from postguard.registry.signin import set_password
from postguard.registry.tokens import create_token
from postguard.settings import Settings
from postguard.web import create_app
from postguard.web.pages.listing import time_left
from postguard.web.textdiff import word_diff
from postguard.workflow.publish import publish
from postguard.workflow.queries import PAGE_SIZE, DraftFilter
from postguard.workflow.service import Workflow

ACCOUNT = "mastodon:@police@social.example"
VIOLATING = "We got our man! The thug who robbed the corner shop is behind bars."
PLAIN = "Harbour Road is closed after a collision. Please use the bypass."


@pytest.fixture
def flow(world: World) -> Workflow:
    world.registry.add_account("IT-1", platform="mastodon", handle="@police@social.example")
    world.registry.connect_account(
        "IT-1",
        platform="mastodon",
        handle="@police@social.example",
        connector="mastodon",
        endpoint="http://127.0.0.1:9",  # nothing listens: these tests never send a post
        credential="test-credential",
        keys_dir=world.keys_dir,
    )
    world.registry.add_member(
        "IT-1", service_number="OFF-2", name="Olu Other", rank="Constable", roles="officer"
    )
    return world.workflow


def _audited(world: World, action: str, target: str) -> list[dict[str, object]]:
    with world.db.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT actor, detail FROM audit_entry WHERE action = :a AND target = :t"),
            {"a": action, "t": target},
        ).all()
    return [{"actor": r[0], "detail": r[1]} for r in rows]


# Withdrawing --------------------------------------------------------------------------------


def test_the_author_withdraws_a_submission_for_good_and_it_is_audited(flow: Workflow, world: World) -> None:
    draft = flow.create("PIO-1", text=PLAIN, account=ACCOUNT)
    flow.submit("PIO-1", draft.code, device="PC-1")
    assert [d["id"] for d in flow.queue("REV-1")] == [draft.code]
    assert flow.withdraw("PIO-1", draft.code, reason="the road reopened").state == "withdrawn"
    assert flow.get(draft.code)["state"] == "withdrawn"
    assert flow.queue("REV-1") == [] and flow.find_queue("REV-1", DraftFilter()).total == 0
    audited = _audited(world, "draft.withdraw", f"draft:{draft.code}")
    assert len(audited) == 1 and audited[0]["actor"] == "PIO-1"
    detail = audited[0]["detail"]
    detail = json.loads(detail) if isinstance(detail, str) else detail
    assert (
        isinstance(detail, dict) and detail["was"] == "submitted" and detail["reason"] == "the road reopened"
    )
    for step in (
        lambda: flow.submit("PIO-1", draft.code, device="PC-1"),
        lambda: flow.approve("REV-1", draft.code),
        lambda: flow.edit("PIO-1", draft.code, text=PLAIN + " Thanks."),
        lambda: flow.schedule("REV-1", draft.code, at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1)),
        lambda: flow.withdraw("PIO-1", draft.code),
    ):
        with pytest.raises(ConflictError, match="withdrawn"):
            step()
    with pytest.raises(ConflictError, match="withdrawn"):
        publish(flow, "REV-1", draft.code, keys_dir=world.keys_dir)
    assert flow.get(draft.code)["state"] == "withdrawn"


def test_a_reviewer_withdraws_an_approved_or_scheduled_draft_and_it_is_never_published(
    flow: Workflow, world: World
) -> None:
    draft = flow.create("PIO-1", text=PLAIN, account=ACCOUNT)
    flow.submit("PIO-1", draft.code, device="PC-1")
    flow.approve("REV-1", draft.code)
    flow.schedule("REV-1", draft.code, at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
    assert flow.withdraw("REV-1", draft.code).state == "withdrawn"
    assert flow.get(draft.code)["scheduled_for"] is None
    assert flow.claim_due(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) == []
    with pytest.raises(ConflictError):
        publish(flow, "REV-1", draft.code, keys_dir=world.keys_dir)
    assert flow.get(draft.code)["state"] == "withdrawn"


def test_no_one_else_withdraws_a_draft_and_a_published_one_stays(flow: Workflow, world: World) -> None:
    draft = flow.create("PIO-1", text=PLAIN, account=ACCOUNT)
    with pytest.raises(AccessDeniedError, match=r"author .* or a reviewer"):
        flow.withdraw("OFF-2", draft.code)  # an officer, but not its author
    with pytest.raises(AccessDeniedError):
        flow.withdraw("AUD-1", draft.code)  # the auditor's roles do not withdraw
    assert len(_audited(world, "denied", "draft.withdraw")) == 2
    assert flow.get(draft.code)["state"] == "checked"
    with world.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE draft SET state = 'published' WHERE code = :c"), {"c": draft.code})
    with pytest.raises(ConflictError, match="published"):
        flow.withdraw("PIO-1", draft.code)


# Finding drafts -----------------------------------------------------------------------------


def test_drafts_are_found_by_text_state_author_account_clause_and_date_in_pages(
    flow: Workflow, world: World
) -> None:
    made = [flow.create("PIO-1", text=f"Road note {i}: 100% clear.", account=ACCOUNT) for i in range(27)]
    guilty = flow.create("PIO-1", text=VIOLATING, account=ACCOUNT)
    flow.submit("PIO-1", made[0].code, device="PC-1")
    first = flow.find(DraftFilter())
    assert (first.total, first.pages, len(first.rows)) == (28, 2, PAGE_SIZE)
    assert first.rows[0]["id"] == guilty.code  # newest first
    assert len(flow.find(DraftFilter(), page=2).rows) == 3
    assert flow.find(DraftFilter(), page=99).page == 2  # past the end: the last page
    assert flow.find(DraftFilter(text="note 1")).total == 11  # 1, 10-19
    assert flow.find(DraftFilter(text="ROAD NOTE 26")).rows[0]["id"] == made[26].code
    assert flow.find(DraftFilter(text="100%")).total == 27  # "%" is a character, not a wildcard
    assert flow.find(DraftFilter(text="1_0")).total == 0
    assert flow.find(DraftFilter(text=guilty.code)).total == 1
    assert [r["id"] for r in flow.find(DraftFilter(state="submitted")).rows] == [made[0].code]
    assert flow.find(DraftFilter(author="PIO-1")).total == 28
    assert flow.find(DraftFilter(author="REV-1")).total == 0
    assert flow.find(DraftFilter(account=ACCOUNT)).total == 28
    assert flow.find(DraftFilter(account="mastodon:@other")).total == 0
    clause = flow.get(guilty.code)["findings"][0]["clause"]
    assert [r["id"] for r in flow.find(DraftFilter(clause=clause)).rows] == [guilty.code]
    assert flow.find(DraftFilter(clause=clause[:1])).total == 0  # a whole clause, not a prefix
    today = dt.datetime.now(dt.UTC).date()
    assert flow.find(DraftFilter(since=today, until=today)).total == 28
    assert flow.find(DraftFilter(since=today + dt.timedelta(days=1))).total == 0
    assert flow.find(DraftFilter(until=today - dt.timedelta(days=1))).total == 0
    queue = flow.find_queue("REV-1", DraftFilter(since=today))
    assert [r["id"] for r in queue.rows] == [made[0].code] and queue.rows[0]["approved_by_me"] is False
    assert flow.find_queue("REV-1", DraftFilter(text="nothing like it")).total == 0
    with pytest.raises(ValidationError):
        DraftFilter(state="lost")
    with pytest.raises(ValidationError):
        DraftFilter(since=today, until=today - dt.timedelta(days=1))


# What changed between submissions -------------------------------------------------------------


def test_each_submission_keeps_its_text(flow: Workflow) -> None:
    draft = flow.create("PIO-1", text=VIOLATING, account=ACCOUNT)
    flow.submit("PIO-1", draft.code, device="PC-1")
    flow.return_("REV-1", draft.code, comment="neutrally, please")
    flow.edit("PIO-1", draft.code, text=PLAIN)
    flow.submit("PIO-1", draft.code, device="PC-1")
    kept = flow.submissions(draft.code)
    assert [(s["number"], s["text"]) for s in kept] == [(1, VIOLATING), (2, PLAIN)]


def test_the_word_diff_marks_words_and_escapes_the_text() -> None:
    html = str(word_diff("The thug <b>fled</b> north", "The man <b>fled</b> south"))
    assert (
        html == "The <del>thug </del><ins>man </ins>&lt;b&gt;fled&lt;/b&gt; <del>north</del><ins>south</ins>"
    )
    assert str(word_diff("same words", "same words")) == "same words"
    assert str(word_diff("", "new")) == "<ins>new</ins>" and str(word_diff("old", "")) == "<del>old</del>"


def test_time_left_in_words() -> None:
    now = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    assert time_left("2026-12-07T15:20:00+00:00", now) == "3 h 20 min left"
    assert time_left("2026-12-09T13:00:00+00:00", now) == "2 d 1 h left"
    assert time_left("2026-12-07T11:00:00+00:00", now) == "expired"


def test_permissions_about_to_expire(flow: Workflow, world: World) -> None:
    now = dt.datetime.now(dt.UTC)
    for member, days in (("PIO-1", 10), ("PIO-1", 40), ("OFF-2", 3)):
        world.grants.permit(
            "CP-1",
            world.commissioner_key,
            kind="confidential-release",
            member=member,
            post="D-00099",
            valid_until=now + dt.timedelta(days=days),
            reason="appeal",
            text_="May publish the still.",
        )
    everyone = world.grants.expiring(None)
    assert [p["member"] for p in everyone] == ["OFF-2", "PIO-1"]  # soonest first; not the 40-day one
    assert [p["member"] for p in world.grants.expiring("PIO-1")] == ["PIO-1"]
    assert world.grants.expiring("REV-1") == []
    world.grants.revoke_permission("CP-1", everyone[0]["id"], "no longer needed")
    assert [p["member"] for p in world.grants.expiring(None)] == ["PIO-1"]


# The pages and the API ----------------------------------------------------------------------


@pytest.fixture
def site(world: World, flow: Workflow) -> Iterator[TestClient]:
    for member in ("PIO-1", "REV-1", "CP-1", "AUD-1", "OFF-2"):
        set_password(world.registry, "IT-1", member=member, password=f"password-of-{member}")
    app = create_app(
        Settings(
            database_url=world.db.url, keys_dir=world.keys_dir, secure_cookies=False, scheduler_interval=0
        )
    )
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _sign_in(client: TestClient, member: str) -> str:
    client.cookies.clear()
    page = client.get("/signin").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/signin",
        data={"service_number": member, "password": f"password-of-{member}", "csrf_token": token},
    )
    assert answer.status_code == 303, answer.text
    return client.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]


def _section(page: str, id_: str) -> str:
    return page.split(f'id="{id_}"')[1].split("</section>", maxsplit=1)[0]


def test_the_first_page_lists_what_waits_for_each_member(
    site: TestClient, flow: Workflow, world: World
) -> None:
    back = flow.create("PIO-1", text=VIOLATING, account=ACCOUNT)
    flow.submit("PIO-1", back.code, device="PC-1")
    flow.return_("REV-1", back.code, comment="neutrally")
    waiting = flow.create("PIO-1", text=PLAIN, account=ACCOUNT)
    flow.submit("PIO-1", waiting.code, device="PC-1")
    ready = flow.create("PIO-1", text=PLAIN + " Drive safely.", account=ACCOUNT)
    flow.submit("PIO-1", ready.code, device="PC-1")
    flow.approve("REV-1", ready.code)
    world.grants.permit(
        "CP-1",
        world.commissioner_key,
        kind="confidential-release",
        member="PIO-1",
        post=ready.code,
        valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=5),
        reason="appeal",
        text_="May publish the still.",
    )

    _sign_in(site, "PIO-1")
    mine = site.get("/").text
    assert back.code in _section(mine, "returned") and waiting.code not in _section(mine, "returned")
    assert 'id="to-review"' not in mine  # not a reviewer
    assert ready.code in _section(mine, "approved")
    assert "CP-" in _section(mine, "expiring") and "left)" in _section(mine, "expiring")
    assert 'href="/dashboard"' in mine and "findings-caption" not in mine

    _sign_in(site, "REV-1")
    page = site.get("/").text
    review = _section(page, "to-review")
    assert waiting.code in review and back.code not in review
    assert re.search(r"\(\d+ (d|h)[^)]* left\)", review)
    assert ready.code in _section(page, "approved")  # a reviewer may publish it
    assert "CP-" not in _section(page, "expiring")  # not his permission

    _sign_in(site, "CP-1")
    assert "CP-" in _section(site.get("/").text, "expiring")  # the Commissioner sees every one
    dashboard = site.get("/dashboard")
    assert dashboard.status_code == 200 and 'id="findings-caption"' in dashboard.text


def test_the_lists_filter_paginate_keep_their_filters_and_show_names(
    site: TestClient, flow: Workflow
) -> None:
    for i in range(30):
        flow.create("PIO-1", text=f"Road note {i}", account=ACCOUNT)
    _sign_in(site, "AUD-1")
    page = site.get("/drafts", params={"q": "road", "author": "PIO-1"}).text
    assert "30 draft(s); page 1 of 2" in page
    assert page.count('href="/drafts/D-') == PAGE_SIZE
    nxt = re.search(r'href="([^"]+)" rel="next"', page)
    assert nxt is not None
    link = nxt.group(1).replace("&amp;", "&")
    assert "q=road" in link and "author=PIO-1" in link and "page=2" in link
    second = site.get(link).text
    assert second.count('href="/drafts/D-') == 5 and 'rel="prev"' in second
    assert "Pat Officer" in second and "<td>PIO-1</td>" not in second
    assert "written " in second  # dates are shown
    bad = site.get("/drafts", params={"from": "yesterday"})
    assert bad.status_code == 200 and "YYYY-MM-DD" in bad.text
    assert site.get("/drafts", params={"state": "withdrawn"}).text.count('href="/drafts/D-') == 0


def test_the_review_queue_filters_and_refuses_others(site: TestClient, flow: Workflow) -> None:
    one = flow.create("PIO-1", text=PLAIN, account=ACCOUNT)
    two = flow.create("PIO-1", text="Lost dog found on Quay Street.", account=ACCOUNT)
    for draft in (one, two):
        flow.submit("PIO-1", draft.code, device="PC-1")
    _sign_in(site, "REV-1")
    page = site.get("/review", params={"q": "dog"}).text
    assert two.code in page and one.code not in page and "Pat Officer" in page
    _sign_in(site, "PIO-1")
    assert site.get("/review").status_code == 403


def test_the_draft_page_shows_changes_findings_once_names_and_withdraws(
    site: TestClient, flow: Workflow, world: World
) -> None:
    draft = flow.create("PIO-1", text=VIOLATING + " <b>Now</b>", account=ACCOUNT)
    flow.submit("PIO-1", draft.code, device="PC-1")
    flow.return_("REV-1", draft.code, comment="neutrally")
    flow.edit("PIO-1", draft.code, text="A man was charged. <b>Now</b> in court.")
    token = _sign_in(site, "PIO-1")
    page = site.get(f"/drafts/{draft.code}").text
    changes = _section(page, "changes")
    assert "since submission 1" in changes and "<del>" in changes and "<ins>" in changes
    assert "&lt;b&gt;Now&lt;/b&gt;" in changes and "<b>Now</b>" not in changes
    assert "Rhys Reviewer" in page and "<strong>REV-1</strong>" not in page

    flow.edit("PIO-1", draft.code, text=VIOLATING)
    page = site.get(f"/drafts/{draft.code}").text
    findings = flow.get(draft.code)["findings"]
    listed = re.findall(r'<li class="finding" id="finding-(\d+)"', page)
    assert len(listed) == len({(f["clause"], *f["span"]) for f in findings}) > 0
    assert page.count('class="tip"') == 0  # explained once, in the list
    assert page.count('href="#finding-1"') == 1
    assert page.index("The checker's decision") < page.index('id="post-text"')

    refused = site.post(f"/drafts/{draft.code}/withdraw", data={"csrf_token": "wrong"})
    assert refused.status_code == 403 and flow.get(draft.code)["state"] == "checked"
    done = site.post(f"/drafts/{draft.code}/withdraw", data={"csrf_token": token, "reason": "stale"})
    assert done.status_code == 303 and "Withdrawn" in done.headers["location"].replace("+", " ")
    page = site.get(f"/drafts/{draft.code}").text
    assert "withdrawn" in page and 'action="/drafts/' + draft.code + '/submit"' not in page
    assert 'id="withdraw"' not in page


def test_the_api_withdraws_for_the_author_only_and_refuses_the_steps_after(
    site: TestClient, flow: Workflow, world: World
) -> None:
    tokens = {
        m: create_token(world.registry, "IT-1", member=m, name=f"t-{m}")[0]
        for m in ("PIO-1", "REV-1", "AUD-1", "OFF-2")
    }

    def auth(member: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[member]}"}

    draft = flow.create("PIO-1", text=PLAIN, account=ACCOUNT)
    flow.submit("PIO-1", draft.code, device="PC-1")
    assert site.post(f"/api/v1/drafts/{draft.code}/withdraw", headers=auth("AUD-1")).status_code == 403
    assert site.post(f"/api/v1/drafts/{draft.code}/withdraw", headers=auth("OFF-2")).status_code == 403
    answer = site.post(
        f"/api/v1/drafts/{draft.code}/withdraw", json={"reason": "stale"}, headers=auth("PIO-1")
    )
    assert answer.status_code == 200 and answer.json()["state"] == "withdrawn"
    approve = site.post(f"/api/v1/drafts/{draft.code}/approve", json={}, headers=auth("REV-1"))
    assert approve.status_code == 409
    again = site.post(f"/api/v1/drafts/{draft.code}/withdraw", headers=auth("REV-1"))
    assert again.status_code == 409
    listed = site.get("/api/v1/drafts", params={"state": "withdrawn"}, headers=auth("AUD-1")).json()
    assert [d["id"] for d in listed] == [draft.code]
    assert site.get("/api/v1/reviews", headers=auth("REV-1")).json() == []


def test_the_draft_page_names_the_permission_used_for_its_approval(
    site: TestClient, flow: Workflow, world: World
) -> None:
    draft = flow.create(
        "PIO-1",
        text="The victim, Shanice Morgan, is recovering in hospital. Thank you for your help.",
        account=ACCOUNT,
    )
    flow.submit("PIO-1", draft.code, device="PC-1")
    code = world.grants.permit(
        "CP-1",
        world.commissioner_key,
        kind="confidential-release",
        member="PIO-1",
        post=draft.code,
        reason="family asked",
        text_="The victim may be named.",
    ).code
    flow.approve("REV-1", draft.code, reason="family consented", permission=code)
    _sign_in(site, "AUD-1")
    page = site.get(f"/drafts/{draft.code}").text
    used = page.split('id="permission-used"')[1].split("</dd>")[0]
    assert f'href="/permissions/{code}/print"' in used
    assert site.get(f"/permissions/{code}/print").status_code == 200  # the link works
    _sign_in(site, "PIO-1")  # the author may not read the permissions: the id, without a link
    used = site.get(f"/drafts/{draft.code}").text.split('id="permission-used"')[1].split("</dd>")[0]
    assert code in used and "href" not in used


def test_the_migration_fills_clauses_and_submissions_and_goes_back(flow: Workflow, world: World) -> None:
    from alembic import command

    from postguard.registry import db as db_module

    in_review = flow.create("PIO-1", text=VIOLATING, account=ACCOUNT)
    flow.submit("PIO-1", in_review.code, device="PC-1")
    written = flow.create("PIO-1", text=PLAIN, account=ACCOUNT)
    config = db_module._alembic_config()
    with world.db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    with world.db.engine.connect() as conn:
        assert "clauses" not in {c["name"] for c in sa.inspect(conn).get_columns("draft")}
        assert "draft_submission" not in sa.inspect(conn).get_table_names()
    world.db.upgrade()
    assert flow.submissions(in_review.code) == [
        {"number": 1, "text": VIOLATING, "device": "PC-1", "at": flow.get(in_review.code)["submitted_at"]}
    ]
    assert flow.submissions(written.code) == []
    clause = flow.get(in_review.code)["findings"][0]["clause"]
    assert [r["id"] for r in flow.find(DraftFilter(clause=clause)).rows] == [in_review.code]
