"""Verifying the audit chain and its signed checkpoints, in one streaming pass.

The chain is read in ``seq`` order. Each entry must carry the next number,
link to the previous entry's hash and hash to its own stored value; the first
that does not is reported, with what is wrong with it. Every checkpoint must
be signed by the department key and its root must equal the Merkle root of the
entries it covers, which catches a chain rewritten from some point on, and the
loss of entries at its end.

Checkpoints in the database can themselves be deleted along with what they
covered. Given the heads a **witness** kept outside the database
(:mod:`postguard.audit.witness`), each must be signed by the department key,
and an RFC 6962 consistency proof from it to the trail as it is now must hold:
the trail extends every witnessed head, unchanged, or the first head it does
not extend is reported. The report also says how many entries no signed
checkpoint or witnessed head covers yet (``uncovered``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine

from postguard.audit.chain import CHECKPOINT_CONTEXT, GENESIS, checkpoint_message, entry_hash
from postguard.audit.merkle import MerkleBuilder, MerkleLevels, verify_consistency
from postguard.keys import PublicKey

if TYPE_CHECKING:
    from postguard.audit.witness import SignedHead

__all__ = ["CHECKPOINT_CONTEXT", "VerifyReport", "checkpoint_message", "verify"]


@dataclass
class VerifyReport:
    entries: int = 0
    checkpoints: int = 0
    checkpoints_verified: int = 0
    first_bad: int | None = None
    problem: str = ""
    warnings: list[str] = field(default_factory=list)
    witnessed: int = 0
    witnessed_verified: int = 0
    #: Entries 1..covered are under a verified checkpoint or witnessed head; the rest are not yet.
    covered: int = 0

    @property
    def uncovered(self) -> int:
        return max(self.entries - self.covered, 0)

    @property
    def ok(self) -> bool:
        return self.first_bad is None and not self.problem


def verify(
    engine: Engine,
    public_key: PublicKey | None,
    progress: Callable[[int], None] | None = None,
    *,
    witness: list[SignedHead] | None = None,
) -> VerifyReport:
    """Check the whole chain, every checkpoint and every witnessed head; never raises on a bad chain."""
    report = VerifyReport()
    levels = MerkleLevels() if witness else None
    checkpoint_records: dict[int, int] = {}  # seq of a hand-made checkpoint's own entry -> its size
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
                if levels is not None:
                    levels.add(bytes.fromhex(digest))
                if row[3] == "audit.checkpoint":
                    checkpoint_records[seq] = _covered_size(row[7])
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
                    report.covered = max(report.covered, cp.size)
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
    if witness and levels is not None:
        _check_witness(report, witness, levels, public_key)
    # A checkpoint made by hand records itself right after the entries it covers.
    if checkpoint_records.get(report.covered + 1) == report.covered and report.entries > report.covered:
        report.covered += 1
    return report


def _covered_size(detail: str) -> int:
    try:
        size = json.loads(detail).get("size")
    except (ValueError, AttributeError):
        return -1
    return size if isinstance(size, int) else -1


def _check_witness(
    report: VerifyReport, heads: list[SignedHead], levels: MerkleLevels, key: PublicKey | None
) -> None:
    """Every witnessed head genuine, and the trail now an extension of it (a consistency proof)."""
    report.witnessed = len(heads)
    if key is None:
        report.warnings.append("no department public key: the witness's signatures not checked")
    current = levels.root()
    for number, head in enumerate(heads, 1):
        where = f"the head witnessed at {head.at} over {head.size:,} entries (witness line {number})"
        if key is not None and not head.genuine(key):
            report.problem = (
                f"{where} is not signed by the department key {key.key_id}: the witness was altered"
            )
            return
        if head.size > report.entries:
            report.first_bad = report.entries + 1
            report.problem = (
                f"{where} saw more entries than the database holds ({report.entries:,}): "
                f"entries from {report.entries + 1} on were deleted"
            )
            return
        if head.size > 0:
            proof = levels.consistency_proof(head.size)
            if not verify_consistency(head.size, report.entries, bytes.fromhex(head.root), current, proof):
                report.first_bad = head.size
                report.problem = (
                    f"the trail does not extend {where}: entries at or before {head.size} were rewritten"
                )
                return
        report.witnessed_verified += 1
        report.covered = max(report.covered, head.size)
