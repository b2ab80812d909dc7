"""Benchmark the post checker; prints its figures.

1. Batch: ``postguard check --jsonl`` over 10,000 posts (real police posts from
   ``../shared/real`` where that folder is, else the corpus's own texts; cycled),
   as a fresh process each run, so model loading is included;
   once with ``--workers 1`` and once with one worker per core, in one run of
   this script so the two compare. Reports posts/s (median of runs) and peak
   memory (max RSS).
2. In process: one ``check()`` call at a time over 3,000 posts; reports p50,
   p90 and p99 latency (the model is loaded before timing starts).

Usage: python bench/bench_check.py [--posts 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def corpus_texts() -> tuple[str, list[str]]:
    """Real police posts where they are (the traffic the checker meets), else the corpus."""
    real = ROOT.parent / "shared" / "real"
    folder, name = (
        (real, "real police posts") if real.is_dir() else (ROOT / "data" / "corpus", "corpus posts")
    )
    texts = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return name, texts


def batch(texts: list[str], posts: int, runs: int, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "posts.jsonl"
        with src.open("w", encoding="utf-8") as fh:
            for i in range(posts):
                fh.write(json.dumps({"id": f"b-{i}", "text": texts[i % len(texts)]}) + "\n")
        rates, rss = [], []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            start = time.perf_counter()
            with (Path(tmp) / "out.jsonl").open("wb") as out:
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "postguard",
                        "check",
                        "--jsonl",
                        str(src),
                        "--workers",
                        str(workers),
                    ],
                    stdout=out,
                    stderr=subprocess.DEVNULL,
                    check=True,
                )
            elapsed = time.perf_counter() - start
            rates.append(posts / elapsed)
            rss.append(max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024)
        lines = sum(1 for _ in (Path(tmp) / "out.jsonl").open(encoding="utf-8"))
    assert lines == posts, f"expected {posts} output lines, got {lines}"
    print(f"batch: {posts} posts, --workers {workers}, {runs} runs (fresh process each, model load included)")
    print(
        f"  throughput median {statistics.median(rates):,.0f} posts/s "
        f"(min {min(rates):,.0f}, max {max(rates):,.0f})"
    )
    procs = 1 if workers == 1 else workers + 1
    print(
        f"  peak memory (max RSS of the largest process) {max(rss):,.0f} MB; {procs} process(es), "
        f"so at most {procs * max(rss):,.0f} MB in all (forked workers share the model's pages)"
    )


def in_process(texts: list[str], count: int) -> None:
    from postguard import check, default_checker

    start = time.perf_counter()
    default_checker()
    load = time.perf_counter() - start
    check("warm up")
    times = []
    for i in range(count):
        text = texts[i % len(texts)]
        t0 = time.perf_counter()
        check(text)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    pct = statistics.quantiles(times, n=100)
    print(f"in process: {count} single checks (policy and model loaded in {load * 1000:.0f} ms)")
    print(
        f"  p50 {statistics.median(times):.2f} ms, p90 {pct[89]:.2f} ms, p99 {pct[98]:.2f} ms, "
        f"max {times[-1]:.2f} ms; mean text {statistics.mean(len(t) for t in texts):.0f} chars"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--single", type=int, default=3_000)
    args = parser.parse_args()
    name, texts = corpus_texts()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; texts: {len(texts):,} {name}")
    for workers in (1, max(2, os.cpu_count() or 1)):
        batch(texts, args.posts, args.runs, workers)
    in_process(texts, args.single)


if __name__ == "__main__":
    main()
