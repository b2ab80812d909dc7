"""A read of the registry that access decisions need, taken at once and then kept in memory.

Permissions enter the snapshot only when genuinely signed and not revoked
(the one judgement, :func:`postguard.registry.permissions.judge`, without a
time); their dates, and authorisations' dates, are checked at decision time.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from postguard.audit.queries import revoked
from postguard.audit.witness import Witness
from postguard.keys import PublicKey
from postguard.registry.db import Database
from postguard.registry.models import Authorisation, Computer, Member, Permission, PersonalDevice
from postguard.registry.permissions import judge

__all__ = ["DeviceView", "Grant", "Snapshot", "load_snapshot"]


@dataclass(frozen=True, slots=True)
class Grant:
    """An authorisation (scope: site, category or all) or a personal-device permission."""

    code: str
    member: str | None
    computer: str | None
    device: str | None
    scope: str
    target: str
    valid_from: dt.datetime
    valid_until: dt.datetime | None

    def in_force(self, when: dt.datetime) -> bool:
        return self.valid_from <= when and (self.valid_until is None or when < self.valid_until)


@dataclass(frozen=True, slots=True)
class DeviceView:
    owner: str
    active: bool


@dataclass
class Snapshot:
    members: dict[str, bool] = field(default_factory=dict)  # service number -> active
    computers: dict[str, bool] = field(default_factory=dict)  # asset tag -> active
    computer_by_address: dict[str, str] = field(default_factory=dict)
    devices: dict[str, DeviceView] = field(default_factory=dict)
    authorisations: tuple[Grant, ...] = ()
    permissions: tuple[Grant, ...] = ()
    loaded_at: float = 0.0  # time.monotonic()

    def computer_at(self, address: str) -> str | None:
        """The asset tag of the computer at ``address``: one registered with that very address or
        with a range (CIDR) that holds it; an active computer before a retired one, then the
        narrowest (an address before a range)."""
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return self.computer_by_address.get(address)
        best: tuple[bool, int, str] | None = None
        for key, tag in self.computer_by_address.items():
            try:
                network = ipaddress.ip_network(key, strict=False)
            except ValueError:
                continue
            if network.version == ip.version and ip in network:
                rank = (self.computers.get(tag, False), network.prefixlen, tag)
                if best is None or rank[:2] > best[:2]:
                    best = rank
        return best[2] if best else None


def load_snapshot(db: Database, trusted: PublicKey | None, witness: Witness | None = None) -> Snapshot:
    """Read the registry; without the commissioner's public key no permission is honoured.

    A grant whose revocation the audit trail, or its witness, records is left out, even
    where someone has cleared its ``revoked_at`` by hand.
    """

    def witnessed(kind: str) -> frozenset[str]:
        return witness.revoked(kind) if witness is not None else frozenset()

    with db.reading() as session:
        snap = Snapshot(loaded_at=time.monotonic())
        revoked_authorisations = revoked(session, "authorisation") | witnessed("authorisation")
        for m in session.scalars(select(Member)):
            snap.members[m.service_number] = m.active
        # Active computers last, so an address a retired one shared is the active one's.
        for c in session.scalars(select(Computer).order_by(Computer.active, Computer.id)):
            snap.computers[c.asset_tag] = c.active
            for address in c.addresses:
                snap.computer_by_address[address] = c.asset_tag
        for d in session.scalars(select(PersonalDevice)):
            snap.devices[d.identifier] = DeviceView(d.owner.service_number, d.active)
        snap.authorisations = tuple(
            Grant(
                a.code,
                a.member.service_number if a.member else None,
                a.computer.asset_tag if a.computer else None,
                None,
                a.scope,
                a.target,
                a.valid_from,
                a.valid_until,
            )
            for a in session.scalars(select(Authorisation).where(Authorisation.revoked_at.is_(None)))
            if a.code not in revoked_authorisations
        )
        gone = revoked(session, "permission") | witnessed("permission")
        permits = []
        if trusted is not None:
            query = select(Permission).where(
                Permission.revoked_at.is_(None), Permission.kind == "personal-device"
            )
            for p in session.scalars(query):
                if not judge(p, None, trusted, revoked_in_trail=p.code in gone).valid:
                    continue
                permits.append(
                    Grant(
                        p.code,
                        p.member.service_number if p.member else None,
                        None,
                        p.device.identifier if p.device else None,
                        "device",
                        "",
                        p.valid_from,
                        p.valid_until,
                    )
                )
        snap.permissions = tuple(permits)
        return snap
