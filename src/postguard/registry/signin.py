"""Members' passwords (argon2id), sign-in that resists guessing, and browser sessions.

- **Passwords** are at least ``MIN_PASSWORD`` characters and not guessable: zxcvbn's
  estimate (its dictionaries of common passwords, names and patterns, and the
  member's own service number and name) must reach ``MIN_STRENGTH`` of 4. Setting a
  password ends the member's other sessions.
- **Guessing** is slowed three ways. An address that tries more than
  ``ADDRESS_LIMIT`` sign-ins a minute is refused before any password is
  checked (``limits``' moving window). After ``MAX_FAILURES`` failures for one
  service number *from one address* within ``FAILURE_WINDOW``, that address is
  locked out of that account until the window passes, so nobody can lock a member
  out from elsewhere. A service number that does not exist costs the same argon2
  verification as one that does, so the time taken does not tell them apart.
- **The audit trail** records the first failure of an account from an address
  in each window and the lock-out, not every try, with the actor ``anonymous``
  and the service number tried in the detail (a caller chooses that id, so it is
  never written as the actor).
- **No lock is held while hashing.** The stored hash is read in a read
  transaction, argon2 runs outside any transaction, and only then is the outcome
  written.
- **Sessions**: a random id kept only as a SHA-256 hash, with its own CSRF token;
  they end after ``SESSION_HOURS``, or after ``IDLE_MINUTES`` without use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session as DbSession

from postguard.audit.chain import AuditRecord
from postguard.errors import AccessDeniedError, TooManyAttemptsError, ValidationError
from postguard.registry.models import Credential, Member, SignInFailure, WebSession
from postguard.registry.service import Registry
from postguard.registry.tokens import TokenHolder
from postguard.registry.values import utcnow

__all__ = [
    "IDLE_MINUTES",
    "MAX_FAILURES",
    "Session",
    "TooManyAttemptsError",
    "reset_limits",
    "session_holder",
    "set_password",
    "sign_in",
    "sign_out",
]

MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
SESSION_HOURS = 8
IDLE_MINUTES = 30
#: A session's last use is written at most this often (a read would otherwise write).
_TOUCH_EVERY = dt.timedelta(minutes=1)
MIN_PASSWORD = 12
MIN_STRENGTH = 3
ADDRESS_LIMIT = "30/minute"
_hasher = PasswordHasher()
#: Verified against when the service number has no password, so both cases cost the same.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
_storage = MemoryStorage()
_limiter = MovingWindowRateLimiter(_storage)
_address_limit = parse(ADDRESS_LIMIT)
_audit_limit = parse("1/minute")


def reset_limits() -> None:
    """Forget every address's recent sign-ins (for tests, and an operator's restart)."""
    _storage.reset()


@dataclass(frozen=True)
class Session:
    cookie: str
    csrf: str
    expires_at: dt.datetime
    holder: TokenHolder


def password_problem(password: str, *, hints: tuple[str, ...] = ()) -> str | None:
    """Why ``password`` may not be used, or ``None``."""
    if len(password) < MIN_PASSWORD:
        return f"a password must be at least {MIN_PASSWORD} characters long."
    if "\x00" in password:
        return "a password may not contain a NUL character."
    from zxcvbn import zxcvbn  # type: ignore[import-untyped]

    verdict = zxcvbn(password[:100], user_inputs=[h for h in hints if h])
    if verdict["score"] < MIN_STRENGTH:
        warning = verdict["feedback"].get("warning") or "it is too easy to guess"
        return (
            f"that password is too easy to guess ({warning.rstrip('.').lower()}): choose a longer, rarer one."
        )
    return None


def set_password(
    registry: Registry, actor: str | None, *, member: str, password: str, keep_session: str = ""
) -> None:
    """Set ``member``'s password: by it_admin, or by the member themself.

    Every session of the member ends but ``keep_session`` (the cookie of the session that
    changed it, when the member changed their own in a browser).
    """
    with registry.db.reading() as session:
        target = registry.member(session, member)
        hints = (target.service_number, *target.name.split())
    problem = password_problem(password, hints=hints)
    if problem:
        raise ValidationError(problem)
    digest = _hasher.hash(password)
    if actor == member:
        with registry.db.session() as session:
            target = registry.member(session, member)
            if not target.active:
                raise AccessDeniedError(f"{member} is not an active member.")
            _store(registry, session, target, digest, actor, keep_session)
        return
    with registry.acting(actor, "member.password") as (session, _):
        _store(registry, session, registry.member(session, member), digest, actor, keep_session)


def _store(
    registry: Registry, session: DbSession, target: Member, digest: str, actor: str | None, keep: str
) -> None:
    row = session.get(Credential, target.id)
    if row is None:
        session.add(Credential(member_id=target.id, password_hash=digest, updated_at=utcnow()))
    else:
        row.password_hash, row.updated_at = digest, utcnow()
    others = select(WebSession).where(WebSession.member_id == target.id, WebSession.id_hash != _hash(keep))
    ended = 0
    for other in session.scalars(others).all():
        session.delete(other)
        ended += 1
    registry.audit(
        session,
        AuditRecord(
            actor or "",
            "member.password",
            f"member:{target.service_number}",
            detail={"sessions_ended": ended},
        ),
    )


def _failures(session: DbSession, service_number: str, address: str, since: dt.datetime) -> int:
    query = (
        select(func.count())
        .select_from(SignInFailure)
        .where(
            SignInFailure.service_number == service_number,
            SignInFailure.address == address,
            SignInFailure.at > since,
        )
    )
    return int(session.scalar(query) or 0)


def _attempt(registry: Registry, action: str, tried: str, address: str) -> None:
    with registry.db.session() as session:
        registry.audit(session, _failure_record(action, tried, address, {}))


def _failure_record(action: str, tried: str, address: str, extra: dict[str, object]) -> AuditRecord:
    return AuditRecord(
        "anonymous",
        action,
        "signin",
        detail={"service_number": tried[:64], "address": address[:64], **extra},
        origin=f"web:{address[:64]}",
    )


def sign_in(registry: Registry, *, service_number: str, password: str, address: str = "") -> Session:
    now, tried, address = utcnow(), service_number[:64], address[:64]
    if not _limiter.hit(_address_limit, "signin", address or "-"):
        if _limiter.hit(_audit_limit, "signin-throttled", address or "-"):  # one entry a minute, not each try
            _attempt(registry, "signin.throttled", tried, address)
        raise TooManyAttemptsError("Too many sign-ins from this address: wait a minute and try again.")
    with registry.db.reading() as session:
        locked = _failures(session, tried, address, now - FAILURE_WINDOW) >= MAX_FAILURES
        member = session.scalar(select(Member).where(Member.service_number == tried))
        row = session.get(Credential, member.id) if member is not None else None
        stored = row.password_hash if row is not None and member is not None and member.active else None
        roles = frozenset(member.roles) if member is not None else frozenset()
        member_id = member.id if member is not None else None
    if locked:
        raise AccessDeniedError("Too many failed sign-ins from here: try again in 15 minutes.")
    try:  # outside any transaction: argon2 takes tens of milliseconds and holds no lock
        ok = _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or member_id is None:
        with registry.db.session() as session:
            earlier = _failures(session, tried, address, now - FAILURE_WINDOW)
            session.add(SignInFailure(service_number=tried, address=address, at=now))
            if earlier == 0:
                registry.audit(session, _failure_record("signin.failed", tried, address, {}))
            elif earlier + 1 == MAX_FAILURES:
                registry.audit(
                    session, _failure_record("signin.locked", tried, address, {"failures": MAX_FAILURES})
                )
        raise AccessDeniedError("Service number or password is wrong.")
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + dt.timedelta(hours=SESSION_HOURS)
    with registry.db.session() as session:
        session.add(
            WebSession(
                id_hash=_hash(cookie),
                member_id=member_id,
                csrf=csrf,
                created_at=now,
                expires_at=expires,
                last_seen_at=now,
            )
        )
        session.execute(
            delete(SignInFailure).where(
                SignInFailure.service_number == tried, SignInFailure.address == address
            )
        )
        registry.audit(
            session,
            AuditRecord(
                tried, "signin", f"member:{tried}", detail={"address": address}, origin=f"web:{address}"
            ),
        )
    return Session(cookie, csrf, expires, TokenHolder(tried, roles, "session"))


def session_holder(registry: Registry, cookie: str) -> tuple[TokenHolder, str] | None:
    """(who, csrf token) for a live session cookie, or ``None`` (unknown, expired or idle too long)."""
    if not cookie or len(cookie) > 200:
        return None
    now = utcnow()
    with registry.db.reading() as session:
        row = session.get(WebSession, _hash(cookie))
        if row is None or row.expires_at <= now or not row.member.active:
            return None
        seen = row.last_seen_at or row.created_at
        if now - seen > dt.timedelta(minutes=IDLE_MINUTES):
            return None
        found = TokenHolder(row.member.service_number, frozenset(row.member.roles), "session"), row.csrf
        touch = now - seen > _TOUCH_EVERY
    if touch:
        with registry.db.session() as session:
            row = session.get(WebSession, _hash(cookie))
            if row is not None:
                row.last_seen_at = now
    return found


def sign_out(registry: Registry, cookie: str) -> None:
    with registry.db.session() as session:
        session.execute(delete(WebSession).where(WebSession.id_hash == _hash(cookie)))


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
