"""Signing in and out of the web application.

The sign-in form carries a CSRF token too, though nobody is signed in yet: the
form page sets it in a cookie (HttpOnly, SameSite=Strict, only for /signin) and
in a hidden field, and a sign-in whose two do not match is refused before any
password is checked, so another site cannot sign a browser in as someone else
(login CSRF).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from postguard.errors import PostguardError
from postguard.registry.signin import sign_in, sign_out
from postguard.web.deps import SESSION_COOKIE, ServiceDep, set_session_cookie
from postguard.web.pages.common import ViewerDep, check_csrf, render, safe_next

router = APIRouter(include_in_schema=False)

SIGNIN_COOKIE = "postguard_signin"


def _signin_form(request: Request, state: ServiceDep, *, status: int = 200, **values: object) -> Response:
    """The sign-in page with a fresh CSRF token, in its form and its cookie."""
    token = secrets.token_urlsafe(32)
    response = render(request, "signin.html", None, status=status, csrf_token=token, **values)
    response.set_cookie(
        SIGNIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=state.settings.secure_cookies,
        max_age=3600,
        path="/signin",
    )
    return response


@router.get("/signin")
def signin_page(request: Request, state: ServiceDep, next: str = "/") -> Response:
    return _signin_form(request, state, next=safe_next(next))


@router.post("/signin")
def signin_form(
    request: Request,
    state: ServiceDep,
    service_number: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    expected = request.cookies.get(SIGNIN_COOKIE, "")
    if not (expected and csrf_token and hmac.compare_digest(csrf_token, expected)):
        return _signin_form(
            request,
            state,
            status=403,
            error="This sign-in form expired or did not come from this site: sign in again.",
            next=safe_next(next),
            number=service_number,
        )
    address = request.client.host if request.client else ""
    try:
        made = sign_in(state.registry, service_number=service_number, password=password, address=address)
    except PostguardError as exc:
        return _signin_form(
            request, state, status=401, error=str(exc), next=safe_next(next), number=service_number
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    set_session_cookie(response, made, state.settings.secure_cookies)
    return response


@router.post("/signout")
def signout_form(
    request: Request, state: ServiceDep, viewer: ViewerDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    check_csrf(viewer, csrf_token)
    sign_out(state.registry, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/signin?ok=Signed+out.", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
