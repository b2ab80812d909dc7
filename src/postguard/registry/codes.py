"""What authorisations and permissions share: their ids (AU-0001, CP-2026-0001), finding one by
its id, and the one scaffold for changing or revoking one (checked, written and audited together)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postguard.audit.chain import AuditRecord
from postguard.errors import NotFoundError, ValidationError
from postguard.registry.models import Authorisation, Permission
from postguard.registry.service import Registry
from postguard.registry.values import check_period, iso, parse_when, utcnow

__all__ = ["by_code", "change_period", "next_code", "record_new", "revise", "revoke"]

G = TypeVar("G", Authorisation, Permission)


def next_code(session: Session, model: type[Authorisation] | type[Permission], prefix: str) -> str:
    """The next id after ``prefix`` (``AU-``, ``CP-2026-``), numbered from 0001."""
    count = session.scalar(select(func.count()).select_from(model).where(model.code.like(f"{prefix}%"))) or 0
    return f"{prefix}{count + 1:04d}"


def by_code(session: Session, model: type[Any], code: str, what: str) -> Any:
    """The ``what`` (authorisation, permission) with id ``code``; NotFoundError names it."""
    row = session.scalar(select(model).where(model.code == code))
    if row is None:
        raise NotFoundError(f"No {what} has id '{code}'.")
    return row


def record_new(
    registry: Registry, session: Session, actor: str | None, row: G, clause: str, detail: dict[str, Any]
) -> G:
    """Add a new grant in ``session`` and audit it (``authorisation.add``, ``permission.add``)."""
    noun = type(row).__tablename__
    session.add(row)
    session.flush()
    registry.audit(session, AuditRecord(actor or "", f"{noun}.add", f"{noun}:{row.code}", clause, detail))
    return row


def revise(
    registry: Registry,
    actor: str | None,
    verb: str,
    model: type[G],
    code: str,
    *,
    clause: Callable[[G], str],
    apply: Callable[[G], dict[str, Any]],
) -> G:
    """Change grant ``code`` with ``apply`` (which returns the audit detail), as ``actor``, audited."""
    noun = model.__tablename__
    action = f"{noun}.{verb}"
    with registry.acting(actor, action) as (session, _):
        row: G = by_code(session, model, code, noun)
        detail = apply(row)
        session.flush()
        registry.audit(session, AuditRecord(actor or "", action, f"{noun}:{code}", clause(row), detail))
        return row


def change_period(row: Authorisation | Permission, valid_until: str | None, reason: str | None) -> None:
    """A new end and/or reason for a grant; the end must still come after the start."""
    if valid_until is not None:
        row.valid_until = parse_when(valid_until, "until", end=True)
        check_period(row.valid_from, row.valid_until)
    if reason is not None:
        row.reason = reason.strip()


def revoke(
    registry: Registry, actor: str | None, model: type[G], code: str, reason: str, clause: Callable[[G], str]
) -> G:
    """Revoke grant ``code`` at once, with ``reason``; revoking twice is refused."""

    def apply(row: G) -> dict[str, Any]:
        if row.revoked_at is not None:
            raise ValidationError(
                f"{model.__tablename__.capitalize()} {code} was revoked already, on {iso(row.revoked_at)}."
            )
        row.revoked_at, row.revoked_reason = utcnow(), reason
        return {"reason": reason}

    return revise(registry, actor, "revoke", model, code, clause=clause, apply=apply)
