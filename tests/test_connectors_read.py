"""The read side of the Mastodon and Bluesky connectors (what the watch uses): against the fakes,
and against hostile answers through an ``httpx.MockTransport``."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator

import httpx
import pytest

from postguard.connectors import ConnectorError
from postguard.connectors.bluesky import BlueskyConnector
from postguard.connectors.mastodon import MastodonConnector, html_to_text
from postguard.fakes import FakeBluesky, FakeMastodon

OLD = dt.datetime(2020, 6, 1, tzinfo=dt.UTC)


@pytest.fixture
def mastodon() -> Iterator[tuple[FakeMastodon, MastodonConnector]]:
    server = FakeMastodon("t")
    connector = MastodonConnector(server.url, "t")
    yield server, connector
    connector.close()
    server.close()


@pytest.fixture
def bluesky() -> Iterator[tuple[FakeBluesky, BlueskyConnector]]:
    server = FakeBluesky("police.example", "app-pass-1234")
    connector = BlueskyConnector(server.url, "police.example:app-pass-1234")
    yield server, connector
    connector.close()
    server.close()


Handler = Callable[[httpx.Request], httpx.Response]


def _mastodon(handler: Handler) -> MastodonConnector:
    return MastodonConnector("https://social.example", "t", transport=httpx.MockTransport(handler))


def _bluesky(handler: Handler) -> BlueskyConnector:
    return BlueskyConnector(
        "https://social.example", "police.example:pw", transport=httpx.MockTransport(handler)
    )


# Mastodon against the fake ---------------------------------------------------------------------


def test_mastodon_timeline_pages_through_every_status(
    mastodon: tuple[FakeMastodon, MastodonConnector],
) -> None:
    fake, connector = mastodon
    for number in range(95):
        fake.post_from_app(f"Post {number + 1}")
    before = fake.requests
    posts = list(connector.timeline())
    assert [p.text for p in posts] == [f"Post {n}" for n in range(95, 0, -1)]
    assert fake.requests - before == 3  # 40 + 40 + 15: the Link header says there is no more
    assert connector.can_read and posts[0].platform_id == "95" and posts[0].url.endswith("/@police/95")
    assert posts[0].version == "" and posts[0].edited_at is None
    assert len(list(connector.timeline(limit=50))) == 50
    assert list(connector.timeline(limit=0)) == []


def test_mastodon_timeline_stops_at_since(mastodon: tuple[FakeMastodon, MastodonConnector]) -> None:
    fake, connector = mastodon
    for number in range(3):
        fake.post_from_app(f"Old {number}", created_at=OLD + dt.timedelta(days=number))
    fake.post_from_app("Recent")
    recent = list(connector.timeline(since=OLD + dt.timedelta(days=1)))
    assert [p.text for p in recent] == ["Recent", "Old 2", "Old 1"]
    assert recent[-1].posted_at == OLD + dt.timedelta(days=1)
    assert [p.text for p in connector.timeline(since=dt.datetime(2030, 1, 1))] == []  # naive: UTC


def test_mastodon_text_is_what_was_posted(mastodon: tuple[FakeMastodon, MastodonConnector]) -> None:
    connector = mastodon[1]
    text = (
        "ROAD CLOSURE: Harbour Road & Elm St.\nUse the <bypass>.\n\n"
        "Details: https://www.example.org/roads/harbour-road-closure-2024?x=1&y=2 #Harbour 'today'"
    )
    published = connector.publish(text, "key-1")
    (post,) = connector.timeline()
    assert post.platform_id == published.remote_id and post.text == text


def test_mastodon_edits_change_the_version_and_keep_the_history(
    mastodon: tuple[FakeMastodon, MastodonConnector],
) -> None:
    fake, connector = mastodon
    published = connector.publish("Harbour Road is closed.", "key-1")
    (first,) = connector.versions(published.remote_id)
    assert first.text == "Harbour Road is closed." and first.version == ""
    fake.edit(published.remote_id, "Harbour Road is closed until 6pm.")
    (edited,) = connector.timeline()
    assert edited.version and edited.edited_at is not None and edited.text.endswith("until 6pm.")
    fake.edit(published.remote_id, "Harbour Road is open again.")
    (again,) = connector.timeline()
    assert again.version not in ("", edited.version)
    versions = connector.versions(published.remote_id)
    assert [v.text for v in versions] == [
        "Harbour Road is closed.",
        "Harbour Road is closed until 6pm.",
        "Harbour Road is open again.",
    ]
    assert [v.version for v in versions] == ["", edited.version, again.version]
    assert versions[0].posted_at < versions[1].posted_at < versions[2].posted_at
    assert {v.url for v in versions} == {published.url} and versions[-1].edited_at == again.edited_at


def test_mastodon_deleted_posts_are_gone(mastodon: tuple[FakeMastodon, MastodonConnector]) -> None:
    fake, connector = mastodon
    kept, dropped = connector.publish("Kept", "k-1"), connector.publish("Dropped", "k-2")
    assert connector.exists(dropped.remote_id)
    fake.delete(dropped.remote_id)
    assert not connector.exists(dropped.remote_id) and connector.exists(kept.remote_id)
    assert [p.platform_id for p in connector.timeline()] == [kept.remote_id]
    with pytest.raises(ConnectorError, match="not on the server") as caught:
        connector.versions(dropped.remote_id)
    assert not caught.value.retryable
    with pytest.raises(ConnectorError, match="not a status id"):
        connector.exists("../../admin")


def test_mastodon_a_bad_token_is_an_error_not_a_deletion(
    mastodon: tuple[FakeMastodon, MastodonConnector],
) -> None:
    fake, _ = mastodon
    status = fake.post_from_app("Here")
    wrong = MastodonConnector(fake.url, "wrong")
    try:
        for call in (lambda: wrong.exists(status["id"]), lambda: list(wrong.timeline())):
            with pytest.raises(ConnectorError, match="401") as caught:
                call()
            assert not caught.value.retryable
    finally:
        wrong.close()


def test_mastodon_media_is_listed_and_fetched_with_a_cap(
    mastodon: tuple[FakeMastodon, MastodonConnector],
) -> None:
    fake, connector = mastodon
    photo = b"\xff\xd8\xff" + b"x" * 5000
    fake.post_from_app("With a photo", media=[("still.jpg", "image/jpeg", photo)])
    (post,) = connector.timeline()
    (media,) = post.media
    assert media.content_type == "image/jpeg" and media.filename == "still.jpg"
    assert connector.fetch(media.url, max_bytes=len(photo)) == photo
    with pytest.raises(ConnectorError, match="larger than 100 bytes") as caught:
        connector.fetch(media.url, max_bytes=100)
    assert not caught.value.retryable
    with pytest.raises(ConnectorError, match="not there"):
        connector.fetch(f"{fake.url}/media/99", max_bytes=100)


def test_mastodon_fake_failures_are_retryable(mastodon: tuple[FakeMastodon, MastodonConnector]) -> None:
    fake, connector = mastodon
    fake.post_from_app("Here")
    list(connector.timeline())  # the account id is asked once and kept
    fake.fail_next = 1
    with pytest.raises(ConnectorError) as caught:
        list(connector.timeline())
    assert caught.value.retryable
    assert [p.text for p in connector.timeline()] == ["Here"]


# Mastodon against hostile answers --------------------------------------------------------------


def _status(number: int, **extra: object) -> dict[str, object]:
    return {
        "id": str(number),
        "created_at": "2024-05-01T10:00:00.000Z",
        "edited_at": None,
        "content": f"<p>Post {number}</p>",
        "url": f"https://social.example/@police/{number}",
        "media_attachments": [],
        "reblog": None,
        **extra,
    }


def _mastodon_server(
    pages: list[httpx.Response],
) -> tuple[list[httpx.Request], Callable[[httpx.Request], httpx.Response]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/v1/accounts/verify_credentials":
            return httpx.Response(200, json={"id": "7", "acct": "police"})
        return pages.pop(0) if pages else httpx.Response(200, json=[])

    return seen, handler


def test_mastodon_reblogs_are_skipped_and_links_elsewhere_not_followed() -> None:
    boosted = _status(4, reblog=_status(900, content="<p>someone else's</p>"), content="")
    first = httpx.Response(
        200,
        json=[_status(5), boosted, _status(3)],
        headers={"Link": '<https://evil.example/steal?max_id=3>; rel="next"'},
    )
    seen, handler = _mastodon_server([first, httpx.Response(200, json=[_status(2)])])
    connector = _mastodon(handler)
    try:
        assert [p.text for p in connector.timeline()] == ["Post 5", "Post 3", "Post 2"]
    finally:
        connector.close()
    assert {r.url.host for r in seen} == {"social.example"}
    assert [r.url.params.get("max_id") for r in seen[1:]] == [None, "3", "2"]
    assert all(r.headers["Authorization"] == "Bearer t" for r in seen)
    assert (
        seen[1].url.path == "/api/v1/accounts/7/statuses" and seen[1].url.params["exclude_reblogs"] == "true"
    )


def test_mastodon_a_content_warning_is_part_of_the_text() -> None:
    """A content warning is published too: it is the text's first paragraph, as the import makes it."""
    warned = _status(6, spoiler_text="Court result", content="<p>He is guilty, no doubt.</p>")
    _, handler = _mastodon_server([httpx.Response(200, json=[warned, _status(5, spoiler_text="")])])
    connector = _mastodon(handler)
    try:
        assert [p.text for p in connector.timeline()] == ["Court result\n\nHe is guilty, no doubt.", "Post 5"]
    finally:
        connector.close()


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx.Response(200, content=b"<html>oops"), "not JSON"),
        (httpx.Response(200, json={"statuses": []}), "not a list"),
        (httpx.Response(200, json=["a string"]), "not an object"),
        (httpx.Response(200, json=[_status(1, created_at="yesterday")]), "created_at"),
        (httpx.Response(200, json=[{"content": "<p>x</p>"}]), "id"),
        (httpx.Response(200, json=[_status(1, content=12)]), "content is int"),
        (httpx.Response(200, json=[_status(1, edited_at=5)]), "edited_at"),
        (httpx.Response(200, json=[_status(1, media_attachments=["x"])]), "media attachment"),
    ],
)
def test_mastodon_malformed_answers_are_clear_errors(answer: httpx.Response, message: str) -> None:
    _, handler = _mastodon_server([answer])
    connector = _mastodon(handler)
    try:
        with pytest.raises(ConnectorError, match=message) as caught:
            list(connector.timeline())
        assert not caught.value.retryable
    finally:
        connector.close()


