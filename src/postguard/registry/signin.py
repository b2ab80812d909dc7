"""Members' passwords (argon2id), sign-in with a limit on failures, and browser sessions.

After ``MAX_FAILURES`` failed attempts for one service number within
``FAILURE_WINDOW``, further attempts are refused until the window passes,
whether or not the password is right; every failure and lock-out is audited.
A session id is random, kept only as a SHA-256 hash, and expires after
``SESSION_HOURS``; it carries its own CSRF token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as DbSession

from postguard.audit.chain import AuditRecord
from postguard.errors import AccessDeniedError, ValidationError
from postguard.registry.models import Credential, Member, SignInFailure, WebSession
from postguard.registry.service import Registry
from postguard.registry.tokens import TokenHolder
from postguard.registry.values import utcnow

__all__ = ["MAX_FAILURES", "Session", "session_holder", "set_password", "sign_in", "sign_out"]

MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
SESSION_HOURS = 8
MIN_PASSWORD = 12
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Session:
    cookie: str
    csrf: str
    expires_at: dt.datetime
    holder: TokenHolder


def set_password(registry: Registry, actor: str | None, *, member: str, password: str) -> None:
    """Set ``member``'s password: by it_admin, or by the member themself."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"a password must be at least {MIN_PASSWORD} characters long.")
    digest = _hasher.hash(password)
    if actor == member:
        with registry.db.session() as session:
            target = registry.member(session, member)
            if not target.active:
                raise AccessDeniedError(f"{member} is not an active member.")
            _store(registry, session, target, digest, actor)
        return
    with registry.acting(actor, "member.password") as (session, _):
        _store(registry, session, registry.member(session, member), digest, actor)


def _store(registry: Registry, session: DbSession, target: Member, digest: str, actor: str | None) -> None:
    row = session.get(Credential, target.id)
    if row is None:
        session.add(Credential(member_id=target.id, password_hash=digest, updated_at=utcnow()))
    else:
        row.password_hash, row.updated_at = digest, utcnow()
    registry.audit(session, AuditRecord(actor or "", "member.password", f"member:{target.service_number}"))


def sign_in(registry: Registry, *, service_number: str, password: str, address: str = "") -> Session:
    now = utcnow()
    with registry.db.session() as session:
        recent = (
            session.scalar(
                select(func.count())
                .select_from(SignInFailure)
                .where(
                    SignInFailure.service_number == service_number, SignInFailure.at > now - FAILURE_WINDOW
                )
            )
            or 0
        )
        locked = recent >= MAX_FAILURES
        if locked:
            registry.audit(
                session,
                AuditRecord(
                    service_number[:64],
                    "signin.locked",
                    f"member:{service_number[:64]}",
                    detail={"address": address},
                    origin=f"web:{address}",
                ),
            )
    if locked:  # raised after the commit, so the lock-out stays in the audit trail
        raise AccessDeniedError("Too many failed sign-ins: try again in 15 minutes.")
    with registry.db.session() as session:
        member = session.scalar(select(Member).where(Member.service_number == service_number))
        row = session.get(Credential, member.id) if member is not None else None
        ok = False
        if member is not None and member.active and row is not None:
            try:
                ok = _hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
        if not ok:
            session.add(SignInFailure(service_number=service_number[:64], address=address[:64], at=now))
            registry.audit(
                session,
                AuditRecord(
                    service_number[:64],
                    "signin.failed",
                    f"member:{service_number[:64]}",
                    detail={"address": address},
                    origin=f"web:{address}",
                ),
            )
    if not ok or member is None:
        raise AccessDeniedError("Service number or password is wrong.")
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + dt.timedelta(hours=SESSION_HOURS)
    with registry.db.session() as session:
        session.add(
            WebSession(
                id_hash=_hash(cookie), member_id=member.id, csrf=csrf, created_at=now, expires_at=expires
            )
        )
        session.execute(delete(SignInFailure).where(SignInFailure.service_number == service_number))
        registry.audit(
            session,
            AuditRecord(
                service_number,
                "signin",
                f"member:{service_number}",
                detail={"address": address},
                origin=f"web:{address}",
            ),
        )
    return Session(
        cookie, csrf, expires, TokenHolder(member.service_number, frozenset(member.roles), "session")
    )


def session_holder(registry: Registry, cookie: str) -> tuple[TokenHolder, str] | None:
    """(who, csrf token) for a live session cookie, or ``None``."""
    if not cookie or len(cookie) > 200:
        return None
    with registry.db.session() as session:
        row = session.get(WebSession, _hash(cookie))
        if row is None or row.expires_at <= utcnow() or not row.member.active:
            return None
        return TokenHolder(row.member.service_number, frozenset(row.member.roles), "session"), row.csrf


def sign_out(registry: Registry, cookie: str) -> None:
    with registry.db.session() as session:
        session.execute(delete(WebSession).where(WebSession.id_hash == _hash(cookie)))


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
