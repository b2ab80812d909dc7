"""A local fake of the three AT Protocol endpoints the Bluesky connector uses.

``com.atproto.server.createSession`` (identifier and app password),
``com.atproto.repo.getRecord`` and ``com.atproto.repo.createRecord``, which,
like a real PDS, refuses a record key that exists already. It can be told to
answer 503 for the next N requests, or to create a record and then drop the
connection without answering (a lost answer).
"""

from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from postguard.fakes.base import JsonHandler

__all__ = ["FakeBluesky"]


class FakeBluesky:
    def __init__(self, identifier: str, password: str, *, did: str = "did:plc:fakepolice") -> None:
        self.identifier, self.password, self.did = identifier, password, did
        self.records: dict[str, dict[str, Any]] = {}
        self.fail_next = 0
        self.drop_next = 0
        self.requests = 0
        fake = self
        token = "fake-access-jwt"

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server names it)
                fake.requests += 1
                url = urlsplit(self.path)
                if url.path != "/xrpc/com.atproto.repo.getRecord":
                    return self._answer(404, {"error": "MethodNotImplemented"})
                if self.headers.get("Authorization") != f"Bearer {token}":
                    return self._answer(401, {"error": "AuthRequired"})
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                record = fake.records.get(query.get("rkey", ""))
                if record is None or query.get("repo") != fake.did:
                    return self._answer(
                        400, {"error": "RecordNotFound", "message": "Could not locate record"}
                    )
                return self._answer(200, record)

            def do_POST(self) -> None:  # noqa: N802 (http.server names it)
                fake.requests += 1
                length = int(self.headers.get("Content-Length", "0"))
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return self._answer(400, {"error": "InvalidRequest", "message": "bad JSON"})
                if self.path == "/xrpc/com.atproto.server.createSession":
                    if body.get("identifier") != fake.identifier or body.get("password") != fake.password:
                        return self._answer(401, {"error": "AuthenticationRequired"})
                    return self._answer(
                        200,
                        {"accessJwt": token, "refreshJwt": "r", "did": fake.did, "handle": fake.identifier},
                    )
                if self.path != "/xrpc/com.atproto.repo.createRecord":
                    return self._answer(404, {"error": "MethodNotImplemented"})
                if self.headers.get("Authorization") != f"Bearer {token}":
                    return self._answer(401, {"error": "AuthRequired"})
                if fake.fail_next:
                    fake.fail_next -= 1
                    return self._answer(503, {"error": "Unavailable"})
                rkey = str(body.get("rkey", ""))
                record = body.get("record") or {}
                if body.get("repo") != fake.did or not rkey or not str(record.get("text", "")):
                    return self._answer(400, {"error": "InvalidRequest"})
                if rkey in fake.records:
                    return self._answer(400, {"error": "InvalidRequest", "message": "Record already exists"})
                uri = f"at://{fake.did}/{body.get('collection')}/{rkey}"
                fake.records[rkey] = {"uri": uri, "cid": f"bafy{len(fake.records)}", "value": record}
                if fake.drop_next:
                    fake.drop_next -= 1
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                return self._answer(200, {"uri": uri, "cid": fake.records[rkey]["cid"]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def texts(self) -> list[str]:
        return [str(r["value"]["text"]) for r in self.records.values()]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
