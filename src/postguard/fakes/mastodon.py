"""A local fake of the Mastodon endpoint the connector uses (POST /api/v1/statuses).

It keeps posted statuses, honours Idempotency-Key like Mastodon does (the same
key returns the first status, it is not posted again), checks the bearer
token, and can be told to fail: answer 503 for the next N requests, or post
and then drop the connection without answering (a lost answer).

Each status it returns is served where its ``url`` points (an HTML page,
``/@police/ID``) and as JSON at ``/api/v1/statuses/ID``. Given a ``store`` file,
it keeps what it received there (written atomically) and reads it back when
it starts again, so the links postguard recorded keep working across restarts.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
import html
import json
import os
import re
import tempfile
import threading
import time
from email.parser import BytesParser
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from postguard.fakes.base import JsonHandler

_STATUS_PAGE = re.compile(r"^/@police/(\d+)/?$")
_STATUS_JSON = re.compile(r"^/api/v1/statuses/(\d+)/?$")
_MEDIA_FILE = re.compile(r"^/media/(\d+)/?$")


class FakeMastodon:
    """``FakeMastodon(token)`` listens on 127.0.0.1 (``port`` 0: any free port); ``url`` says where.

    ``GET /`` shows what was posted, newest first, so a demo can see it land; each
    status has its own page at its ``url``. With ``store``, statuses (and the
    idempotency keys that made them) are kept in that JSON file across restarts.
    """

    def __init__(
        self, token: str, *, port: int = 0, host: str = "127.0.0.1", store: Path | None = None
    ) -> None:
        self.token = token
        self.store = store
        self.statuses: list[dict[str, Any]] = []
        self.by_key: dict[str, dict[str, Any]] = {}
        #: Uploaded photos and videos by media id: file name, content type, size, SHA-256.
        self.media: dict[str, dict[str, Any]] = {}
        self._bytes: dict[str, bytes] = {}  # without a store: the uploads' bytes, in memory
        self.fail_next = 0
        self.drop_next = 0
        self.requests = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server names it)
                path = urlsplit(self.path).path
                if path in ("/api/v1/statuses", "/api/v1/statuses/"):
                    return self._answer(200, {"statuses": fake.statuses[::-1]})
                if found := _STATUS_JSON.match(path):
                    status = fake.status(found.group(1))
                    if status is None:
                        return self._answer(404, {"error": "Record not found"})
                    return self._answer(200, status)
                if found := _MEDIA_FILE.match(path):
                    return self._file(found.group(1))
                if found := _STATUS_PAGE.match(path):
                    status = fake.status(found.group(1))
                    if status is None:
                        return self._page(404, "Not found", "<p>No status has that number here.</p>")
                    return self._page(200, f"Status {status['id']}", _status_html(status))
                if path not in ("/", "/index.html"):
                    return self._answer(404, {"error": "not found"})
                items = "".join(
                    f"<li><p>{html.escape(s['content'])}</p>"
                    f'<small><a href="/@police/{html.escape(s["id"])}">status {html.escape(s["id"])}</a>'
                    f"{_when(s)}</small></li>"
                    for s in fake.statuses[::-1]
                )
                body = f"<p>What postguard published here:</p><ol>{items or '<li>nothing yet</li>'}</ol>"
                return self._page(200, "Fake Mastodon", body)

            def _page(self, code: int, title: str, body: str) -> None:
                page = (
                    "<!doctype html><html lang=en><meta charset=utf-8>"
                    '<meta name="viewport" content="width=device-width, initial-scale=1">'
                    f"<title>{html.escape(title)} - Fake Mastodon</title>"
                    f"<h1>Fake Mastodon (demo only)</h1>{body}</html>"
                ).encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.send_header(
                    "Content-Security-Policy", "default-src 'none'; img-src 'self'; media-src 'self'"
                )
                self.end_headers()
                self.wfile.write(page)

            def _file(self, media_id: str) -> None:
                item = fake.media.get(media_id)
                data = fake.media_bytes(media_id) if item is not None else None
                if item is None or data is None:
                    return self._answer(404, {"error": "Record not found"})
                self.send_response(200)
                self.send_header("Content-Type", str(item["content_type"]))
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Content-Type-Options", "nosniff")
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802 (http.server names it)
                fake.requests += 1
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                if self.path not in ("/api/v1/statuses", "/api/v2/media"):
                    return self._answer(404, {"error": "not found"})
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._answer(401, {"error": "The access token is invalid"})
                if fake.fail_next:
                    fake.fail_next -= 1
                    return self._answer(503, {"error": "unavailable"})
                if self.path == "/api/v2/media":
                    upload = _multipart_file(self.headers.get("Content-Type", ""), raw)
                    if upload is None:
                        return self._answer(422, {"error": "Validation failed: File can't be blank"})
                    return self._answer(200, fake.keep_media(*upload))
                form = parse_qs(raw.decode())
                if not form.get("status"):
                    return self._answer(422, {"error": "Validation failed: Text can't be blank"})
                ids = form.get("media_ids[]", [])
                if any(i not in fake.media for i in ids):
                    return self._answer(422, {"error": "Validation failed: unknown media id"})
                visibility = (form.get("visibility") or ["public"])[0]
                status = fake.receive(
                    form["status"][0], visibility, self.headers.get("Idempotency-Key", ""), ids
                )
                if fake.drop_next:
                    fake.drop_next -= 1
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                return self._answer(200, status)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._load()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def status(self, status_id: str) -> dict[str, Any] | None:
        """The status with this id, or None."""
        return next((s for s in self.statuses if s["id"] == status_id), None)

    @property
    def media_dir(self) -> Path | None:
        """Where uploads are kept with a ``store``: a folder beside it (``<store>.media``)."""
        return self.store.with_name(f"{self.store.name}.media") if self.store is not None else None

    def keep_media(self, filename: str, content_type: str, data: bytes) -> dict[str, Any]:
        """Keep an uploaded photo or video; its media attachment (id, type, url)."""
        with self._lock:
            number = str(len(self.media) + 1)
            kind = "video" if content_type.startswith("video/") else "image"
            item = {
                "id": number,
                "type": kind,
                "filename": filename,
                "content_type": content_type,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            if self.media_dir is not None:
                self.media_dir.mkdir(parents=True, exist_ok=True)
                _write_atomically(self.media_dir / number, data)
            else:
                self._bytes[number] = data
            self.media[number] = item
            self._save()
            return {**item, "url": f"{self.url}/media/{number}"}

    def media_bytes(self, media_id: str) -> bytes | None:
        """The bytes uploaded as ``media_id``, or None."""
        if self.media_dir is not None:
            path = self.media_dir / media_id
            return path.read_bytes() if path.is_file() else None
        return self._bytes.get(media_id)

    def receive(
        self, content: str, visibility: str, key: str, media_ids: list[str] | None = None
    ) -> dict[str, Any]:
        """Post ``content`` once per idempotency ``key`` (the first status again for a repeated key)."""
        with self._lock:
            status = self.by_key.get(key) if key else None
            if status is None:
                number = str(len(self.statuses) + 1)
                status = {
                    "id": number,
                    "content": content,
                    "visibility": visibility,
                    "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                    "url": f"{self.url}/@police/{number}",
                    "media_attachments": [
                        {**self.media[i], "url": f"{self.url}/media/{i}"} for i in media_ids or []
                    ],
                }
                self.statuses.append(status)
                if key:
                    self.by_key[key] = status
                self._save()
            return status

    def _load(self) -> None:
        if self.store is None or not self.store.exists():
            return
        try:
            data = json.loads(self.store.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not a fake Mastodon store")
            statuses, keys = data.get("statuses", []), data.get("keys", {})
            if not (isinstance(statuses, list) and isinstance(keys, dict)) or not all(
                isinstance(s, dict) and "id" in s and "content" in s for s in statuses
            ):
                raise ValueError("not a fake Mastodon store")
        except (OSError, ValueError):  # unreadable: set aside (demo data, never deleted), start empty
            self.store.rename(self.store.with_name(f"{self.store.name}.unreadable-{int(time.time())}"))
            return
        for saved in statuses:
            number = str(saved["id"])
            self.statuses.append({**saved, "id": number, "url": f"{self.url}/@police/{number}"})  # served now
        for key, number in keys.items():
            found = self.status(str(number))
            if found is not None:
                self.by_key[key] = found
        for saved_media in data.get("media", []) if isinstance(data.get("media"), list) else []:
            if isinstance(saved_media, dict) and "id" in saved_media:
                self.media[str(saved_media["id"])] = saved_media
        for status in self.statuses:  # their media served from here now
            status["media_attachments"] = [
                {**m, "url": f"{self.url}/media/{m['id']}"} for m in status.get("media_attachments", [])
            ]

    def _save(self) -> None:
        """Write every status and key to ``store`` atomically: a crash leaves the old file or the new."""
        if self.store is None:
            return
        data = {
            "statuses": [{k: v for k, v in s.items() if k != "url"} for s in self.statuses],
            "keys": {key: s["id"] for key, s in self.by_key.items()},
            "media": list(self.media.values()),
        }
        self.store.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.store.name}.", dir=self.store.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.store)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _when(status: dict[str, Any]) -> str:
    created = status.get("created_at")
    return (
        f', posted <time datetime="{html.escape(created)}">{html.escape(created)}</time>' if created else ""
    )


def _media_html(item: dict[str, Any]) -> str:
    src = f"/media/{html.escape(str(item['id']))}"
    if item.get("type") == "video":
        return f'<p><video src="{src}" controls width="320"></video></p>'
    return f'<p><img src="{src}" alt="attached photo {html.escape(str(item["id"]))}" width="320"></p>'


def _multipart_file(content_type: str, body: bytes) -> tuple[str, str, bytes] | None:
    """The ``file`` part of a multipart/form-data body: (file name, content type, bytes)."""
    if not content_type.startswith("multipart/form-data"):
        return None
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and data:
                return part.get_filename() or "upload", part.get_content_type(), data
    return None


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _status_html(status: dict[str, Any]) -> str:
    return (
        f"<article><p>{html.escape(status['content'])}</p>"
        + "".join(_media_html(m) for m in status.get("media_attachments", []))
        + f"<p><small>status {html.escape(status['id'])}, {html.escape(status.get('visibility', 'public'))}"
        f'{_when(status)}</small></p></article><p><a href="/">Everything posted here</a></p>'
    )
