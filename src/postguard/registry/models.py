"""The registry's tables, as SQLAlchemy 2 declarative models.

Every table here is created and changed only by the Alembic migrations in
``postguard/registry/migrations``; the models describe the head revision.
Times are stored in UTC (``UtcDateTime`` hands back aware datetimes on every
backend, SQLite included).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from postguard.registry.roles import ROLES  # re-exported: the roles a member can hold

__all__ = [
    "ROLES",
    "Acknowledgement",
    "Alert",
    "ApiToken",
    "ArchivedPost",
    "AuditCheckpoint",
    "AuditEntry",
    "Authorisation",
    "Base",
    "Computer",
    "ComputerAddress",
    "Credential",
    "Dispute",
    "Draft",
    "DraftSubmission",
    "Member",
    "OfficialAccount",
    "Permission",
    "PersonalDevice",
    "PostVersion",
    "Publication",
    "Review",
    "RoleRequest",
    "SignInFailure",
    "UtcDateTime",
    "WebSession",
]


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; postguard stores aware UTC times")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UtcDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[dict[str, Any]]: JSON,
    }


class Member(Base):
    __tablename__ = "member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_number: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    rank: Mapped[str] = mapped_column(String(80), default="")
    unit: Mapped[str] = mapped_column(String(120), default="")
    roles: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Computer(Base):
    """A department computer (clause B)."""

    __tablename__ = "computer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_tag: Mapped[str] = mapped_column(String(64), unique=True)
    hostname: Mapped[str] = mapped_column(String(255), default="")
    addresses: Mapped[list[str]] = mapped_column(default=list)
    on_police_network: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class ComputerAddress(Base):
    """One address or range (normalised) of an active department computer: the database itself
    refuses a second active computer with the same address (the registry keeps this in step)."""

    __tablename__ = "computer_address"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    computer_id: Mapped[int] = mapped_column(ForeignKey("computer.id"), index=True)
    address: Mapped[str] = mapped_column(String(64), unique=True)


class PersonalDevice(Base):
    """A personally owned device (clause C)."""

    __tablename__ = "personal_device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    identifier: Mapped[str] = mapped_column(String(128), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    description: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]

    owner: Mapped[Member] = relationship()


class OfficialAccount(Base):
    """One of the department's own accounts on a social media site."""

    __tablename__ = "official_account"
    __table_args__ = (UniqueConstraint("platform", "handle"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    handle: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    connector: Mapped[str] = mapped_column(String(32), default="")  # mastodon | webhook | "" (none)
    endpoint: Mapped[str] = mapped_column(String(500), default="")
    credential: Mapped[str] = mapped_column(Text, default="")  # Fernet-encrypted, never plain


class Authorisation(Base):
    """Clause B: a member (or all) may reach a site, category (or all social media)
    from a computer (or all department computers), between two times."""

    __tablename__ = "authorisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    computer_id: Mapped[int | None] = mapped_column(ForeignKey("computer.id"))
    scope: Mapped[str] = mapped_column(String(16))  # site | category | all
    target: Mapped[str] = mapped_column(String(255), default="")
    valid_from: Mapped[dt.datetime]
    valid_until: Mapped[dt.datetime | None]
    reason: Mapped[str] = mapped_column(Text)
    granted_by_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    revoked_reason: Mapped[str] = mapped_column(Text, default="")

    member: Mapped[Member | None] = relationship(foreign_keys=[member_id])
    computer: Mapped[Computer | None] = relationship()
    granted_by: Mapped[Member] = relationship(foreign_keys=[granted_by_id])


class Permission(Base):
    """A written permission of the authority, signed with its Ed25519 key."""

    __tablename__ = "permission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # personal-device | confidential-release
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("personal_device.id"))
    post_ref: Mapped[str] = mapped_column(String(255), default="")
    valid_from: Mapped[dt.datetime]
    valid_until: Mapped[dt.datetime | None]
    reason: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    issued_at: Mapped[dt.datetime]
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[dt.datetime | None]
    revoked_reason: Mapped[str] = mapped_column(Text, default="")

    member: Mapped[Member | None] = relationship(foreign_keys=[member_id])
    device: Mapped[PersonalDevice | None] = relationship()
    issued_by: Mapped[Member] = relationship(foreign_keys=[issued_by_id])


class ApiToken(Base):
    """A machine's bearer token: acts as its member, with that member's roles. Only a hash is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]

    member: Mapped[Member] = relationship()


class Draft(Base):
    """A post on its way from draft to publication (see :mod:`postguard.workflow`)."""

    __tablename__ = "draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("official_account.id"))
    text: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    device: Mapped[str] = mapped_column(String(128), default="")
    state: Mapped[str] = mapped_column(String(16), index=True)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    policy_version: Mapped[str] = mapped_column(String(200), default="")
    approvals_needed: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    submitted_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    scheduled_for: Mapped[dt.datetime | None]
    scheduled_by: Mapped[str] = mapped_column(String(64), default="")
    #: The clauses of its findings as last checked, " A B " (for filtering in SQL; see Workflow._record).
    clauses: Mapped[str] = mapped_column(String(1000), default="")

    author: Mapped[Member] = relationship()
    account: Mapped[OfficialAccount | None] = relationship()


class DraftSubmission(Base):
    """The text of a draft as it was submitted, once per submission (for what changed between them)."""

    __tablename__ = "draft_submission"
    __table_args__ = (UniqueConstraint("draft_id", "number", name="uq_draft_submission_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    device: Mapped[str] = mapped_column(String(128), default="")
    at: Mapped[dt.datetime]


class Review(Base):
    """One reviewer's decision on one submission of a draft."""

    __tablename__ = "review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    action: Mapped[str] = mapped_column(String(16))  # approve | return
    comment: Mapped[str] = mapped_column(Text, default="")
    permission: Mapped[str] = mapped_column(String(32), default="")
    submission: Mapped[int] = mapped_column(Integer, default=1)
    at: Mapped[dt.datetime]

    reviewer: Mapped[Member] = relationship()


class Publication(Base):
    """One draft sent (or being sent) to one account; the idempotency key makes a retry safe."""

    __tablename__ = "publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("official_account.id"))
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    remote_id: Mapped[str] = mapped_column(String(255), default="")
    remote_url: Mapped[str] = mapped_column(String(1000), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]

    account: Mapped[OfficialAccount] = relationship()


class Credential(Base):
    """A member's sign-in password (argon2id hash) and their recent failed attempts."""

    __tablename__ = "member_credential"

    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[dt.datetime]


class WebSession(Base):
    """A signed-in browser: only a hash of the cookie is kept, with its CSRF token."""

    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime | None]

    member: Mapped[Member] = relationship()


