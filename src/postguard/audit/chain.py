"""Appending to the hash chain.

Each entry's hash is SHA-256 over the canonical JSON (sorted keys, no spaces,
UTF-8) of its fields and the previous entry's hash; the first entry follows
:data:`GENESIS`. Entries are numbered 1, 2, 3... with no gaps, so a deleted,
inserted or reordered row breaks either the numbering or the links.

``append`` runs inside the caller's transaction, so a record and the entry
that describes it are committed together or not at all. Appends are
serialised: SQLite by its write lock (every transaction begins IMMEDIATE, see
:mod:`postguard.registry.db`), PostgreSQL by a transaction-scoped advisory
lock. The sequence number is the primary key, so even a lost lock cannot fork
the chain: the second writer fails instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = [
    "CHECKPOINT_CONTEXT",
    "GENESIS",
    "AuditRecord",
    "append",
    "canonical_json",
    "checkpoint_message",
    "default_origin",
    "entry_hash",
]

GENESIS = "0" * 64
_PG_LOCK = 0x706F7374  # "post": the advisory lock id of the audit chain


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no whitespace and UTF-8 text: the form that is hashed and signed."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class AuditRecord:
    """What happened: who did what, to what, under which clause, from where."""

    actor: str
    action: str
    target: str = ""
    clause: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    origin: str = ""


CHECKPOINT_CONTEXT = "postguard-audit-checkpoint-v1"


def checkpoint_message(size: int, root: str, at: str) -> bytes:
    """The bytes the department key signs for a checkpoint (or a witnessed head)."""
    return canonical_json({"context": CHECKPOINT_CONTEXT, "size": size, "root": root, "at": at}).encode()


def entry_hash(
    *,
    seq: int,
    at: str,
    actor: str,
    action: str,
    clause: str,
    target: str,
    origin: str,
    detail: str,
    prev_hash: str,
) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "clause": clause,
            "target": target,
            "origin": origin,
            "detail": detail,
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def default_origin() -> str:
    """Where a command runs from: ``cli:USER@HOST``."""
    user = os.environ.get("USER") or os.environ.get("LOGNAME") or "unknown"
    return f"cli:{user}@{socket.gethostname()}"


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def serialise(session: Session) -> None:
    """Take the write lock for the session's transaction (PostgreSQL; SQLite has one already).

    A write transaction that takes it first (before it touches any row) queues
    behind every other writer of every service process instead of racing it;
    taking it again in the same transaction is free.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})


def append(session: Session, record: AuditRecord) -> tuple[int, str]:
    """Append ``record`` in the session's transaction; returns (seq, hash)."""
    serialise(session)
    last = session.execute(text("SELECT seq, hash FROM audit_entry ORDER BY seq DESC LIMIT 1")).first()
    seq, prev = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
    row: dict[str, Any] = {
        "seq": seq,
        "at": now_iso(),
        "actor": record.actor,
        "action": record.action,
        "clause": record.clause,
        "target": record.target,
        "origin": record.origin or default_origin(),
        "detail": canonical_json(record.detail),
        "prev_hash": prev,
    }
    digest = entry_hash(**row)
    session.execute(
        text(
            "INSERT INTO audit_entry (seq, at, actor, action, clause, target, origin, detail, "
            "prev_hash, hash) VALUES (:seq, :at, :actor, :action, :clause, :target, :origin, "
            ":detail, :prev_hash, :hash)"
        ),
        {**row, "hash": digest},
    )
    return seq, digest
