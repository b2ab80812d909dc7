"""A generic webhook: JSON POST signed with HMAC-SHA256 of the body (header X-Postguard-Signature)."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from postguard.connectors.base import Connector, ConnectorError, Published

__all__ = ["WebhookConnector", "signature"]


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookConnector(Connector):
    name = "webhook"

    def publish(self, text: str, idempotency_key: str) -> Published:
        body = json.dumps({"text": text, "idempotency_key": idempotency_key}, ensure_ascii=False).encode()
        request = httpx.Request(
            "POST",
            self.endpoint,
            content=body,
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": idempotency_key,
                "X-Postguard-Signature": signature(self.credential, body),
            },
        )
        response = self._send(request)
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        remote = str(answer.get("id") or idempotency_key) if isinstance(answer, dict) else idempotency_key
        if not remote:
            raise ConnectorError("webhook: empty answer", retryable=False)
        return Published(remote, str(answer.get("url", "")) if isinstance(answer, dict) else "")
