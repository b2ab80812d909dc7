"""The registry's service functions: every write checks its actor and is audited.

Each write runs in one transaction with the audit entry that records it, so a
record never changes without its entry (and the other way round). The actor
is a member's service number; :func:`postguard.registry.roles.allowed` says
whether their roles allow the action. A refusal raises
:class:`~postguard.errors.AccessDeniedError` and is itself written to the
audit trail (in its own transaction, since the refused one is rolled back).

Members, computers, personal devices and official accounts share one
add / change / revoke scaffold (:meth:`Registry._add`, :meth:`Registry._change`),
described per table by a :class:`RecordKind`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from postguard.audit.chain import AuditRecord, append, serialise
from postguard.audit.witness import Witness
from postguard.errors import AccessDeniedError, ConflictError, NoActorError, NotFoundError, ValidationError
from postguard.policy.schema import Concept, Governance
from postguard.registry.db import Database
from postguard.registry.governance import check_roles
from postguard.registry.models import (
    Computer,
    ComputerAddress,
    Member,
    OfficialAccount,
    PersonalDevice,
    RoleRequest,
)
from postguard.registry.queries import RegistryQueries
from postguard.registry.records import (
    ACCOUNTS,
    COMPUTERS,
    DEVICES,
    MEMBERS,
    RecordKind,
    account_dict,
    computer_dict,
    device_dict,
    member_dict,
)
from postguard.registry.roles import allowed, needed
from postguard.registry.values import overlapping, parse_addresses, parse_roles, utcnow

__all__ = [
    "Registry",
    "account_dict",
    "computer_dict",
    "device_dict",
    "member_dict",
    "request_origin",
]

T = TypeVar("T", Member, Computer, PersonalDevice, OfficialAccount)
R = TypeVar("R")


#: Where the request being served comes from (``api:ADDRESS``, ``web:ADDRESS``); set by the
#: service for each request, and recorded on every audit entry that names no origin of its own.
request_origin: ContextVar[str] = ContextVar("postguard_request_origin", default="")


def _default_clauses() -> dict[Concept, str]:
    """The shipped pack's clauses, for a registry built without a pack (scripts, tests)."""
    from postguard.policy.loader import default_pack

    return default_pack().covering()


def _default_categories() -> tuple[str, ...]:
    """The shipped pack's site categories."""
    from postguard.policy.loader import default_pack

    return tuple(c.id for c in default_pack().categories)