def test_mastodon_exists_reads_404_as_deleted_and_5xx_as_retryable() -> None:
    codes = {"1": 200, "2": 404, "3": 503, "4": 403}
    connector = _mastodon(lambda r: httpx.Response(codes[r.url.path.rsplit("/", 1)[-1]], json=_status(1)))
    try:
        assert connector.exists("1") and not connector.exists("2")
        with pytest.raises(ConnectorError) as retry:
            connector.exists("3")
        assert retry.value.retryable
        with pytest.raises(ConnectorError, match="403") as refused:
            connector.exists("4")
        assert not refused.value.retryable
    finally:
        connector.close()


def test_fetch_refuses_big_or_odd_media_and_times_out_retryably() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/big":
            return httpx.Response(200, headers={"Content-Length": "999999"}, content=b"x" * 999999)
        if request.url.path == "/slow":
            raise httpx.ReadTimeout("slow", request=request)
        if request.url.path == "/moved":
            return httpx.Response(302, headers={"Location": "https://cdn.example/file"})
        return httpx.Response(200, content=b"file")

    connector = _mastodon(handler)
    try:
        with pytest.raises(ConnectorError, match="larger than 10 bytes"):
            connector.fetch("https://social.example/big", max_bytes=10)
        assert connector.fetch("https://social.example/moved", max_bytes=10) == b"file"  # a CDN
        with pytest.raises(ConnectorError, match="not an http") as odd:
            connector.fetch("file:///etc/passwd", max_bytes=10)
        assert not odd.value.retryable
        with pytest.raises(ConnectorError, match="timed out") as slow:
            connector.fetch("https://social.example/slow", max_bytes=10)
        assert slow.value.retryable
    finally:
        connector.close()


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("<p>One<br>two<br />three</p><p>Four</p>", "One\ntwo\nthree\n\nFour"),
        ("<p>A &amp; B &lt;c&gt; &#39;d&#39; &quot;e&quot; caf&eacute;</p>", "A & B <c> 'd' \"e\" café"),
        (
            '<p><a href="https://x.example/long/path"><span class="invisible">https://</span>'
            '<span class="ellipsis">x.example/lo</span><span class="invisible">ng/path</span></a></p>',
            "https://x.example/long/path",
        ),
        ("<p>Safe<script>alert(1)</script> text<style>p{}</style></p>", "Safe text"),
        ("<p>Source\nnewlines   are\tspaces</p>\n<p>Next</p>", "Source newlines   are spaces\n\nNext"),
        ("<ul><li>one</li><li>two</li></ul>", "one\n\ntwo"),
        ("plain, no tags", "plain, no tags"),
        ("<p>unclosed <b>bold", "unclosed bold"),
        ("", ""),
    ],
)
def test_html_to_text(content: str, text: str) -> None:
    assert html_to_text(content) == text


