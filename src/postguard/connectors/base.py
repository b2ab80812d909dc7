"""The connector contract: what every publishing connector does, and how it fails."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

__all__ = ["Connector", "ConnectorError", "MediaFile", "Published"]

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

    def close(self) -> None:
        self.client.close()

    def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            response = self.client.send(request)
        except httpx.TimeoutException as exc:
            raise ConnectorError(f"{self.name}: timed out ({exc})", retryable=True) from None
        except httpx.HTTPError as exc:
            raise ConnectorError(
                f"{self.name}: cannot reach {self.endpoint} ({exc})", retryable=True
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise ConnectorError(f"{self.name}: the server answered {response.status_code}", retryable=True)
        if response.status_code >= 400:
            raise ConnectorError(
                f"{self.name}: the server refused the post ({response.status_code}: {response.text[:200]})",
                retryable=False,
            )
        return response
