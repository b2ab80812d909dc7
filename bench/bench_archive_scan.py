"""Benchmark the archive scan (``postguard archive scan``); prints its figures.

1. Generates an archive of N posts (default 1,000,000) into a SQLite database in
   a temporary folder (or ``--db``, kept and reused when it already holds the
   posts): texts from templates of ordinary police posts (appeals, road
   closures, events, thanks, warnings, arrests and court results) with about 3%
   that break the policy (guilt before a verdict, insults, gloating), over six
   accounts and five years of months; inserted with SQLAlchemy core in batches
   of 10,000 rows inside one transaction, the schema made by the migrations.
2. Scans it with ``--workers 1`` and with one worker per core (or ``--workers``),
   each scan in a fresh process (model loading included, as the CLI does), and
   prints posts, seconds, posts/s, posts/s per core, and the peak memory (max
   RSS of the scanning process, RUSAGE_SELF, and of its largest worker,
   RUSAGE_CHILDREN). The scan reads pages by id, so its memory does not grow
   with the archive: compare the RSS of a small and a large run.
3. With ``--resume``, a scan stopped at half way and resumed: its time, and that
   its findings equal the uninterrupted run's, byte for byte.

Usage: python bench/bench_archive_scan.py [--posts 1000000] [--workers N] [--db FILE] [--resume] [--no-single]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent

STREETS = ["Mill Lane", "Station Road", "Harbour Street", "Elm Grove", "the High Street", "Church Walk"]
PLACES = ["Northgate", "Castleford", "Westbury", "Ashton Vale", "Riverside", "Oldtown"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ORDINARY = [
    "Road closure: {street} in {place} is shut until {hour}pm for resurfacing. Please use a different route.",
    "Can you help? We are looking for witnesses to a collision on {street} on {day} evening. Call 101 "
    "quoting log {log}.",
    "Have you seen Sam? The {age}-year-old has been missing from {place} since {day}. Call 999 if you "
    "see him.",
    "UPDATE: Sam has been found safe and well. Thank you to everyone who shared our appeal.",
    "Thank you to everyone who came to our open day at {place} station on {day}!",
    "Join our neighbourhood team at {street}, {place}, from {hour}am on {day} for free bike marking.",
    "Warning: callers are pretending to be police officers and asking for bank details. We never ask for "
    "them. Hang up and call 101.",
    "A {age}-year-old man was arrested in {place} on {day} on suspicion of burglary. Enquiries continue.",
    "A {age}-year-old woman has been charged with theft and will appear at {place} Magistrates' Court on "
    "{day}.",
    "Lock it or lose it: most vehicle crime in {place} happens to cars left unlocked overnight.",
    "Congratulations to PC Hale, who received a commendation on {day} for her work in {place}.",
    "Flood warning for {place}: {street} is under water. Do not drive through flood water.",
]
VIOLATING = [
    "We got our man! The thug who broke into homes on {street} is finally behind bars.",
    "The {age}-year-old we arrested on {day} is guilty of the {place} burglaries, no doubt about it.",
    "What a pathetic bunch of idiots the drivers on {street} were today, lol.",
    "Another scumbag off the streets of {place}. Enjoy your cell, loser.",
]
ACCOUNTS = [
    "mastodon:@police@northgate.example",
    "mastodon:@roads@northgate.example",
    "bluesky:police.northgate.example",
    "twitter:@NorthgatePolice",
    "twitter:@NorthgateRoads",
    "facebook:northgate-police",
]


def _text(rng: random.Random) -> str:
    template = rng.choice(VIOLATING) if rng.random() < 0.03 else rng.choice(ORDINARY)
    return template.format(
        street=rng.choice(STREETS),
        place=rng.choice(PLACES),
        day=rng.choice(DAYS),
        hour=rng.randint(1, 11),
        age=rng.randint(14, 80),
        log=rng.randint(100, 9999),
    )


def generate(url: str, posts: int, seed: int = 14) -> float:
    """Fill ``url`` with ``posts`` archived posts; returns the seconds it took."""
    from postguard.registry.db import Database
    from postguard.registry.models import ArchivedPost

    db = Database(url, create=True)
    db.upgrade()
    table = ArchivedPost.__table__
    rng = random.Random(seed)
    start = time.perf_counter()
    first = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    span = 5 * 365 * 24 * 3600
    now = dt.datetime.now(dt.UTC)
    keep = now + dt.timedelta(days=3650)
    with db.engine.begin() as conn:
        for base in range(0, posts, 10_000):
            batch: list[dict[str, Any]] = []
            for i in range(base, min(posts, base + 10_000)):
                account = ACCOUNTS[i % len(ACCOUNTS)]
                batch.append(
                    {
                        "platform": account.split(":", 1)[0],
                        "account": account,
                        "platform_id": str(i),
                        "url": f"https://social.example/{i}",
                        "text": _text(rng),
                        "media": [],
                        # posts in order of time, over five years
                        "posted_at": first + dt.timedelta(seconds=span * i // posts),
                        "first_seen_at": now,
                        "updated_at": now,
                        "source": "import",
                        "outside_workflow": False,
                        "decision": "",
                        "clauses": "",
                        "report": {},
                        "policy_version": "",
                        "retain_until": keep,
                    }
                )
            conn.execute(sa.insert(table), batch)
    db.engine.dispose()
    return time.perf_counter() - start


def child(args: argparse.Namespace) -> None:
    """One scan in this (fresh) process; prints its figures as one JSON line."""
    from postguard.archive.scan import scan
    from postguard.settings import Settings

    settings = Settings.defaults().model_copy(update={"database_url": args.url})
    stop_at = args.stop_at

    def progress(done: int, total: int) -> None:
        if stop_at and done >= stop_at:
            raise KeyboardInterrupt

    start = time.perf_counter()
    stopped = False
    try:
        summary = scan(
            settings, Path(args.out), workers=args.workers, resume=args.resume_child, progress=progress
        )
        posts, flagged, checked = summary.posts, summary.flagged, summary.checked_now
    except KeyboardInterrupt:
        stopped = True
        state = json.loads((Path(args.out) / "state.json").read_text(encoding="utf-8"))
        posts = checked = state["counts"]["all"]["posts"][0]
        flagged = state["counts"]["all"]["posts"][1]
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "posts": posts,
                "flagged": flagged,
                "checked": checked,
                "seconds": seconds,
                "stopped": stopped,
                "rss_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rss_children_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            }
        )
    )


def run_scan(url: str, out: Path, workers: int, *, resume: bool = False, stop_at: int = 0) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        "--url",
        url,
        "--out",
        str(out),
        "--workers",
        str(workers),
    ]
    if resume:
        command.append("--resume-child")
    if stop_at:
        command += ["--stop-at", str(stop_at)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"the scan failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def report(label: str, workers: int, result: dict[str, Any]) -> None:
    rate = result["checked"] / result["seconds"] if result["seconds"] else 0.0
    print(f"{label}: --workers {workers}")
    print(
        f"  {result['checked']:,} posts checked in {result['seconds']:.1f} s (model load included): "
        f"{rate:,.0f} posts/s, {rate / workers:,.0f} posts/s per core; "
        f"{result['flagged']:,} of {result['posts']:,} posts with findings"
    )
    print(
        f"  peak memory: scanning process {result['rss_self_mb']:,.0f} MB (max RSS), largest worker "
        f"{result['rss_children_mb']:,.0f} MB"
        + (f" ({workers} workers, forked: they share the model's pages)" if workers > 1 else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=0, help="the many-worker run (default: one per core)")
    parser.add_argument(
        "--db", type=Path, help="SQLite file to generate into (kept; reused if it holds --posts)"
    )
    parser.add_argument("--resume", action="store_true", help="also stop a scan at half way and resume it")
    parser.add_argument(
        "--no-single", action="store_true", help="skip the --workers 1 run (only the many-worker one)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--resume-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stop-at", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    from postguard.archive.scan import FINDINGS, default_workers

    cores = default_workers()
    many = args.workers or cores
    print(f"machine: {os.cpu_count()} CPUs ({cores} usable), Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db_file = args.db.resolve() if args.db else folder / "archive.db"
        url = f"sqlite:///{db_file}"
        reuse = False
        if db_file.exists():
            engine = sa.create_engine(url)
            with engine.connect() as conn:
                reuse = conn.exec_driver_sql("SELECT count(*) FROM archived_post").scalar() == args.posts
            engine.dispose()
            if not reuse:
                sys.exit(
                    f"{db_file} exists and does not hold {args.posts:,} archived posts: give another --db"
                )
        if reuse:
            print(f"archive: {args.posts:,} posts already in {db_file}")
        else:
            seconds = generate(url, args.posts)
            size = db_file.stat().st_size / 2**20
            print(
                f"archive: {args.posts:,} posts generated in {seconds:.1f} s "
                f"({args.posts / seconds:,.0f} rows/s), SQLite file {size:,.0f} MiB"
            )
        runs = [1] if many == 1 else [many] if args.no_single else [1, many]
        for workers in runs:
            report("scan", workers, run_scan(url, folder / f"scan-{workers}", workers))
        if args.resume:
            out = folder / "scan-resumed"
            half = args.posts // 2
            first = run_scan(url, out, many, stop_at=half)
            second = run_scan(url, out, many, resume=True)
            same = (out / FINDINGS).read_bytes() == (folder / f"scan-{runs[-1]}" / FINDINGS).read_bytes()
            print(f"resume: --workers {many}, stopped after {first['posts']:,} posts, resumed")
            print(
                f"  first part {first['seconds']:.1f} s, the rest {second['checked']:,} posts in "
                f"{second['seconds']:.1f} s; findings identical to one uninterrupted run: {same}"
            )


if __name__ == "__main__":
    main()
