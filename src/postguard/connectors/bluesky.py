"""Bluesky (AT Protocol): a session, then ``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post``.

The credential is ``identifier:app-password`` (a handle or DID and an app
password made for the department's account). The idempotency key becomes the
record key (``rkey``), so the post has a name chosen before it is sent: a
retry first asks for that record and, if the lost attempt did land, returns it
instead of posting again.

Reading (the watch): ``app.bsky.feed.getAuthorFeed`` for the session's DID, paged by its
``cursor``; a post's id is its ``at://`` URI (what :meth:`BlueskyConnector.publish`
returns), its version its record's CID (an edit, ``putRecord``, makes a new one). Bluesky
keeps no edit history, so :meth:`BlueskyConnector.versions` gives the record as it is now.
The session is made once per connector and kept.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import mimetypes
import re
import unicodedata
from collections.abc import Iterator

import httpx

from postguard.connectors import reading
from postguard.connectors.base import Connector, ConnectorError, Published, RemoteMedia, RemotePost

__all__ = ["MAX_GRAPHEMES", "PAGE", "BlueskyConnector", "record_key"]

log = logging.getLogger(__name__)

#: getAuthorFeed's largest page.
PAGE = 100
_URI = re.compile(r"^at://([^/]+)/([^/]+)/([A-Za-z0-9._:~-]{1,512})$")

#: Bluesky's limit on a post's text, in grapheme clusters (approximated by base characters).
MAX_GRAPHEMES = 300
COLLECTION = "app.bsky.feed.post"


def record_key(idempotency_key: str) -> str:
    """A valid AT record key made from the idempotency key (letters, digits and ``._:~-``)."""
    key = re.sub(r"[^A-Za-z0-9._:~-]", "-", idempotency_key)[:512]
    return key if key not in ("", ".", "..") else "postguard"


def _graphemes(text: str) -> int:
    return sum(1 for ch in unicodedata.normalize("NFC", text) if unicodedata.combining(ch) == 0)


class BlueskyConnector(Connector):
    name = "bluesky"
    can_read = True
    _cached: tuple[str, str, dict[str, str]] | None = None

    def publish(self, text: str, idempotency_key: str) -> Published:
        if _graphemes(text) > MAX_GRAPHEMES:
            raise ConnectorError(
                f"bluesky: the post is longer than Bluesky's {MAX_GRAPHEMES} characters", retryable=False
            )
        did, handle, auth = self._session()
        rkey = record_key(idempotency_key)
        existing = self._lookup(did, rkey, auth)
        if existing is not None:
            return self._published(existing, handle, rkey)
        created = self._send(
            httpx.Request(
                "POST",
                f"{self.endpoint}/xrpc/com.atproto.repo.createRecord",
                headers=auth,
                json={
                    "repo": did,
                    "collection": COLLECTION,
                    "rkey": rkey,
                    "record": {
                        "$type": COLLECTION,
                        "text": text,
                        "createdAt": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                    },
                },
            )
        ).json()
        return self._published(created, handle, rkey)

    def _session(self, *, fresh: bool = False) -> tuple[str, str, dict[str, str]]:
        """The account's DID, handle and authorisation header (``createSession``, made once: the
        PDS limits how often sessions are made; ``fresh`` makes a new one when it expired)."""
        if self._cached is not None and not fresh:
            return self._cached
        identifier, sep, password = self.credential.partition(":")
        if not sep or not identifier or not password:
            raise ConnectorError("bluesky: the credential must be 'identifier:app-password'", retryable=False)
        try:
            session = self._send(
                httpx.Request(
                    "POST",
                    f"{self.endpoint}/xrpc/com.atproto.server.createSession",
                    json={"identifier": identifier, "password": password},
                )
            ).json()
        except ValueError:
            raise ConnectorError("bluesky: the session answer is not JSON", retryable=False) from None
        if not isinstance(session, dict) or not session.get("accessJwt") or not session.get("did"):
            raise ConnectorError("bluesky: the session answer has no token", retryable=False)
        did, auth = str(session["did"]), {"Authorization": f"Bearer {session['accessJwt']}"}
        self._cached = (did, str(session.get("handle") or did), auth)
        return self._cached

    def _read(self, method: str, params: dict[str, str], *, absent: bool = False) -> dict[str, object] | None:
        """GET ``method`` with the session: its answer (an object), or None for ``RecordNotFound``
        when ``absent`` (otherwise that is an error). An expired session is made anew once."""
        for attempt in range(2):
            auth = self._session(fresh=attempt > 0)[2]
            request = httpx.Request("GET", f"{self.endpoint}/xrpc/{method}", params=params, headers=auth)
            refusals: list[str] = []
            response = reading.send(self, request, absent=functools.partial(_refused, seen=refusals))
            if response is not None:
                return reading.as_dict(self, reading.json_of(self, response), f"the answer to {method}")
            if refusals == ["RecordNotFound"]:
                if absent:
                    return None
                raise ConnectorError(
                    f"bluesky: {params.get('rkey', 'the record')} is not there", retryable=False
                )
        raise ConnectorError("bluesky: the session expired, and again once made anew", retryable=True)

    def _lookup(self, did: str, rkey: str, auth: dict[str, str]) -> object | None:
        """The record a lost earlier attempt made, or None (a 400 RecordNotFound)."""
        request = httpx.Request(
            "GET",
            f"{self.endpoint}/xrpc/com.atproto.repo.getRecord",
            params={"repo": did, "collection": COLLECTION, "rkey": rkey},
            headers=auth,
        )
        try:
            found: object = self._send(request).json()
            return found
        except ConnectorError as exc:
            if exc.retryable:
                raise
            return None

    @staticmethod
    def _published(answer: object, handle: str, rkey: str) -> Published:
        if not isinstance(answer, dict) or not answer.get("uri"):
            raise ConnectorError("bluesky: the answer has no record uri", retryable=False)
        return Published(str(answer["uri"]), f"https://bsky.app/profile/{handle}/post/{rkey}")

    # Reading the account's posts (the watch) -----------------------------------------------------

    def timeline(self, *, since: dt.datetime | None = None, limit: int = 400) -> Iterator[RemotePost]:
        if limit <= 0:
            return
        cutoff = reading.utc(since) if since is not None else None
        did, handle, _ = self._session()
        cursor: str | None = None
        seen: set[str] = set()
        count = 0
        for _ in range(-(-limit // min(PAGE, limit)) + 10):  # reposts left out may take a few more pages
            params = {"actor": did, "limit": str(min(PAGE, limit))}
            if cursor is not None:
                params["cursor"] = cursor
            body = self._read("app.bsky.feed.getAuthorFeed", params)
            assert body is not None
            for item in reading.as_list(self, body.get("feed"), "the feed"):
                entry = reading.as_dict(self, item, "a feed item")
                if entry.get("reason") is not None:  # a repost (or a pin): not a post of the account's
                    continue
                post = reading.as_dict(self, entry.get("post"), "a feed item's post")
                author = reading.as_dict(self, post.get("author"), "a post's author")
                if author.get("did") != did:
                    continue
                remote = self._remote(post, handle)
                if remote is None:
                    continue
                if cutoff is not None and remote.posted_at < cutoff:
                    return
                yield remote
                count += 1
                if count >= limit:
                    return
            following = body.get("cursor")
            if following is None or following == "":
                return
            if not isinstance(following, str):
                raise ConnectorError(
                    "bluesky: malformed answer: the feed's cursor is not text", retryable=False
                )
            if following in seen:
                return
            seen.add(following)
            cursor = following
        log.warning("bluesky: stopped reading %s after %d pages", self.endpoint, len(seen) + 1)

    def versions(self, remote_id: str) -> list[RemotePost]:
        repo, collection, rkey = _parse_uri(remote_id)
        handle = self._session()[1]
        found = self._read(
            "com.atproto.repo.getRecord", {"repo": repo, "collection": collection, "rkey": rkey}, absent=True
        )
        if found is None:
            raise ConnectorError(f"bluesky: {remote_id} is not on the server (deleted?)", retryable=False)
        post = self._remote({**found, "record": found.get("value")}, handle)
        if post is None:
            raise ConnectorError(f"bluesky: {remote_id} has no valid createdAt", retryable=False)
        return [post]

    def exists(self, remote_id: str) -> bool:
        repo, collection, rkey = _parse_uri(remote_id)
        params = {"repo": repo, "collection": collection, "rkey": rkey}
        return self._read("com.atproto.repo.getRecord", params, absent=True) is not None

    def fetch(self, url: str, *, max_bytes: int) -> bytes:
        return reading.fetch(self, url, max_bytes=max_bytes)

    def _remote(self, post: dict[str, object], handle: str) -> RemotePost | None:
        """A post of the feed (or a record of getRecord) as a :class:`RemotePost`; None, with a
        warning, when its ``createdAt`` (written by whichever app made it) is not a time."""
        uri = post.get("uri")
        if not isinstance(uri, str):
            raise ConnectorError("bluesky: malformed answer: a post has no uri", retryable=False)
        repo, _, rkey = _parse_uri(uri)
        cid = post.get("cid")
        if not isinstance(cid, str) or not cid:
            raise ConnectorError(f"bluesky: malformed answer: {uri} has no cid", retryable=False)
        record = reading.as_dict(self, post.get("record"), f"the record of {uri}")
        text = record.get("text", "")
        if not isinstance(text, str):
            raise ConnectorError(f"bluesky: malformed answer: the text of {uri} is not text", retryable=False)
        posted = reading.parse_time(record.get("createdAt"))
        if posted is None:
            log.warning("bluesky: %s has no valid createdAt (%r); left out", uri, record.get("createdAt"))
            return None
        return RemotePost(
            platform_id=uri,
            url=f"https://bsky.app/profile/{handle}/post/{rkey}",
            text=text,
            posted_at=posted,
            version=cid,
            media=tuple(
                RemoteMedia(
                    f"{self.endpoint}/xrpc/com.atproto.sync.getBlob?did={repo}&cid={blob}",
                    kind,
                    f"{blob}{mimetypes.guess_extension(kind) or ''}",
                )
                for blob, kind in _blobs(record.get("embed"))
            ),
        )


def _refused(response: httpx.Response, seen: list[str]) -> bool:
    """Whether the answer is an expired session or ``RecordNotFound`` (noted in ``seen``)."""
    if response.status_code not in (400, 401):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    if error in ("ExpiredToken", "RecordNotFound"):
        seen.append(str(error))
        return True
    return False


def _parse_uri(uri: str) -> tuple[str, str, str]:
    """An ``at://`` URI's repo, collection and record key."""
    found = _URI.match(uri)
    if found is None:
        raise ConnectorError(f"bluesky: {uri[:120]!r} is not an at:// record URI", retryable=False)
    return found.group(1), found.group(2), found.group(3)


def _blobs(embed: object) -> list[tuple[str, str]]:
    """The photos and videos a post's record embeds: (blob CID, content type). Embeds are
    written by the app that made the post, so what does not parse is passed over."""
    if not isinstance(embed, dict):
        return []
    kind = embed.get("$type")
    if kind == "app.bsky.embed.recordWithMedia":
        return _blobs(embed.get("media"))
    if kind == "app.bsky.embed.video":
        blobs = [embed.get("video")]
    elif kind == "app.bsky.embed.images":
        images = embed.get("images")
        blobs = [i.get("image") for i in images if isinstance(i, dict)] if isinstance(images, list) else []
    else:
        return []
    found = []
    for blob in blobs:
        if not isinstance(blob, dict):
            continue
        ref = blob.get("ref")
        link = ref.get("$link") if isinstance(ref, dict) else blob.get("cid")  # old records: "cid"
        mime = blob.get("mimeType")
        if isinstance(link, str) and re.fullmatch(r"[A-Za-z0-9]{8,128}", link):
            found.append((link, mime if isinstance(mime, str) else ""))
    return found
