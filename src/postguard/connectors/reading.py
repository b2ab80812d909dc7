"""What the Mastodon and Bluesky connectors share to read an account's posts.

Reading differs from publishing in what a refusal means: a 404 for a status (or a Bluesky
``RecordNotFound``) is an answer, "deleted", not a failure; and everything a server sends
back is input to check, never trusted: a malformed answer raises :class:`ConnectorError`
(not retryable) saying what was wrong, rather than a ``KeyError`` deep in the watch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from postguard.connectors.base import Connector, ConnectorError

__all__ = ["as_dict", "as_list", "fetch", "json_of", "parse_time", "send", "utc"]


def send(
    connector: Connector, request: httpx.Request, *, absent: Callable[[httpx.Response], bool] | None = None
) -> httpx.Response | None:
    """Send ``request``; None when ``absent`` says the answer means "not there" (a 404).

    Timeouts, unreachable servers, 5xx and 429 are retryable; any other 4xx is not.
    """
    response = connector._exchange(request)
    if absent is not None and absent(response):
        response.close()
        return None
    if response.status_code >= 500 or response.status_code == 429:
        raise ConnectorError(f"{connector.name}: the server answered {response.status_code}", retryable=True)
    if response.status_code >= 400:
        raise ConnectorError(
            f"{connector.name}: the server refused to read {request.url.path} "
            f"({response.status_code}: {response.text[:200]})",
            retryable=False,
        )
    return response


def json_of(connector: Connector, response: httpx.Response) -> object:
    """The answer's JSON; a body that is not JSON is a malformed answer (not retryable)."""
    try:
        body: object = response.json()
    except ValueError:
        raise ConnectorError(
            f"{connector.name}: the answer to {response.request.url.path} is not JSON "
            f"({response.text[:80]!r})",
            retryable=False,
        ) from None
    return body


def as_dict(connector: Connector, value: object, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ConnectorError(
            f"{connector.name}: malformed answer: {what} is {type(value).__name__}, not an object",
            retryable=False,
        )
    return value


def as_list(connector: Connector, value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise ConnectorError(
            f"{connector.name}: malformed answer: {what} is {type(value).__name__}, not a list",
            retryable=False,
        )
    return value


def utc(when: dt.datetime) -> dt.datetime:
    """``when`` made aware: a naive time is taken to be UTC."""
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when


def parse_time(value: object) -> dt.datetime | None:
    """An ISO 8601 time as the platforms write it (``...Z``, an offset, or none: UTC), or None
    when ``value`` is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return utc(dt.datetime.fromisoformat(text))
    except ValueError:
        return None


def fetch(connector: Connector, url: str, *, max_bytes: int) -> bytes:
    """The bytes at ``url``, streamed and cut off past ``max_bytes`` (a photo or video the watch
    archives: a server must not make postguard hold an endless body). Redirects are followed, as
    media often sits behind a CDN; no credential is sent (media is public, and may be elsewhere)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConnectorError(
            f"{connector.name}: cannot fetch {url[:200]!r}: not an http(s) address", retryable=False
        )
    too_big = ConnectorError(
        f"{connector.name}: the file at {url[:200]} is larger than {max_bytes} bytes, the most "
        "postguard fetches; it was not fetched",
        retryable=False,
    )
    try:
        with connector.client.stream("GET", url, follow_redirects=True) as response:
            code = response.status_code
            if code >= 500 or code == 429:
                raise ConnectorError(f"{connector.name}: {url[:200]} answered {code}", retryable=True)
            if code >= 300:
                raise ConnectorError(
                    f"{connector.name}: cannot fetch {url[:200]}: the server answered {code}"
                    + (" (it is not there)" if code in (404, 410) else ""),
                    retryable=False,
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise too_big
            chunks, total = [], 0
            for chunk in response.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise too_big
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TooManyRedirects:
        raise ConnectorError(f"{connector.name}: {url[:200]} redirects too often", retryable=False) from None
    except httpx.TimeoutException as exc:
        raise ConnectorError(
            f"{connector.name}: timed out fetching {url[:200]} ({exc})", retryable=True
        ) from None
    except httpx.HTTPError as exc:
        raise ConnectorError(f"{connector.name}: cannot fetch {url[:200]} ({exc})", retryable=True) from None
