"""create_app(settings): the service, wired. Nothing is read at import.

The app holds one loaded checker, one registry and one access point
(snapshot, cache, audit writer) for its lifetime; every route reaches them
through the named dependencies in :mod:`postguard.web.deps`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.cookies import SimpleCookie

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from postguard import __version__
from postguard.access.point import AccessPoint
from postguard.audit.checkpoints import Checkpointer
from postguard.factory import build_checker, build_pack, build_watch, build_witness
from postguard.keys import SigningKey, load_signing
from postguard.registry.db import Database
from postguard.registry.grants import Grants
from postguard.registry.service import Registry, request_origin
from postguard.registry.signin import session_holder
from postguard.settings import Settings
from postguard.watch.run import WatchLoop
from postguard.web import pages
from postguard.web.deps import SESSION_COOKIE, State, token_holder
from postguard.web.pages import alerts as alert_pages
from postguard.web.pages import archive as archive_pages
from postguard.web.pages import install_page_handlers, mount_static
from postguard.web.problems import install_problem_handlers, problem
from postguard.web.routes import access, audit, check, drafts, media, policy, registry, safe_copy, session
from postguard.web.routes import alerts as alert_api
from postguard.web.routes import archive as archive_api
from postguard.workflow import Workflow
from postguard.workflow.scheduler import Scheduler

__all__ = ["MAX_BODY", "create_app"]

log = logging.getLogger("postguard.service")

#: Largest request body taken (a post is at most 64 KiB of text; JSON escapes can double it).
MAX_BODY = 256 * 1024

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


#: API paths a caller may use before signing in (signing in itself, and the API's description).
_OPEN_API = {("POST", "/api/v1/session"), ("GET", "/openapi.json")}


class Guard:
    """Pure ASGI middleware (cheaper than ``@app.middleware``), in front of everything:

    - every answer gets the security headers, where it has not set its own;
    - each request's origin (``api:ADDRESS`` or ``web:ADDRESS``) is what its audit entries
      record (:data:`postguard.registry.service.request_origin`);
    - an API request with no valid token or session is refused (401) before its body is
      read, so nobody can make the service read megabytes without signing in;
    - a body is refused (413) once it passes ``MAX_BODY``, whether its Content-Length says so
      or it streams in chunks without one.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in _SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope.get("path", ""), scope.get("method", "")
        client = scope.get("client")
        address = client[0] if client else "-"
        request_origin.set(f"{'api' if path.startswith('/api/') else 'web'}:{address}")
        cap = _body_cap(scope, method, path)
        too_large = _TOO_LARGE if cap == MAX_BODY else _too_large(cap)
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > cap):
                await self._refuse(scope, receive, send, *too_large)
                return
        # A route that takes a large body (an upload) reads it only for a signed-in caller, too.
        if (path.startswith("/api/") and (method, path) not in _OPEN_API) or cap != MAX_BODY:
            signed_in = await run_in_threadpool(_has_caller, scope)
            if not signed_in:
                await self._refuse(
                    scope, receive, send, 401, "unauthenticated", "Not signed in",
                    "Sign in (POST /api/v1/session), or give a valid API token: "
                    "'Authorization: Bearer pgt_...'.",
                )  # fmt: skip
                return
        started = refused = False
        seen = 0

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    # Answer 413 now, and tell the app the client has gone: whatever it does
                    # with that (FastAPI makes it a 400), its answer is dropped below.
                    if not started:
                        await self._refuse(scope, receive, send, *too_large)
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        async def send_guarded(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((k, v) for k, v in self.headers if k not in present),
                ]
            await send(message)

        try:
            await self.app(scope, counted, send_guarded)
        except Exception:
            if not refused:
                raise
            log.info("a body over %d bytes was refused (413)", cap)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, status: int, kind: str, title: str, detail: str
    ) -> None:
        response = problem(status, kind, title, detail)
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        await response(scope, receive, send)


_TOO_LARGE = (413, "too-large", "Request too large", f"The body is over {MAX_BODY // 1024} KiB.")

#: Routes whose body may be larger than MAX_BODY (method, path): uploads of photos and videos,
#: up to the pack's ``media.max_bytes`` (and the multipart framing). Their caller must be
#: signed in (token or session) before their body is read.
LARGE_BODIES = {("POST", media.UPLOAD_PATH), ("POST", "/compose"), ("POST", "/media/attach")}


