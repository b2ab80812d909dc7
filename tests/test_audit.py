"""The audit chain: Merkle roots, tampering of every kind, concurrency and crashes."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import World
from postguard.audit.chain import AuditRecord, append
from postguard.audit.checkpoints import create_checkpoint
from postguard.audit.merkle import merkle_root
from postguard.audit.verify import verify
from postguard.keys import load_public
from postguard.registry.db import Database


def _reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written as the recursion it states."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _reference_root(leaves[:k]) + _reference_root(leaves[k:])).digest()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100])
def test_merkle_root_follows_rfc_6962(n: int) -> None:
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(n)]
    assert merkle_root(leaves) == _reference_root(leaves)


def _fill(world: World, count: int = 20) -> None:
    with world.db.session() as session:
        for i in range(count):
            append(session, AuditRecord("IT-1", "check.post", f"post:{i}", "A.i", {"n": i}))


def _sql(world: World, statement: str) -> None:
    with world.db.engine.begin() as conn:
        conn.execute(sa.text(statement))


def _verify(world: World):  # type: ignore[no-untyped-def]
    return verify(world.db.engine, load_public(world.keys_dir, "department"))


def test_an_untouched_chain_verifies(world: World) -> None:
    _fill(world)
    with world.db.session() as session:
        create_checkpoint(session, world.department_key, AuditRecord("AUD-1", "audit.checkpoint"))
    report = _verify(world)
    assert report.ok and report.checkpoints_verified == 1 and report.entries > 20


@pytest.mark.parametrize(
    ("tamper", "first_bad", "words"),
    [
        ("UPDATE audit_entry SET actor = 'someone-else' WHERE seq = 12", 12, "edited"),
        ("UPDATE audit_entry SET detail = '{\"n\": 99}' WHERE seq = 15", 15, "edited"),
        ("DELETE FROM audit_entry WHERE seq = 13", 13, "missing"),
        ("UPDATE audit_entry SET seq = seq + 1000 WHERE seq = 14", 14, "missing"),
    ],
)
def test_edited_and_deleted_entries_are_caught(world: World, tamper: str, first_bad: int, words: str) -> None:
    _fill(world)
    _sql(world, tamper)
    report = _verify(world)
    assert not report.ok and report.first_bad == first_bad and words in report.problem


def test_an_inserted_entry_is_caught(world: World) -> None:
    _fill(world)
    # Make room at 12 by moving 12.. up one, then insert a well-formed entry of our own there.
    with world.db.engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT seq FROM audit_entry WHERE seq >= 12 ORDER BY seq DESC")).all()
        for (seq,) in rows:
            conn.execute(sa.text("UPDATE audit_entry SET seq = :n WHERE seq = :s"), {"n": seq + 1, "s": seq})
        prev = conn.execute(sa.text("SELECT hash FROM audit_entry WHERE seq = 11")).scalar_one()
        from postguard.audit.chain import entry_hash

        fields = {
            "seq": 12,
            "at": "2026-01-01T00:00:00.000000+00:00",
            "actor": "forger",
            "action": "x",
            "clause": "",
            "target": "",
            "origin": "",
            "detail": "{}",
            "prev_hash": prev,
        }
        conn.execute(
            sa.text(
                "INSERT INTO audit_entry (seq, at, actor, action, clause, target, origin, detail, "
                "prev_hash, hash) VALUES (:seq, :at, :actor, :action, :clause, :target, :origin, "
                ":detail, :prev_hash, :hash)"
            ),
            {**fields, "hash": entry_hash(**fields)},
        )
    report = _verify(world)
    assert not report.ok and report.first_bad == 13 and "does not link" in report.problem


def test_reordered_entries_are_caught(world: World) -> None:
    _fill(world)
    _sql(world, "UPDATE audit_entry SET seq = -1 WHERE seq = 10")
    _sql(world, "UPDATE audit_entry SET seq = 10 WHERE seq = 11")
    _sql(world, "UPDATE audit_entry SET seq = 11 WHERE seq = -1")
    report = _verify(world)
    assert not report.ok and report.first_bad == 10


def test_a_rewritten_chain_and_a_truncated_one_are_caught_by_checkpoints(world: World) -> None:
    _fill(world, 10)
    with world.db.session() as session:
        create_checkpoint(session, world.department_key, AuditRecord("AUD-1", "audit.checkpoint"))
    _fill(world, 5)
    # Rewrite entry 5 and every hash after it, so that the links all agree again.
    with world.db.engine.begin() as conn:
        from postguard.audit.chain import entry_hash

        rows = conn.execute(sa.text("SELECT * FROM audit_entry ORDER BY seq")).mappings().all()
        prev = rows[3]["hash"]
        for row in rows[4:]:
            fields = {
                k: row[k] for k in ("seq", "at", "actor", "action", "clause", "target", "origin", "detail")
            }
            if row["seq"] == 5:
                fields["actor"] = "rewriter"
            digest = entry_hash(**fields, prev_hash=prev)
            conn.execute(
                sa.text("UPDATE audit_entry SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"a": fields["actor"], "p": prev, "h": digest, "s": row["seq"]},
            )
            prev = digest
    report = _verify(world)
    assert not report.ok and "rewritten" in report.problem

    _sql(world, "UPDATE audit_checkpoint SET root = 'ab' || substr(root, 3)")
    report = _verify(world)
    assert not report.ok and "not signed by the department key" in report.problem


def test_deleting_the_newest_entries_is_caught_by_a_checkpoint(world: World) -> None:
    _fill(world, 10)
    with world.db.session() as session:
        create_checkpoint(session, world.department_key, AuditRecord("AUD-1", "audit.checkpoint"))
    _sql(world, "DELETE FROM audit_entry WHERE seq > 8")
    report = _verify(world)
    assert not report.ok and "were deleted" in report.problem


_WRITER = """
import sys
from postguard.audit.chain import AuditRecord, append
from postguard.registry.db import Database
db = Database(sys.argv[1], create=True); worker = sys.argv[2]; count = int(sys.argv[3])
print("ready", flush=True)
for i in range(count):
    with db.session() as session:
        append(session, AuditRecord(f"worker-{worker}", "test.append", f"n:{i}"))
