"""Bluesky (AT Protocol): a session, then ``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post``.

The credential is ``identifier:app-password`` (a handle or DID and an app
password made for the department's account). The idempotency key becomes the
record key (``rkey``), so the post has a name chosen before it is sent: a
retry first asks for that record and, if the lost attempt did land, returns it
instead of posting again.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import httpx

from postguard.connectors.base import Connector, ConnectorError, Published

__all__ = ["MAX_GRAPHEMES", "BlueskyConnector", "record_key"]

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

    def publish(self, text: str, idempotency_key: str) -> Published:
        if _graphemes(text) > MAX_GRAPHEMES:
            raise ConnectorError(
                f"bluesky: the post is longer than Bluesky's {MAX_GRAPHEMES} characters", retryable=False
            )
        identifier, sep, password = self.credential.partition(":")
        if not sep or not identifier or not password:
            raise ConnectorError("bluesky: the credential must be 'identifier:app-password'", retryable=False)
        session = self._send(
            httpx.Request(
                "POST",
                f"{self.endpoint}/xrpc/com.atproto.server.createSession",
                json={"identifier": identifier, "password": password},
            )
        ).json()
        if not isinstance(session, dict) or not session.get("accessJwt") or not session.get("did"):
            raise ConnectorError("bluesky: the session answer has no token", retryable=False)
        did, auth = str(session["did"]), {"Authorization": f"Bearer {session['accessJwt']}"}
        handle = str(session.get("handle") or did)
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
