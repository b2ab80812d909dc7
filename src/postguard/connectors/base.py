"""The connector contract: what every publishing connector does, and how it fails."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx

__all__ = ["Connector", "ConnectorError", "MediaFile", "Published", "RemoteMedia", "RemotePost"]

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True)
class Published:
    remote_id: str
    url: str = ""


@dataclass(frozen=True)
class MediaFile:
    """A photo or video to publish with the text: its store ref (``sha256:...``), a file name,
    its content type and its bytes."""

    ref: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class RemoteMedia:
    """A photo or video attached to a post on the platform: where to fetch it, and what it is."""

    url: str
    content_type: str = ""
    filename: str = ""


@dataclass(frozen=True)
class RemotePost:
    """One post as the platform serves it now (the watch reads these; see :mod:`postguard.watch`).

    ``platform_id`` is what :attr:`Published.remote_id` holds for a post postguard made (a Mastodon
    status id, a Bluesky ``at://`` URI), so a post is matched to its publication by it.
    ``version`` changes whenever the post is edited (Mastodon's ``edited_at``, a Bluesky record's
    CID); ``text`` is plain text (Mastodon's HTML turned into text, links and line breaks kept).
    """

    platform_id: str
    url: str
    text: str
    posted_at: dt.datetime
    edited_at: dt.datetime | None = None
    version: str = ""
    media: tuple[RemoteMedia, ...] = ()


class ConnectorError(Exception):
    """A publish that failed; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Connector(ABC):
    """Publishes text to one account of one service."""

    name: str = ""

    def __init__(
        self, endpoint: str, credential: str, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.credential = credential
        self.client = httpx.Client(timeout=TIMEOUT, transport=transport, follow_redirects=False)

    @abstractmethod
    def publish(self, text: str, idempotency_key: str) -> Published:
        """Post ``text``; the same ``idempotency_key`` never posts twice."""

    def publish_with_media(self, text: str, idempotency_key: str, media: Sequence[MediaFile]) -> Published:
        """Post ``text`` with the photos and videos ``media``. A connector that cannot publish media
        refuses (not retryable) rather than post the text without them."""
        if not media:
            return self.publish(text, idempotency_key)
        raise ConnectorError(
            f"{self.name}: this connector does not publish photos or videos; remove the attachments "
            "or publish to another account",
            retryable=False,
        )

    #: Whether :meth:`timeline` reads the account's posts (the webhook connector has nothing to read).
    can_read: bool = False

    def timeline(self, *, since: dt.datetime | None = None, limit: int = 400) -> Iterator[RemotePost]:
        """The account's own posts, newest first, page by page: those posted at or after ``since``
        (all when None), at most ``limit``. Reposts of other accounts' posts are left out."""
        raise ConnectorError(f"{self.name}: this connector cannot read the account's posts", retryable=False)

    def versions(self, remote_id: str) -> list[RemotePost]:
        """Every version of the post ``remote_id``, oldest first (the platform's edit history); one
        item where the platform keeps none. Raises :class:`ConnectorError` when it is not there."""
        raise ConnectorError(f"{self.name}: this connector cannot read the account's posts", retryable=False)

    def exists(self, remote_id: str) -> bool:
        """Whether the post ``remote_id`` is still on the platform (False: it was deleted)."""
        raise ConnectorError(f"{self.name}: this connector cannot read the account's posts", retryable=False)

    def fetch(self, url: str, *, max_bytes: int) -> bytes:
        """The bytes at ``url`` (a post's photo or video), at most ``max_bytes``."""
        raise ConnectorError(f"{self.name}: this connector cannot read the account's posts", retryable=False)

    def close(self) -> None:
        self.client.close()

    def _exchange(self, request: httpx.Request) -> httpx.Response:
        """The answer to ``request``: a timeout or an unreachable server is a retryable failure."""
        try:
            return self.client.send(request)
        except httpx.TimeoutException as exc:
            raise ConnectorError(f"{self.name}: timed out ({exc})", retryable=True) from None
        except httpx.HTTPError as exc:
            raise ConnectorError(
                f"{self.name}: cannot reach {self.endpoint} ({exc})", retryable=True
            ) from None

    def _send(self, request: httpx.Request) -> httpx.Response:
        response = self._exchange(request)
        if response.status_code >= 500 or response.status_code == 429:
            raise ConnectorError(f"{self.name}: the server answered {response.status_code}", retryable=True)
        if response.status_code >= 400:
            raise ConnectorError(
                f"{self.name}: the server refused the post ({response.status_code}: {response.text[:200]})",
                retryable=False,
            )
        return response
