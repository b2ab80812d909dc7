"""Mastodon: POST /api/v1/statuses with the account's access token and an Idempotency-Key.

Photos and videos are uploaded first (``POST /api/v2/media``, multipart, one each), and
the status names them in ``media_ids[]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from postguard.connectors.base import Connector, ConnectorError, MediaFile, Published

__all__ = ["MastodonConnector"]


class MastodonConnector(Connector):
    name = "mastodon"

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
