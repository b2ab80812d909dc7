"""Errors at the HTTP edge, as RFC 9457 problem details (application/problem+json).

The core raises postguard's own errors; this module alone turns them into
status codes, so routes never build error responses by hand.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from postguard.errors import (
    AccessDeniedError,
    ConflictError,
    DatabaseError,
    InputError,
    NotFoundError,
    PostguardError,
    SigningKeyError,
    TooManyAttemptsError,
    ValidationError,
)

__all__ = ["install_problem_handlers", "problem", "status_of"]

_STATUS: list[tuple[type[PostguardError], int, str]] = [
    (TooManyAttemptsError, 429, "too-many-attempts"),
    (AccessDeniedError, 403, "forbidden"),
    (NotFoundError, 404, "not-found"),
    (ConflictError, 409, "conflict"),
    (InputError, 422, "invalid-input"),
    (ValidationError, 422, "invalid-input"),
    (SigningKeyError, 422, "signing-key"),
    (DatabaseError, 503, "database-unavailable"),
]


def status_of(exc: PostguardError) -> int:
    """The HTTP status a postguard error answers with (500 for one not listed)."""
    return next((status for cls, status, _kind in _STATUS if isinstance(exc, cls)), 500)


def problem(status: int, kind: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {
        "type": f"https://postguard.invalid/problems/{kind}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(PostguardError)
    async def _postguard(_request: Request, exc: PostguardError) -> JSONResponse:
        for cls, status, kind in _STATUS:
            if isinstance(exc, cls):
                return problem(status, kind, kind.replace("-", " ").capitalize(), str(exc))
        return problem(500, "internal", "Internal error", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return problem(
            422, "invalid-request", "Invalid request", "The request does not match the API.", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {
            401: "unauthorised",
            403: "forbidden",
            404: "not-found",
            405: "method-not-allowed",
            413: "too-large",
        }.get(exc.status_code, "http-error")
        response = problem(exc.status_code, kind, kind.replace("-", " ").capitalize(), str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response
