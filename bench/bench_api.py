"""Load benchmark of the check endpoint with wrk (Debian's), on loopback; prints its figures.

Builds a demo department in a temporary folder, starts ``postguard serve``
(one process by default), and drives POST /api/v1/check with wrk for a fixed
time, cycling real posts from the corpus. Reports requests/s and latency
percentiles as wrk measures them, median of runs. Needs ``wrk`` on PATH
(``apt-get install wrk``).

Usage: python bench/bench_api.py [--seconds 15] [--connections 8] [--runs 3] [--workers 1]

By Little's law, latency grows with connections once the server is saturated: at 16 connections
the same throughput shows about twice the p99 of 8.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LUA = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "/api/v1/check", {["Content-Type"] = "application/json",
                    ["Authorization"] = "Bearer %s"}, bodies[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%.3f %%.3f %%.3f\\n", summary.requests, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.duration / 1e6))
end
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    from postguard.demo import build

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        info = build(folder / "demo")
        token = dict(info["tokens"])["3003"]  # type: ignore[call-overload]
        bodies = folder / "bodies.jsonl"
        with bodies.open("w") as fh:
            for path in sorted((ROOT / "data" / "corpus").glob("*.jsonl"))[:4]:
                for line in path.read_text().splitlines()[:250]:
                    fh.write(json.dumps({"text": json.loads(line)["text"]}) + "\n")
        script = folder / "check.lua"
        script.write_text(LUA % (bodies, token))
        port = _port()
        env = {
            **os.environ,
            "POSTGUARD_DATABASE_URL": str(info["database"]),
            "POSTGUARD_KEYS_DIR": str(info["keys"]),
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "postguard.web.asgi:build",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            for _ in range(100):
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.2)
            subprocess.run(
                ["wrk", "-t1", "-c4", "-d2s", "-s", str(script), f"http://127.0.0.1:{port}"],
                capture_output=True,
                check=True,
            )  # warm up
            rates, p50s, p99s, errors = [], [], [], 0
            for _ in range(args.runs):
                out = subprocess.run(
                    [
                        "wrk",
                        "-t2",
                        f"-c{args.connections}",
                        f"-d{args.seconds}s",
                        "--latency",
                        "-s",
                        str(script),
                        f"http://127.0.0.1:{port}",
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                match = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+)", out)
                assert match, out
                requests, status_errors, p50, p99, duration = match.groups()
                rates.append(int(requests) / float(duration))
                p50s.append(float(p50))
                p99s.append(float(p99))
                errors += int(status_errors)
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(
            f"check endpoint: wrk, {args.connections} connections, {args.seconds} s x {args.runs} runs, "
            f"{args.workers} server process(es), {os.cpu_count()} CPUs (wrk shares them)"
        )
        print(
            f"  median {statistics.median(rates):,.0f} requests/s (min {min(rates):,.0f}); "
            f"latency medians of runs: p50 {statistics.median(p50s):.1f} ms, "
            f"p99 {statistics.median(p99s):.1f} ms; "
            f"non-2xx answers: {errors}"
        )


if __name__ == "__main__":
    main()
