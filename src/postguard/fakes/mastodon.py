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
import html
import json
import os
import re
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from postguard.fakes.base import JsonHandler

_STATUS_PAGE = re.compile(r"^/@police/(\d+)/?$")
_STATUS_JSON = re.compile(r"^/api/v1/statuses/(\d+)/?$")


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
                self.send_header("Content-Security-Policy", "default-src 'none'")
                self.end_headers()
                self.wfile.write(page)

            def do_POST(self) -> None:  # noqa: N802 (http.server names it)
                fake.requests += 1
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                if self.path != "/api/v1/statuses":
                    return self._answer(404, {"error": "not found"})
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._answer(401, {"error": "The access token is invalid"})
                if fake.fail_next:
                    fake.fail_next -= 1
                    return self._answer(503, {"error": "unavailable"})
                if not form.get("status"):
                    return self._answer(422, {"error": "Validation failed: Text can't be blank"})
                visibility = (form.get("visibility") or ["public"])[0]
                status = fake.receive(form["status"][0], visibility, self.headers.get("Idempotency-Key", ""))
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

    def receive(self, content: str, visibility: str, key: str) -> dict[str, Any]:
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

    def _save(self) -> None:
        """Write every status and key to ``store`` atomically: a crash leaves the old file or the new."""
        if self.store is None:
            return
        data = {
            "statuses": [{k: v for k, v in s.items() if k != "url"} for s in self.statuses],
            "keys": {key: s["id"] for key, s in self.by_key.items()},
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


def _status_html(status: dict[str, Any]) -> str:
    return (
        f"<article><p>{html.escape(status['content'])}</p>"
        f"<p><small>status {html.escape(status['id'])}, {html.escape(status.get('visibility', 'public'))}"
        f'{_when(status)}</small></p></article><p><a href="/">Everything posted here</a></p>'
    )
