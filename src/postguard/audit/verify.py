"""Verifying the audit chain and its signed checkpoints, in one streaming pass.

The chain is read in ``seq`` order. Each entry must carry the next number,
link to the previous entry's hash and hash to its own stored value; the first
that does not is reported, with what is wrong with it. Every checkpoint must
be signed by the department key and its root must equal the Merkle root of the
entries it covers, which catches a chain rewritten from some point on, and the
loss of entries at its end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Engine

from postguard.audit.chain import GENESIS, canonical_json, entry_hash
from postguard.audit.merkle import MerkleBuilder
from postguard.keys import PublicKey

__all__ = ["CHECKPOINT_CONTEXT", "VerifyReport", "checkpoint_message", "verify"]

CHECKPOINT_CONTEXT = "postguard-audit-checkpoint-v1"


def checkpoint_message(size: int, root: str, at: str) -> bytes:
    """The bytes the department key signs for a checkpoint."""
    return canonical_json({"context": CHECKPOINT_CONTEXT, "size": size, "root": root, "at": at}).encode()


@dataclass
class VerifyReport:
    entries: int = 0
    checkpoints: int = 0
    checkpoints_verified: int = 0
    first_bad: int | None = None
    problem: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_bad is None and not self.problem


def verify(
    engine: Engine, public_key: PublicKey | None, progress: Callable[[int], None] | None = None
) -> VerifyReport:
    """Check the whole chain and every checkpoint; never raises on a bad chain."""
    report = VerifyReport()
    with engine.connect() as conn:
        checkpoints = conn.execute(
            text("SELECT id, size, root, at, key_id, signature FROM audit_checkpoint ORDER BY size, id")
        ).all()
        report.checkpoints = len(checkpoints)
        pending = list(checkpoints)
        if public_key is None and checkpoints:
            report.warnings.append("no department public key: checkpoint signatures not checked")
        for cp in checkpoints:
            if public_key is not None and not public_key.verify(
                cp.signature, checkpoint_message(cp.size, cp.root, cp.at)
            ):
                report.problem = (
                    f"checkpoint {cp.id} (size {cp.size}) is not signed by the department key "
                    f"{public_key.key_id}: forged or altered"
                )
                return report
        builder = MerkleBuilder()
        expected_seq, prev = 1, GENESIS
        result = conn.execution_options(stream_results=True, yield_per=20_000).execute(
            text(
                "SELECT seq, at, actor, action, clause, target, origin, detail, prev_hash, hash "
                "FROM audit_entry ORDER BY seq"
            )
        )
        try:
            for row in result:
                seq = row[0]
                if seq != expected_seq:
                    what = "missing (deleted)" if seq > expected_seq else "out of order"
                    report.first_bad = expected_seq if seq > expected_seq else seq
                    report.problem = f"entry {expected_seq} is {what}: found entry {seq} in its place"
                    return report
                if row[8] != prev:
                    report.first_bad = seq
                    report.problem = (
                        f"entry {seq} does not link to entry {seq - 1} (inserted, reordered or edited)"
                    )
                    return report
                digest = entry_hash(
                    seq=seq,
                    at=row[1],
                    actor=row[2],
                    action=row[3],
                    clause=row[4],
                    target=row[5],
                    origin=row[6],
                    detail=row[7],
                    prev_hash=row[8],
                )
                if digest != row[9]:
                    report.first_bad = seq
                    report.problem = f"entry {seq} was edited: its content no longer matches its hash"
                    return report
                builder.add(bytes.fromhex(digest))
                while pending and pending[0].size == builder.size:
                    cp = pending.pop(0)
                    if builder.root().hex() != cp.root:
                        report.first_bad = seq
                        report.problem = (
                            f"checkpoint {cp.id} over entries 1..{cp.size} does not match them: "
                            f"the chain was rewritten at or before entry {seq}"
                        )
                        return report
                    report.checkpoints_verified += 1
                prev, expected_seq = digest, seq + 1
                report.entries += 1
                if progress is not None and report.entries % 50_000 == 0:
                    progress(report.entries)
        finally:
            result.close()
        if pending:
            cp = pending[0]
            report.first_bad = report.entries + 1
            report.problem = (
                f"checkpoint {cp.id} covers {cp.size} entries but only {report.entries} remain: "
                f"entries from {report.entries + 1} on were deleted"
            )
    return report
