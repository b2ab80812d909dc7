"""Picking the connector for an account by its kind (``mastodon``, ``bluesky``, ``webhook``)."""

from __future__ import annotations

from postguard.connectors.base import Connector, ConnectorError
from postguard.connectors.bluesky import BlueskyConnector
from postguard.connectors.mastodon import MastodonConnector
from postguard.connectors.webhook import WebhookConnector

__all__ = ["KINDS", "connector_for"]

KINDS: dict[str, type[Connector]] = {
    "mastodon": MastodonConnector,
    "bluesky": BlueskyConnector,
    "webhook": WebhookConnector,
}


def connector_for(kind: str, endpoint: str, credential: str, **options: object) -> Connector:
    """A connector of ``kind`` for ``endpoint``, authenticated with ``credential``."""
    if kind not in KINDS:
        raise ConnectorError(f"no connector '{kind}'; known: {', '.join(KINDS)}", retryable=False)
    return KINDS[kind](endpoint, credential, **options)  # type: ignore[arg-type]
