"""Signing in and out of the web application."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from postguard.errors import PostguardError
from postguard.registry.signin import sign_in, sign_out
from postguard.web.deps import SESSION_COOKIE, ServiceDep, set_session_cookie
from postguard.web.pages.common import ViewerDep, check_csrf, render, safe_next

router = APIRouter(include_in_schema=False)


@router.get("/signin")
def signin_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "signin.html", None, next=safe_next(next))


@router.post("/signin")
def signin_form(
    request: Request,
    state: ServiceDep,
    service_number: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    address = request.client.host if request.client else ""
    try:
        made = sign_in(state.registry, service_number=service_number, password=password, address=address)
    except PostguardError as exc:
        return render(
            request,
            "signin.html",
            None,
            status=401,
            error=str(exc),
            next=safe_next(next),
            number=service_number,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
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
