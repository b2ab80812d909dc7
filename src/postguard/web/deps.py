"""Named dependencies: the service's state, and who is calling (a bearer API token)."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response

from postguard.access.point import AccessPoint
from postguard.audit.chain import AuditRecord
from postguard.audit.verify import VerifyReport, verify
from postguard.audit.witness import read_heads
from postguard.checks.engine import Checker
from postguard.registry.grants import Grants
from postguard.registry.roles import allowed, needed
from postguard.registry.service import Registry
from postguard.registry.signin import Session as SignedIn
from postguard.registry.signin import session_holder
from postguard.registry.tokens import TokenHolder, resolve_token
from postguard.settings import Settings
from postguard.workflow import Workflow

__all__ = ["Caller", "ServiceDep", "State", "require", "set_session_cookie", "token_holder"]


@dataclass
class State:
    settings: Settings
    registry: Registry
    grants: Grants
    checker: Checker
    access: AccessPoint
    workflow: Workflow
    tokens: dict[str, tuple[TokenHolder, float, int]] = field(default_factory=dict)


def _state(request: Request) -> State:
    state: State = request.app.state.postguard
    return state


ServiceDep = Annotated[State, Depends(_state)]


#: How long a resolved token is trusted without asking the database again: a token revoked, or a
#: role removed, by another process stops working within this time; by this process, at once.
TOKEN_TTL = 2.0


def token_holder(state: State, token: str) -> TokenHolder | None:
    """The member an API token acts for (cached for ``TOKEN_TTL``, and dropped at once when this
    process changes the registry)."""
    now = time.monotonic()
    _tokens = state.tokens
    generation = state.registry.generation
    hit = _tokens.get(token)
    if hit is not None and hit[1] > now and hit[2] == generation:
        return hit[0]
    holder = resolve_token(state.registry, token)
    if len(_tokens) > 10_000:
        _tokens.clear()
    if holder is not None:  # a bad token is asked again each time, so it cannot fill the cache
        _tokens[token] = (holder, now + TOKEN_TTL, generation)
    return holder


SESSION_COOKIE = "postguard_session"


def set_session_cookie(response: Response, made: SignedIn, secure: bool) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure unless turned off for plain HTTP."""
    response.set_cookie(
        SESSION_COOKIE,
        made.cookie,
        httponly=True,
        samesite="strict",
        secure=secure,
        expires=made.expires_at,
        path="/",
    )


_SAFE = {"GET", "HEAD", "OPTIONS"}


def _session_caller(request: Request, state: State) -> TokenHolder | None:
    cookie = request.cookies.get(SESSION_COOKIE, "")
    found = session_holder(state.registry, cookie) if cookie else None
    if found is None:
        return None
    holder, csrf = found
    if request.method not in _SAFE and not hmac.compare_digest(request.headers.get("x-csrf-token", ""), csrf):
        raise HTTPException(403, "Missing or wrong X-CSRF-Token header for this session.")
    return holder


def _caller(request: Request, state: ServiceDep) -> TokenHolder:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    holder = token_holder(state, token.strip()) if scheme.lower() == "bearer" else None
    if holder is None and not header:
        holder = _session_caller(request, state)
    if holder is None:
        raise HTTPException(
            401,
            "Sign in (POST /api/v1/session), or give a valid API token: 'Authorization: Bearer pgt_...'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return holder


Caller = Annotated[TokenHolder, Depends(_caller)]


def require(action: str | None = None) -> Any:
    """A dependency that lets through only callers whose roles allow ``action`` (any signed-in
    caller when ``None``), by the one role table; a refusal is audited."""

    def check(request: Request, caller: Caller, state: ServiceDep) -> TokenHolder:
        if action is not None and not allowed(caller.roles, action):
            roles = needed(action)
            with state.registry.db.session() as session:
                state.registry.audit(
                    session,
                    AuditRecord(
                        caller.service_number,
                        "denied",
                        f"api:{request.method} {request.url.path}",
                        detail={
                            "action": action,
                            "needs": sorted(roles),
                            "has": sorted(caller.roles),
                            "token": caller.token_name,
                        },
                        origin=f"api:{request.client.host if request.client else '-'}",
                    ),
                )
            raise HTTPException(
                403,
                f"{caller.service_number} may not do this: it needs the role {' or '.join(sorted(roles))}.",
            )
        return caller

    return Depends(check)


def verify_trail(state: State) -> VerifyReport:
    """The audit trail verified with the department key and the witness the settings name."""
    from postguard.keys import load_public_if_present

    public = load_public_if_present(state.settings.keys_dir, "department")
    path = state.settings.audit_witness
    heads = read_heads(path) if path is not None and path.exists() else None
    report = verify(state.registry.db.engine, public, witness=heads)
    if path is not None and heads is None:
        report.warnings.append("the witness file named by POSTGUARD_AUDIT_WITNESS does not exist yet")
    return report
