"""Sign-in for people: POST /api/v1/session (a cookie and a CSRF token), DELETE to sign out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from postguard.registry.signin import sign_in, sign_out
from postguard.web.deps import SESSION_COOKIE, Caller, ServiceDep, set_session_cookie

router = APIRouter(prefix="/api/v1", tags=["session"])


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_number: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


@router.post("/session", summary="Sign in with service number and password")
def create_session(body: SignIn, request: Request, response: Response, state: ServiceDep) -> dict[str, Any]:
    address = request.client.host if request.client else ""
    made = sign_in(
        state.registry, service_number=body.service_number, password=body.password, address=address
    )
    set_session_cookie(response, made, state.settings.secure_cookies)
    return {
        "member": made.holder.service_number,
        "roles": sorted(made.holder.roles),
        "csrf_token": made.csrf,
        "expires_at": made.expires_at.isoformat(timespec="seconds"),
    }


@router.delete("/session", summary="Sign out", status_code=204)
def delete_session(request: Request, response: Response, state: ServiceDep, caller: Caller) -> None:
    sign_out(state.registry, request.cookies.get(SESSION_COOKIE, ""))
    response.delete_cookie(SESSION_COOKIE, path="/")
