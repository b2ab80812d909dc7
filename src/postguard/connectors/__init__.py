"""Publishing connectors: one small interface, one module per service.

::

    Connector.publish(text, idempotency_key) -> Published(remote_id, url)
    Connector.publish_with_media(text, idempotency_key, media) -> Published

Mastodon uploads each photo or video (``POST /api/v2/media``) and posts the status with
their ``media_ids[]``; the webhook sends each file's ref, type, size and bytes (base64);
Bluesky refuses media (not retryable) rather than post the text without it.

A connector raises :class:`ConnectorError` with ``retryable`` set when trying
again may help (a timeout, a 5xx, a 429), and unset when it cannot (bad
credentials, a rejected post). Every request carries the idempotency key, so
a retry after a lost answer cannot post twice.

The watch (issue 14) reads with the same connectors::

    Connector.timeline(since=..., limit=...) -> Iterator[RemotePost]   (newest first, paged)
    Connector.versions(remote_id) -> [RemotePost]                        (edit history, oldest first)
    Connector.exists(remote_id) -> bool                                  (False: deleted)
"""

from postguard.connectors.base import (
    Connector,
    ConnectorError,
    MediaFile,
    Published,
    RemoteMedia,
    RemotePost,
)
from postguard.connectors.factory import KINDS, connector_for

__all__ = [
    "KINDS",
    "Connector",
    "ConnectorError",
    "MediaFile",
    "Published",
    "RemoteMedia",
    "RemotePost",
    "connector_for",
]
