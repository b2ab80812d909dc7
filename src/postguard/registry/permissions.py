"""The authority's written permissions (clauses A.iii and C), signed, and whether each is honoured.

A permission is honoured only when all of these hold, and the reason is said
when one does not (:func:`judge`, which the access snapshot uses too): its
record's signed payload verifies with the commissioner's public key (so a row
added or edited by hand, or signed with another key, fails); it is not
revoked (in its row, nor by a revocation entry in the audit trail, which a
hand edit of the row cannot remove); and the time falls between its from and
until.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from postguard.audit.chain import AuditRecord, canonical_json
from postguard.audit.queries import revoked
from postguard.checks.types import Post
from postguard.errors import TooManyAttemptsError, ValidationError, WrongPassphraseError
from postguard.keys import KeyName, PublicKey, SigningKey, load_public, load_signing
from postguard.policy.schema import Concept
from postguard.registry.codes import by_code, change_period, next_code, record_new, revise, revoke
from postguard.registry.models import AuditEntry, Member, Permission
from postguard.registry.service import Registry
from postguard.registry.values import check_period, iso, parse_when, utcnow

__all__ = [
    "PERMISSION_CONTEXT",
    "PERMISSION_KINDS",
    "Honoured",
    "Permissions",
    "ScopedResolver",
    "judge",
    "permission_dict",
    "permission_payload",
    "post_sha256",
    "signature_problem",
]

PERMISSION_CONTEXT = "postguard-written-permission-v1"
PermissionKind = Literal["personal-device", "confidential-release"]
#: Each kind of permission, and what it releases (the clause covering it files its audit entries).
KIND_COVERS: dict[str, Concept] = {
    "personal-device": "personal-devices",
    "confidential-release": "confidential-material",
}
PERMISSION_KINDS = tuple(KIND_COVERS)


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


def signature_problem(row: Permission, trusted: PublicKey) -> str | None:
    """Why ``row`` is not genuinely signed by ``trusted``, or ``None`` when it is."""
    if row.key_id != trusted.key_id:
        return f"signed with key {row.key_id}, not the commissioner key {trusted.key_id}"
    if not trusted.verify(row.signature, canonical_json(permission_payload(row)).encode("utf-8")):
        return "its signature does not match the record: added or edited outside postguard"
    return None


def judge(
    row: Permission, when: dt.datetime | None, trusted: PublicKey, *, revoked_in_trail: bool
) -> Honoured:
    """The one judgement of a permission: genuine, not revoked, and (when ``when`` is given) in force."""
    problem = signature_problem(row, trusted)
    if problem is not None:
        return Honoured(False, problem)
    if row.revoked_at is not None or revoked_in_trail:
        return Honoured(False, f"revoked{f' on {iso(row.revoked_at)}' if row.revoked_at else ''}")
    if when is not None and when < row.valid_from:
        return Honoured(False, f"not in force until {iso(row.valid_from)}")
    if when is not None and row.valid_until is not None and when >= row.valid_until:
        return Honoured(False, f"expired on {iso(row.valid_until)}")
    return Honoured(True, f"signed by {row.issued_by.service_number} with {row.key_id}, in force")


#: Wrong passphrases one member may give for a key in PASSPHRASE_WINDOW before they must wait.
MAX_PASSPHRASE_FAILURES = 5
PASSPHRASE_WINDOW = dt.timedelta(minutes=15)


class Permissions:
    """Issuing, changing, revoking and judging the authority's written permissions."""

    registry: Registry
    keys_dir: Path

    def _kind_clause(self, kind: str) -> str:
        return self.registry.clause(KIND_COVERS[kind])

    def _row_clause(self, row: Permission) -> str:
        return self._kind_clause(row.kind)

    def _trusted_signer(self, key: SigningKey) -> None:
        trusted = load_public(self.keys_dir, "commissioner")
        if trusted.key_id != key.key_id:
            raise ValidationError(
                f"The signing key {key.key_id} is not the commissioner key trusted here ({trusted.key_id})."
            )

    def unlock_key(self, actor: str, passphrase: str, name: KeyName = "commissioner") -> SigningKey:
        """The key ``name`` unlocked for ``actor`` (over the API or a page), throttled per member.

        Each wrong passphrase is audited (``key.passphrase-failed``, actor the member); after
        MAX_PASSPHRASE_FAILURES in PASSPHRASE_WINDOW the member must wait, whatever they send.
        The count is read from the audit trail, so every service process and a restart see it.
        scrypt runs outside any database transaction.
        """
        since = (utcnow() - PASSPHRASE_WINDOW).isoformat(timespec="microseconds")
        with self.registry.db.reading() as session:
            failures = session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.actor == actor,
                    AuditEntry.action == "key.passphrase-failed",
                    AuditEntry.target == f"key:{name}",
                    AuditEntry.at > since,
                )
            )
        if int(failures or 0) >= MAX_PASSPHRASE_FAILURES:
            raise TooManyAttemptsError(
                f"{MAX_PASSPHRASE_FAILURES} wrong passphrases for the {name} key in "
                f"{int(PASSPHRASE_WINDOW.total_seconds() // 60)} minutes: wait, then try again."
            )
        try:
            return load_signing(self.keys_dir, name, passphrase)
        except WrongPassphraseError:
            with self.registry.db.session() as session:
                self.registry.audit(
                    session,
                    AuditRecord(
                        actor[:64],
                        "key.passphrase-failed",
                        f"key:{name}",
                        detail={"failures": int(failures or 0) + 1, "limit": MAX_PASSPHRASE_FAILURES},
                    ),
                )
            raise

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
        if kind not in KIND_COVERS:
            raise ValidationError(f"kind must be one of {', '.join(PERMISSION_KINDS)}, not '{kind}'.")
        if kind == "personal-device" and not (member and device):
            raise ValidationError("a personal-device permission names the member and the device.")
        if kind == "confidential-release" and not post.strip():
            raise ValidationError(
                "a confidential-release permission names the post it releases: a draft's id, or "
                "'sha256:' and the SHA-256 of its text and attachments."
            )
        if not reason.strip() or not text_.strip():
            raise ValidationError("a written permission needs its reason and its text.")
        start = parse_when(valid_from, "from") or utcnow()
        end = parse_when(valid_until, "until", end=True)
        check_period(start, end)
        self._trusted_signer(key)
        with self.registry.acting(actor, "permission.add") as (session, issuer):
            now = utcnow()
            row = Permission(
                code=next_code(session, Permission, f"CP-{now.year}-"),
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
            detail = {**permission_dict(row), "signature": row.signature}
            return record_new(self.registry, session, actor, row, self._kind_clause(kind), detail)

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
            raise ValidationError("nothing to change: give a new end date or reason.")
        self._trusted_signer(key)

        def apply(row: Permission) -> dict[str, Any]:
            if row.revoked_at is not None:
                raise ValidationError(f"Permission {code} is revoked; issue a new one instead.")
            before = permission_dict(row)
            change_period(row, valid_until, reason)
            row.key_id = key.key_id
            row.signature = key.sign(canonical_json(permission_payload(row)).encode("utf-8"))
            return {"before": before, "after": permission_dict(row), "signature": row.signature}

        return revise(self.registry, actor, "change", Permission, code, clause=self._row_clause, apply=apply)

    def revoke_permission(self, actor: str | None, code: str, reason: str) -> Permission:
        return revoke(self.registry, actor, Permission, code, reason, self._row_clause)

    def check_permission(self, permission_id: str, post: Post) -> tuple[bool, str]:
        """The checker's :class:`~postguard.checks.engine.PermissionResolver`, for nobody in particular:
        only a permission scoped to this very post (its SHA-256) and to no member is honoured."""
        return self.resolver().check_permission(permission_id, post)

    def check_media_permission(self, permission_id: str, post: Post, sha256: str) -> tuple[bool, str]:
        """As :meth:`check_permission`, for the attached file whose bytes hash to ``sha256``."""
        return self.resolver().check_media_permission(permission_id, post, sha256)

    def resolver(self, *, member: str | None = None, draft: str | None = None) -> ScopedResolver:
        """A resolver that honours a confidential release only for ``member`` and their post."""
        return ScopedResolver(self, member, draft)

    def honoured_for(
        self,
        code: str,
        *,
        kind: str,
        member: str | None,
        draft: str | None,
        digest: str,
        at: dt.datetime | None = None,
    ) -> Honoured:
        """Whether permission ``code`` covers this use: genuine, in force, of ``kind``, for ``member``
        and for this post (the draft by its id, or its text and attachments by their SHA-256)."""
        verdict = self.honoured(code, at=at)
        if not verdict.valid:
            return verdict
        with self.registry.db.reading() as session:
            row = session.scalar(select(Permission).where(Permission.code == code))
            assert row is not None
            if row.kind != kind:
                return Honoured(False, f"{code} is a {row.kind} permission, not a {kind}")
            holder = row.member.service_number if row.member is not None else None
            if holder is not None and holder != member:
                return Honoured(False, f"{code} was issued for {holder}, not {member or 'this caller'}")
            scope = row.post_ref.strip()
            if not scope:
                return Honoured(False, f"{code} names no post, so it releases nothing")
            if scope not in {draft or "", f"sha256:{digest}"}:
                return Honoured(False, f"{code} was issued for another post ({scope})")
        return verdict

    def honoured(
        self, code: str, *, at: dt.datetime | None = None, trusted: PublicKey | None = None
    ) -> Honoured:
        """Whether permission ``code`` is in force at ``at`` (now), and why (not)."""
        trusted = trusted or load_public(self.keys_dir, "commissioner")
        with self.registry.db.reading() as session:
            row = session.scalar(select(Permission).where(Permission.code == code))
            if row is None:
                return Honoured(False, f"no permission {code} is on record")
            return _judged(session, row, at or utcnow(), trusted, self._witnessed())

    def list_permissions(self) -> list[dict[str, Any]]:
        with self.registry.db.reading() as session:
            return [permission_dict(p) for p in session.scalars(select(Permission).order_by(Permission.id))]

    def list_judged(self, *, at: dt.datetime | None = None) -> list[dict[str, Any]]:
        """Every permission with ``honoured`` and ``why``: one session and one key load for all."""
        when, trusted = at or utcnow(), load_public(self.keys_dir, "commissioner")
        with self.registry.db.reading() as session:
            gone = revoked(session, "permission") | self._witnessed()
            rows = []
            for p in session.scalars(select(Permission).order_by(Permission.id)):
                verdict = judge(p, when, trusted, revoked_in_trail=p.code in gone)
                rows.append({**permission_dict(p), "honoured": verdict.valid, "why": verdict.reason})
            return rows

    def expiring(
        self, member: str | None, *, days: int = 14, at: dt.datetime | None = None
    ) -> list[dict[str, Any]]:
        """Permissions not revoked whose ``valid_until`` falls in the next ``days`` days, soonest
        first: those naming ``member``, or every one when ``member`` is None (the Commissioner's)."""
        when = at or utcnow()
        query = (
            select(Permission)
            .where(
                Permission.revoked_at.is_(None),
                Permission.valid_until.is_not(None),
                Permission.valid_until >= when,
                Permission.valid_until <= when + dt.timedelta(days=days),
            )
            .order_by(Permission.valid_until, Permission.id)
        )
        if member is not None:
            query = query.where(
                Permission.member_id.in_(select(Member.id).where(Member.service_number == member))
            )
        with self.registry.db.reading() as session:
            return [permission_dict(p) for p in session.scalars(query)]

    def _witnessed(self) -> frozenset[str]:
        """Permissions the audit witness saw revoked (a revocation rewritten out of the database
        still counts)."""
        witness = self.registry.witness
        return witness.revoked("permission") if witness is not None else frozenset()

    def get_permission(self, code: str) -> tuple[Permission, dict[str, Any]]:
        with self.registry.db.reading() as session:
            row = by_code(session, Permission, code, "permission")
            return row, permission_dict(row)


def post_sha256(post: Post) -> str:
    """The SHA-256 a permission names a post by (:attr:`Post.sha256`)."""
    return post.sha256


class ScopedResolver:
    """The checker's :class:`~postguard.checks.engine.PermissionResolver` for one member and post."""

    def __init__(self, permissions: Permissions, member: str | None, draft: str | None) -> None:
        self.permissions, self.member, self.draft = permissions, member, draft

    def check_permission(self, permission_id: str, post: Post) -> tuple[bool, str]:
        verdict = self.permissions.honoured_for(
            permission_id,
            kind="confidential-release",
            member=self.member,
            draft=self.draft,
            digest=post_sha256(post),
        )
        return verdict.valid, verdict.reason

    def check_media_permission(self, permission_id: str, post: Post, sha256: str) -> tuple[bool, str]:
        """Whether ``permission_id`` releases the attached file whose bytes hash to ``sha256``
        (a confidential release naming ``sha256:<that>``, for this member)."""
        verdict = self.permissions.honoured_for(
            permission_id,
            kind="confidential-release",
            member=self.member,
            draft=self.draft,
            digest=sha256,
        )
        return verdict.valid, verdict.reason


def _judged(
    session: Session, row: Permission, when: dt.datetime, trusted: PublicKey, witnessed: frozenset[str]
) -> Honoured:
    gone = row.code in witnessed or bool(revoked(session, "permission", row.code))
    return judge(row, when, trusted, revoked_in_trail=gone)
