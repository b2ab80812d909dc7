"""The web pages in-process (the browser tests drive them in Chromium): sessions, CSRF, roles, charts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import World, connected_account
from postguard import default_checker
from postguard.registry.signin import set_password
from postguard.settings import Settings
from postguard.web import create_app
from postguard.web.charts import dashboard
from postguard.web.pages import marked


@pytest.fixture
def site(world: World) -> Iterator[TestClient]:
    for member in ("PIO-1", "AUD-1"):
        set_password(world.registry, "IT-1", member=member, password=f"password-of-{member}")
    app = create_app(
        Settings(
            database_url=world.db.url, keys_dir=world.keys_dir, secure_cookies=False, scheduler_interval=0
        )
    )
    with TestClient(app, follow_redirects=False) as client:
        yield client


def _form_token(client: TestClient) -> str:
    page = client.get("/signin").text
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def _sign_in(client: TestClient, member: str) -> str:
    answer = client.post(
        "/signin",
        data={
            "service_number": member,
            "password": f"password-of-{member}",
            "csrf_token": _form_token(client),
        },
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/").text
    return page.split('name="csrf-token" content="')[1].split('"')[0]


def _drafts(world: World) -> int:
    with world.db.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM draft")).scalar_one())


def test_every_page_needs_a_session_and_an_expired_one_goes_back_to_sign_in(
    site: TestClient, world: World
) -> None:
    for path in ("/", "/compose", "/drafts", "/audit", "/registry"):
        answer = site.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin?next=")
    _sign_in(site, "PIO-1")
    assert site.get("/compose").status_code == 200
    with world.db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE web_session SET expires_at = :t"), {"t": dt.datetime(2020, 1, 1)})
    assert site.get("/compose").status_code == 303


def test_wrong_password_is_refused_on_the_page(site: TestClient) -> None:
    answer = site.post(
        "/signin",
        data={"service_number": "PIO-1", "password": "nope-nope-nope", "csrf_token": _form_token(site)},
    )
    assert answer.status_code == 401 and "postguard_session" not in answer.headers.get("set-cookie", "")


def test_sign_in_needs_the_forms_own_csrf_token(site: TestClient, world: World) -> None:
    """Login CSRF: another site's form cannot sign this browser in, even with a right password."""
    before = _audit_count(world)
    for token in ("", "forged"):
        forged = site.post(
            "/signin",
            data={"service_number": "PIO-1", "password": "password-of-PIO-1", "csrf_token": token},
        )
        assert forged.status_code == 403 and "postguard_session" not in forged.headers.get("set-cookie", "")
    assert _audit_count(world) == before  # refused before any password was checked
    site.cookies.clear()
    token = _form_token(site)
    site.cookies.clear()  # a token without its cookie (sent from elsewhere) is refused too
    alone = site.post(
        "/signin", data={"service_number": "PIO-1", "password": "password-of-PIO-1", "csrf_token": token}
    )
    assert alone.status_code == 403
    _sign_in(site, "PIO-1")


def _audit_count(world: World) -> int:
    with world.db.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM audit_entry")).scalar_one())


def test_forms_need_the_session_csrf_token_and_write_nothing_without_it(
    site: TestClient, world: World
) -> None:
    csrf = _sign_in(site, "PIO-1")
    before = _drafts(world)
    forged = site.post("/compose", data={"text": "Road closed.", "csrf_token": "forged"})
    assert forged.status_code == 403 and _drafts(world) == before
    missing = site.post("/compose", data={"text": "Road closed."})
    assert missing.status_code == 403 and _drafts(world) == before
    made = site.post("/compose", data={"text": "Harbour Road is closed.", "csrf_token": csrf})
    assert made.status_code == 303 and _drafts(world) == before + 1
    empty = site.post("/compose", data={"text": "   ", "csrf_token": csrf})
    assert empty.status_code == 422 and "empty" in empty.text.lower()


def test_a_page_beyond_the_role_is_refused_and_audited(site: TestClient, world: World) -> None:
    _sign_in(site, "PIO-1")
    assert site.get("/audit").status_code == 403
    with world.db.engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT actor, target FROM audit_entry WHERE action = 'denied' ORDER BY seq DESC LIMIT 1")
        ).one()
    assert row == ("PIO-1", "web:GET /audit")
    assert site.get("/drafts/D-99999").status_code == 404
    assert site.post("/signin", data={"service_number": "x" * 100, "password": "y"}).status_code == 422


def test_pages_carry_a_strict_content_security_policy(site: TestClient) -> None:
    _sign_in(site, "AUD-1")
    answer = site.get("/audit")
    assert answer.status_code == 200
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy and "unsafe-inline" not in policy


def test_marked_underlines_findings_and_escapes_the_rest() -> None:
    text = "<b>We got our man!</b>"
    html = str(marked(text, [{"clause": "A.iii.guilt", "span": [3, 18], "explanation": "guilt <x>"}]))
    assert '<mark class="violation" tabindex="0" data-clause="A.iii.guilt">We got our man!' in html
    assert "&lt;b&gt;" in html and "guilt &lt;x&gt;" in html and "<b>" not in html


def test_dashboard_counts_findings_decisions_and_units(world: World) -> None:
    from postguard.workflow import Workflow

    flow = Workflow(world.registry, world.grants, default_checker())
    draft = flow.create(
        "PIO-1", text="We got our man! The thug is behind bars.", account=connected_account(world)
    )
    flow.submit("PIO-1", draft.code, device="PC-1")
    flow.return_("REV-1", draft.code, comment="neutral, please")
    data = dashboard(world.registry, default_checker().pack, days=7)
    findings = data["findings"]
    assert findings.stacks["A.iii.guilt"][-1] == 2  # found at create and at submit
    assert data["decisions"].stacks["returned"][-1] == 1
    assert data["top"][0]["unit"] and data["top"][0]["count"] >= 2
    assert all(bar["h"] > 0 for bar in findings.bars())
