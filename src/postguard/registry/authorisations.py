"""Clause B authorisations: which member may reach which social media from which department computer.

An authorisation covers a member (or all members), a computer (or all
department computers) and a site, a category or all social media, from its
start to its end (or for good), until revoked. Granting, changing and
revoking need ``it_admin`` or ``commissioner``; each is audited under the
clause that covers department computers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from postguard.errors import ValidationError
from postguard.registry.codes import by_code, change_period, next_code, record_new, revise, revoke
from postguard.registry.models import Authorisation
from postguard.registry.service import Registry
from postguard.registry.values import check_period, iso, parse_when, utcnow

__all__ = ["SCOPES", "Authorisations", "authorisation_dict"]

SCOPES = ("site", "category", "all")


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


class Authorisations:
    """Granting, changing, revoking and listing clause B authorisations."""

    registry: Registry

    def _computers_clause(self, _row: Authorisation | None = None) -> str:
        return self.registry.clause("department-computers")

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
            raise ValidationError(
                f"a '{scope}' authorisation needs its target: which {scope}.", field="target"
            )
        if scope == "category" and target.strip().lower() not in self.registry.categories:
            raise ValidationError(
                f"'{target.strip()}' is not a site category of the policy pack; the categories are: "
                f"{', '.join(self.registry.categories)}.",
                field="target",
            )
        if not reason.strip():
            raise ValidationError("an authorisation needs a reason.")
        start = parse_when(valid_from, "from") or utcnow()
        end = parse_when(valid_until, "until", end=True)
        check_period(start, end)
        with self.registry.acting(actor, "authorisation.add") as (session, granter):
            row = Authorisation(
                code=next_code(session, Authorisation, "AU-"),
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
            return record_new(
                self.registry, session, actor, row, self._computers_clause(), authorisation_dict(row)
            )

    def change_authorisation(
        self, actor: str | None, code: str, *, valid_until: str | None = None, reason: str | None = None
    ) -> Authorisation:
        if valid_until is None and reason is None:
            raise ValidationError("nothing to change: give a new end date or reason.")

        def apply(row: Authorisation) -> dict[str, Any]:
            before = authorisation_dict(row)
            change_period(row, valid_until, reason)
            return {"before": before, "after": authorisation_dict(row)}

        return revise(
            self.registry, actor, "change", Authorisation, code, clause=self._computers_clause, apply=apply
        )

    def revoke_authorisation(self, actor: str | None, code: str, reason: str) -> Authorisation:
        return revoke(self.registry, actor, Authorisation, code, reason, self._computers_clause)

    def list_authorisations(self) -> list[dict[str, Any]]:
        with self.registry.db.reading() as session:
            return [
                authorisation_dict(a)
                for a in session.scalars(select(Authorisation).order_by(Authorisation.id))
            ]

    def get_authorisation(self, code: str) -> dict[str, Any]:
        with self.registry.db.reading() as session:
            return authorisation_dict(by_code(session, Authorisation, code, "authorisation"))
