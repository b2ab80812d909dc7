"""Mastodon: POST /api/v1/statuses with the account's access token and an Idempotency-Key.

Photos and videos are uploaded first (``POST /api/v2/media``, multipart, one each), and
the status names them in ``media_ids[]``.

Reading (the watch): the account is the token's (``verify_credentials``); its statuses are
paged newest first with ``max_id`` (``GET /api/v1/accounts/ID/statuses``), an edit's
versions come from ``/history``, and Mastodon's HTML ``content`` is turned back into the
plain text that was posted (:func:`html_to_text`).
"""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
import re
from collections.abc import Iterator, Sequence
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import httpx

from postguard.connectors import reading
from postguard.connectors.base import Connector, ConnectorError, MediaFile, Published, RemoteMedia, RemotePost

__all__ = ["PAGE", "MastodonConnector", "html_to_text"]

log = logging.getLogger(__name__)

#: Mastodon's largest page of an account's statuses.
PAGE = 40
_STATUS_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_BLOCKS = {"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol"}


class _Text(HTMLParser):
    """Collects the text of Mastodon's HTML: ``<br>`` a line break, a new paragraph (or other
    block) a blank line, links their text (hidden spans included: Mastodon hides ``https://``
    there), entities decoded; scripts and styles dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS and self.parts:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"[\r\n\t]+", " ", data))  # a newline in HTML source is a space


def html_to_text(content: str) -> str:
    """Mastodon's HTML ``content`` as plain text: what was typed, line breaks and links kept."""
    parser = _Text()
    parser.feed(content)
    parser.close()
    text = re.sub(r"\n{3,}", "\n\n", "".join(parser.parts))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def with_warning(text: str, warning: str) -> str:
    """A status's text as checked and kept: its content warning (``spoiler_text``), when it has one,
    as the first paragraph, since it is published too (the archive import does the same)."""
    warning = warning.strip()
    if not warning:
        return text
    return f"{warning}\n\n{text}" if text else warning


