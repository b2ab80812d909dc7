"""A generic webhook: JSON POST signed with HMAC-SHA256 of the body (header X-Postguard-Signature).

Photos and videos travel in the body's ``media``: each one's ref (``sha256:...``), name,
content type, size and bytes (base64).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence

import httpx

from postguard.connectors.base import Connector, ConnectorError, MediaFile, Published

__all__ = ["WebhookConnector", "signature"]


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class WebhookConnector(Connector):
    name = "webhook"

    def publish(self, text: str, idempotency_key: str) -> Published:
        return self.publish_with_media(text, idempotency_key, ())

    def publish_with_media(self, text: str, idempotency_key: str, media: Sequence[MediaFile]) -> Published:
        payload: dict[str, object] = {"text": text, "idempotency_key": idempotency_key}
        if media:
            payload["media"] = [
                {
                    "ref": item.ref,
                    "filename": item.filename,
                    "content_type": item.content_type,
                    "size": len(item.data),
                    "data": base64.b64encode(item.data).decode("ascii"),
                }
                for item in media
            ]
        body = json.dumps(payload, ensure_ascii=False).encode()
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
