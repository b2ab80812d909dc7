"""Several service processes sharing one PostgreSQL database (``postguard serve`` twice).

Both processes take drafts, submissions and approvals at once, from threads
hammering each; afterwards every draft has its own id, every step is in the
audit trail exactly once, and the chain verifies: nothing was lost, forked or
written twice.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from conftest import World, connected_account, free_port
from postguard.audit.verify import verify
from postguard.registry.tokens import create_token

pytestmark = pytest.mark.slow

TEXT = "ROAD CLOSURE: Harbour Road is closed after a collision. Please use the bypass. ({n})"


def _serve(world: World, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "POSTGUARD_DATABASE_URL": world.db.url,
        "POSTGUARD_KEYS_DIR": str(world.keys_dir),
        "POSTGUARD_SCHEDULER_INTERVAL": "0.5",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "postguard", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait(base: str) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(f"{base}/openapi.json", timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{base} did not start")


def test_two_service_processes_share_postgresql(world: World, database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the shared-database test is for PostgreSQL (SQLite is one machine's file)")
    pio, _ = create_token(world.registry, "IT-1", member="PIO-1", name="proc-pio")
    reviewer, _ = create_token(world.registry, "IT-1", member="REV-1", name="proc-rev")
    account = connected_account(world)
    ports = [free_port(), free_port()]
    servers = [_serve(world, port) for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base in bases:
            _wait(base)

        def one(n: int) -> str:
            base = bases[n % 2]
            other = bases[(n + 1) % 2]
            with httpx.Client(timeout=30) as client:
                made = client.post(
                    f"{base}/api/v1/drafts",
                    json={"text": TEXT.format(n=n), "account": account},
                    headers={"Authorization": f"Bearer {pio}"},
                )
                assert made.status_code == 201, made.text
                code = str(made.json()["id"])
                sub = client.post(
                    f"{other}/api/v1/drafts/{code}/submit",
                    json={"device": "PC-1"},
                    headers={"Authorization": f"Bearer {pio}"},
                )
                assert sub.status_code == 200, sub.text
                ok = client.post(
                    f"{base}/api/v1/drafts/{code}/approve",
                    json={},
                    headers={"Authorization": f"Bearer {reviewer}"},
                )
                assert ok.status_code == 200 and ok.json()["state"] == "approved", ok.text
                return code

        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(one, range(40)))
    finally:
        errors = []
        for server in servers:
            server.terminate()
            errors.append(server.communicate(timeout=15)[1].decode(errors="replace"))
    assert len(set(codes)) == 40
    report = verify(world.db.engine, None)
    assert report.ok, report.problem
    with world.db.engine.connect() as conn:
        from sqlalchemy import text

        counts = dict(
            conn.execute(
                text(
                    "SELECT action, count(*) FROM audit_entry WHERE action IN "
                    "('draft.create', 'draft.submit', 'review.approve') GROUP BY action"
                )
            ).all()
        )
    assert counts == {"draft.create": 40, "draft.submit": 40, "review.approve": 40}
    for log in errors:
        assert "Traceback" not in log, log[-3000:]
