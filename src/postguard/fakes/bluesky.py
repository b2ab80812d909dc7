"""A local fake of the three AT Protocol endpoints the Bluesky connector uses.

``com.atproto.server.createSession`` (identifier and app password),
``com.atproto.repo.getRecord`` and ``com.atproto.repo.createRecord``, which,
like a real PDS, refuses a record key that exists already. It can be told to
answer 503 for the next N requests, or to create a record and then drop the
connection without answering (a lost answer).

For the watch it reads like Bluesky too: ``app.bsky.feed.getAuthorFeed`` (newest first, a
``cursor`` while more remain), ``com.atproto.repo.putRecord`` (an edit: a new CID) and
``com.atproto.repo.deleteRecord``. Tests make posts "from the app" (not through postguard),
edit and delete them with :meth:`FakeBluesky.post_from_app`, :meth:`FakeBluesky.edit` and
:meth:`FakeBluesky.delete`.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from postguard.fakes.base import JsonHandler

__all__ = ["FakeBluesky"]

#: getAuthorFeed's default and largest page, as the lexicon sets them.
DEFAULT_LIMIT, MAX_LIMIT = 50, 100
POST = "app.bsky.feed.post"


class FakeBluesky:
    def __init__(self, identifier: str, password: str, *, did: str = "did:plc:fakepolice") -> None:
        self.identifier, self.password, self.did = identifier, password, did
        self.records: dict[str, dict[str, Any]] = {}
        self.fail_next = 0
        self.drop_next = 0
        self.requests = 0
        self._writes = 0  # numbers each record's CID, so an edit gets a new one
        self._order: dict[str, tuple[int, str]] = {}  # rkey -> (its number, when it was indexed)
        self._lock = threading.Lock()
        fake = self
        token = "fake-access-jwt"

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server names it)
                fake.requests += 1
                url = urlsplit(self.path)
                if url.path not in ("/xrpc/com.atproto.repo.getRecord", "/xrpc/app.bsky.feed.getAuthorFeed"):
                    return self._answer(404, {"error": "MethodNotImplemented"})
                if self.headers.get("Authorization") != f"Bearer {token}":
                    return self._answer(401, {"error": "AuthRequired"})
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/xrpc/app.bsky.feed.getAuthorFeed":
                    if fake.fail_next:
                        fake.fail_next -= 1
                        return self._answer(503, {"error": "Unavailable"})
                    code, answer = fake.author_feed(query)
                    return self._answer(code, answer)
                record = fake.records.get(query.get("rkey", ""))
                if record is None or query.get("repo") != fake.did:
                    return self._answer(
                        400, {"error": "RecordNotFound", "message": "Could not locate record"}
                    )
                return self._answer(200, record)

            def do_POST(self) -> None:  # noqa: N802 (http.server names it)
                fake.requests += 1
                length = int(self.headers.get("Content-Length", "0"))
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return self._answer(400, {"error": "InvalidRequest", "message": "bad JSON"})
                if self.path == "/xrpc/com.atproto.server.createSession":
                    if body.get("identifier") != fake.identifier or body.get("password") != fake.password:
                        return self._answer(401, {"error": "AuthenticationRequired"})
                    return self._answer(
                        200,
                        {"accessJwt": token, "refreshJwt": "r", "did": fake.did, "handle": fake.identifier},
                    )
                writes = ("createRecord", "putRecord", "deleteRecord")
                if self.path not in {f"/xrpc/com.atproto.repo.{name}" for name in writes}:
                    return self._answer(404, {"error": "MethodNotImplemented"})
                if self.headers.get("Authorization") != f"Bearer {token}":
                    return self._answer(401, {"error": "AuthRequired"})
                if fake.fail_next:
                    fake.fail_next -= 1
                    return self._answer(503, {"error": "Unavailable"})
                rkey = str(body.get("rkey", ""))
                if self.path == "/xrpc/com.atproto.repo.deleteRecord":
                    if body.get("repo") != fake.did or not rkey:
                        return self._answer(400, {"error": "InvalidRequest"})
                    fake.delete(rkey, missing_ok=True)  # as on a PDS: deleting what is gone is no error
                    return self._answer(200, {})
                record = body.get("record") or {}
                if not isinstance(record, dict) or body.get("repo") != fake.did or not rkey:
                    return self._answer(400, {"error": "InvalidRequest"})
                if not str(record.get("text", "")):
                    return self._answer(400, {"error": "InvalidRequest"})
                if self.path == "/xrpc/com.atproto.repo.putRecord":  # creates or replaces: a new CID
                    uri, cid = fake.put(str(body.get("collection")), rkey, record)
                    return self._answer(200, {"uri": uri, "cid": cid})
                if rkey in fake.records:
                    return self._answer(400, {"error": "InvalidRequest", "message": "Record already exists"})
                uri, _ = fake.put(str(body.get("collection")), rkey, record)
                if fake.drop_next:
                    fake.drop_next -= 1
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                return self._answer(200, {"uri": uri, "cid": fake.records[rkey]["cid"]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def put(self, collection: str, rkey: str, record: dict[str, Any]) -> tuple[str, str]:
        """Create or replace the record ``rkey``: its URI and its new CID."""
        with self._lock:
            uri = f"at://{self.did}/{collection}/{rkey}"
            cid = f"bafy{self._writes}"
            self._writes += 1
            self.records[rkey] = {"uri": uri, "cid": cid, "value": record}
            if rkey not in self._order:
                self._order[rkey] = (len(self._order), _timestamp(dt.datetime.now(dt.UTC)))
            return uri, cid

    def post_from_app(self, text: str, *, created_at: dt.datetime | None = None) -> str:
        """A post made in the Bluesky app (not through postguard); ``created_at`` backdates it.
        Its ``at://`` URI."""
        when = created_at or dt.datetime.now(dt.UTC)
        when = when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when
        rkey = f"3app{self._writes:09d}"
        record = {"$type": POST, "text": text, "createdAt": _timestamp(when)}
        return self.put(POST, rkey, record)[0]

    def edit(self, rkey_or_uri: str, text: str) -> str:
        """Replace a post's text (as putRecord does): its new CID."""
        rkey = _rkey(rkey_or_uri)
        found = self.records.get(rkey)
        if found is None:
            raise LookupError(f"the fake Bluesky has no record {rkey_or_uri!r}")
        return self.put(found["uri"].split("/")[-2], rkey, {**found["value"], "text": text})[1]

    def delete(self, rkey_or_uri: str, *, missing_ok: bool = False) -> None:
        """Delete a post: gone from getRecord and getAuthorFeed."""
        rkey = _rkey(rkey_or_uri)
        with self._lock:
            if self.records.pop(rkey, None) is None and not missing_ok:
                raise LookupError(f"the fake Bluesky has no record {rkey_or_uri!r}")
            self._order.pop(rkey, None)

    def author_feed(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """``app.bsky.feed.getAuthorFeed``: the account's posts newest first (by the earlier of
        ``createdAt`` and when it was indexed, as the app view sorts), ``limit`` (1 to 100) at a time,
        a ``cursor`` while more remain. Other actors are not found; limits out of range refused."""
        actor = query.get("actor", "")
        if actor not in (self.did, self.identifier):
            return 400, {"error": "InvalidRequest", "message": "Profile not found"}
        raw_limit = query.get("limit", str(DEFAULT_LIMIT))
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIMIT:
            return 400, {"error": "InvalidRequest", "message": f"limit must be 1 to {MAX_LIMIT}"}
        limit = int(raw_limit)
        with self._lock:
            posts = [
                (_sort_key(record, *self._order[rkey]), rkey, record)
                for rkey, record in self.records.items()
                if record["uri"].split("/")[-2] == POST
            ]
        posts.sort(key=lambda item: item[0], reverse=True)
        cursor = query.get("cursor")
        if cursor is not None:
            try:
                ms, number = (int(part) for part in cursor.split("::"))
            except ValueError:
                return 400, {"error": "InvalidRequest", "message": "Malformed cursor"}
            posts = [item for item in posts if item[0] < (ms, number)]
        page = posts[:limit]
        feed = [
            {
                "post": {
                    "uri": record["uri"],
                    "cid": record["cid"],
                    "author": {"did": self.did, "handle": self.identifier, "displayName": "Police (fake)"},
                    "record": record["value"],
                    "replyCount": 0,
                    "repostCount": 0,
                    "likeCount": 0,
                    "indexedAt": self._order[rkey][1],
                    "labels": [],
                }
            }
            for _, rkey, record in page
        ]
        answer: dict[str, Any] = {"feed": feed}
        if len(posts) > limit:
            ms, number = page[-1][0]
            answer["cursor"] = f"{ms}::{number}"
        return 200, answer

    @property
    def texts(self) -> list[str]:
        return [str(r["value"]["text"]) for r in self.records.values()]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _timestamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _rkey(rkey_or_uri: str) -> str:
    return rkey_or_uri.rsplit("/", 1)[-1]


def _sort_key(record: dict[str, Any], number: int, indexed_at: str) -> tuple[int, int]:
    """Where a post sorts in the feed: the earlier of its ``createdAt`` (when it parses) and when it
    was indexed, in milliseconds, then the order it came in."""
    indexed = dt.datetime.fromisoformat(indexed_at)
    try:
        created = dt.datetime.fromisoformat(str(record["value"].get("createdAt")))
        created = created.replace(tzinfo=dt.UTC) if created.tzinfo is None else created
    except ValueError:
        created = indexed
    return int(min(created, indexed).timestamp() * 1000), number