class Registry(RegistryQueries):
    """Members, devices, accounts (here) and grants (:mod:`postguard.registry.grants`).

    ``clauses`` maps what the system enforces to the pack's clause ids (the
    shipped pack's when not given); audit entries are filed under them.
    """

    def __init__(
        self,
        db: Database,
        *,
        origin: str = "",
        clauses: dict[Concept, str] | None = None,
        governance: Governance | None = None,
        witness: Witness | None = None,
        categories: tuple[str, ...] | None = None,
    ) -> None:
        self.db = db
        #: The pack's site categories (ids): what a category authorisation may name.
        self.categories = categories if categories is not None else _default_categories()
        #: The audit witness outside the database (its revocations count as the trail's).
        self.witness = witness
        self.origin = origin
        self.clauses = clauses or _default_clauses()
        self.governance = governance or Governance()
        #: Goes up with every committed write, so what this process cached about members and
        #: tokens is asked again at once (other processes ask again within their cache's time).
        self.generation = 0

    def clause(self, concept: Concept | None) -> str:
        return self.clauses[concept] if concept else ""

    # The write path ---------------------------------------------------------

    def _actor(self, session: Session, actor: str | None, action: str) -> Member:
        if not actor:
            raise NoActorError(f"'{action}' needs an actor: the service number of the member acting.")
        member = session.scalar(select(Member).where(Member.service_number == actor))
        if member is None or not member.active:
            state = "is not a member" if member is None else "is not an active member"
            raise AccessDeniedError(f"'{actor}' {state}, so cannot {action}.")
        if not allowed(member.roles, action):
            raise AccessDeniedError(
                f"'{actor}' ({', '.join(member.roles) or 'no roles'}) may not {action}: "
                f"that needs the role {' or '.join(sorted(needed(action)))}."
            )
        return member

    def audit(self, session: Session, record: AuditRecord) -> None:
        origin = record.origin or request_origin.get() or self.origin
        append(session, record if record.origin or not origin else _with_origin(record, origin))

    @contextmanager
    def acting(self, actor: str | None, action: str) -> Iterator[tuple[Session, Member]]:
        """A transaction for ``action`` by ``actor``; a refusal is audited, then raised."""
        try:
            with self.db.session() as session:
                serialise(session)  # several service processes may share one PostgreSQL database
                member = self._actor(session, actor, action)
                yield session, member
            self.generation += 1
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

    # The scaffold every table's writes share ----------------------------------

    def _add(
        self,
        kind: RecordKind[T],
        actor: str | None,
        taken: Select[int],
        build: Callable[[Session, Member], T],
        after: Callable[[Session, T], None] | None = None,
    ) -> T:
        action = f"{kind.noun}.add"
        with self.acting(actor, action) as (session, acting_member):
            row = build(session, acting_member)
            if session.scalar(taken) is not None:
                raise ConflictError(f"A {kind.what} '{kind.key(row)}' exists already.")
            session.add(row)
            session.flush()
            if after is not None:
                after(session, row)
            self.audit(
                session,
                AuditRecord(
                    actor or "",
                    action,
                    f"{kind.noun}:{kind.key(row)}",
                    self.clause(kind.concept),
                    kind.describe(row),
                ),
            )
            return row

    def _change(
        self,
        kind: RecordKind[T],
        actor: str | None,
        row_of: Callable[[Session], T],
        apply: Callable[[Session, T], None],
        *,
        verb: str = "change",
        extra: dict[str, Any] | None = None,
        check: Callable[[Session, Member, T], None] | None = None,
    ) -> T:
        action = f"{kind.noun}.{verb}"
        with self.acting(actor, action) as (session, acting_member):
            row = row_of(session)
            if check is not None:
                check(session, acting_member, row)
            before = kind.describe(row)
            apply(session, row)
            row.updated_at = utcnow()
            session.flush()
            detail = {"before": before, "after": kind.describe(row), **(extra or {})}
            target = f"{kind.noun}:{kind.key(row)}"
            self.audit(session, AuditRecord(actor or "", action, target, self.clause(kind.concept), detail))
            return row

    @staticmethod
    def _setting(changes: dict[str, Any]) -> Callable[[Session, Any], None]:
        def apply(_session: Session, row: Any) -> None:
            for key, value in changes.items():
                setattr(row, key, value)

        return apply

    def _check_number(self, number: str) -> None:
        """A new member's service number must have the form the pack's governance sets."""
        if re.fullmatch(self.governance.service_number, number) is None:
            raise ValidationError(
                f"'{number}' is not a service number of the form the policy pack sets "
                f"({self.governance.service_number}).",
                field="service_number",
            )

    # Bootstrap ----------------------------------------------------------------

    def bootstrap(self, *, service_number: str, name: str, rank: str = "", unit: str = "") -> Member:
        """The first member (it_admin), on an empty registry only."""
        self._check_number(service_number)
        with self.db.session() as session:
            if session.scalar(select(Member.id).limit(1)) is not None:
                raise ConflictError("The registry has members already; an it_admin adds more.")
            member = _new_member(service_number, name, rank, unit, ["it_admin"])
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
        number = service_number.strip()
        _no_nul(number, name, rank, unit)
        self._check_number(number)

        def build(session: Session, acting: Member) -> Member:
            check_roles(session, self.governance, acting, None, [], parsed)
            return _new_member(number, name.strip(), rank, unit, parsed)

        return self._add(MEMBERS, actor, select(Member.id).where(Member.service_number == number), build)

    def change_member(self, actor: str | None, service_number: str, **changes: Any) -> Member:
        unknown = set(changes) - {"name", "rank", "unit", "roles", "active"}
        if unknown:
            raise ValidationError(f"cannot change {', '.join(sorted(unknown))} of a member.")
        changes = {k: v for k, v in changes.items() if v is not None}
        if "roles" in changes:
            changes["roles"] = parse_roles(changes["roles"])
        if not changes:
            raise ValidationError("nothing to change: give a new name, rank, unit or roles.")
        _no_nul(*(str(v) for k, v in changes.items() if k in ("name", "rank", "unit")))
        verb = "revoke" if changes.get("active") is False else "change"

        def check(session: Session, acting: Member, target: Member) -> None:
            after = changes.get("roles", target.roles)
            active = changes.get("active", target.active) is not False
            check_roles(session, self.governance, acting, target, target.roles, after, active_after=active)

        return self._change(
            MEMBERS,
            actor,
            lambda s: self.member(s, service_number),
            self._setting(changes),
            verb=verb,
            check=check,
        )

    def grant_roles(self, actor: str | None, service_number: str, roles: list[str] | str) -> Member:
        """Give ``service_number`` more roles: privileged ones by the rules of the pack's governance."""
        adding = parse_roles(roles)

        def check(session: Session, acting: Member, target: Member) -> None:
            after = sorted({*target.roles, *adding})
            check_roles(session, self.governance, acting, target, target.roles, after)

        def apply(_session: Session, target: Member) -> None:
            target.roles = sorted({*target.roles, *adding})

        return self._change(
            MEMBERS, actor, lambda s: self.member(s, service_number), apply, verb="grant", check=check
        )

    def request_roles(self, actor: str | None, service_number: str, roles: list[str] | str) -> RoleRequest:
        """Ask for privileged roles for ``service_number`` (the pack's ``grant_by: two-it-admins``):
        a second it_admin confirms with :meth:`decide_role_request`. Audited as ``member.request``."""
        adding = parse_roles(roles)
        with self.acting(actor, "member.request") as (session, acting):
            if self.governance.grant_by != "two-it-admins":
                raise ValidationError(
                    "the policy pack has the Commissioner grant privileged roles: use a grant, not a request."
                )
            target = self.member(session, service_number)
            if target.id == acting.id:
                raise AccessDeniedError(f"{acting.service_number} may not change their own roles.")
            privileged = sorted(set(adding) & set(self.governance.privileged_roles))
            if not privileged:
                raise ValidationError("only privileged roles need a request; grant the others directly.")
            count = session.scalar(select(func.count()).select_from(RoleRequest)) or 0
            row = RoleRequest(
                code=f"RR-{count + 1:05d}",
                member=target,
                roles=sorted(adding),
                requested_by=acting,
                requested_at=utcnow(),
                state="pending",
                decided_by_id=None,
                decided_at=None,
            )
            session.add(row)
            session.flush()
            self.audit(
                session,
                AuditRecord(
                    actor or "",
                    "member.request",
                    f"member:{target.service_number}",
                    detail={"request": row.code, "roles": row.roles},
                ),
            )
            return row

    def decide_role_request(self, actor: str | None, code: str, *, grant: bool) -> RoleRequest:
        """A second it_admin grants (or refuses) a pending role request; never its asker, never the
        member it is for. Audited as ``member.grant`` (or ``member.refuse``)."""
        with self.acting(actor, "member.request") as (session, acting):
            row = session.scalar(select(RoleRequest).where(RoleRequest.code == code))
            if row is None:
                raise NotFoundError(f"No role request has id '{code}'.")
            if row.state != "pending":
                raise ConflictError(f"{code} was {row.state} already.")
            if acting.id in (row.requested_by_id, row.member_id):
                raise AccessDeniedError(
                    f"{acting.service_number} "
                    + ("asked for it" if acting.id == row.requested_by_id else "is the member it is for")
                    + ": another it_admin must decide it."
                )
            target = row.member
            if grant:
                after = sorted({*target.roles, *row.roles})
                check_roles(session, self.governance, acting, target, target.roles, after, confirmed=True)
                before = target.roles
                target.roles, target.updated_at = after, utcnow()
            row.state, row.decided_by_id, row.decided_at = (
                ("granted" if grant else "refused"),
                acting.id,
                utcnow(),
            )
            self.audit(
                session,
                AuditRecord(
                    actor or "",
                    "member.grant" if grant else "member.refuse",
                    f"member:{target.service_number}",
                    self.clause(MEMBERS.concept),
                    {"request": row.code, "asked_by": row.requested_by.service_number, "roles": row.roles}
                    | ({"before": before, "after": target.roles} if grant else {}),
                ),
            )
            return row

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
        tag = asset_tag.strip()
        if not tag:
            raise ValidationError("a department computer needs an asset tag.", field="asset_tag")
        parsed = parse_addresses(addresses or [])

        def build(session: Session, _acting: Member) -> Computer:
            _addresses_free(session, None, parsed)
            now = utcnow()
            return Computer(
                asset_tag=tag,
                hostname=hostname,
                addresses=parsed,
                on_police_network=on_police_network,
                active=True,
                created_at=now,
                updated_at=now,
            )

        return self._add(
            COMPUTERS, actor, select(Computer.id).where(Computer.asset_tag == tag), build, _keep_addresses
        )

    def change_computer(self, actor: str | None, asset_tag: str, **changes: Any) -> Computer:
        changes = {k: v for k, v in changes.items() if v is not None}
        if "addresses" in changes:
            changes["addresses"] = parse_addresses(changes["addresses"])
        if not changes:
            raise ValidationError("nothing to change: give a new host name, addresses or network.")
        verb = "revoke" if changes.get("active") is False else "change"
        plain = self._setting(changes)

        def apply(session: Session, computer: Computer) -> None:
            plain(session, computer)
            if computer.active:
                _addresses_free(session, computer.id, computer.addresses)
            _keep_addresses(session, computer)

        return self._change(COMPUTERS, actor, lambda s: self.computer(s, asset_tag), apply, verb=verb)

    def add_device(
        self, actor: str | None, *, identifier: str, owner: str, description: str = ""
    ) -> PersonalDevice:
        ident = identifier.strip()
        if not ident:
            raise ValidationError("a personally owned device needs an identifier (serial, IMEI or MAC).")

        def build(session: Session, _acting: Member) -> PersonalDevice:
            now = utcnow()
            return PersonalDevice(
                identifier=ident,
                owner=self.member(session, owner),
                description=description,
                active=True,
                created_at=now,
                updated_at=now,
            )

        return self._add(
            DEVICES, actor, select(PersonalDevice.id).where(PersonalDevice.identifier == ident), build
        )

    def change_device(self, actor: str | None, identifier: str, **changes: Any) -> PersonalDevice:
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            raise ValidationError("nothing to change: give a new description or owner.")
        owner = changes.pop("owner", None)
        plain = self._setting(changes)

        def apply(session: Session, device: PersonalDevice) -> None:
            if owner is not None:
                device.owner = self.member(session, owner)
            plain(session, device)

        verb = "revoke" if changes.get("active") is False else "change"
        return self._change(DEVICES, actor, lambda s: self.device(s, identifier), apply, verb=verb)

    # Official accounts --------------------------------------------------------

    def add_account(self, actor: str | None, *, platform: str, handle: str) -> OfficialAccount:
        platform, handle = platform.strip().lower(), handle.strip()
        if not platform or not handle:
            raise ValidationError("an official account needs a platform and a handle.")

        def build(_session: Session, _acting: Member) -> OfficialAccount:
            now = utcnow()
            return OfficialAccount(
                platform=platform, handle=handle, active=True, created_at=now, updated_at=now
            )

        taken = select(OfficialAccount.id).where(
            OfficialAccount.platform == platform, OfficialAccount.handle == handle
        )
        return self._add(ACCOUNTS, actor, taken, build)

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
        from postguard.connectors import KINDS
        from postguard.registry.credentials import encrypt

        if connector not in KINDS:
            raise ValidationError(f"connector must be one of {', '.join(KINDS)}, not '{connector}'.")
        if not endpoint.startswith(("http://", "https://")) or not credential:
            raise ValidationError("a connector needs an http(s) endpoint and a credential.")
        sealed = encrypt(keys_dir, credential)

        def apply(_session: Session, account: OfficialAccount) -> None:
            account.connector, account.endpoint = connector, endpoint.rstrip("/")
            account.credential = sealed

        return self._change(
            ACCOUNTS,
            actor,
            lambda s: self.account(s, platform, handle),
            apply,
            verb="connect",
            extra={"connector": connector, "endpoint": endpoint.rstrip("/")},
        )

    def retire_account(self, actor: str | None, *, platform: str, handle: str) -> OfficialAccount:
        return self._change(
            ACCOUNTS,
            actor,
            lambda s: self.account(s, platform, handle),
            self._setting({"active": False}),
            verb="revoke",
        )