def _body_cap(scope: Scope, method: str, path: str) -> int:
    if (method, path) not in LARGE_BODIES:
        return MAX_BODY
    return media.upload_cap(getattr(scope["app"].state, "postguard", None))


def _too_large(cap: int) -> tuple[int, str, str, str]:
    return 413, "too-large", "Request too large", f"The body is over {cap / 1024 / 1024:.1f} MiB."


def _has_caller(scope: Scope) -> bool:
    """Whether the request carries a valid API token or session cookie (the body unread)."""
    state: State | None = getattr(scope["app"].state, "postguard", None)
    if state is None:
        return True  # the app is starting; the routes' own checks still apply
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return token_holder(state, token.strip()) is not None
    cookie = SimpleCookie(headers.get("cookie", "")).get(SESSION_COOKIE)
    return cookie is not None and session_holder(state.registry, cookie.value) is not None


def _department_key(settings: Settings) -> SigningKey | None:
    """The department key for the service's automatic checkpoints, unlocked now (or ``None``,
    said in the log, when they are off). A wrong passphrase stops the service from starting."""
    if settings.checkpoint_interval <= 0:
        log.info("automatic audit checkpoints are off (POSTGUARD_CHECKPOINT_INTERVAL=0)")
        return None
    secret = settings.department_secret()
    if secret is None:
        log.warning(
            "automatic audit checkpoints are off: give the department key's passphrase in "
            "POSTGUARD_DEPARTMENT_PASSPHRASE or POSTGUARD_DEPARTMENT_PASSPHRASE_FILE"
        )
        return None
    key = load_signing(settings.keys_dir, "department", secret)
    log.info("signing an audit checkpoint every %g s when entries were added", settings.checkpoint_interval)
    return key


def create_app(settings: Settings) -> FastAPI:
    department = _department_key(settings)  # a wrong passphrase stops here, before anything opens
    db = Database(settings.database_url)
    db.require_current()
    pack = build_pack(settings)
    witness = build_witness(settings)
    reg = Registry(
        db,
        origin="api",
        clauses=pack.covering(),
        governance=pack.governance,
        witness=witness,
        categories=tuple(c.id for c in pack.categories),
    )
    grants = Grants(reg, settings.keys_dir)
    checker = build_checker(settings, permissions=grants, files=False)  # uploads only, never server files
    log.info(
        "service ready: policy %s, scorer %s, database %s, keys %s",
        checker.policy_version,
        checker.scorer.name if checker.scorer else "none",
        db.display_url,
        settings.keys_dir,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        point = AccessPoint(
            db, checker.pack, settings.keys_dir, via="api", spool=settings.audit_spool, witness=witness
        )
        workflow = Workflow(reg, grants, checker)
        app.state.postguard = State(settings, reg, grants, checker, point, workflow)
        scheduler = Scheduler(
            reg, workflow, settings.keys_dir, settings.scheduler_interval, media_root=settings.media_root
        )
        watch = WatchLoop(build_watch(settings, reg, checker), settings.watch_interval)
        checkpoints = (
            Checkpointer(db.session, department, witness, settings.checkpoint_interval)
            if department is not None
            else None
        )
        try:
            yield
        finally:
            scheduler.close()
            watch.close()
            if checkpoints is not None:
                checkpoints.close()
            point.close()
            db.engine.dispose()

    app = FastAPI(
        title="postguard",
        version=__version__,
        summary="The department's Social Media Policy, in force: checks, registry, access, audit.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI loads its scripts from a CDN: nothing may leave the machine
        redoc_url=None,
    )
    install_problem_handlers(app)
    install_page_handlers(app)
    mount_static(app)

    app.add_middleware(Guard)

    for router in (
        session.router,
        check.router,
        media.router,
        safe_copy.router,
        drafts.router,
        drafts.reviews,
        access.router,
        audit.router,
        registry.router,
        policy.router,
        archive_api.router,
        archive_pages.router,
        alert_api.router,
        alert_pages.router,
        pages.router,
    ):
        app.include_router(router)
    return app
