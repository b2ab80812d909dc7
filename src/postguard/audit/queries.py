"""Reading the audit trail: searches for auditors, and the questions other layers ask of it.

Nothing outside the audit package writes SQL against its tables: the
registry asks :func:`revoked` (a revocation is read from the trail, so a hand
edit of a record cannot undo it), the dashboard and reports stream
:func:`entries`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = ["entries", "revoked", "revoked_targets"]


def revoked(session: Session, kind: str, code: str | None = None) -> set[str]:
    """The codes of ``kind`` (``permission``) that the trail records as revoked (``code`` only, if given)."""
    sql = "SELECT target FROM audit_entry WHERE action = :action"
    params: dict[str, Any] = {"action": f"{kind}.revoke"}
    if code is not None:
        sql += " AND target = :target"
        params["target"] = f"{kind}:{code}"
    return {str(row[0]).removeprefix(f"{kind}:") for row in session.execute(text(sql), params)}


def revoked_targets(session: Session) -> set[str]:
    """Every target the trail records as revoked (``permission:CP-…``, ``authorisation:AU-…``)."""
    sql = "SELECT target FROM audit_entry WHERE action IN ('permission.revoke', 'authorisation.revoke')"
    return {str(row[0]) for row in session.execute(text(sql))}


def entries(
    session: Session,
    *,
    since: dt.datetime | None = None,
    actor: str | None = None,
    clause: str | None = None,
    action: str | None = None,
    actions: Sequence[str] = (),
    search: str | None = None,
    limit: int | None = None,
    newest_first: bool = False,
    after: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Entries in chain order (or newest first), filtered; ``detail`` decoded.

    ``action`` may hold ``*`` wildcards; ``actions`` is a list of exact names;
    ``search`` matches a substring of the target or the detail.
    """
    where: list[str] = []
    params: dict[str, str | int] = {}
    if after is not None:  # entries after this one (for reading the trail in batches)
        where.append("seq > :after")
        params["after"] = int(after)
    if since is not None:
        where.append("at >= :since")
        params["since"] = since.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if actor:
        where.append("actor = :actor")
        params["actor"] = actor
    if clause:
        where.append("clause = :clause")
        params["clause"] = clause
    if action:
        where.append("action LIKE :action")
        params["action"] = action.replace("*", "%")
    if actions:
        names = [f":a{i}" for i in range(len(actions))]
        where.append(f"action IN ({', '.join(names)})")
        params.update({f"a{i}": name for i, name in enumerate(actions)})
    if search:
        where.append("(target LIKE :search OR detail LIKE :search)")
        params["search"] = f"%{search}%"
    sql = "SELECT seq, at, actor, action, clause, target, origin, detail, prev_hash, hash FROM audit_entry"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq DESC" if newest_first else " ORDER BY seq"
    if limit:
        sql += f" LIMIT {int(limit)}"
    for row in session.execute(text(sql), params):
        yield {
            "seq": row[0],
            "at": row[1],
            "actor": row[2],
            "action": row[3],
            "clause": row[4],
            "target": row[5],
            "origin": row[6],
            "detail": json.loads(row[7]),
            "prev_hash": row[8],
            "hash": row[9],
        }
