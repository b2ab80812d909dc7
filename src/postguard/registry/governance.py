"""Who may change whose roles: the rules that stop anyone giving themselves more rights.

- Nobody changes their own roles.
- A privileged role (the pack's ``governance.privileged_roles``: by default
  ``commissioner`` and ``reviewer``, the roles that approve posts and grant
  permissions) is granted, never simply set: by the Commissioner
  (``grant_by: commissioner``; while the department has no Commissioner, an
  it_admin may grant the first), or by a second it_admin confirming a first one's
  request (``grant_by: two-it-admins``, :class:`~postguard.registry.models.RoleRequest`).
- The last active it_admin and the last active Commissioner cannot be removed, by a
  change of roles or by deactivation.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard.errors import AccessDeniedError, ConflictError
from postguard.policy.schema import Governance
from postguard.registry.models import Member

__all__ = ["KEEP_ONE", "check_roles"]

#: Roles the department must always have someone active in.
KEEP_ONE = ("it_admin", "commissioner")


def _others_hold(session: Session, role: str, but: int) -> bool:
    for member in session.scalars(select(Member).where(Member.active, Member.id != but)):
        if role in member.roles:
            return True
    return False


def check_roles(
    session: Session,
    rules: Governance,
    actor: Member,
    target: Member | None,
    before: Iterable[str],
    after: Iterable[str],
    *,
    active_after: bool = True,
    confirmed: bool = False,
) -> None:
    """Refuse a change of ``target``'s roles (``None``: a new member) that the rules forbid.

    ``confirmed`` is set when a second it_admin confirms a role request.
    """
    before_set, after_set = set(before), set(after) if active_after else set()
    if target is not None and target.id == actor.id and before_set != set(after):
        raise AccessDeniedError(f"{actor.service_number} may not change their own roles.")
    granted = sorted((set(after) - before_set) & set(rules.privileged_roles))
    if granted and not confirmed:
        if rules.grant_by == "two-it-admins":
            raise AccessDeniedError(
                f"granting {', '.join(granted)} needs two it_admins: one asks for it (postguard member "
                "request), another decides it (postguard member decide)."
            )
        first = "commissioner" in granted and not _others_hold(session, "commissioner", but=-1)
        if "commissioner" not in actor.roles and not (first and "it_admin" in actor.roles):
            raise AccessDeniedError(f"granting {', '.join(granted)} needs the Commissioner.")
    for role in KEEP_ONE:
        losing = target is not None and role in before_set and role not in after_set
        if losing and target is not None and not _others_hold(session, role, but=target.id):
            raise ConflictError(
                f"{target.service_number} is the last active {role}: give the role to someone else first."
            )