# Bluesky against the fake ----------------------------------------------------------------------


def test_bluesky_timeline_pages_by_cursor(bluesky: tuple[FakeBluesky, BlueskyConnector]) -> None:
    fake, connector = bluesky
    for number in range(120):
        fake.post_from_app(f"Post {number}")
    published = connector.publish("From postguard", "key-1")
    before = fake.requests
    posts = list(connector.timeline())
    assert fake.requests - before == 2  # 100, then 21
    assert [p.text for p in posts] == ["From postguard", *(f"Post {n}" for n in reversed(range(120)))]
    assert posts[0].platform_id == published.remote_id and posts[0].url == published.url
    assert posts[0].version == fake.records["key-1"]["cid"]
    assert posts[1].url.startswith("https://bsky.app/profile/police.example/post/3app")
    assert len(list(connector.timeline(limit=30))) == 30


def test_bluesky_timeline_stops_at_since(bluesky: tuple[FakeBluesky, BlueskyConnector]) -> None:
    fake, connector = bluesky
    fake.post_from_app("Old", created_at=OLD)
    fake.post_from_app("Recent")
    assert [p.text for p in connector.timeline(since=OLD + dt.timedelta(seconds=1))] == ["Recent"]
    assert [p.posted_at for p in connector.timeline()][-1] == OLD


