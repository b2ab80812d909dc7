"""API tokens: created by it_admin for a member, shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from postguard.audit.chain import AuditRecord
from postguard.errors import NotFoundError, ValidationError
from postguard.registry.models import ApiToken, Member
from postguard.registry.service import Registry
from postguard.registry.values import utcnow

__all__ = ["TokenHolder", "create_token", "resolve_token", "revoke_token"]

PREFIX = "pgt_"


@dataclass(frozen=True)
class TokenHolder:
    """Who a valid token acts for."""

    service_number: str
    roles: frozenset[str]
    token_name: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(registry: Registry, actor: str | None, *, member: str, name: str) -> tuple[str, ApiToken]:
    """A new token for ``member`` (needs it_admin); the token itself is returned only here."""
    if not name.strip():
        raise ValidationError("a token needs a name: what uses it, e.g. 'squid-proxy-01'.")
    token = PREFIX + secrets.token_urlsafe(32)
    with registry.acting(actor, "member.token") as (session, _):
        holder = registry.member(session, member)
        row = ApiToken(name=name.strip(), token_hash=_hash(token), member=holder, created_at=utcnow())
        session.add(row)
        session.flush()
        registry.audit(
            session,
            AuditRecord(
                actor or "", "member.token", f"member:{member}", detail={"token": name, "id": row.id}
            ),
        )
        return token, row


def revoke_token(registry: Registry, actor: str | None, *, token_id: int) -> None:
    with registry.acting(actor, "member.token-revoke") as (session, _):
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFoundError(f"No API token has id {token_id}.")
        row.revoked_at = utcnow()
        registry.audit(session, AuditRecord(actor or "", "member.token-revoke", f"token:{token_id}"))


def resolve_token(registry: Registry, token: str) -> TokenHolder | None:
    """The active member a presented token acts for, or ``None``."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    with registry.db.reading() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(token)))
        if row is None or row.revoked_at is not None:
            return None
        member: Member = row.member
        if not member.active:
            return None
        return TokenHolder(member.service_number, frozenset(member.roles), row.name)
