"""Signing a checkpoint of the audit chain (the Merkle root of every entry so far)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from postguard.audit.chain import AuditRecord, append, now_iso, serialise
from postguard.audit.merkle import MerkleBuilder
from postguard.audit.verify import checkpoint_message
from postguard.keys import SigningKey

__all__ = ["Checkpoint", "create_checkpoint"]


@dataclass(frozen=True)
class Checkpoint:
    size: int
    root: str
    at: str
    key_id: str


def create_checkpoint(session: Session, key: SigningKey, record: AuditRecord) -> Checkpoint:
    """Sign the Merkle root of every entry so far; ``record`` (the act itself) follows it."""
    serialise(session)
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