def test_bluesky_an_edit_makes_a_new_version(bluesky: tuple[FakeBluesky, BlueskyConnector]) -> None:
    fake, connector = bluesky
    uri = fake.post_from_app("Before")
    (before,) = connector.timeline()
    new_cid = fake.edit(uri, "After")
    (after,) = connector.timeline()
    assert after.version == new_cid != before.version and after.text == "After"
    (only,) = connector.versions(uri)  # Bluesky keeps no history: the record as it is now
    assert only.text == "After" and only.version == new_cid and only.platform_id == uri


def test_bluesky_deleted_posts_are_gone(bluesky: tuple[FakeBluesky, BlueskyConnector]) -> None:
    fake, connector = bluesky
    kept, dropped = fake.post_from_app("Kept"), fake.post_from_app("Dropped")
    assert connector.exists(dropped)
    fake.delete(dropped)
    assert not connector.exists(dropped) and connector.exists(kept)
    assert [p.platform_id for p in connector.timeline()] == [kept]
    with pytest.raises(ConnectorError, match="not on the server") as caught:
        connector.versions(dropped)
    assert not caught.value.retryable
    with pytest.raises(ConnectorError, match="not an at:// record URI"):
        connector.exists("https://bsky.app/profile/x/post/y")


def test_bluesky_wrong_password_is_an_error_not_a_deletion(
    bluesky: tuple[FakeBluesky, BlueskyConnector],
) -> None:
    fake, _ = bluesky
    uri = fake.post_from_app("Here")
    wrong = BlueskyConnector(fake.url, "police.example:wrong")
    try:
        with pytest.raises(ConnectorError, match="401"):
            wrong.exists(uri)
    finally:
        wrong.close()


