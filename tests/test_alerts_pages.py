"""The watch's alerts in the web app and the API (issue 14): the first page's panel for reviewers
and the Commissioner, /alerts and /alerts/{id}, the acknowledgement form (CSRF, the note, once
only), /api/v1/alerts, and the roles that may read or answer them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from conftest import World
from postguard.registry.signin import set_password
from postguard.registry.tokens import create_token
from postguard.settings import Settings
from postguard.watch.alerts import get_alert, record_delivery
from postguard.web import create_app
from test_alerts import raised

MEMBERS = ("IT-1", "CP-1", "PIO-1", "REV-1", "AUD-1")


@pytest.fixture
def site(world: World) -> Iterator[TestClient]:
    for member in MEMBERS:
        set_password(world.registry, "IT-1", member=member, password=f"password-of-{member}")
    app = create_app(
        Settings(
            database_url=world.db.url, keys_dir=world.keys_dir, secure_cookies=False, scheduler_interval=0
        )
    )
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        yield client


def _sign_in(client: TestClient, member: str) -> str:
    """Sign ``member`` in; their session's CSRF token."""
    client.cookies.clear()
    page = client.get("/signin").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/signin", data={"service_number": member, "password": f"password-of-{member}", "csrf_token": token}
    )
    assert answer.status_code == 303, answer.text
    return client.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]


# The first page ---------------------------------------------------------------------------------


def test_reviewers_and_the_commissioner_see_open_alerts_on_their_first_page(
    site: TestClient, world: World
) -> None:
    alert_id = raised(world)
    for member in ("REV-1", "CP-1"):
        _sign_in(site, member)
        page = site.get("/").text
        panel = page.split('id="open-alerts"')[1].split("</section>")[0]
        assert 'Open alerts <span class="count">(1)</span>' in panel
        assert f'href="/alerts/{alert_id}"' in panel and "Posted outside the workflow" in panel
        assert 'href="/alerts"' in page.split("</nav>")[0]  # and the nav's link


def test_a_pio_sees_no_alert_panel_nor_the_link(site: TestClient, world: World) -> None:
    raised(world)
    _sign_in(site, "PIO-1")
    page = site.get("/").text
    assert 'id="open-alerts"' not in page and 'href="/alerts' not in page
    assert site.get("/alerts").status_code == 403
    assert site.get("/alerts/1").status_code == 403


def test_the_auditor_reads_alerts_but_has_no_panel_and_no_form(site: TestClient, world: World) -> None:
    alert_id = raised(world)
    _sign_in(site, "AUD-1")
    home = site.get("/").text
    assert 'id="open-alerts"' not in home and 'href="/alerts"' in home
    page = site.get(f"/alerts/{alert_id}")
    assert page.status_code == 200
    assert (
        'action="/alerts/' not in page.text and "a reviewer or the Commissioner acknowledges it" in page.text
    )


def test_the_panel_says_when_nothing_is_open(site: TestClient, world: World) -> None:
    _sign_in(site, "REV-1")
    panel = site.get("/").text.split('id="open-alerts"')[1].split("</section>")[0]
    assert "(0)" in panel and "No alert waits for an answer" in panel


# The pages --------------------------------------------------------------------------------------


def test_the_alerts_page_lists_open_ones_first_and_filters(site: TestClient, world: World) -> None:
    first = raised(world, platform_id="1")
    second = raised(world, kind="deleted", summary="A post was deleted from the account.", platform_id="2")
    from postguard.watch.alerts import acknowledge

    acknowledge(world.registry, "REV-1", second, "Deleted by the PIO on purpose.")
    _sign_in(site, "CP-1")
    page = site.get("/alerts").text
    table = page.split('id="alerts"')[1]
    assert table.index(f'href="/alerts/{first}"') < table.index(f'href="/alerts/{second}"')
    assert "(1 open)" in page and "acknowledged by Rhys Reviewer" in table
    only_open = site.get("/alerts?show=open").text.split('id="alerts"')[1]
    assert f'href="/alerts/{first}"' in only_open and f'href="/alerts/{second}"' not in only_open
    assert site.get("/alerts?show=bogus").status_code == 422


def test_an_alert_page_shows_the_post_findings_and_delivery(site: TestClient, world: World) -> None:
    alert_id = raised(world)
    record_delivery(world.registry, alert_id, "email", "failed: connection refused")
    _sign_in(site, "REV-1")
    answer = site.get(f"/alerts/{alert_id}")
    assert answer.status_code == 200
    page = answer.text
    assert "did not go through postguard" in page
    assert '<a href="https://test.example/@police/110001" rel="noopener noreferrer">' in page
    text = page.split('id="post-text">')[1].split("</div>")[0]
    assert '<mark class="violation" tabindex="0" data-clause="A.iii.guilt">We got our man' in text
    assert 'id="findings-list"' in page and "Insulting or gloating wording." in page
    delivery = page.split('id="delivery"')[1].split("</ul>")[0]
    assert "E-mail</strong>: failed: connection refused" in delivery
    assert f'action="/alerts/{alert_id}/acknowledge"' in page and 'name="note"' in page
    assert site.get("/alerts/4242").status_code == 404


