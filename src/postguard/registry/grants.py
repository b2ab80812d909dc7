"""Grants: clause B authorisations, and the authority's signed written permissions.

A permission is honoured only when all of these hold, and the reason is said
when one does not: its record's signed payload verifies with the
commissioner's public key (so a row added or edited by hand, or signed with
another key, fails); it is not revoked (in its row, nor by a revocation entry
in the audit trail, which a hand edit of the row cannot remove); and the time
falls between its from and until.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from postguard.audit.chain import AuditRecord, canonical_json
from postguard.errors import NotFoundError, ValidationError
from postguard.registry.keys import PublicKey, SigningKey, load_public
from postguard.registry.models import Authorisation, Permission
from postguard.registry.service import Registry
from postguard.registry.values import check_period, iso, parse_when, utcnow

__all__ = [
    "PERMISSION_CONTEXT",
    "PERMISSION_KINDS",
    "Grants",
    "Honoured",
    "authorisation_dict",
    "permission_dict",
    "permission_payload",
]

PERMISSION_CONTEXT = "postguard-written-permission-v1"
PERMISSION_KINDS = ("personal-device", "confidential-release")
PermissionKind = Literal["personal-device", "confidential-release"]
SCOPES = ("site", "category", "all")


@dataclass(frozen=True)
class Honoured:
    """Whether a permission is honoured now, and why (not)."""

    valid: bool
    reason: str


def permission_payload(p: Permission) -> dict[str, Any]:
    """Exactly what the authority's key signs for a permission."""
    return {
        "context": PERMISSION_CONTEXT,
        "code": p.code,
        "kind": p.kind,
        "member": p.member.service_number if p.member else None,
        "device": p.device.identifier if p.device else None,
        "post": p.post_ref,
        "valid_from": iso(p.valid_from),
        "valid_until": iso(p.valid_until),
        "reason": p.reason,
        "text": p.text,
        "issued_by": p.issued_by.service_number,
        "issued_at": iso(p.issued_at),
        "key_id": p.key_id,
    }