# Bluesky against hostile answers ---------------------------------------------------------------

DID = "did:plc:police"


def _post(
    rkey: str, *, did: str = DID, created: object = "2024-05-01T10:00:00.000Z", **record: object
) -> dict[str, object]:
    return {
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": f"bafy{rkey}",
        "author": {"did": did, "handle": "someone"},
        "record": {"$type": "app.bsky.feed.post", "text": f"Post {rkey}", "createdAt": created, **record},
        "indexedAt": "2024-05-01T10:00:01.000Z",
    }


def _bluesky_server(
    feeds: list[object], *, sessions: list[int] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("createSession"):
            if sessions is not None:
                sessions.append(1)
            return httpx.Response(
                200, json={"accessJwt": f"jwt{len(sessions or [])}", "did": DID, "handle": "police.example"}
            )
        answer = feeds.pop(0) if feeds else {"feed": []}
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)

    return handler


def test_bluesky_reposts_and_bad_dates_are_left_out(caplog: pytest.LogCaptureFixture) -> None:
    repost = {
        "post": _post("r1", did="did:plc:other"),
        "reason": {"$type": "app.bsky.feed.defs#reasonRepost"},
    }
    feed = [
        {"post": _post("p3")},
        repost,
        {"post": _post("p2", did="did:plc:other")},
        {"post": _post("bad", created="not a date")},
        {"post": _post("p1")},
    ]
    connector = _bluesky(_bluesky_server([{"feed": feed}]))
    try:
        with caplog.at_level(logging.WARNING):
            assert [p.text for p in connector.timeline()] == ["Post p3", "Post p1"]
    finally:
        connector.close()
    assert "no valid createdAt" in caplog.text


def test_bluesky_embedded_photos_and_videos_are_listed() -> None:
    blob = {"$type": "blob", "ref": {"$link": "bafkreiphoto1"}, "mimeType": "image/jpeg", "size": 10}
    video = {"$type": "blob", "ref": {"$link": "bafkreivideo1"}, "mimeType": "video/mp4", "size": 10}
    posts = [
        _post("a", embed={"$type": "app.bsky.embed.images", "images": [{"image": blob, "alt": ""}, "junk"]}),
        _post(
            "b",
            embed={
                "$type": "app.bsky.embed.recordWithMedia",
                "media": {"$type": "app.bsky.embed.video", "video": video},
            },
        ),
        _post("c", embed={"$type": "app.bsky.embed.images", "images": "junk"}),
    ]
    connector = _bluesky(_bluesky_server([{"feed": [{"post": p} for p in posts]}]))
    try:
        a, b, c = connector.timeline()
    finally:
        connector.close()
    assert [(m.url, m.content_type, m.filename) for m in a.media] == [
        (
            "https://social.example/xrpc/com.atproto.sync.getBlob?did=did:plc:police&cid=bafkreiphoto1",
            "image/jpeg",
            "bafkreiphoto1.jpg",
        )
    ]
    assert [m.content_type for m in b.media] == ["video/mp4"] and c.media == ()


