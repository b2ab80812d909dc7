"""Benchmark the Squid helper over a pipe, with 100 concurrent channels; prints its figures.

A registry (SQLite, in a temporary folder) holds 200 members, 200 computers
and 100 authorisations. ``postguard squid-helper`` runs as Squid runs it, a
child process on stdin/stdout. Requests go out in waves of 100, one per
channel (as Squid with concurrency=100 keeps up to 100 outstanding), and each
answer's latency is timed from its request's write to its answer's read.

- warm: the cache on, requests repeating 500 distinct (login, address, site)
  triples, after one pass to fill the cache;
- cold: ``--no-cache``, so every request is decided afresh.

Usage: python bench/bench_squid.py [--requests 50000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from postguard.registry.db import Database
from postguard.registry.grants import Grants
from postguard.registry.service import Registry

SITES = [
    "facebook.com",
    "x.com:443",
    "www.youtube.com",
    "t.co",
    "reddit.com",
    "example.org",
    "bbc.co.uk",
    "cdn.fbcdn.net",
    "en.wikipedia.org",
    "medium.com",
]


def build_registry(folder: Path) -> str:
    url = f"sqlite:///{folder / 'bench.db'}"
    db = Database(url, create=True)
    db.upgrade()
    registry = Registry(db, origin="bench")
    grants = Grants(registry, folder / "keys")
    registry.bootstrap(service_number="admin", name="Admin")
    for i in range(200):
        registry.add_member("admin", service_number=f"m{i}", name=f"Member {i}", roles="officer")
        registry.add_computer("admin", asset_tag=f"PC-{i}", addresses=[f"10.1.{i // 250}.{i % 250 + 1}"])
    for i in range(0, 200, 2):
        grants.authorise(
            "admin",
            member=f"m{i}",
            computer=f"PC-{i}",
            scope="category",
            target="micro-blogging",
            reason="bench",
        )
    db.engine.dispose()
    return url


def run(url: str, folder: Path, requests: int, cache: bool, width: int = 100) -> tuple[float, list[float]]:
    env = {**os.environ, "POSTGUARD_DATABASE_URL": url, "POSTGUARD_KEYS_DIR": str(folder / "keys")}
    args = [sys.executable, "-m", "postguard", "squid-helper", *([] if cache else ["--no-cache"])]
    proc = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    assert proc.stdin is not None and proc.stdout is not None
    rng = random.Random(7)
    pool = [
        (f"m{rng.randrange(200)}", f"10.1.0.{rng.randrange(1, 201)}", rng.choice(SITES)) for _ in range(500)
    ]
    reader = proc.stdout

    def wave(items: list[tuple[str, str, str]], latencies: list[float] | None) -> None:
        sent = {}
        payload = []
        for channel, (login, src, dst) in enumerate(items):
            payload.append(f"{channel} {login} {src} {dst} -\n")
        start = time.perf_counter()
        proc.stdin.write("".join(payload).encode())  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        for channel in range(len(items)):
            sent[channel] = start
        for _ in items:
            line = reader.readline()
            if latencies is not None:
                latencies.append((time.perf_counter() - sent[int(line.split(b" ", 1)[0])]) * 1000)

    for i in range(0, len(pool), 100):  # fill the cache (and warm the process)
        wave(pool[i : i + 100], None)
    latencies: list[float] = []
    t0 = time.perf_counter()
    done = 0
    while done < requests:
        wave([pool[rng.randrange(len(pool))] for _ in range(width)], latencies)
        done += width
    elapsed = time.perf_counter() - t0
    proc.stdin.close()
    proc.wait(timeout=60)
    return done / elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = build_registry(folder)
        for label, cache in (("warm (cache on)", True), ("cold (--no-cache)", False)):
            rates, p50s, p99s = [], [], []
            for _ in range(args.runs):
                rate, latencies = run(url, folder, args.requests, cache)
                q = statistics.quantiles(latencies, n=100)
                rates.append(rate)
                p50s.append(statistics.median(latencies))
                p99s.append(q[98])
            print(f"{label}: {args.requests:,} requests in waves of 100 channels, {args.runs} runs")
            print(
                f"  median {statistics.median(rates):,.0f} decisions/s; time to each answer of a wave "
                f"(medians of runs): p50 {statistics.median(p50s):.2f} ms, "
                f"p99 {statistics.median(p99s):.2f} ms"
            )
            _, single = run(url, folder, 5_000, cache, width=1)
            q = statistics.quantiles(single, n=100)
            print(
                f"  one request at a time, 5,000 round trips: p50 {statistics.median(single):.3f} ms, "
                f"p99 {q[98]:.3f} ms"
            )


if __name__ == "__main__":
    main()
