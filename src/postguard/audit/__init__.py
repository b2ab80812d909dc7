"""The tamper-evident audit trail: a hash chain with signed Merkle checkpoints."""

from postguard.audit.chain import GENESIS, AuditRecord, append, canonical_json, entry_hash
from postguard.audit.merkle import merkle_root
from postguard.audit.verify import VerifyReport, verify

__all__ = [
    "GENESIS",
    "AuditRecord",
    "VerifyReport",
    "append",
    "canonical_json",
    "entry_hash",
    "merkle_root",
    "verify",
]