class MastodonConnector(Connector):
    name = "mastodon"
    can_read = True
    _account: str | None = None

    def publish(self, text: str, idempotency_key: str) -> Published:
        return self.publish_with_media(text, idempotency_key, ())

    def publish_with_media(self, text: str, idempotency_key: str, media: Sequence[MediaFile]) -> Published:
        ids = [self._upload(item) for item in media]
        form: dict[str, str | list[str]] = {"status": text, "visibility": "public"}
        if ids:
            form["media_ids[]"] = ids
        request = httpx.Request(
            "POST",
            f"{self.endpoint}/api/v1/statuses",
            headers={"Authorization": f"Bearer {self.credential}", "Idempotency-Key": idempotency_key},
            data=form,
        )
        body = self._send(request).json()
        if not isinstance(body, dict) or "id" not in body:
            raise ConnectorError("mastodon: the answer has no status id", retryable=False)
        return Published(str(body["id"]), str(body.get("url") or ""))

    def _upload(self, item: MediaFile) -> str:
        """Upload one photo or video; its media id."""
        request = self.client.build_request(
            "POST",
            f"{self.endpoint}/api/v2/media",
            headers={"Authorization": f"Bearer {self.credential}"},
            files={"file": (item.filename, item.data, item.content_type)},
        )
        body = self._send(request).json()
        if not isinstance(body, dict) or "id" not in body:
            raise ConnectorError("mastodon: the media upload's answer has no id", retryable=False)
        return str(body["id"])

    # Reading the account's posts (the watch) -----------------------------------------------------

    def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Request:
        return httpx.Request(
            "GET",
            f"{self.endpoint}{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.credential}"},
        )

    def _account_id(self) -> str:
        """The id of the token's account (asked once, then kept)."""
        if self._account is None:
            response = reading.send(self, self._get("/api/v1/accounts/verify_credentials"))
            assert response is not None
            account = reading.as_dict(self, reading.json_of(self, response), "the account")
            self._account = _identifier(account.get("id"), "the account's id")
        return self._account

    def timeline(self, *, since: dt.datetime | None = None, limit: int = 400) -> Iterator[RemotePost]:
        if limit <= 0:
            return
        cutoff = reading.utc(since) if since is not None else None
        account, size = self._account_id(), min(PAGE, limit)
        max_id: str | None = None
        seen: set[str] = set()
        count = 0
        for _ in range(-(-limit // size) + 10):  # reblogs left out may take a few more pages
            params = {"limit": str(size), "exclude_reblogs": "true"}
            if max_id is not None:
                params["max_id"] = max_id
            response = reading.send(self, self._get(f"/api/v1/accounts/{account}/statuses", params))
            assert response is not None
            page = reading.as_list(self, reading.json_of(self, response), "the list of statuses")
            if not page:
                return
            for item in page:
                status = reading.as_dict(self, item, "a status in the list")
                if status.get("reblog") is not None:  # another account's post, boosted
                    continue
                post = self._remote(status)
                if cutoff is not None and post.posted_at < cutoff:
                    return
                yield post
                count += 1
                if count >= limit:
                    return
            following = _next_max_id(response)
            if following is None and "link" in response.headers:  # paged, and no next page: the end
                return
            if following is None:  # a server that does not page with Link: older than the last one
                last = reading.as_dict(self, page[-1], "a status in the list")
                following = _identifier(last.get("id"), "a status's id")
            if following in seen:
                return
            seen.add(following)
            max_id = following
        log.warning("mastodon: stopped reading %s after %d pages", self.endpoint, len(seen) + 1)

    def versions(self, remote_id: str) -> list[RemotePost]:
        status_id = _status_id(remote_id)
        gone = ConnectorError(
            f"mastodon: status {status_id} is not on the server (deleted?)", retryable=False
        )
        history = reading.send(self, self._get(f"/api/v1/statuses/{status_id}/history"), absent=_missing)
        if history is None:
            raise gone
        items = reading.as_list(self, reading.json_of(self, history), "the status's history")
        current = reading.send(self, self._get(f"/api/v1/statuses/{status_id}"), absent=_missing)
        if current is None:
            raise gone
        now = self._remote(reading.as_dict(self, reading.json_of(self, current), "the status"))
        if not items:  # a server that keeps no history: the status as it is
            return [now]
        versions = []
        for number, item in enumerate(items):
            version = reading.as_dict(self, item, "a version in the history")
            at = _time(version.get("created_at"), "a version's created_at")
            versions.append(
                RemotePost(
                    platform_id=now.platform_id,
                    url=now.url,
                    text=with_warning(
                        html_to_text(_string(version.get("content"), "a version's content")),
                        _string(version.get("spoiler_text") or "", "a version's spoiler_text"),
                    ),
                    posted_at=at,
                    edited_at=None if number == 0 else at,
                    version="" if number == 0 else at.isoformat(),
                    media=_media(version.get("media_attachments")),
                )
            )
        return versions

    def exists(self, remote_id: str) -> bool:
        status_id = _status_id(remote_id)
        return reading.send(self, self._get(f"/api/v1/statuses/{status_id}"), absent=_missing) is not None

    def fetch(self, url: str, *, max_bytes: int) -> bytes:
        return reading.fetch(self, url, max_bytes=max_bytes)

    def _remote(self, status: dict[str, object]) -> RemotePost:
        """A status of the API as a :class:`RemotePost`; a malformed one raises ConnectorError."""
        edited_raw = status.get("edited_at")
        edited = None if edited_raw is None else _time(edited_raw, "a status's edited_at")
        url = status.get("url") or status.get("uri") or ""
        return RemotePost(
            platform_id=_identifier(status.get("id"), "a status's id"),
            url=_string(url, "a status's url"),
            text=with_warning(
                html_to_text(_string(status.get("content"), "a status's content")),
                _string(status.get("spoiler_text") or "", "a status's spoiler_text"),
            ),
            posted_at=_time(status.get("created_at"), "a status's created_at"),
            edited_at=edited,
            version=edited.isoformat() if edited is not None else "",
            media=_media(status.get("media_attachments")),
        )


def _missing(response: httpx.Response) -> bool:
    return response.status_code in (404, 410)


def _status_id(remote_id: str) -> str:
    if not _STATUS_ID.match(remote_id):
        raise ConnectorError(f"mastodon: {remote_id[:80]!r} is not a status id", retryable=False)
    return remote_id


def _identifier(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int) or not _STATUS_ID.match(str(value)):
        raise ConnectorError(f"mastodon: malformed answer: {what} is {str(value)[:80]!r}", retryable=False)
    return str(value)


def _string(value: object, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConnectorError(
            f"mastodon: malformed answer: {what} is {type(value).__name__}, not text", retryable=False
        )
    return value


def _time(value: object, what: str) -> dt.datetime:
    when = reading.parse_time(value)
    if when is None:
        raise ConnectorError(f"mastodon: malformed answer: {what} is {str(value)[:80]!r}", retryable=False)
    return when


def _media(value: object) -> tuple[RemoteMedia, ...]:
    """The photos and videos of a status (those with a URL: one still processing has none yet)."""
    if value is None:
        return ()
    items = []
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, dict):
            raise ConnectorError(
                "mastodon: malformed answer: a media attachment is not an object", retryable=False
            )
        url = item.get("url") or item.get("remote_url")
        if not isinstance(url, str) or not url:
            continue
        name = urlsplit(url).path.rsplit("/", 1)[-1]
        given_type, given_name = item.get("content_type"), item.get("filename")
        kind = given_type if isinstance(given_type, str) else mimetypes.guess_type(name)[0] or ""
        items.append(RemoteMedia(url, kind, given_name if isinstance(given_name, str) else name))
    return tuple(items)


def _next_max_id(response: httpx.Response) -> str | None:
    """The ``max_id`` of the ``Link`` header's ``rel="next"`` (only the id is taken: the next
    request goes to the account's own server, never to an address the answer names)."""
    try:
        link = response.links.get("next", {}).get("url", "")
    except (ValueError, KeyError):
        return None
    found = parse_qs(urlsplit(link).query).get("max_id") if link else None
    return found[0] if found and _STATUS_ID.match(found[0]) else None
