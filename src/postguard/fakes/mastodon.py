"""A local fake of the Mastodon endpoint the connector uses (POST /api/v1/statuses).

It keeps posted statuses, honours Idempotency-Key like Mastodon does (the same
key returns the first status, it is not posted again), checks the bearer
token, and can be told to fail: answer 503 for the next N requests, or post
and then drop the connection without answering (a lost answer).
"""

from __future__ import annotations

import html
import threading
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from postguard.fakes.base import JsonHandler


class FakeMastodon:
    """``FakeMastodon(token)`` listens on 127.0.0.1 (``port`` 0: any free port); ``url`` says where.

    ``GET /`` shows what was posted, newest first, so a demo can see it land.
    """

    def __init__(self, token: str, *, port: int = 0, host: str = "127.0.0.1") -> None:
        self.token = token
        self.statuses: list[dict[str, Any]] = []
        self.by_key: dict[str, dict[str, Any]] = {}
        self.fail_next = 0
        self.drop_next = 0
        self.requests = 0
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server names it)
                if self.path.startswith("/api/v1/statuses"):
                    return self._answer(200, {"statuses": fake.statuses[::-1]})
                if self.path not in ("/", "/index.html"):
                    return self._answer(404, {"error": "not found"})
                items = "".join(
                    f"<li><p>{html.escape(s['content'])}</p><small>status {s['id']}</small></li>"
                    for s in fake.statuses[::-1]
                )
                page = (
                    "<!doctype html><html lang=en><meta charset=utf-8><title>Fake Mastodon</title>"
                    "<h1>Fake Mastodon (demo only)</h1><p>What postguard published here:</p>"
                    f"<ol>{items or '<li>nothing yet</li>'}</ol></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                return None

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
                key = self.headers.get("Idempotency-Key", "")
                status = fake.by_key.get(key)
                if status is None:
                    status = {
                        "id": str(len(fake.statuses) + 1),
                        "content": form["status"][0],
                        "url": f"{fake.url}/@police/{len(fake.statuses) + 1}",
                    }
                    fake.statuses.append(status)
                    if key:
                        fake.by_key[key] = status
                if fake.drop_next:
                    fake.drop_next -= 1
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                return self._answer(200, status)

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