def _addresses_free(session: Session, computer_id: int | None, addresses: list[str]) -> None:
    """Refuse addresses (or ranges) that meet one of another active computer's."""
    others = session.execute(
        select(ComputerAddress.address, Computer.asset_tag)
        .join(Computer, Computer.id == ComputerAddress.computer_id)
        .where(ComputerAddress.computer_id != (computer_id if computer_id is not None else -1))
    ).all()
    for address in addresses:
        for taken, tag in others:
            if overlapping(address, taken):
                same = "is" if address == taken else f"overlaps {taken}, which is"
                raise ConflictError(
                    f"{address} {same} an address of the active computer {tag}: two active computers "
                    "cannot share an address.",
                    field="addresses",
                )


def _keep_addresses(session: Session, computer: Computer) -> None:
    """Make ``computer_address`` hold exactly this computer's addresses while it is active."""
    session.execute(delete(ComputerAddress).where(ComputerAddress.computer_id == computer.id))
    if computer.active:
        session.add_all(ComputerAddress(computer_id=computer.id, address=a) for a in computer.addresses)
    session.flush()


def _no_nul(*values: str) -> None:
    if any("\x00" in value for value in values):
        raise ValidationError("a name, rank, unit or identifier may not contain a NUL character.")


def _new_member(service_number: str, name: str, rank: str, unit: str, roles: list[str]) -> Member:
    now = utcnow()
    return Member(
        service_number=service_number,
        name=name,
        rank=rank,
        unit=unit,
        roles=roles,
        active=True,
        created_at=now,
        updated_at=now,
    )


def _with_origin(record: AuditRecord, origin: str) -> AuditRecord:
    return AuditRecord(record.actor, record.action, record.target, record.clause, record.detail, origin)
