"""The fakes read like the platforms: an account's posts paged newest first, edits, deletions,
posts made in the app rather than through postguard, and the fake Mastodon's store keeping them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from postguard.fakes import FakeBluesky, FakeMastodon

AUTH = {"Authorization": "Bearer t"}


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    server = FakeMastodon("t")
    yield server
    server.close()


@pytest.fixture
def bluesky() -> Iterator[FakeBluesky]:
    server = FakeBluesky("police.example", "app-pass-1234")
    yield server
    server.close()


def _ids(answer: httpx.Response) -> list[int]:
    return [int(s["id"]) for s in answer.json()]


# Mastodon -------------------------------------------------------------------------------------


def test_verify_credentials_needs_the_token(mastodon: FakeMastodon) -> None:
    me = httpx.get(f"{mastodon.url}/api/v1/accounts/verify_credentials", headers=AUTH, timeout=5)
    assert me.status_code == 200
    assert me.json()["id"] == "1" and me.json()["acct"] == "police" and me.json()["url"].endswith("/@police")
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        refused = httpx.get(f"{mastodon.url}/api/v1/accounts/verify_credentials", headers=headers, timeout=5)
        assert refused.status_code == 401


def test_statuses_are_paged_newest_first_with_link_headers(mastodon: FakeMastodon) -> None:
    for number in range(95):
        mastodon.post_from_app(f"Post {number + 1}")
    url = f"{mastodon.url}/api/v1/accounts/1/statuses"
    first = httpx.get(url, params={"limit": "40", "exclude_reblogs": "true"}, timeout=5)
    assert _ids(first) == list(range(95, 55, -1))
    assert (
        first.links["next"]["url"].endswith("max_id=56")
        and "exclude_reblogs=true" in first.links["next"]["url"]
    )
    assert "min_id=95" in first.links["prev"]["url"]
    second = httpx.get(first.links["next"]["url"], timeout=5)
    assert _ids(second) == list(range(55, 15, -1))
    third = httpx.get(second.links["next"]["url"], timeout=5)
    assert _ids(third) == list(range(15, 0, -1))
    assert "next" not in third.links and "prev" in third.links  # not full: nothing older
    assert len(httpx.get(url, timeout=5).json()) == 20  # Mastodon's default page
    assert len(httpx.get(url, params={"limit": "500"}, timeout=5).json()) == 40  # and its largest
    assert _ids(httpx.get(url, params={"since_id": "91"}, timeout=5)) == [95, 94, 93, 92]
    assert _ids(httpx.get(url, params={"min_id": "10", "limit": "3"}, timeout=5)) == [13, 12, 11]
    assert httpx.get(f"{mastodon.url}/api/v1/accounts/2/statuses", timeout=5).status_code == 404
    wrong = httpx.get(url, headers={"Authorization": "Bearer wrong"}, timeout=5)
    assert wrong.status_code == 401


def test_status_json_is_shaped_as_mastodons(mastodon: FakeMastodon) -> None:
    text = 'Road closed.\nUse the bypass.\n\nSee https://example.org/roads/harbour-road-closure-2024 #Harbour & <b>"x"</b>'
    status = mastodon.post_from_app(text)
    assert status["content"] == (
        "<p>Road closed.<br />Use the bypass.</p><p>See "
        '<a href="https://example.org/roads/harbour-road-closure-2024" target="_blank" '
        'rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://</span>'
        '<span class="ellipsis">example.org/roads/harbour-road</span>'
        '<span class="invisible">-closure-2024</span></a> '
        f'<a href="{mastodon.url}/tags/Harbour" class="mention hashtag" rel="tag">#<span>Harbour</span></a>'
        " &amp; &lt;b&gt;&quot;x&quot;&lt;/b&gt;</p>"
    )
    assert status["edited_at"] is None and status["reblog"] is None
    assert status["account"] == {**status["account"], "id": "1", "acct": "police"}
    assert status["uri"].endswith(f"/users/police/statuses/{status['id']}")
    assert mastodon.statuses[-1]["content"] == text  # what was posted, kept as text


def test_a_post_from_the_app_can_be_backdated_and_carry_media(mastodon: FakeMastodon) -> None:
    old = dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    status = mastodon.post_from_app(
        "Old post", created_at=old, media=[("a.png", "image/png", b"\x89PNG-data")]
    )
    assert dt.datetime.fromisoformat(status["created_at"]) == old
    (attached,) = status["media_attachments"]
    assert attached["type"] == "image" and attached["description"] is None
    served = httpx.get(attached["url"], timeout=5)
    assert served.content == b"\x89PNG-data" and served.headers["content-type"] == "image/png"


def test_an_edit_keeps_the_version_before_in_the_history(mastodon: FakeMastodon) -> None:
    status = mastodon.post_from_app("First wording")
    history_url = f"{mastodon.url}/api/v1/statuses/{status['id']}/history"
    (only,) = httpx.get(history_url, timeout=5).json()
    assert only["content"] == "<p>First wording</p>" and only["created_at"] == status["created_at"]

    put = httpx.put(
        f"{mastodon.url}/api/v1/statuses/{status['id']}",
        data={"status": "Second wording"},
        headers=AUTH,
        timeout=5,
    )
    assert put.status_code == 200 and put.json()["content"] == "<p>Second wording</p>"
    edited_at = put.json()["edited_at"]
    assert edited_at and edited_at > status["created_at"]
    third = mastodon.edit(status["id"], "Third wording")  # at once: still a later edited_at
    assert third["edited_at"] > edited_at
    history = httpx.get(history_url, timeout=5).json()
    assert [v["content"] for v in history] == [
        "<p>First wording</p>",
        "<p>Second wording</p>",
        "<p>Third wording</p>",
    ]
    assert [v["created_at"] for v in history] == [status["created_at"], edited_at, third["edited_at"]]
    shown = httpx.get(f"{mastodon.url}/api/v1/statuses/{status['id']}", timeout=5).json()
    assert shown["content"] == "<p>Third wording</p>" and shown["edited_at"] == third["edited_at"]


def test_edits_and_deletions_are_refused_without_the_token_or_status(mastodon: FakeMastodon) -> None:
    status = mastodon.post_from_app("Stays")
    at = f"{mastodon.url}/api/v1/statuses/{status['id']}"
    assert httpx.put(at, data={"status": "x"}, timeout=5).status_code == 401
    assert httpx.delete(at, timeout=5).status_code == 401
    assert httpx.put(at, data={"status": "  "}, headers=AUTH, timeout=5).status_code == 422
    assert (
        httpx.put(
            f"{mastodon.url}/api/v1/statuses/77", data={"status": "x"}, headers=AUTH, timeout=5
        ).status_code
        == 404
    )
    assert httpx.delete(f"{mastodon.url}/api/v1/statuses/77", headers=AUTH, timeout=5).status_code == 404
    assert mastodon.status(status["id"])["content"] == "Stays"  # type: ignore[index]
    with pytest.raises(LookupError, match="no status '77'"):
        mastodon.edit("77", "x")


def test_a_deleted_status_is_gone_from_the_api_and_the_listing(mastodon: FakeMastodon) -> None:
    keep, drop = mastodon.post_from_app("Keep"), mastodon.post_from_app("Drop")
    gone = httpx.delete(f"{mastodon.url}/api/v1/statuses/{drop['id']}", headers=AUTH, timeout=5)
    assert gone.status_code == 200 and gone.json()["text"] == "Drop"
    assert httpx.get(f"{mastodon.url}/api/v1/statuses/{drop['id']}", timeout=5).status_code == 404
    assert httpx.get(f"{mastodon.url}/api/v1/statuses/{drop['id']}/history", timeout=5).status_code == 404
    assert _ids(httpx.get(f"{mastodon.url}/api/v1/accounts/1/statuses", timeout=5)) == [int(keep["id"])]
    assert [s["content"] for s in mastodon.deleted] == ["Drop"]
    assert mastodon.post_from_app("Next")["id"] == "3"  # ids are never used twice


def test_a_repeated_key_after_its_status_was_deleted_posts_again(mastodon: FakeMastodon) -> None:
    first = mastodon.receive("Once", "public", "key-1")
    mastodon.delete(first["id"])
    again = mastodon.receive("Once", "public", "key-1")
    assert again["id"] != first["id"] and [s["id"] for s in mastodon.statuses] == [again["id"]]


def test_the_store_keeps_edits_and_deletions_across_restarts(tmp_path: Path) -> None:
    store = tmp_path / "fake-mastodon.json"
    fake = FakeMastodon("t", store=store)
    try:
        first = fake.post_from_app("Original")
        fake.edit(first["id"], "Edited")
        dropped = fake.post_from_app("Deleted later")
        fake.delete(dropped["id"])
    finally:
        fake.close()
    saved = json.loads(store.read_text())
    assert [s["content"] for s in saved["deleted"]] == ["Deleted later"]
    assert [v["content"] for v in saved["statuses"][0]["history"]] == ["Original"]

    again = FakeMastodon("t", store=store)
    try:
        history = httpx.get(f"{again.url}/api/v1/statuses/{first['id']}/history", timeout=5).json()
        assert [v["content"] for v in history] == ["<p>Original</p>", "<p>Edited</p>"]
        shown = httpx.get(f"{again.url}/api/v1/statuses/{first['id']}", timeout=5).json()
        assert shown["edited_at"] == again.statuses[0]["edited_at"] and shown["edited_at"]
        assert httpx.get(f"{again.url}/api/v1/statuses/{dropped['id']}", timeout=5).status_code == 404
        assert again.post_from_app("After")["id"] == "3"
    finally:
        again.close()


def test_a_store_written_before_edits_existed_still_loads(tmp_path: Path) -> None:
    store = tmp_path / "fake-mastodon.json"
    old = {"id": "1", "content": "Old", "visibility": "public", "created_at": "2024-01-02T03:04:05.000+00:00"}
    store.write_text(json.dumps({"statuses": [old], "keys": {"k": "1"}, "media": []}))
    fake = FakeMastodon("t", store=store)
    try:
        shown = httpx.get(f"{fake.url}/api/v1/statuses/1", timeout=5).json()
        assert shown["content"] == "<p>Old</p>" and shown["edited_at"] is None
        assert len(httpx.get(f"{fake.url}/api/v1/statuses/1/history", timeout=5).json()) == 1
        assert fake.edit("1", "New")["edited_at"]
        assert fake.receive("Old", "public", "k")["id"] == "1"  # the saved key still answers
    finally:
        fake.close()


# Bluesky --------------------------------------------------------------------------------------


def _bluesky_token(fake: FakeBluesky) -> dict[str, str]:
    session = httpx.post(
        f"{fake.url}/xrpc/com.atproto.server.createSession",
        json={"identifier": "police.example", "password": "app-pass-1234"},
        timeout=5,
    ).json()
    return {"Authorization": f"Bearer {session['accessJwt']}"}


def _feed(fake: FakeBluesky, auth: dict[str, str], **params: str) -> httpx.Response:
    return httpx.get(
        f"{fake.url}/xrpc/app.bsky.feed.getAuthorFeed",
        params={"actor": fake.did, **params},
        headers=auth,
        timeout=5,
    )


def test_the_author_feed_is_paged_by_cursor_newest_first(bluesky: FakeBluesky) -> None:
    auth = _bluesky_token(bluesky)
    uris = [bluesky.post_from_app(f"Post {n}") for n in range(120)]
    texts: list[str] = []
    cursor: str | None = None
    pages = []
    while True:
        answer = _feed(bluesky, auth, limit="50", **({"cursor": cursor} if cursor else {}))
        assert answer.status_code == 200
        pages.append(len(answer.json()["feed"]))
        texts += [item["post"]["record"]["text"] for item in answer.json()["feed"]]
        cursor = answer.json().get("cursor")
        if cursor is None:
            break
    assert pages == [50, 50, 20]
    assert texts == [f"Post {n}" for n in reversed(range(120))]
    post = _feed(bluesky, auth, limit="1").json()["feed"][0]["post"]
    assert post["uri"] == uris[-1] and post["author"] == {**post["author"], "did": bluesky.did}
    assert post["record"]["$type"] == "app.bsky.feed.post" and post["indexedAt"] and post["cid"]
    assert len(_feed(bluesky, auth).json()["feed"]) == 50  # the default page
    handle = httpx.get(
        f"{bluesky.url}/xrpc/app.bsky.feed.getAuthorFeed",
        params={"actor": "police.example"},
        headers=auth,
        timeout=5,
    )
    assert handle.status_code == 200 and len(handle.json()["feed"]) == 50


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": "0"}, 400),
        ({"limit": "101"}, 400),
        ({"cursor": "nonsense"}, 400),
        ({"actor": "did:plc:other"}, 400),
    ],
)
def test_the_author_feed_refuses_what_bluesky_refuses(
    bluesky: FakeBluesky, params: dict[str, str], code: int
) -> None:
    assert _feed(bluesky, _bluesky_token(bluesky), **params).status_code == code


def test_the_author_feed_needs_the_session(bluesky: FakeBluesky) -> None:
    assert _feed(bluesky, {}).status_code == 401


def test_a_backdated_post_sorts_by_its_created_at(bluesky: FakeBluesky) -> None:
    bluesky.post_from_app("New")
    bluesky.post_from_app("Old", created_at=dt.datetime(2020, 1, 1))  # naive: taken as UTC
    feed = _feed(bluesky, _bluesky_token(bluesky)).json()["feed"]
    assert [i["post"]["record"]["text"] for i in feed] == ["New", "Old"]
    assert feed[1]["post"]["record"]["createdAt"] == "2020-01-01T00:00:00.000Z"


def test_put_record_changes_the_cid_and_delete_record_removes_the_post(bluesky: FakeBluesky) -> None:
    auth = _bluesky_token(bluesky)
    uri = bluesky.post_from_app("Before")
    rkey = uri.rsplit("/", 1)[-1]
    get = {"repo": bluesky.did, "collection": "app.bsky.feed.post", "rkey": rkey}
    before = httpx.get(
        f"{bluesky.url}/xrpc/com.atproto.repo.getRecord", params=get, headers=auth, timeout=5
    ).json()
    put = httpx.post(
        f"{bluesky.url}/xrpc/com.atproto.repo.putRecord",
        json={**get, "record": {**before["value"], "text": "After"}},
        headers=auth,
        timeout=5,
    )
    assert put.status_code == 200 and put.json()["uri"] == uri and put.json()["cid"] != before["cid"]
    after = httpx.get(
        f"{bluesky.url}/xrpc/com.atproto.repo.getRecord", params=get, headers=auth, timeout=5
    ).json()
    assert after["value"]["text"] == "After" and after["cid"] == put.json()["cid"]
    assert bluesky.edit(uri, "Again") not in (before["cid"], after["cid"])
    assert (
        httpx.post(f"{bluesky.url}/xrpc/com.atproto.repo.putRecord", json=get, timeout=5).status_code == 401
    )

    deleted = httpx.post(
        f"{bluesky.url}/xrpc/com.atproto.repo.deleteRecord", json=get, headers=auth, timeout=5
    )
    assert deleted.status_code == 200
    gone = httpx.get(f"{bluesky.url}/xrpc/com.atproto.repo.getRecord", params=get, headers=auth, timeout=5)
    assert gone.status_code == 400 and gone.json()["error"] == "RecordNotFound"
    assert _feed(bluesky, auth).json()["feed"] == [] and bluesky.texts == []
    with pytest.raises(LookupError):
        bluesky.delete(uri)


def test_create_record_still_refuses_a_key_that_exists(bluesky: FakeBluesky) -> None:
    auth = _bluesky_token(bluesky)
    body = {
        "repo": bluesky.did,
        "collection": "app.bsky.feed.post",
        "rkey": "key-1",
        "record": {"$type": "app.bsky.feed.post", "text": "Hi", "createdAt": "2024-05-01T10:00:00.000Z"},
    }
    url = f"{bluesky.url}/xrpc/com.atproto.repo.createRecord"
    assert httpx.post(url, json=body, headers=auth, timeout=5).status_code == 200
    assert httpx.post(url, json=body, headers=auth, timeout=5).status_code == 400
    assert bluesky.texts == ["Hi"]
    (item,) = _feed(bluesky, auth).json()["feed"]
    assert item["post"]["uri"].endswith("/app.bsky.feed.post/key-1")