def test_bluesky_cursor_pages_and_a_repeated_cursor_stops() -> None:
    pages: list[object] = [
        {"feed": [{"post": _post("p3")}], "cursor": "c1"},
        {"feed": [{"post": _post("p2")}], "cursor": "c2"},
        {"feed": [{"post": _post("p1")}], "cursor": "c2"},
        {"feed": [{"post": _post("never")}]},
    ]
    seen: list[httpx.Request] = []
    inner = _bluesky_server(pages)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return inner(request)

    connector = _bluesky(handler)
    try:
        assert [p.text for p in connector.timeline()] == ["Post p3", "Post p2", "Post p1"]
    finally:
        connector.close()
    feeds = [r for r in seen if r.url.path.endswith("getAuthorFeed")]
    assert [r.url.params.get("cursor") for r in feeds] == [None, "c1", "c2"]
    assert feeds[0].url.params["actor"] == DID and feeds[0].url.params["limit"] == "100"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx.Response(200, content=b"not json"), "not JSON"),
        ({"feed": "nope"}, "the feed is str"),
        ({"feed": [1]}, "a feed item is int"),
        ({"feed": [{"post": "x"}]}, "post is str"),
        ({"feed": [{"post": {**_post("a"), "author": None}}]}, "author is NoneType"),
        ({"feed": [{"post": {**_post("a"), "uri": "https://nope"}}]}, "not an at:// record URI"),
        ({"feed": [{"post": {**_post("a"), "cid": None}}]}, "has no cid"),
        ({"feed": [{"post": _post("a", text=["x"])}]}, "is not text"),
        ({"feed": [], "cursor": 5}, "cursor is not text"),
        (["a list"], "is list, not an object"),
    ],
)
def test_bluesky_malformed_answers_are_clear_errors(answer: object, message: str) -> None:
    connector = _bluesky(_bluesky_server([answer]))
    try:
        with pytest.raises(ConnectorError, match=message) as caught:
            list(connector.timeline())
        assert not caught.value.retryable
    finally:
        connector.close()


def test_bluesky_session_is_made_once_and_anew_when_it_expired() -> None:
    sessions: list[int] = []
    expired = httpx.Response(400, json={"error": "ExpiredToken", "message": "Token has expired"})
    answers: list[object] = [{"feed": []}, {"uri": "x", "cid": "y", "value": {}}, expired, {"feed": []}]
    connector = _bluesky(_bluesky_server(answers, sessions=sessions))
    try:
        list(connector.timeline())
        assert connector.exists(f"at://{DID}/app.bsky.feed.post/a")
        assert len(sessions) == 1
        list(connector.timeline())  # expired: a new session, then the feed
        assert len(sessions) == 2
    finally:
        connector.close()


def test_bluesky_exists_tells_not_found_from_other_refusals() -> None:
    answers: list[object] = [
        httpx.Response(400, json={"error": "RecordNotFound", "message": "Could not locate record"}),
        httpx.Response(400, json={"error": "InvalidRequest", "message": "bad"}),
        httpx.Response(502, content=b"bad gateway"),
    ]
    connector = _bluesky(_bluesky_server(answers))
    uri = f"at://{DID}/app.bsky.feed.post/a"
    try:
        assert not connector.exists(uri)
        with pytest.raises(ConnectorError, match="400") as refused:
            connector.exists(uri)
        assert not refused.value.retryable
        with pytest.raises(ConnectorError) as down:
            connector.exists(uri)
        assert down.value.retryable
    finally:
        connector.close()


def test_bluesky_session_answer_that_is_not_json_is_a_clear_error() -> None:
    connector = _bluesky(lambda r: httpx.Response(200, content=b"<html>"))
    try:
        with pytest.raises(ConnectorError, match="session answer is not JSON"):
            list(connector.timeline())
    finally:
        connector.close()
