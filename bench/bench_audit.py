"""Benchmark the audit trail on SQLite; prints its figures.

1. Appends: N entries, each in its own transaction (as a real write is),
   from one process; reports appends/s, median of runs.
2. Verify: a chain of 1,000,000 entries (built in batches of 10,000 entries
   per transaction, which is timed too) with a signed checkpoint every
   100,000; reports the time of one full ``verify`` (hashes, links, Merkle
   roots and signatures).

Usage: python bench/bench_audit.py [--appends 5000] [--runs 3] [--entries 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from postguard.audit.chain import AuditRecord, append
from postguard.audit.checkpoints import create_checkpoint
from postguard.audit.verify import verify
from postguard.keys import init_key, load_public, load_signing
from postguard.registry.db import Database


def bench_appends(folder: Path, count: int, runs: int) -> None:
    rates = []
    for run in range(runs):
        db = Database(f"sqlite:///{folder / f'appends-{run}.db'}", create=True)
        db.upgrade()
        start = time.perf_counter()
        for i in range(count):
            with db.session() as session:
                append(session, AuditRecord("bench", "check.post", f"post:{i}", "A.i", {"decision": "allow"}))
        rates.append(count / (time.perf_counter() - start))
        db.engine.dispose()
    print(f"appends: {count:,} entries, one transaction each, {runs} runs (SQLite, WAL)")
    median = statistics.median(rates)
    print(f"  median {median:,.0f} appends/s (min {min(rates):,.0f}, max {max(rates):,.0f})")


def bench_verify(folder: Path, entries: int) -> None:
    db = Database(f"sqlite:///{folder / 'verify.db'}", create=True)
    db.upgrade()
    init_key(folder / "keys", "department", "benchmark passphrase")
    key = load_signing(folder / "keys", "department", "benchmark passphrase")
    start = time.perf_counter()
    batch = 10_000
    made = 0
    while made < entries:
        with db.session() as session:
            for _ in range(min(batch, entries - made)):
                append(session, AuditRecord("bench", "check.post", f"post:{made}", "A.i", {"n": made}))
                made += 1
            if made % 100_000 == 0:
                create_checkpoint(session, key, AuditRecord("bench", "audit.checkpoint"))
    build = time.perf_counter() - start
    start = time.perf_counter()
    report = verify(db.engine, load_public(folder / "keys", "department"))
    took = time.perf_counter() - start
    assert report.ok, report.problem
    print(f"verify: a chain of {report.entries:,} entries with {report.checkpoints} signed checkpoints")
    print(f"  built in {build:.1f} s ({report.entries / build:,.0f} entries/s in batched transactions)")
    print(f"  audit verify took {took:.1f} s ({report.entries / took:,.0f} entries/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_appends(Path(tmp), args.appends, args.runs)
        bench_verify(Path(tmp), args.entries)


if __name__ == "__main__":
    main()
