"""A local fake of the Mastodon endpoint the connector uses (POST /api/v1/statuses).

It keeps posted statuses, honours Idempotency-Key like Mastodon does (the same
key returns the first status, it is not posted again), checks the bearer
token, and can be told to fail: answer 503 for the next N requests, or post
and then drop the connection without answering (a lost answer).

Each status it returns is served where its ``url`` points (an HTML page,
``/@police/ID``) and as JSON at ``/api/v1/statuses/ID``, shaped as Mastodon's: the
``content`` is HTML (``<p>``, ``<br />``, links), while :attr:`FakeMastodon.statuses`
keeps the plain text that was posted.

For the watch it reads like Mastodon too: ``GET /api/v1/accounts/verify_credentials``,
``GET /api/v1/accounts/1/statuses`` (newest first, ``limit``/``max_id``/``since_id``/``min_id``,
a ``Link`` header), ``GET /api/v1/statuses/ID/history``, ``PUT`` (edit) and ``DELETE`` on
``/api/v1/statuses/ID``. Tests make posts "from the app" (not through postguard), edit and
delete them with :meth:`FakeMastodon.post_from_app`, :meth:`FakeMastodon.edit` and
:meth:`FakeMastodon.delete`. Given a ``store`` file,
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
from urllib.parse import parse_qs, urlencode, urlsplit

from postguard.fakes.base import JsonHandler

_STATUS_PAGE = re.compile(r"^/@police/(\d+)/?$")
_STATUS_JSON = re.compile(r"^/api/v1/statuses/(\d+)/?$")
_MEDIA_FILE = re.compile(r"^/media/(\d+)/?$")
_STATUS_HISTORY = re.compile(r"^/api/v1/statuses/(\d+)/history/?$")
_ACCOUNT_STATUSES = re.compile(r"^/api/v1/accounts/([^/]+)/statuses/?$")
_VERIFY = "/api/v1/accounts/verify_credentials"
#: The one account the fake holds, and Mastodon's default and largest page of its statuses.
ACCOUNT_ID, DEFAULT_LIMIT, MAX_LIMIT = "1", 20, 40


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
        #: Statuses deleted (through the API or :meth:`delete`): no longer served, kept for tests.
        self.deleted: list[dict[str, Any]] = []
        self._last_id = 0
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
                    given = self.headers.get("Authorization")
                    if (
                        given is not None and given != f"Bearer {fake.token}"
                    ):  # public, but a bad token is refused
                        return self._answer(401, {"error": "The access token is invalid"})
                    status = fake.status(found.group(1))
                    if status is None:
                        return self._answer(404, {"error": "Record not found"})
                    return self._answer(200, fake.as_json(status))
                if path.startswith("/api/v1/") and self._read_api(path):
                    return None
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

            def _read_api(self, path: str) -> bool:
                """Answer the read side of the API; False when ``path`` is none of it."""
                query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
                given = self.headers.get("Authorization")
                if path in (_VERIFY, f"{_VERIFY}/"):
                    if given != f"Bearer {fake.token}":
                        self._answer(401, {"error": "The access token is invalid"})
                    else:
                        self._answer(200, fake.account_json())
                    return True
                listing, history = _ACCOUNT_STATUSES.match(path), _STATUS_HISTORY.match(path)
                if listing is None and history is None:
                    return False
                fake.requests += 1
                if (
                    given is not None and given != f"Bearer {fake.token}"
                ):  # public, but a bad token is refused
                    self._answer(401, {"error": "The access token is invalid"})
                    return True
                if fake.fail_next:
                    fake.fail_next -= 1
                    self._answer(503, {"error": "unavailable"})
                    return True
                if history is not None:
                    status = fake.status(history.group(1))
                    if status is None:
                        self._answer(404, {"error": "Record not found"})
                    else:
                        self._json(200, fake.history_json(status))
                    return True
                assert listing is not None
                if listing.group(1) != ACCOUNT_ID:
                    self._answer(404, {"error": "Record not found"})
                    return True
                page, link = fake.page(query)
                self._json(200, page, {"Link": link} if link else {})
                return True

            def _json(self, code: int, body: object, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _status_call(self) -> tuple[dict[str, Any], dict[str, list[str]]] | None:
                """For PUT and DELETE on a status: the status and the form, or None once refused."""
                fake.requests += 1
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                found = _STATUS_JSON.match(urlsplit(self.path).path)
                if found is None:
                    self._answer(404, {"error": "not found"})
                    return None
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    self._answer(401, {"error": "The access token is invalid"})
                    return None
                if fake.fail_next:
                    fake.fail_next -= 1
                    self._answer(503, {"error": "unavailable"})
                    return None
                status = fake.status(found.group(1))
                if status is None:
                    self._answer(404, {"error": "Record not found"})
                    return None
                return status, parse_qs(raw.decode(errors="replace"))

            def do_PUT(self) -> None:  # noqa: N802 (http.server names it)
                call = self._status_call()
                if call is None:
                    return None
                status, form = call
                text = (form.get("status") or [""])[0]
                if not text.strip():
                    return self._answer(422, {"error": "Validation failed: Text can't be blank"})
                ids = form.get("media_ids[]")
                if ids is not None and any(i not in fake.media for i in ids):
                    return self._answer(422, {"error": "Validation failed: unknown media id"})
                return self._answer(200, fake.edit(status["id"], text, media_ids=ids))

            def do_DELETE(self) -> None:  # noqa: N802 (http.server names it)
                call = self._status_call()
                if call is None:
                    return None
                status = call[0]
                gone = {**fake.as_json(status), "text": status["content"]}  # Mastodon answers with the source
                fake.delete(status["id"])
                return self._answer(200, gone)

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
                return self._answer(200, fake.as_json(status))

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
                "description": None,
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
            if status is None or status not in self.statuses:  # a deleted status's key posts anew
                status = self._new_status(content, visibility, media_ids or [], dt.datetime.now(dt.UTC))
                if key:
                    self.by_key[key] = status
                self._save()
            return status

    def _new_status(
        self, content: str, visibility: str, media_ids: list[str], created_at: dt.datetime
    ) -> dict[str, Any]:
        self._last_id += 1
        number = str(self._last_id)
        status: dict[str, Any] = {
            "id": number,
            "content": content,
            "visibility": visibility,
            "created_at": _timestamp(created_at),
            "url": f"{self.url}/@police/{number}",
            "media_attachments": self._attachments(media_ids),
            "edited_at": None,
            "history": [],
        }
        self.statuses.append(status)
        return status

    def _attachments(self, media_ids: list[str]) -> list[dict[str, Any]]:
        return [{**self.media[i], "url": f"{self.url}/media/{i}"} for i in media_ids]

    # Made on the platform itself, not through postguard (what the watch must notice) -------------

    def post_from_app(
        self,
        text: str,
        *,
        media: tuple[tuple[str, str, bytes], ...] | list[tuple[str, str, bytes]] = (),
        created_at: dt.datetime | None = None,
        visibility: str = "public",
    ) -> dict[str, Any]:
        """A status typed into the Mastodon app (no idempotency key), with ``media`` as (file name,
        content type, bytes); ``created_at`` backdates it. Its JSON, as the API serves it. Statuses
        are listed by id, as on Mastodon, so make backdated ones before newer ones."""
        ids = [str(self.keep_media(*item)["id"]) for item in media]
        with self._lock:
            status = self._new_status(text, visibility, ids, _utc(created_at or dt.datetime.now(dt.UTC)))
            self._save()
            return self.as_json(status)

    def edit(
        self, status_id: str, text: str, *, media_ids: list[str] | None = None, at: dt.datetime | None = None
    ) -> dict[str, Any]:
        """Edit a status as Mastodon does: the version before goes to its history, ``edited_at`` is
        set (always later than the version before, so each edit has its own). Its JSON."""
        with self._lock:
            status = self.status(status_id)
            if status is None:
                raise LookupError(f"the fake Mastodon has no status {status_id!r} (deleted or never posted)")
            before = status.get("edited_at") or status["created_at"]
            when = _utc(at or dt.datetime.now(dt.UTC))
            when = max(when, dt.datetime.fromisoformat(before) + dt.timedelta(milliseconds=1))
            status.setdefault("history", []).append(
                {
                    "content": status["content"],
                    "created_at": before,
                    "media_attachments": list(status.get("media_attachments", [])),
                }
            )
            status["content"], status["edited_at"] = text, _timestamp(when)
            if media_ids is not None:
                status["media_attachments"] = self._attachments(media_ids)
            self._save()
            return self.as_json(status)

    def delete(self, status_id: str) -> None:
        """Delete a status: it is no longer served (404) nor listed; it stays in :attr:`deleted`."""
        with self._lock:
            status = self.status(status_id)
            if status is None:
                raise LookupError(f"the fake Mastodon has no status {status_id!r} (deleted or never posted)")
            self.statuses.remove(status)
            self.deleted.append(status)
            self._save()

    # As the API serves them -----------------------------------------------------------------------

    def account_json(self) -> dict[str, Any]:
        """The one account, as ``verify_credentials`` and each status's ``account`` give it."""
        return {
            "id": ACCOUNT_ID,
            "username": "police",
            "acct": "police",
            "display_name": "Police (fake)",
            "url": f"{self.url}/@police",
        }

    def as_json(self, status: dict[str, Any]) -> dict[str, Any]:
        """A status as Mastodon's API gives it: ``content`` in HTML, ``edited_at``, ``reblog``..."""
        number = str(status["id"])
        return {
            "id": number,
            "created_at": status["created_at"],
            "edited_at": status.get("edited_at"),
            "in_reply_to_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": status.get("visibility", "public"),
            "uri": f"{self.url}/users/police/statuses/{number}",
            "url": status["url"],
            "content": mastodon_html(status["content"], self.url),
            "reblog": None,
            "account": self.account_json(),
            "media_attachments": [_attachment_json(m) for m in status.get("media_attachments", [])],
        }

    def history_json(self, status: dict[str, Any]) -> list[dict[str, Any]]:
        """``/history``: the original, then each edit, oldest first (one item if never edited)."""
        current = {
            "content": status["content"],
            "created_at": status.get("edited_at") or status["created_at"],
            "media_attachments": status.get("media_attachments", []),
        }
        return [
            {
                "content": mastodon_html(version["content"], self.url),
                "spoiler_text": "",
                "sensitive": False,
                "created_at": version["created_at"],
                "account": self.account_json(),
                "media_attachments": [_attachment_json(m) for m in version.get("media_attachments", [])],
            }
            for version in [*status.get("history", []), current]
        ]

    def page(self, query: dict[str, str]) -> tuple[list[dict[str, Any]], str]:
        """One page of ``GET /api/v1/accounts/1/statuses`` and its ``Link`` header, as Mastodon pages:
        newest first; ``max_id`` (older than), ``since_id`` (newer than), ``min_id`` (the ones just
        newer than); ``next`` is given when the page is full, ``prev`` when it holds any."""
        limit = _number(query.get("limit"))
        limit = DEFAULT_LIMIT if limit is None or limit <= 0 else min(limit, MAX_LIMIT)
        max_id, since_id, min_id = (_number(query.get(k)) for k in ("max_id", "since_id", "min_id"))
        with self._lock:
            found = sorted(self.statuses, key=lambda s: int(s["id"]), reverse=True)
        if max_id is not None:
            found = [s for s in found if int(s["id"]) < max_id]
        for lower in (since_id, min_id):
            if lower is not None:
                found = [s for s in found if int(s["id"]) > lower]
        chosen = found[-limit:] if min_id is not None else found[:limit]  # min_id: the oldest newer ones
        kept = {k: v for k, v in query.items() if k in ("limit", "exclude_reblogs", "exclude_replies")}
        base = f"{self.url}/api/v1/accounts/{ACCOUNT_ID}/statuses"
        links = []
        if chosen and len(chosen) == limit:
            links.append(f'<{base}?{urlencode({**kept, "max_id": chosen[-1]["id"]})}>; rel="next"')
        if chosen:
            links.append(f'<{base}?{urlencode({**kept, "min_id": chosen[0]["id"]})}>; rel="prev"')
        return [self.as_json(s) for s in chosen], ", ".join(links)

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
        gone = data.get("deleted", [])
        gone = (
            [s for s in gone if isinstance(s, dict) and "id" in s and "content" in s]
            if isinstance(gone, list)
            else []
        )
        for saved in statuses:
            number = str(saved["id"])
            self.statuses.append({**saved, "id": number, "url": f"{self.url}/@police/{number}"})  # served now
        for saved in gone:
            number = str(saved["id"])
            self.deleted.append({**saved, "id": number, "url": f"{self.url}/@police/{number}"})
        numbers = [int(s["id"]) for s in [*self.statuses, *self.deleted] if str(s["id"]).isdigit()]
        self._last_id = max(numbers, default=0)
        for key, number in keys.items():
            found = self.status(str(number))
            if found is not None:
                self.by_key[key] = found
        for saved_media in data.get("media", []) if isinstance(data.get("media"), list) else []:
            if isinstance(saved_media, dict) and "id" in saved_media:
                self.media[str(saved_media["id"])] = saved_media
        for status in [*self.statuses, *self.deleted]:  # their media served from here now
            status["media_attachments"] = self._served(status.get("media_attachments", []))
            history = status.get("history")
            status["history"] = [
                {**v, "media_attachments": self._served(v.get("media_attachments", []))}
                for v in (history if isinstance(history, list) else [])
                if isinstance(v, dict) and "content" in v and "created_at" in v
            ]
            status.setdefault("edited_at", None)

    def _served(self, attachments: object) -> list[dict[str, Any]]:
        """Attachments as saved, their ``url`` pointing here (the port may have changed)."""
        if not isinstance(attachments, list):
            return []
        return [
            {**m, "url": f"{self.url}/media/{m['id']}"}
            for m in attachments
            if isinstance(m, dict) and "id" in m
        ]

    def _save(self) -> None:
        """Write every status and key to ``store`` atomically: a crash leaves the old file or the new."""
        if self.store is None:
            return
        data = {
            "statuses": [{k: v for k, v in s.items() if k != "url"} for s in self.statuses],
            "keys": {key: s["id"] for key, s in self.by_key.items() if s in self.statuses},
            "media": list(self.media.values()),
            "deleted": [{k: v for k, v in s.items() if k != "url"} for s in self.deleted],
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


def _timestamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _utc(when: dt.datetime) -> dt.datetime:
    """``when`` in UTC; a naive time is taken to be UTC already."""
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def _number(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _attachment_json(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "preview_url": item.get("url"), "description": item.get("description")}


_LINKABLE = re.compile(r"https?://[^\s<>\"]+|(?<![\w/&#])#(\w+)")
_TRAILING = ".,;:!?)'\""


def _h(text: str) -> str:
    """Escaped as Rails's ``h`` does (``'`` as ``&#39;``)."""
    return html.escape(text).replace("&#x27;", "&#39;")


def mastodon_html(text: str, base: str) -> str:
    """Plain text as Mastodon renders a local status: paragraphs (a blank line) in ``<p>``, line
    breaks as ``<br />``, ``&<>"'`` escaped, links and hashtags as ``<a>`` (a link's text split in
    spans, the hidden ``https://`` and the part past 30 characters, as Mastodon does)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    return "".join(
        "<p>" + "<br />".join(_linkify(line, base) for line in paragraph.split("\n")) + "</p>"
        for paragraph in re.split(r"\n{2,}", text)
    )


def _linkify(line: str, base: str) -> str:
    out, at = [], 0
    for found in _LINKABLE.finditer(line):
        start, end = found.span()
        if found.group(1) is not None:
            tag = found.group(1)
            link = (
                f'<a href="{_h(base)}/tags/{_h(tag)}" class="mention hashtag" rel="tag">'
                f"#<span>{_h(tag)}</span></a>"
            )
        else:
            url = found.group(0).rstrip(_TRAILING)
            end = start + len(url)
            prefix = re.match(r"https?://(www\.)?", url)
            head = prefix.group(0) if prefix else ""
            rest = url[len(head) :]
            shown, hidden = rest[:30], rest[30:]
            link = (
                f'<a href="{_h(url)}" target="_blank" rel="nofollow noopener noreferrer" translate="no">'
                f'<span class="invisible">{_h(head)}</span><span class="{"ellipsis" if hidden else ""}">'
                f'{_h(shown)}</span><span class="invisible">{_h(hidden)}</span></a>'
            )
        out += [_h(line[at:start]), link]
        at = end
    out.append(_h(line[at:]))
    return "".join(out)


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