"""


@pytest.mark.slow
def test_eight_processes_appending_leave_one_unbroken_chain(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url, create=True)
    db.upgrade()
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), database_url, str(w), "1000"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for w in range(8)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    report = verify(db.engine, None)
    assert report.ok, report.problem
    assert report.entries == 8000
    with db.engine.connect() as conn:
        per_worker = conn.execute(sa.text("SELECT actor, count(*) FROM audit_entry GROUP BY actor")).all()
    assert sorted(n for _, n in per_worker) == [1000] * 8
    db.engine.dispose()


@pytest.mark.slow
def test_a_writer_killed_mid_append_loses_no_committed_entry(database_url: str, tmp_path: Path) -> None:
    db = Database(database_url, create=True)
    db.upgrade()
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), database_url, "k", "1000000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    deadline = time.monotonic() + 60
    seen = 0
    while seen < 300 and time.monotonic() < deadline:
        with db.engine.connect() as conn:
            seen = int(conn.execute(sa.text("SELECT count(*) FROM audit_entry")).scalar_one())
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)  # reaps it and closes its pipes
    assert seen >= 300, "the writer did not get going"
    report = verify(db.engine, None)
    assert report.ok, report.problem
    assert report.entries >= seen  # every entry seen committed before the kill is still there
    # And the chain goes on from where it stopped.
    with db.session() as session:
        seq, _ = append(session, AuditRecord("after", "test.append"))
    assert seq == report.entries + 1 and verify(db.engine, None).ok
    db.engine.dispose()