class Grants:
    """Authorisations (clause B) and written permissions (clauses A.iii and C)."""

    def __init__(self, registry: Registry, keys_dir: Path) -> None:
        self.registry = registry
        self.keys_dir = keys_dir

    # Authorisations ---------------------------------------------------------

    def authorise(
        self,
        actor: str | None,
        *,
        member: str | None,
        computer: str | None,
        scope: str,
        target: str = "",
        valid_from: str | dt.datetime | None = None,
        valid_until: str | dt.datetime | None = None,
        reason: str,
    ) -> Authorisation:
        """Grant clause B access; ``None`` member or computer means all of them."""
        if scope not in SCOPES:
            raise ValidationError(f"scope must be one of {', '.join(SCOPES)}, not '{scope}'.")
        if scope != "all" and not target.strip():
            raise ValidationError(f"a '{scope}' authorisation needs --{scope} (which {scope}).")
        if not reason.strip():
            raise ValidationError("an authorisation needs a --reason.")
        start = parse_when(valid_from, "--from") or utcnow()
        end = parse_when(valid_until, "--until")
        check_period(start, end)
        with self.registry.acting(actor, "authorisation.add") as (session, granter):
            row = Authorisation(
                code=_next_code(session, Authorisation, "AU-"),
                member=self.registry.member(session, member) if member else None,
                computer=self.registry.computer(session, computer) if computer else None,
                scope=scope,
                target=target.strip().lower() if scope != "all" else "",
                valid_from=start,
                valid_until=end,
                reason=reason.strip(),
                granted_by=granter,
                created_at=utcnow(),
                revoked_at=None,
            )
            session.add(row)
            session.flush()
            self.registry.audit(
                session,
                AuditRecord(
                    actor or "",
                    "authorisation.add",
                    f"authorisation:{row.code}",
                    "B",
                    authorisation_dict(row),
                ),
            )
            return row

    def change_authorisation(
        self, actor: str | None, code: str, *, valid_until: str | None = None, reason: str | None = None
    ) -> Authorisation:
        if valid_until is None and reason is None:
            raise ValidationError("nothing to change: give --until or --reason.")
        with self.registry.acting(actor, "authorisation.change") as (session, _):
            row: Authorisation = _by_code(session, Authorisation, code, "authorisation")
            before = authorisation_dict(row)
            if valid_until is not None:
                row.valid_until = parse_when(valid_until, "--until")
                check_period(row.valid_from, row.valid_until)
            if reason is not None:
                row.reason = reason.strip()
            session.flush()
            self.registry.audit(
                session,
                AuditRecord(
                    actor or "",
                    "authorisation.change",
                    f"authorisation:{code}",
                    "B",
                    {"before": before, "after": authorisation_dict(row)},
                ),
            )
            return row

    def revoke_authorisation(self, actor: str | None, code: str, reason: str) -> Authorisation:
        with self.registry.acting(actor, "authorisation.revoke") as (session, _):
            row: Authorisation = _by_code(session, Authorisation, code, "authorisation")
            if row.revoked_at is not None:
                raise ValidationError(f"Authorisation {code} was revoked already, on {iso(row.revoked_at)}.")
            row.revoked_at, row.revoked_reason = utcnow(), reason
            self.registry.audit(
                session,
                AuditRecord(
                    actor or "", "authorisation.revoke", f"authorisation:{code}", "B", {"reason": reason}
                ),
            )
            return row

    # Permissions --------------------------------------------------------------

    def permit(
        self,
        actor: str | None,
        key: SigningKey,
        *,
        kind: str,
        member: str | None = None,
        device: str | None = None,
        post: str = "",
        valid_from: str | dt.datetime | None = None,
        valid_until: str | dt.datetime | None = None,
        reason: str,
        text_: str,
    ) -> Permission:
        """Issue a written permission, signed with the authority's key."""
        if kind not in PERMISSION_KINDS:
            raise ValidationError(f"kind must be one of {', '.join(PERMISSION_KINDS)}, not '{kind}'.")
        if kind == "personal-device" and not (member and device):
            raise ValidationError("a personal-device permission names the --member and the --device.")
        if kind == "confidential-release" and not (member or post):
            raise ValidationError("a confidential-release permission names a --member or a --post.")
        if not reason.strip() or not text_.strip():
            raise ValidationError("a written permission needs its --reason and its --text.")
        start = parse_when(valid_from, "--from") or utcnow()
        end = parse_when(valid_until, "--until")
        check_period(start, end)
        trusted = load_public(self.keys_dir, "commissioner")
        if trusted.key_id != key.key_id:
            raise ValidationError(
                f"The signing key {key.key_id} is not the commissioner key trusted here ({trusted.key_id})."
            )
        with self.registry.acting(actor, "permission.add") as (session, issuer):
            now = utcnow()
            row = Permission(
                code=_next_code(session, Permission, f"CP-{now.year}-"),
                kind=kind,
                member=self.registry.member(session, member) if member else None,
                device=self.registry.device(session, device) if device else None,
                post_ref=post.strip(),
                valid_from=start,
                valid_until=end,
                reason=reason.strip(),
                text=text_.strip(),
                issued_by=issuer,
                issued_at=now.replace(microsecond=0),
                key_id=key.key_id,
                signature="",
                revoked_at=None,
            )
            if row.device is not None and row.member is not None and row.device.owner_id != row.member.id:
                raise ValidationError(f"device {device} belongs to another member, not {member}.")
            row.signature = key.sign(canonical_json(permission_payload(row)).encode("utf-8"))
            session.add(row)
            session.flush()
            clause = "C" if kind == "personal-device" else "A.iii.confidential"
            self.registry.audit(
                session,
                AuditRecord(
                    actor or "",
                    "permission.add",
                    f"permission:{row.code}",
                    clause,
                    {**permission_dict(row), "signature": row.signature},
                ),
            )
            return row

    def change_permission(
        self,
        actor: str | None,
        key: SigningKey,
        code: str,
        *,
        valid_until: str | None = None,
        reason: str | None = None,
    ) -> Permission:
        """Change the end or the reason of a permission; it is signed anew with ``key``."""
        if valid_until is None and reason is None:
            raise ValidationError("nothing to change: give --until or --reason.")
        trusted = load_public(self.keys_dir, "commissioner")
        if trusted.key_id != key.key_id:
            raise ValidationError(
                f"The signing key {key.key_id} is not the commissioner key {trusted.key_id}."
            )
        with self.registry.acting(actor, "permission.change") as (session, _):
            row: Permission = _by_code(session, Permission, code, "permission")
            if row.revoked_at is not None:
                raise ValidationError(f"Permission {code} is revoked; issue a new one instead.")
            before = permission_dict(row)
            if valid_until is not None:
                row.valid_until = parse_when(valid_until, "--until")
                check_period(row.valid_from, row.valid_until)
            if reason is not None:
                row.reason = reason.strip()
            row.key_id = key.key_id
            row.signature = key.sign(canonical_json(permission_payload(row)).encode("utf-8"))
            session.flush()
            clause = "C" if row.kind == "personal-device" else "A.iii.confidential"
            self.registry.audit(
                session,
                AuditRecord(
                    actor or "",
                    "permission.change",
                    f"permission:{code}",
                    clause,
                    {"before": before, "after": permission_dict(row), "signature": row.signature},
                ),
            )
            return row

    def check_permission(self, permission_id: str, post: object) -> tuple[bool, str]:
        """The checker's :class:`~postguard.checks.engine.PermissionResolver`."""
        result = self.honoured(permission_id)
        if result.valid:
            with self.registry.db.session() as session:
                row = session.scalar(select(Permission).where(Permission.code == permission_id))
                if row is not None and row.kind != "confidential-release":
                    return False, f"{permission_id} is a {row.kind} permission, not a confidential release"
        return result.valid, result.reason

    def list_authorisations(self) -> list[dict[str, Any]]:
        with self.registry.db.session() as session:
            return [
                authorisation_dict(a)
                for a in session.scalars(select(Authorisation).order_by(Authorisation.id))
            ]

    def get_authorisation(self, code: str) -> dict[str, Any]:
        with self.registry.db.session() as session:
            return authorisation_dict(_by_code(session, Authorisation, code, "authorisation"))

    def list_permissions(self) -> list[dict[str, Any]]:
        with self.registry.db.session() as session:
            return [permission_dict(p) for p in session.scalars(select(Permission).order_by(Permission.id))]

    def list_judged(self, *, at: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Every permission with ``honoured`` and ``why``: one session and one key load for all."""
        when, trusted = at or utcnow(), load_public(self.keys_dir, "commissioner")
        with self.registry.db.session() as session:
            rows = []
            for p in session.scalars(select(Permission).order_by(Permission.id)):
                verdict = _judge(session, p, when, trusted)
                rows.append({**permission_dict(p), "honoured": verdict.valid, "why": verdict.reason})
            return rows

    def revoke_permission(self, actor: str | None, code: str, reason: str) -> Permission:
        with self.registry.acting(actor, "permission.revoke") as (session, _):
            row: Permission = _by_code(session, Permission, code, "permission")
            if row.revoked_at is not None:
                raise ValidationError(f"Permission {code} was revoked already, on {iso(row.revoked_at)}.")
            row.revoked_at, row.revoked_reason = utcnow(), reason
            clause = "C" if row.kind == "personal-device" else "A.iii.confidential"
            self.registry.audit(
                session,
                AuditRecord(
                    actor or "", "permission.revoke", f"permission:{code}", clause, {"reason": reason}
                ),
            )
            return row

    def honoured(
        self, code: str, *, at: dt.datetime | None = None, trusted: PublicKey | None = None
    ) -> Honoured:
        """Whether permission ``code`` is in force at ``at`` (now), and why (not)."""
        when = at or utcnow()
        trusted = trusted or load_public(self.keys_dir, "commissioner")
        with self.registry.db.session() as session:
            row = session.scalar(select(Permission).where(Permission.code == code))
            if row is None:
                return Honoured(False, f"no permission {code} is on record")
            return _judge(session, row, when, trusted)

    def get_permission(self, code: str) -> tuple[Permission, dict[str, Any]]:
        with self.registry.db.session() as session:
            row = _by_code(session, Permission, code, "permission")
            return row, permission_dict(row)


def signature_problem(row: Permission, trusted: PublicKey) -> str | None:
    """Why ``row`` is not genuinely signed by ``trusted``, or ``None`` when it is."""
    if row.key_id != trusted.key_id:
        return f"signed with key {row.key_id}, not the commissioner key {trusted.key_id}"
    if not trusted.verify(row.signature, canonical_json(permission_payload(row)).encode("utf-8")):
        return "its signature does not match the record: added or edited outside postguard"
    return None


def _judge(session: Session, row: Permission, when: dt.datetime, trusted: PublicKey) -> Honoured:
    problem = signature_problem(row, trusted)
    if problem is not None:
        return Honoured(False, problem)
    revoked_in_trail = session.execute(
        text("SELECT seq FROM audit_entry WHERE action = 'permission.revoke' AND target = :t LIMIT 1"),
        {"t": f"permission:{row.code}"},
    ).first()
    if row.revoked_at is not None or revoked_in_trail is not None:
        return Honoured(False, f"revoked{f' on {iso(row.revoked_at)}' if row.revoked_at else ''}")
    if when < row.valid_from:
        return Honoured(False, f"not in force until {iso(row.valid_from)}")
    if row.valid_until is not None and when >= row.valid_until:
        return Honoured(False, f"expired on {iso(row.valid_until)}")
    return Honoured(True, f"signed by {row.issued_by.service_number} with {row.key_id}, in force")


def _next_code(session: Session, model: type[Authorisation] | type[Permission], prefix: str) -> str:
    count = session.scalar(select(func.count()).select_from(model).where(model.code.like(f"{prefix}%"))) or 0
    return f"{prefix}{count + 1:04d}"


def _by_code(session: Session, model: type[Any], code: str, what: str) -> Any:
    row = session.scalar(select(model).where(model.code == code))
    if row is None:
        raise NotFoundError(f"No {what} has id '{code}' (see 'postguard {what[:6]} list').")
    return row


def authorisation_dict(a: Authorisation) -> dict[str, Any]:
    return {
        "id": a.code,
        "member": a.member.service_number if a.member else "(all members)",
        "computer": a.computer.asset_tag if a.computer else "(all department computers)",
        "scope": a.scope,
        "target": a.target,
        "valid_from": iso(a.valid_from),
        "valid_until": iso(a.valid_until),
        "reason": a.reason,
        "granted_by": a.granted_by.service_number,
        "revoked_at": iso(a.revoked_at),
        "revoked_reason": a.revoked_reason,
    }


def permission_dict(p: Permission) -> dict[str, Any]:
    """The signed payload, less its context, with the revocation (which is not signed)."""
    payload = permission_payload(p)
    del payload["context"]
    return {
        "id": payload.pop("code"),
        **payload,
        "revoked_at": iso(p.revoked_at),
        "revoked_reason": p.revoked_reason,
    }
