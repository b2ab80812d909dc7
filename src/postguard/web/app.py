"""create_app(settings): the service, wired. Nothing is read at import.

The app holds one loaded checker, one registry and one access point
(snapshot, cache, audit writer) for its lifetime; every route reaches them
through the named dependencies in :mod:`postguard.web.deps`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from postguard import __version__
from postguard.access.point import AccessPoint
from postguard.factory import build_checker, build_pack
from postguard.registry.db import Database
from postguard.registry.grants import Grants
from postguard.registry.service import Registry
from postguard.settings import Settings
from postguard.web import pages
from postguard.web.deps import State
from postguard.web.pages import install_page_handlers, mount_static
from postguard.web.problems import install_problem_handlers, problem
from postguard.web.routes import access, audit, check, drafts, registry, session
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


class Guard:
    """Pure ASGI middleware (cheaper than ``@app.middleware``): refuses a body over MAX_BODY by its
    Content-Length, and adds the security headers to every answer that has not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in _SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > MAX_BODY):
                response = problem(
                    413, "too-large", "Request too large", f"The body is over {MAX_BODY // 1024} KiB."
                )
                await self._with_headers(response)(scope, receive, send)
                return

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((k, v) for k, v in self.headers if k not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_guarded)

    def _with_headers(self, response: Response) -> Response:
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def create_app(settings: Settings) -> FastAPI:
    db = Database(settings.database_url)
    db.require_current()
    reg = Registry(db, origin="api", clauses=build_pack(settings).covering())
    grants = Grants(reg, settings.keys_dir)
    checker = build_checker(settings, permissions=grants)
    log.info(
        "service ready: policy %s, scorer %s, database %s, keys %s",
        checker.policy_version,
        checker.scorer.name if checker.scorer else "none",
        db.engine.url.render_as_string(hide_password=True),
        settings.keys_dir,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        point = AccessPoint(db, checker.pack, settings.keys_dir, via="api")
        workflow = Workflow(reg, grants, checker)
        app.state.postguard = State(settings, reg, grants, checker, point, workflow)
        scheduler = Scheduler(reg, workflow, settings.keys_dir, settings.scheduler_interval)
        try:
            yield
        finally:
            scheduler.close()
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
        drafts.router,
        drafts.reviews,
        access.router,
        audit.router,
        registry.router,
        pages.router,
    ):
        app.include_router(router)
    return app
