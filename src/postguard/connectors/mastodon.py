"""Mastodon: POST /api/v1/statuses with the account's access token and an Idempotency-Key."""

from __future__ import annotations

import httpx

from postguard.connectors.base import Connector, ConnectorError, Published

__all__ = ["MastodonConnector"]


class MastodonConnector(Connector):
    name = "mastodon"

    def publish(self, text: str, idempotency_key: str) -> Published:
        request = httpx.Request(
            "POST",
            f"{self.endpoint}/api/v1/statuses",
            headers={"Authorization": f"Bearer {self.credential}", "Idempotency-Key": idempotency_key},
            data={"status": text, "visibility": "public"},
        )
        body = self._send(request).json()
        if not isinstance(body, dict) or "id" not in body:
            raise ConnectorError("mastodon: the answer has no status id", retryable=False)
        return Published(str(body["id"]), str(body.get("url") or ""))
