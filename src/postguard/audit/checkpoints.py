"""Signing a checkpoint of the audit chain, and reading the chain for auditors."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from postguard.audit.chain import AuditRecord, append, now_iso
from postguard.audit.merkle import MerkleBuilder
from postguard.audit.verify import checkpoint_message
from postguard.registry.keys import SigningKey

__all__ = ["Checkpoint", "create_checkpoint", "entries"]


@dataclass(frozen=True)
class Checkpoint:
    size: int
    root: str
    at: str
    key_id: str


def create_checkpoint(session: Session, key: SigningKey, record: AuditRecord) -> Checkpoint:
    """Sign the Merkle root of every entry so far; ``record`` (the act itself) follows it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x706F7374})
    builder = MerkleBuilder()
    for (digest,) in session.execute(text("SELECT hash FROM audit_entry ORDER BY seq")):
        builder.add(bytes.fromhex(digest))
    cp = Checkpoint(builder.size, builder.root().hex(), now_iso(), key.key_id)
    session.execute(
        text("INSERT INTO audit_checkpoint (size, root, at, key_id, signature) VALUES (:s, :r, :a, :k, :g)"),
        {
            "s": cp.size,
            "r": cp.root,
            "a": cp.at,
            "k": cp.key_id,
            "g": key.sign(checkpoint_message(cp.size, cp.root, cp.at)),
        },
    )
    append(
        session,
        AuditRecord(
            record.actor,
            record.action,
            record.target,
            record.clause,
            {**record.detail, "size": cp.size, "root": cp.root},
            record.origin,
        ),
    )
    return cp


def entries(
    session: Session,
    *,
    since: dt.datetime | None = None,
    actor: str | None = None,
    clause: str | None = None,
    action: str | None = None,
    search: str | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> Iterator[dict[str, Any]]:
    """Entries in chain order (or newest first), filtered; ``detail`` decoded.

    ``search`` matches a substring of the target or the detail.
    """
    where, params = [], {}
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