def test_an_edit_after_approval_shows_what_differs(site: TestClient, world: World) -> None:
    from postguard.watch.alerts import raise_alert

    with world.db.session() as session:
        alert_id = raise_alert(
            world.registry,
            session,
            kind="edited_after_approval",
            summary="A post differs from the text that was approved.",
            post_id=None,
            detail={
                "findings": [],
                "approved_text": "Road closed on Main Street until noon.",
                "published_text": "Road closed on Main Street until <b>tomorrow</b>.",
            },
        ).id
    _sign_in(site, "REV-1")
    page = site.get(f"/alerts/{alert_id}").text
    diff = page.split('id="changes"')[1].split("</section>")[0]
    assert "<del>noon.</del><ins>&lt;b&gt;tomorrow&lt;/b&gt;.</ins>" in diff  # escaped, never markup
    assert "The check found nothing in this post." in page


# Acknowledging through the form -----------------------------------------------------------------


def test_acknowledging_through_the_form(site: TestClient, world: World) -> None:
    alert_id = raised(world)
    csrf = _sign_in(site, "REV-1")
    url = f"/alerts/{alert_id}/acknowledge"
    forged = site.post(url, data={"csrf_token": "forged", "note": "Seen."})
    assert forged.status_code == 403 and "security token" in forged.text
    blank = site.post(url, data={"csrf_token": csrf, "note": "   "})
    assert blank.status_code == 422
    assert "note is required" in blank.text and 'aria-invalid="true"' in blank.text.split('id="note"')[1]
    assert get_alert(world.registry, alert_id)["open"]
    done = site.post(url, data={"csrf_token": csrf, "note": "Asked the PIO to <remove> it."})
    assert done.status_code == 303 and done.headers["location"].startswith(f"/alerts/{alert_id}?ok=")
    page = site.get(done.headers["location"]).text
    assert f"Alert {alert_id} acknowledged." in page
    assert '<blockquote id="ack-note">Asked the PIO to &lt;remove&gt; it.</blockquote>' in page
    assert f'action="{url}"' not in page
    again = site.post(url, data={"csrf_token": csrf, "note": "Again."})
    assert again.status_code == 303 and "acknowledged+already" in again.headers["location"]
    assert get_alert(world.registry, alert_id)["note"] == "Asked the PIO to <remove> it."
    _sign_in(site, "REV-1")
    assert 'id="open-alerts"' in site.get("/").text and "(0)" in site.get("/").text


def test_a_pio_cannot_acknowledge_through_the_form(site: TestClient, world: World) -> None:
    alert_id = raised(world)
    csrf = _sign_in(site, "PIO-1")
    refused = site.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": csrf, "note": "Seen."})
    assert refused.status_code == 403 and "reviewer" in refused.text
    assert get_alert(world.registry, alert_id)["open"]


# The API ----------------------------------------------------------------------------------------


@pytest.fixture
def api(world: World) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    headers = {}
    for member in ("REV-1", "PIO-1", "AUD-1", "CP-1"):
        token, _ = create_token(world.registry, "IT-1", member=member, name=f"test-{member}")
        headers[member] = {"Authorization": f"Bearer {token}"}
    app = create_app(Settings(database_url=world.db.url, keys_dir=world.keys_dir, scheduler_interval=0))
    with TestClient(app) as client:
        yield client, headers


def test_the_api_lists_reads_and_acknowledges(
    api: tuple[TestClient, dict[str, dict[str, str]]], world: World
) -> None:
    client, auth = api
    first = raised(world, platform_id="1")
    second = raised(world, kind="deleted", summary="A post was deleted.", platform_id="2")
    listed = client.get("/api/v1/alerts", headers=auth["AUD-1"])
    assert listed.status_code == 200
    assert listed.json()["open"] == 2 and [a["id"] for a in listed.json()["alerts"]] == [second, first]
    one = client.get(f"/api/v1/alerts/{first}", headers=auth["REV-1"]).json()
    assert one["post"]["text"].startswith("We got our man") and one["findings"][0]["clause"] == "A.iii.guilt"
    done = client.post(
        f"/api/v1/alerts/{first}/acknowledge", json={"note": "Handled."}, headers=auth["REV-1"]
    )
    assert done.status_code == 200 and done.json()["acknowledged_by"] == "REV-1"
    open_now = client.get("/api/v1/alerts?open=true", headers=auth["CP-1"]).json()
    assert open_now["open"] == 1 and [a["id"] for a in open_now["alerts"]] == [second]
    again = client.post(f"/api/v1/alerts/{first}/acknowledge", json={"note": "Again."}, headers=auth["CP-1"])
    assert again.status_code == 409 and "acknowledged already" in again.json()["detail"]


def test_the_api_refuses_what_it_should(
    api: tuple[TestClient, dict[str, dict[str, str]]], world: World
) -> None:
    client, auth = api
    alert_id = raised(world)
    assert client.get("/api/v1/alerts").status_code == 401
    assert client.get("/api/v1/alerts", headers=auth["PIO-1"]).status_code == 403
    refused = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={"note": "x"}, headers=auth["PIO-1"])
    assert refused.status_code == 403 and "reviewer" in refused.json()["detail"]
    auditor = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={"note": "x"}, headers=auth["AUD-1"])
    assert auditor.status_code == 403
    assert client.get("/api/v1/alerts/999", headers=auth["REV-1"]).status_code == 404
    for body in ({"note": ""}, {}, {"note": "x", "extra": 1}, {"note": "x" * 2001}):
        bad = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", json=body, headers=auth["REV-1"])
        assert bad.status_code == 422, body
    blank = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", json={"note": "  "}, headers=auth["REV-1"])
    assert blank.status_code == 422 and "note is required" in blank.json()["detail"]
    assert (
        client.post("/api/v1/alerts/999/acknowledge", json={"note": "x"}, headers=auth["REV-1"]).status_code
        == 404
    )
    assert get_alert(world.registry, alert_id)["open"]
