"""The registry's service functions: every write checks its actor and is audited.

Each write runs in one transaction with the audit entry that records it, so a
record never changes without its entry (and the other way round). The actor
is a member's service number. :data:`WHO_MAY` says which roles may do what; a
refusal raises :class:`~postguard.errors.AccessDeniedError` and is itself
written to the audit trail (in its own transaction, since the refused one is
rolled back).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postguard.audit.chain import AuditRecord, append, serialise
from postguard.errors import AccessDeniedError, ConflictError, NotFoundError, ValidationError
from postguard.registry.db import Database
from postguard.registry.models import Computer, Member, OfficialAccount, PersonalDevice
from postguard.registry.values import parse_addresses, parse_roles, utcnow

__all__ = ["CONNECTORS", "WHO_MAY", "Registry"]

#: The publishing connectors an official account can use (see :mod:`postguard.connectors`).
CONNECTORS = ("mastodon", "bluesky", "webhook")

T = TypeVar("T")
R = TypeVar("R")

#: Which roles may take which action (the first part of the audit action name).
WHO_MAY: dict[str, frozenset[str]] = {
    "member": frozenset({"it_admin"}),
    "computer": frozenset({"it_admin"}),
    "device": frozenset({"it_admin"}),
    "account": frozenset({"it_admin"}),
    "authorisation": frozenset({"it_admin", "commissioner"}),
    "permission": frozenset({"commissioner"}),
    "audit": frozenset({"auditor", "commissioner", "it_admin"}),
    "draft": frozenset({"pio", "officer"}),
    "review": frozenset({"reviewer", "commissioner"}),
    "publish": frozenset({"pio", "reviewer", "commissioner"}),
}


class Registry:
    """Members, devices, accounts (here) and grants (:mod:`postguard.registry.grants`)."""

    def __init__(self, db: Database, *, origin: str = "") -> None:
        self.db = db
        self.origin = origin

    # The write path ---------------------------------------------------------

    def _actor(self, session: Session, actor: str | None, action: str) -> Member:
        if not actor:
            raise AccessDeniedError(
                f"'{action}' needs an actor: pass --actor SERVICE_NO or set POSTGUARD_ACTOR."
            )
        member = session.scalar(select(Member).where(Member.service_number == actor))
        if member is None or not member.active:
            state = "is not a member" if member is None else "is not an active member"
            raise AccessDeniedError(f"'{actor}' {state}, so cannot {action}.")
        allowed = WHO_MAY[action.split(".", maxsplit=1)[0]]
        if not allowed & set(member.roles):
            raise AccessDeniedError(
                f"'{actor}' ({', '.join(member.roles) or 'no roles'}) may not {action}: "
                f"that needs the role {' or '.join(sorted(allowed))}."
            )
        return member

    def audit(self, session: Session, record: AuditRecord) -> None:
        append(session, record if record.origin or not self.origin else _with_origin(record, self.origin))

    @contextmanager
    def acting(self, actor: str | None, action: str) -> Iterator[tuple[Session, Member]]:
        """A transaction for ``action`` by ``actor``; a refusal is audited, then raised."""
        try:
            with self.db.session() as session:
                serialise(session)  # several service processes may share one PostgreSQL database
                member = self._actor(session, actor, action)
                yield session, member
        except AccessDeniedError as exc:
            with self.db.session() as session:
                self.audit(
                    session,
                    AuditRecord(
                        actor or "(none)", "denied", target=action, detail={"action": action, "why": str(exc)}
                    ),
                )
            raise
        except IntegrityError as exc:
            raise ConflictError(
                f"{action}: the record conflicts with one that exists ({exc.orig})."
            ) from None

    def read(self, fn: Callable[[Session], T]) -> T:
        with self.db.session() as session:
            return fn(session)

    # Look-ups ---------------------------------------------------------------

    @staticmethod
    def member(session: Session, service_number: str) -> Member:
        return _one(
            session,
            select(Member).where(Member.service_number == service_number),
            f"No member has service number '{service_number}' (see 'postguard member list').",
        )

    @staticmethod
    def computer(session: Session, asset_tag: str) -> Computer:
        return _one(
            session,
            select(Computer).where(Computer.asset_tag == asset_tag),
            f"No department computer has asset tag '{asset_tag}' (see 'postguard device list').",
        )

    @staticmethod
    def device(session: Session, identifier: str) -> PersonalDevice:
        return _one(
            session,
            select(PersonalDevice).where(PersonalDevice.identifier == identifier),
            f"No personally owned device has identifier '{identifier}' (see 'postguard device list').",
        )

    @staticmethod
    def account(session: Session, platform: str, handle: str) -> OfficialAccount:
        found = session.scalar(
            select(OfficialAccount).where(
                OfficialAccount.platform == platform, OfficialAccount.handle == handle
            )
        )
        if found is None:
            raise NotFoundError(f"No official account {platform}:{handle} (see 'postguard account list').")
        return found

    # Bootstrap ----------------------------------------------------------------

    def bootstrap(self, *, service_number: str, name: str, rank: str = "", unit: str = "") -> Member:
        """The first member (it_admin), on an empty registry only."""
        with self.db.session() as session:
            if session.scalar(select(Member.id).limit(1)) is not None:
                raise ConflictError("The registry has members already; add more with 'postguard member add'.")
            now = utcnow()
            member = Member(
                service_number=service_number,
                name=name,
                rank=rank,
                unit=unit,
                roles=["it_admin"],
                active=True,
                created_at=now,
                updated_at=now,
            )
            session.add(member)
            session.flush()
            self.audit(
                session,
                AuditRecord(
                    "(bootstrap)", "member.add", f"member:{service_number}", detail=member_dict(member)
                ),
            )
            return member

    # Members ----------------------------------------------------------------

    def add_member(
        self,
        actor: str | None,
        *,
        service_number: str,
        name: str,
        rank: str = "",
        unit: str = "",
        roles: list[str] | tuple[str, ...] | str = ("officer",),
    ) -> Member:
        if not service_number.strip() or not name.strip():
            raise ValidationError("a member needs a service number and a name.")
        parsed = parse_roles(roles)
        with self.acting(actor, "member.add") as (session, _):
            if session.scalar(select(Member.id).where(Member.service_number == service_number)):
                raise ConflictError(f"A member with service number '{service_number}' exists already.")
            now = utcnow()
            member = Member(
                service_number=service_number.strip(),
                name=name.strip(),
                rank=rank,
                unit=unit,
                roles=parsed,
                active=True,
                created_at=now,
                updated_at=now,
            )
            session.add(member)
            session.flush()
            self.audit(
                session,
                AuditRecord(
                    actor or "", "member.add", f"member:{service_number}", detail=member_dict(member)
                ),
            )
            return member

    def change_member(self, actor: str | None, service_number: str, **changes: Any) -> Member:
        allowed = {"name", "rank", "unit", "roles", "active"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValidationError(f"cannot change {', '.join(sorted(unknown))} of a member.")
        changes = {k: v for k, v in changes.items() if v is not None}
        if "roles" in changes:
            changes["roles"] = parse_roles(changes["roles"])
        if not changes:
            raise ValidationError("nothing to change: give at least one of --name, --rank, --unit, --roles.")
        action = "member.revoke" if changes.get("active") is False else "member.change"
        with self.acting(actor, action) as (session, _):
            member = self.member(session, service_number)
            before = member_dict(member)
            for key, value in changes.items():
                setattr(member, key, value)
            member.updated_at = utcnow()
            session.flush()
            self.audit(
                session,
                AuditRecord(
                    actor or "",
                    action,
                    f"member:{service_number}",
                    detail={"before": before, "after": member_dict(member)},
                ),
            )
            return member

    # Computers and devices ----------------------------------------------------

    def add_computer(
        self,
        actor: str | None,
        *,
        asset_tag: str,
        hostname: str = "",
        addresses: list[str] | None = None,
        on_police_network: bool = True,
    ) -> Computer:
        if not asset_tag.strip():
            raise ValidationError("a department computer needs an asset tag.")
        parsed = parse_addresses(addresses or [])
        with self.acting(actor, "computer.add") as (session, _):
            if session.scalar(select(Computer.id).where(Computer.asset_tag == asset_tag)):
                raise ConflictError(f"A computer with asset tag '{asset_tag}' exists already.")
            now = utcnow()
            computer = Computer(
                asset_tag=asset_tag.strip(),
                hostname=hostname,
                addresses=parsed,
                on_police_network=on_police_network,
                active=True,
                created_at=now,
                updated_at=now,
            )
            session.add(computer)
            session.flush()
            self.audit(
                session,
                AuditRecord(
                    actor or "",
                    "computer.add",
                    f"computer:{asset_tag}",
                    clause="B",
                    detail=computer_dict(computer),
                ),
            )
            return computer

    def change_computer(self, actor: str | None, asset_tag: str, **changes: Any) -> Computer:
        changes = {k: v for k, v in changes.items() if v is not None}
        if "addresses" in changes:
            changes["addresses"] = parse_addresses(changes["addresses"])
        if not changes:
            raise ValidationError(
                "nothing to change: give --hostname, --address or --off-network/--on-network."
            )
        action = "computer.revoke" if changes.get("active") is False else "computer.change"
        with self.acting(actor, action) as (session, _):
            computer = self.computer(session, asset_tag)
            before = computer_dict(computer)
            for key, value in changes.items():
                setattr(computer, key, value)
            computer.updated_at = utcnow()
            session.flush()
            self.audit(
                session,
                AuditRecord(
                    actor or "",
                    action,
                    f"computer:{asset_tag}",
                    clause="B",
                    detail={"before": before, "after": computer_dict(computer)},
                ),
            )
            return computer

    def add_device(
        self, actor: str | None, *, identifier: str, owner: str, description: str = ""
    ) -> PersonalDevice:
        if not identifier.strip():
            raise ValidationError("a personally owned device needs an identifier (serial, IMEI or MAC).")
        with self.acting(actor, "device.add") as (session, _):
            member = self.member(session, owner)
            if session.scalar(select(PersonalDevice.id).where(PersonalDevice.identifier == identifier)):
                raise ConflictError(f"A device with identifier '{identifier}' exists already.")
            now = utcnow()
            device = PersonalDevice(
                identifier=identifier.strip(),
                owner=member,
                description=description,
                active=True,
                created_at=now,
                updated_at=now,
            )
            session.add(device)
            session.flush()
            self.audit(
                session,
                AuditRecord(
                    actor or "", "device.add", f"device:{identifier}", clause="C", detail=device_dict(device)
                ),
            )
            return device

    def change_device(self, actor: str | None, identifier: str, **changes: Any) -> PersonalDevice:
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            raise ValidationError("nothing to change: give --description or --owner.")
        action = "device.revoke" if changes.get("active") is False else "device.change"
        with self.acting(actor, action) as (session, _):
            device = self.device(session, identifier)
            before = device_dict(device)
            if "owner" in changes:
                device.owner = self.member(session, changes.pop("owner"))
            for key, value in changes.items():
                setattr(device, key, value)
            device.updated_at = utcnow()
            session.flush()
            self.audit(
                session,
                AuditRecord(
                    actor or "",
                    action,
                    f"device:{identifier}",
                    clause="C",
                    detail={"before": before, "after": device_dict(device)},
                ),
            )
            return device

    # Official accounts --------------------------------------------------------

    def add_account(self, actor: str | None, *, platform: str, handle: str) -> OfficialAccount:
        platform, handle = platform.strip().lower(), handle.strip()
        if not platform or not handle:
            raise ValidationError("an official account needs a platform and a handle.")
        with self.acting(actor, "account.add") as (session, _):
            exists = select(OfficialAccount.id).where(
                OfficialAccount.platform == platform, OfficialAccount.handle == handle
            )
            if session.scalar(exists):
                raise ConflictError(f"The official account {platform}:{handle} is registered already.")
            now = utcnow()
            account = OfficialAccount(
                platform=platform, handle=handle, active=True, created_at=now, updated_at=now
            )
            session.add(account)
            session.flush()
            self.audit(
                session,
                AuditRecord(
                    actor or "",
                    "account.add",
                    f"account:{platform}:{handle}",
                    clause="A.ii",
                    detail=account_dict(account),
                ),
            )
            return account

    def connect_account(
        self,
        actor: str | None,
        *,
        platform: str,
        handle: str,
        connector: str,
        endpoint: str,
        credential: str,
        keys_dir: Path,
    ) -> OfficialAccount:
        """Set how postguard publishes to an account; the credential is stored encrypted."""
        from postguard.registry.credentials import encrypt

        if connector not in CONNECTORS:
            raise ValidationError(f"connector must be one of {', '.join(CONNECTORS)}, not '{connector}'.")
        if not endpoint.startswith(("http://", "https://")) or not credential:
            raise ValidationError("a connector needs an http(s) --endpoint and a --credential.")
        with self.acting(actor, "account.connect") as (session, _):
            account = self.account(session, platform, handle)
            account.connector, account.endpoint = connector, endpoint.rstrip("/")
            account.credential = encrypt(keys_dir, credential)
            account.updated_at = utcnow()
            self.audit(
                session,
                AuditRecord(
                    actor or "",
                    "account.connect",
                    f"account:{platform}:{handle}",
                    detail={"connector": connector, "endpoint": account.endpoint},
                ),
            )
            return account

    def retire_account(self, actor: str | None, *, platform: str, handle: str) -> OfficialAccount:
        with self.acting(actor, "account.revoke") as (session, _):
            account = self.account(session, platform, handle)
            account.active = False
            account.updated_at = utcnow()
            self.audit(
                session,
                AuditRecord(
                    actor or "",
                    "account.revoke",
                    f"account:{platform}:{handle}",
                    clause="A.ii",
                    detail=account_dict(account),
                ),
            )
            return account


def _one(session: Session, query: Select[R], missing: str) -> R:
    found = session.scalar(query)
    if found is None:
        raise NotFoundError(missing)
    return found


def _with_origin(record: AuditRecord, origin: str) -> AuditRecord:
    return AuditRecord(record.actor, record.action, record.target, record.clause, record.detail, origin)


def member_dict(m: Member) -> dict[str, Any]:
    return {
        "service_number": m.service_number,
        "name": m.name,
        "rank": m.rank,
        "unit": m.unit,
        "roles": list(m.roles),
        "active": m.active,
    }


def computer_dict(c: Computer) -> dict[str, Any]:
    return {
        "asset_tag": c.asset_tag,
        "hostname": c.hostname,
        "addresses": list(c.addresses),
        "on_police_network": c.on_police_network,
        "active": c.active,
    }


def device_dict(d: PersonalDevice) -> dict[str, Any]:
    return {
        "identifier": d.identifier,
        "owner": d.owner.service_number,
        "description": d.description,
        "active": d.active,
    }


def account_dict(a: OfficialAccount) -> dict[str, Any]:
    return {"platform": a.platform, "handle": a.handle, "active": a.active}
