"""Reading the registry: one look-up per kind of record, and one list per table, in one order each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from postguard.errors import NotFoundError
from postguard.registry.db import Database
from postguard.registry.models import Computer, Member, OfficialAccount, PersonalDevice
from postguard.registry.records import account_dict, computer_dict, device_dict, member_dict

__all__ = ["RegistryQueries"]

R = TypeVar("R")


class RegistryQueries:
    """What the pages, the API and the CLI read about members, computers, devices and accounts."""

    db: Database

    def read(self, fn: Callable[[Session], R]) -> R:
        with self.db.reading() as session:
            return fn(session)

    # Look-ups ---------------------------------------------------------------

    @staticmethod
    def member(session: Session, service_number: str) -> Member:
        return _one(session, _member_is(service_number), f"No member has service number '{service_number}'.")

    @staticmethod
    def computer(session: Session, asset_tag: str) -> Computer:
        return _one(session, _computer_is(asset_tag), f"No department computer has asset tag '{asset_tag}'.")

    @staticmethod
    def device(session: Session, identifier: str) -> PersonalDevice:
        return _one(
            session, _device_is(identifier), f"No personally owned device has identifier '{identifier}'."
        )

    @staticmethod
    def account(session: Session, platform: str, handle: str) -> OfficialAccount:
        return _one(session, _account_is(platform, handle), f"No official account {platform}:{handle}.")

    # Queries (one order each, for every caller) --------------------------------

    def members(self, *, active_only: bool = False) -> list[dict[str, Any]]:
        """Every member, by service number."""
        query = select(Member).order_by(Member.service_number)
        if active_only:
            query = query.where(Member.active)
        return self.read(lambda s: [member_dict(m) for m in s.scalars(query)])

    def computers(self, *, active_only: bool = False) -> list[dict[str, Any]]:
        """Every department computer, by asset tag."""
        query = select(Computer).order_by(Computer.asset_tag)
        if active_only:
            query = query.where(Computer.active)
        return self.read(lambda s: [computer_dict(c) for c in s.scalars(query)])

    def devices(self, *, owner: str | None = None, active_only: bool = False) -> list[dict[str, Any]]:
        """Every personally owned device (or ``owner``'s), by identifier."""
        query = select(PersonalDevice).order_by(PersonalDevice.identifier)
        if owner is not None:
            query = query.join(Member, PersonalDevice.owner_id == Member.id).where(
                Member.service_number == owner
            )
        if active_only:
            query = query.where(PersonalDevice.active)
        return self.read(lambda s: [device_dict(d) for d in s.scalars(query)])

    def accounts(self, *, active_only: bool = False) -> list[dict[str, Any]]:
        """Every official account, by platform and handle."""
        query = select(OfficialAccount).order_by(OfficialAccount.platform, OfficialAccount.handle)
        if active_only:
            query = query.where(OfficialAccount.active)
        return self.read(lambda s: [account_dict(a) for a in s.scalars(query)])

    def equipment(self, ident: str) -> dict[str, Any]:
        """A department computer (by asset tag) or personal device (by identifier), with its kind."""

        def find(session: Session) -> dict[str, Any]:
            computer = session.scalar(_computer_is(ident))
            if computer is not None:
                return {"kind": "computer", **computer_dict(computer)}
            device = session.scalar(_device_is(ident))
            if device is not None:
                return {"kind": "personal", **device_dict(device)}
            raise NotFoundError(f"No computer or personal device is registered as '{ident}'.")

        return self.read(find)

    def name_of(self, service_number: str) -> str:
        return self.read(lambda s: self.member(s, service_number).name)


def _member_is(number: str) -> Select[Member]:
    return select(Member).where(Member.service_number == number)


def _computer_is(tag: str) -> Select[Computer]:
    return select(Computer).where(Computer.asset_tag == tag)


def _device_is(identifier: str) -> Select[PersonalDevice]:
    return select(PersonalDevice).where(PersonalDevice.identifier == identifier)


def _account_is(platform: str, handle: str) -> Select[OfficialAccount]:
    return select(OfficialAccount).where(
        OfficialAccount.platform == platform, OfficialAccount.handle == handle
    )


def _one(session: Session, query: Select[R], missing: str) -> R:
    found = session.scalar(query)
    if found is None:
        raise NotFoundError(missing)
    return found
