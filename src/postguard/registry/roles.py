"""Who may do what: one role table, and one question, :func:`allowed`, for reads and writes alike.

An action is named ``thing.verb`` (``member.add``, ``review.approve``,
``audit.read``), the same names the audit trail records. The table gives the
roles for a thing (every verb) or for one action (which then wins). The
registry's writes, the API's routes, the web pages and the templates all ask
:func:`allowed`; nothing else lists roles.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

__all__ = ["ANYONE", "ROLES", "Role", "allowed", "needed"]

#: The roles a member can hold.
Role = Literal["officer", "pio", "reviewer", "commissioner", "it_admin", "auditor"]
ROLES: tuple[Role, ...] = get_args(Role)
#: Any signed-in member, whatever their roles.
ANYONE = frozenset(ROLES)

_OVERSIGHT = frozenset({"it_admin", "commissioner", "auditor", "reviewer"})

_TABLE: dict[str, frozenset[str]] = {
    # The registry (writes).
    "member": frozenset({"it_admin"}),
    "member.grant": frozenset({"it_admin", "commissioner"}),
    "member.request": frozenset({"it_admin"}),
    "computer": frozenset({"it_admin"}),
    "device": frozenset({"it_admin"}),
    "account": frozenset({"it_admin"}),
    "authorisation": frozenset({"it_admin", "commissioner"}),
    "permission": frozenset({"commissioner"}),
    # Reading the registry and the permissions.
    "registry.read": _OVERSIGHT,
    "permission.read": _OVERSIGHT,
    # Every member reads the written permissions that name them (the page, the API, print, download).
    "permission.read-own": ANYONE,
    "account.read": ANYONE,
    # The policy in force: every member reads and acknowledges it; overseers see who has not.
    "policy.read": ANYONE,
    "policy.acknowledge": ANYONE,
    "policy.unacknowledged": _OVERSIGHT,
    # Access decisions asked of the service (a proxy's token).
    "access.decide": frozenset({"it_admin"}),
    # The audit trail: read, verify, sign a checkpoint.
    "audit": frozenset({"auditor", "commissioner", "it_admin"}),
    # Checking posts and the workflow.
    "check.post": ANYONE,
    "draft": frozenset({"pio", "officer"}),
    "draft.read": ANYONE,
    # Its author or a reviewer (the workflow checks which): see Workflow.withdraw.
    "draft.withdraw": frozenset({"pio", "officer", "reviewer", "commissioner"}),
    "review": frozenset({"reviewer", "commissioner"}),
    "publish": frozenset({"pio", "reviewer", "commissioner"}),
    "publish.read": ANYONE,
    # The watch's alerts (issue 14): the reviewers and the Commissioner answer them (acknowledge,
    # with a note); the auditor reads them too, but an alert is not theirs to close.
    "alert": frozenset({"reviewer", "commissioner"}),
    "alert.read": frozenset({"reviewer", "commissioner", "auditor"}),
    # The archive of posts seen, published or imported (issue 14): oversight reads it, and so do
    # PIOs, who run the accounts; officers do not (the checks made at the time are internal).
    "archive.read": _OVERSIGHT | {"pio"},
    # Filling the archive from a platform's export, a records export, a scan of the past: the
    # records and oversight staff, not the authors of posts.
    "archive.import": frozenset({"it_admin", "commissioner", "auditor"}),
    "archive.export": frozenset({"it_admin", "commissioner", "auditor"}),
    "archive.scan": frozenset({"it_admin", "commissioner", "auditor"}),
    # A round of the watch asked for by hand (the service runs its own rounds).
    "watch.run": frozenset({"it_admin", "reviewer", "commissioner"}),
}


def needed(action: str) -> frozenset[str]:
    """The roles that may take ``action`` (an unknown action: none)."""
    found = _TABLE.get(action)
    if found is None:
        found = _TABLE.get(action.split(".", maxsplit=1)[0], frozenset())
    return found


def allowed(roles: Iterable[str], action: str) -> bool:
    """May a member holding ``roles`` take ``action``?"""
    return not needed(action).isdisjoint(roles)
