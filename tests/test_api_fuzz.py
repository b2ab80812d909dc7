"""schemathesis against the service's own OpenAPI document: no input makes a server error.

The demo department is served by uvicorn on loopback, and schemathesis's
command line calls every operation with generated bodies, parameters and ids,
as the IT administrator (who may reach most routes) and as the PIO (who is
refused most of them). Only the absence of 5xx is asserted here; the API tests
assert what each answer says. ``scripts/fuzz-api.sh`` does the same as every
demo member, with more examples.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("schemathesis")
from conftest import free_port

pytestmark = pytest.mark.slow

EXAMPLES = os.environ.get("POSTGUARD_FUZZ_EXAMPLES", "12")


def test_no_generated_input_makes_a_server_error(tmp_path: Path) -> None:
    cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert cli, "schemathesis is a dev dependency: 'make test' installs it"
    demo = subprocess.run(
        [sys.executable, "-m", "postguard.demo", str(tmp_path / "demo")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    tokens = {line.split()[0]: line.split()[-1] for line in demo.stdout.splitlines() if "pgt_" in line}
    port = free_port()
    env = {
        **os.environ,
        "POSTGUARD_DATABASE_URL": f"sqlite:///{tmp_path / 'demo' / 'postguard.db'}",
        "POSTGUARD_KEYS_DIR": str(tmp_path / "demo" / "keys"),
        "POSTGUARD_SCHEDULER_INTERVAL": "0",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "postguard.web.asgi:build", "--port", str(port),
         "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/openapi.json", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        for member in ("1001", "3003"):
            run = subprocess.run(
                [cli, "run", f"{base}/openapi.json", "-H", f"Authorization: Bearer {tokens[member]}",
                 "--checks", "not_a_server_error", "--max-examples", EXAMPLES, "--seed", "1",
                 "--no-color"],
                check=False, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            assert run.returncode == 0, f"as {member}:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}"
            assert "operations" in run.stdout.lower() or "passed" in run.stdout.lower()
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=10)
    text = errors.decode(errors="replace")
    assert "Traceback" not in text, text[-4000:]