class SignInFailure(Base):
    __tablename__ = "sign_in_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_number: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[dt.datetime]


class Dispute(Base):
    """A reviewer's word that a finding is wrong, and (once confirmed) a second person's."""

    __tablename__ = "dispute"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"), index=True)
    submission: Mapped[int] = mapped_column(Integer)
    clause: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(Text)
    span_start: Mapped[int] = mapped_column(Integer)
    span_end: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    disputed_by_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    at: Mapped[dt.datetime]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    confirmed_at: Mapped[dt.datetime | None]

    disputed_by: Mapped[Member] = relationship(foreign_keys=[disputed_by_id])
    confirmed_by: Mapped[Member | None] = relationship(foreign_keys=[confirmed_by_id])


class RoleRequest(Base):
    """A grant of privileged roles waiting for the second person the pack requires."""

    __tablename__ = "role_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    roles: Mapped[list[str]] = mapped_column(default=list)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    requested_at: Mapped[dt.datetime]
    state: Mapped[str] = mapped_column(String(16))  # pending | granted | refused
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    decided_at: Mapped[dt.datetime | None]

    member: Mapped[Member] = relationship(foreign_keys=[member_id])
    requested_by: Mapped[Member] = relationship(foreign_keys=[requested_by_id])


class Acknowledgement(Base):
    """A member's acknowledgement of one policy pack (by its SHA-256), with the quiz's result."""

    __tablename__ = "acknowledgement"
    __table_args__ = (UniqueConstraint("member_id", "pack_sha256", name="uq_acknowledgement_member_pack"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    pack_version: Mapped[str] = mapped_column(String(64))
    pack_sha256: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime]
    quiz_questions: Mapped[int] = mapped_column(Integer, default=0)
    quiz_correct: Mapped[int] = mapped_column(Integer, default=0)
    quiz_answers: Mapped[dict[str, Any]] = mapped_column(default=dict)

    member: Mapped[Member] = relationship()


class ArchivedPost(Base):
    """A post seen on an account (by the watch), published by postguard, or imported from a
    platform's export: kept as a record until ``retain_until`` (the database refuses to delete it
    sooner). ``text`` and ``media`` are its latest version; every version is a :class:`PostVersion`."""

    __tablename__ = "archived_post"
    __table_args__ = (
        UniqueConstraint("platform", "account", "platform_id", name="uq_archived_post_platform_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("official_account.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32))  # mastodon | bluesky | twitter | facebook
    #: The account as the platform names it ("platform:handle"): imports may name accounts not registered.
    account: Mapped[str] = mapped_column(String(300), index=True)
    platform_id: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(String(1000), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    #: [{"sha256", "content_type", "filename", "url"}]: the files are in the media store by SHA-256.
    media: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    posted_at: Mapped[dt.datetime] = mapped_column(index=True)
    first_seen_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    edited_at: Mapped[dt.datetime | None]
    deleted_at: Mapped[dt.datetime | None]
    #: When the watch first read it on the platform (None: kept when published or imported, not seen yet).
    watched_at: Mapped[dt.datetime | None]
    source: Mapped[str] = mapped_column(String(16))  # watch | import | published
    publication_id: Mapped[int | None] = mapped_column(ForeignKey("publication.id"), index=True)
    #: Reached the account without going through postguard's workflow (no publication made it).
    outside_workflow: Mapped[bool] = mapped_column(Boolean, default=False)
    decision: Mapped[str] = mapped_column(String(16), default="")
    clauses: Mapped[str] = mapped_column(String(200), default="")  # " A.iii B ": filtered in SQL
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the check made at the time
    policy_version: Mapped[str] = mapped_column(String(200), default="")
    retain_until: Mapped[dt.datetime]

    versions: Mapped[list[PostVersion]] = relationship(
        back_populates="post", order_by="PostVersion.number", cascade="save-update, merge"
    )


class PostVersion(Base):
    """One version of an archived post: as first seen, each edit, its deletion. Never changed."""

    __tablename__ = "archived_post_version"
    __table_args__ = (UniqueConstraint("post_id", "number", name="uq_archived_post_version_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("archived_post.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # original | edit | deletion
    text: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    at: Mapped[dt.datetime]  # when the platform says it happened (or when it was noticed)
    seen_at: Mapped[dt.datetime]
    decision: Mapped[str] = mapped_column(String(16), default="")
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)

    post: Mapped[ArchivedPost] = relationship(back_populates="versions")


class Alert(Base):
    """Something the reviewers and the Commissioner must see: a post outside the workflow, an
    approved post edited into something else, a deletion. Acknowledged once, with a note; never
    deleted (the database refuses)."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("archived_post.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    summary: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime]
    #: How each channel fared: {"email": "sent to 2" | "failed: ...", "webhook": ...}
    delivery: Mapped[dict[str, Any]] = mapped_column(default=dict)
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by: Mapped[str] = mapped_column(String(32), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    post: Mapped[ArchivedPost | None] = relationship()


class AuditEntry(Base):
    """One link of the hash chain (see :mod:`postguard.audit.chain`)."""

    __tablename__ = "audit_entry"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))  # ISO 8601 UTC, microseconds: hashed as text
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    clause: Mapped[str] = mapped_column(String(32), default="", index=True)
    target: Mapped[str] = mapped_column(String(255), default="")
    origin: Mapped[str] = mapped_column(String(255), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON: hashed as text
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditCheckpoint(Base):
    """A signed RFC 6962 Merkle tree head over the first ``size`` entries."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
