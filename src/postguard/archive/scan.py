"""Scanning the archive: every archived post checked again with the pack and model in force.

A department changes its pack (a new clause, a stricter pattern) or its model, and
wants to know which of the posts it already made would be caught now. ``scan``
reads the archive (``archived_post``) in pages by id (keyset: ``WHERE id > last
ORDER BY id LIMIT n``), never all at once, so its memory stays flat however large
the archive; checks each post's **text** (the photos and videos of archived posts
are not inspected again here: that needs the media files and ``postguard[media]``,
and is another job); and writes what it found into an output folder:

- ``findings.jsonl``: one line per post with findings (or that could not be
  checked), in id order: id, account, platform, platform_id, url, posted_at,
  decision, and each finding's clause, span, quote (the words) and why;
- ``state.json``: what the scan is (the pack's version and SHA-256, the scorer
  and the model file's SHA-256, the filters, the database), the last post id
  done, the length of ``findings.jsonl`` at that point, and the counts so far
  (per account, clause, month of ``posted_at``, decision), rewritten atomically
  after every page.

A page's findings are flushed and fsynced before ``state.json`` is advanced past
it, and ``--resume`` cuts ``findings.jsonl`` back to the length ``state.json``
records, so a scan stopped at any moment (Ctrl-C, a crash, a reboot) resumes
without a lost or a doubled line. It refuses to resume when the pack or the model
changed since it started (the counts would mix two policies), and refuses to
start over a folder that holds anything without ``overwrite``.

The posts are checked by one process per core (``workers``), each with the
checker loaded once (forked from this process where the platform forks, as
:mod:`postguard.checks.batch` does, so the model is loaded once and shared);
this process reads the next page while they check the last. With a Dask
``scheduler`` the same pages go to a cluster instead
(:mod:`postguard.archive.distributed`), and the folder is written the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import sqlalchemy as sa

from postguard.checks.batch import usable_cores
from postguard.errors import ConflictError, InputError, NotFoundError, ValidationError
from postguard.factory import build_checker, build_pack
from postguard.media.store import file_sha256
from postguard.registry.db import Database
from postguard.registry.models import ArchivedPost
from postguard.settings import Settings

if TYPE_CHECKING:  # the checks (and NumPy) load when a scan starts
    from postguard.checks.engine import Checker

__all__ = [
    "FINDINGS",
    "STATE",
    "Counts",
    "ScanFilters",
    "ScanSummary",
    "default_workers",
    "fingerprint",
    "read_state",
    "scan",
    "scan_partition",
]

FORMAT = "postguard-archive-scan/1"
STATE = "state.json"
FINDINGS = "findings.jsonl"
#: Files a scan or its report writes; ``overwrite`` removes these and nothing else.
OUTPUT_FILES = (STATE, FINDINGS, "report.html", "counts.csv", "findings.csv")
DIMENSIONS = ("all", "decision", "account", "month", "clause")

#: (id, account, platform, platform_id, url, posted_at, text), as read from the archive.
Row = tuple[int, str, str, str, str, dt.datetime, str]


class FindingLine(TypedDict, total=False):
    id: int
    account: str
    platform: str
    platform_id: str
    url: str
    posted_at: str
    decision: str
    findings: list[dict[str, Any]]
    error: str


# Filters -----------------------------------------------------------------


def _utc(value: dt.datetime | dt.date | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        if not isinstance(value, dt.date):
            raise ValidationError(f"{name} must be a date or a time, not {value!r}.", field=name)
        value = dt.datetime.combine(value, dt.time(), dt.UTC)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass(frozen=True)
class ScanFilters:
    """Which archived posts a scan takes: one account (``platform:handle``), and posts made from
    ``since`` (inclusive) until ``until`` (exclusive). A date means its midnight, UTC; a time
    without a zone is taken as UTC."""

    account: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @classmethod
    def make(
        cls, account: str | None, since: dt.datetime | dt.date | None, until: dt.datetime | dt.date | None
    ) -> ScanFilters:
        start, end = _utc(since, "since"), _utc(until, "until")
        if start is not None and end is not None and end <= start:
            raise ValidationError(
                f"until ({end.isoformat()}) must be after since ({start.isoformat()}).", field="until"
            )
        return cls(account.strip() or None if account is not None else None, start, end)

    def to_json(self) -> dict[str, str | None]:
        return {
            "account": self.account,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScanFilters:
        return cls(
            data.get("account"),
            dt.datetime.fromisoformat(data["since"]) if data.get("since") else None,
            dt.datetime.fromisoformat(data["until"]) if data.get("until") else None,
        )

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.account, self.since, self.until))

    def where(self) -> list[sa.ColumnElement[bool]]:
        table = ArchivedPost.__table__.c
        out: list[sa.ColumnElement[bool]] = []
        if self.account is not None:
            out.append(table.account == self.account)
        if self.since is not None:
            out.append(table.posted_at >= self.since)
        if self.until is not None:
            out.append(table.posted_at < self.until)
        return out


# Counts ------------------------------------------------------------------


class Counts:
    """Posts and posts with findings, per dimension and key: ``all`` (key ``posts``), ``decision``
    (allow, review, block; ``empty`` for a post with no text, ``error`` for one that could not be
    checked), ``account``, ``month`` (``YYYY-MM`` of ``posted_at``, UTC) and ``clause`` (posts with
    a finding of that clause: for a clause both numbers are the same)."""

    def __init__(self, data: dict[str, dict[str, list[int]]] | None = None) -> None:
        self.data: dict[str, dict[str, list[int]]] = {d: {} for d in DIMENSIONS}
        for dimension, keys in (data or {}).items():
            self.data.setdefault(dimension, {}).update({k: [int(v[0]), int(v[1])] for k, v in keys.items()})

    def _bump(self, dimension: str, key: str, flagged: bool, posts: int = 1) -> None:
        pair = self.data[dimension].setdefault(key, [0, 0])
        pair[0] += posts
        pair[1] += posts if flagged else 0

    def add(self, account: str, posted_at: dt.datetime, decision: str, clauses: Sequence[str]) -> None:
        flagged = bool(clauses)
        self._bump("all", "posts", flagged)
        self._bump("decision", decision, flagged)
        self._bump("account", account, flagged)
        self._bump("month", posted_at.astimezone(dt.UTC).strftime("%Y-%m"), flagged)
        for clause in sorted(set(clauses)):
            self._bump("clause", clause, True)

    def merge(self, other: Counts) -> None:
        for dimension, keys in other.data.items():
            for key, (posts, flagged) in keys.items():
                pair = self.data.setdefault(dimension, {}).setdefault(key, [0, 0])
                pair[0] += posts
                pair[1] += flagged

    @property
    def posts(self) -> int:
        return self.data["all"].get("posts", [0, 0])[0]

    @property
    def flagged(self) -> int:
        return self.data["all"].get("posts", [0, 0])[1]

    def rows(self) -> Iterator[tuple[str, str, int, int]]:
        """(dimension, key, posts, flagged), each dimension's keys sorted."""
        for dimension in DIMENSIONS:
            for key in sorted(self.data.get(dimension, {})):
                posts, flagged = self.data[dimension][key]
                yield dimension, key, posts, flagged

    def to_json(self) -> dict[str, dict[str, list[int]]]:
        return {d: {k: list(v) for k, v in sorted(keys.items())} for d, keys in self.data.items()}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Counts) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]


# The settings in force ---------------------------------------------------


def fingerprint(settings: Settings) -> dict[str, str]:
    """What a scan's results depend on: the pack (its version and SHA-256) and the scorer with its
    model file's SHA-256. A scan resumes only under the same fingerprint."""
    pack = build_pack(settings)
    model = settings.model
    if model is None and settings.scorer == "linear":
        from postguard.checks.model.inference import default_model_path

        model = default_model_path()
    model_sha = ""
    if model is not None:
        try:
            model_sha = file_sha256(model.resolve())
        except OSError as exc:
            raise ValidationError(f"Cannot read the model file {model}: {exc.strerror}.") from None
    return {
        "policy": pack.version,
        "pack_sha256": pack.sha256,
        "scorer": settings.scorer,
        "model_sha256": model_sha,
    }


def _clause_labels(settings: Settings) -> dict[str, dict[str, str]]:
    """Each clause's title and colour, kept in state.json so the report needs no pack."""
    return {
        c.id: {"title": c.title, "name": c.name or c.title, "colour": c.colour or "#777777"}
        for c in build_pack(settings).clauses
    }


def default_workers() -> int:
    """One process per core this process may run on (every core: a scan is long)."""
    return usable_cores()


# Checking ----------------------------------------------------------------

#: (decision, findings, error) for one post.
Outcome = tuple[str, list[dict[str, Any]], str]

_CHECKER: Checker | None = None  # the checker of this process (a worker's, or the driver's while it scans)


def _text_checker(settings: Settings) -> Checker:
    # Text only: an archived post's attachments are not passed, and no media inspector is kept.
    return build_checker(settings, files=False).with_media(None)


def _init_worker(settings: Settings) -> None:
    """A worker's initializer: build the checker once (a forked worker has its parent's already)."""
    global _CHECKER  # noqa: PLW0603  (one checker per worker process)
    if _CHECKER is None:
        _CHECKER = _text_checker(settings)


def check_text(checker: Checker, text: str) -> Outcome:
    """The decision and findings for one archived post's text."""
    from postguard.checks.types import Post

    if not text.strip():
        return "empty", [], ""
    try:
        report = checker.check_post(Post(text))
    except InputError as exc:  # too long, a NUL, out of time: reported, and the scan goes on
        return "error", [], str(exc)
    findings = [
        {"clause": f.clause, "span": [f.start, f.end], "quote": f.evidence, "why": f.explanation}
        for f in report.findings
    ]
    return str(report.decision), findings, ""


def _check_slice(texts: list[str]) -> list[Outcome]:
    assert _CHECKER is not None, "the worker's initializer builds the checker"
    return [check_text(_CHECKER, text) for text in texts]


def _line(row: Row, outcome: Outcome) -> FindingLine | None:
    decision, findings, error = outcome
    if not findings and not error:
        return None
    post_id, account, platform, platform_id, url, posted_at, _text = row
    line: FindingLine = {
        "id": post_id,
        "account": account,
        "platform": platform,
        "platform_id": platform_id,
        "url": url,
        "posted_at": posted_at.astimezone(dt.UTC).isoformat(),
        "decision": decision,
        "findings": findings,
    }
    if error:
        line["error"] = error
    return line


@dataclass
class PageResult:
    """One page (or partition) checked: its counts, its findings lines (JSON), its last id."""

    last_id: int
    counts: Counts
    lines: list[str]


def _tally(rows: Sequence[Row], outcomes: Sequence[Outcome]) -> PageResult:
    counts, lines = Counts(), []
    for row, outcome in zip(rows, outcomes, strict=True):
        counts.add(row[1], row[5], outcome[0], [f["clause"] for f in outcome[1]])
        line = _line(row, outcome)
        if line is not None:
            lines.append(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
    return PageResult(rows[-1][0] if rows else 0, counts, lines)


# Reading the archive ----------------------------------------------------

_COLUMNS = ("id", "account", "platform", "platform_id", "url", "posted_at", "text")


def _select(filters: ScanFilters) -> sa.Select[Any]:
    table = ArchivedPost.__table__.c
    return sa.select(*(table[c] for c in _COLUMNS)).where(*filters.where())


def _page(db: Database, filters: ScanFilters, after: int, size: int, upto: int | None = None) -> list[Row]:
    table = ArchivedPost.__table__.c
    query = _select(filters).where(table.id > after)
    if upto is not None:
        query = query.where(table.id <= upto)
    with db.reading() as session:
        return [tuple(r) for r in session.execute(query.order_by(table.id).limit(size))]


def _pages(db: Database, filters: ScanFilters, after: int, size: int) -> Iterator[list[Row]]:
    while True:
        rows = _page(db, filters, after, size)
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def _count(db: Database, filters: ScanFilters) -> int:
    table = ArchivedPost.__table__
    with db.reading() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(table).where(*filters.where())) or 0)


def partition_bounds(db: Database, filters: ScanFilters, after: int, size: int) -> Iterator[tuple[int, int]]:
    """``(after, upto)`` id ranges of ``size`` posts each (the last may be shorter), found lazily
    with one indexed query each, so the driver never holds the ids."""
    table = ArchivedPost.__table__.c
    while True:
        base = sa.select(table.id).where(*filters.where(), table.id > after).order_by(table.id)
        with db.reading() as session:
            upto = session.scalar(base.offset(size - 1).limit(1))
            if upto is None:
                upto = session.scalar(
                    sa.select(sa.func.max(table.id)).where(*filters.where(), table.id > after)
                )
        if upto is None:
            return
        yield after, int(upto)
        after = int(upto)


def _open_database(url: str) -> Database:
    db = Database(url)
    try:
        db.require_current()
    except Exception:
        db.engine.dispose()
        raise
    return db


def worker_settings(settings: Settings) -> str:
    """The settings a partition needs, as JSON for another machine: the pack, the scorer and its
    model (paths made absolute: each worker must have the same files there), the database URL."""
    return json.dumps(
        {
            "policy": str(settings.policy.resolve()) if settings.policy else None,
            "model": str(settings.model.resolve()) if settings.model else None,
            "scorer": settings.scorer,
            "database_url": settings.database_url,
        },
        sort_keys=True,
    )


_WORKER_LOCK = threading.Lock()
#: A worker's checker (with its fingerprint) and database, kept for its next partitions: the latest
#: settings' only, so a long-lived worker serving several scans holds one model and one engine.
_WORKER_CHECKER: tuple[str, Checker, dict[str, str]] | None = None
_WORKER_DATABASE: Database | None = None


def _worker_tools(settings_json: str) -> tuple[Checker, dict[str, str], Database]:
    global _WORKER_CHECKER, _WORKER_DATABASE  # noqa: PLW0603  (one of each per worker process)
    settings = Settings.model_validate_json(settings_json)
    key = settings.model_dump_json(include={"policy", "model", "scorer"})
    with _WORKER_LOCK:  # a worker may run several partitions at once, in threads
        if _WORKER_CHECKER is None or _WORKER_CHECKER[0] != key:
            _WORKER_CHECKER = (key, _text_checker(settings), fingerprint(settings))
        if _WORKER_DATABASE is None or _WORKER_DATABASE.url != settings.database_url:
            if _WORKER_DATABASE is not None:
                _WORKER_DATABASE.engine.dispose()
                _WORKER_DATABASE = None
            _WORKER_DATABASE = _open_database(settings.database_url)
        return _WORKER_CHECKER[1], _WORKER_CHECKER[2], _WORKER_DATABASE


def scan_partition(
    settings_json: str, filters_json: dict[str, Any], after: int, upto: int
) -> tuple[dict[str, str], int, dict[str, dict[str, list[int]]], list[str]]:
    """One partition of a scan, run wherever it is sent (a Dask worker): reads the posts with
    ``after < id <= upto`` from the settings' database, checks them, and returns (the worker's
    fingerprint, the last id, the counts, the findings lines). The checker and the database
    engine are built once per worker process and kept, keyed by the settings."""
    checker, print_, db = _worker_tools(settings_json)
    filters = ScanFilters.from_json(filters_json)
    rows: list[Row] = []
    after_ = after
    while True:
        page = _page(db, filters, after_, 1000, upto)
        if not page:
            break
        rows.extend(page)
        after_ = page[-1][0]
    result = _tally(rows, [check_text(checker, row[6]) for row in rows])
    return print_, upto, result.counts.to_json(), result.lines


# The output folder ------------------------------------------------------


def read_state(out: Path) -> dict[str, Any]:
    """The scan's state.json in ``out``; :class:`NotFoundError` when the folder holds no scan."""
    path = out / STATE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError(f"{out} holds no archive scan (no {STATE}).") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"Cannot read {path}: {exc}.") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationError(f"{path} is not the state of a postguard archive scan ({FORMAT}).")
    return data


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    if hasattr(os, "O_DIRECTORY"):
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


class ScanOutput:
    """The output folder of one scan: opened new or resumed, advanced a page at a time."""

    def __init__(self, out: Path, state: dict[str, Any]) -> None:
        self.out = out
        self.state = state
        self.counts = Counts(state["counts"])
        self.findings = (out / FINDINGS).open("ab")

    @classmethod
    def open(
        cls,
        out: Path,
        *,
        settings: Settings,
        filters: ScanFilters,
        resume: bool,
        overwrite: bool,
        engine: str,
        database: str,
    ) -> tuple[ScanOutput, ScanFilters]:
        """Open ``out`` for a new scan (empty or new; with ``overwrite``, the files of an earlier
        scan there are removed first) or to resume the one in it; returns it and the filters to
        use (a resumed scan keeps its own). ``database`` is the URL read, its password hidden."""
        if resume and overwrite:
            raise ValidationError("Give either resume or overwrite, not both.")
        if out.exists() and not out.is_dir():
            raise ValidationError(f"{out} is not a folder.")
        print_ = fingerprint(settings)
        where = database
        if resume:
            state = read_state(out)
            if state["fingerprint"] != print_:
                was, now = state["fingerprint"], print_
                raise ConflictError(
                    f"The scan in {out} was made with {was['policy']} (pack {was['pack_sha256'][:12]}, "
                    f"scorer {was['scorer']}, model {was['model_sha256'][:12] or 'none'}); the pack and "
                    f"model in force are {now['policy']} (pack {now['pack_sha256'][:12]}, scorer "
                    f"{now['scorer']}, model {now['model_sha256'][:12] or 'none'}). A scan cannot mix "
                    "them: start a new scan (another folder, or overwrite)."
                )
            stored = ScanFilters.from_json(state["filters"])
            if filters.given and filters != stored:
                raise ConflictError(
                    f"The scan in {out} has the filters {stored.to_json()}, not {filters.to_json()}: "
                    "resume it without filters (it keeps its own), or start a new scan."
                )
            if state.get("database") != where:
                raise ConflictError(
                    f"The scan in {out} reads {state.get('database')}, not {where}: resume it with "
                    "the same database."
                )
            path = out / FINDINGS
            size = int(state["findings_bytes"])
            try:
                with path.open("r+b") as fh:
                    fh.seek(0, os.SEEK_END)
                    if fh.tell() < size:
                        raise ConflictError(
                            f"{path} is shorter ({fh.tell()} bytes) than the scan recorded ({size}): "
                            "it was changed since; start a new scan."
                        )
                    fh.truncate(size)  # lines written after the last state was saved are done again
                    fh.flush()
                    os.fsync(fh.fileno())
            except FileNotFoundError:
                raise ConflictError(f"{path} is missing: start a new scan.") from None
            state["engine"] = engine
            return cls(out, state), stored
        if out.is_dir() and any(out.iterdir()):
            if not overwrite:
                has_scan = (out / STATE).exists()
                raise ConflictError(
                    f"{out} is not empty"
                    + (" (it holds a scan: go on with it with --resume)" if has_scan else "")
                    + ": choose an empty or new folder, or start afresh there with --overwrite."
                )
            for name in (*OUTPUT_FILES, STATE + ".tmp"):
                (out / name).unlink(missing_ok=True)
        out.mkdir(parents=True, exist_ok=True)
        (out / FINDINGS).write_bytes(b"")
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        state = {
            "format": FORMAT,
            "fingerprint": print_,
            "clauses": _clause_labels(settings),
            "filters": filters.to_json(),
            "database": where,
            "engine": engine,
            "text_only": True,
            "started_at": stamp,
            "updated_at": stamp,
            "seconds": 0.0,
            "last_id": 0,
            "findings_bytes": 0,
            "findings_lines": 0,
            "done": False,
            "counts": Counts().to_json(),
        }
        output = cls(out, state)
        output.save()
        return output, filters

    @property
    def last_id(self) -> int:
        return int(self.state["last_id"])

    def save(self) -> None:
        self.state["counts"] = self.counts.to_json()
        self.state["updated_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        _write_atomic(self.out / STATE, json.dumps(self.state, ensure_ascii=False, indent=1))

    def commit(self, last_id: int, counts: Counts, lines: Sequence[str], seconds: float) -> None:
        """Add one page: its lines are on disk (fsynced) before the state says the page is done."""
        if lines:
            self.findings.write("".join(line + "\n" for line in lines).encode("utf-8"))
            self.findings.flush()
            os.fsync(self.findings.fileno())
        self.counts.merge(counts)
        self.state["last_id"] = max(last_id, self.last_id)
        self.state["findings_bytes"] = self.findings.tell()
        self.state["findings_lines"] = int(self.state["findings_lines"]) + len(lines)
        self.state["seconds"] = round(float(self.state["seconds"]) + seconds, 3)
        self.save()

    def finish(self) -> None:
        self.state["done"] = True
        self.save()

    def close(self) -> None:
        self.findings.close()


# The scan ------------------------------------------------------------------


@dataclass
class ScanSummary:
    """What a scan did: in ``out``, ``posts`` checked in all (this run and any before it was
    resumed), ``flagged`` of them with findings, ``checked_now`` in this run, in ``seconds``."""

    out: Path
    posts: int
    flagged: int
    checked_now: int
    seconds: float
    resumed: bool
    done: bool
    engine: str
    counts: Counts = field(repr=False)
    fingerprint: dict[str, str] = field(default_factory=dict)


Progress = Callable[[int, int], None]


def scan(
    settings: Settings,
    out: Path,
    *,
    workers: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    account: str | None = None,
    since: dt.datetime | dt.date | None = None,
    until: dt.datetime | dt.date | None = None,
    progress: Progress | None = None,
    scheduler: str | None = None,
    chunk: int = 500,
) -> ScanSummary:
    """Check every archived post (of ``account``, made from ``since`` until ``until``) with the
    pack and model of ``settings``, into the folder ``out``; see the module's docstring.

    ``workers`` processes check (default: one per core; 1 checks in this process). With
    ``scheduler`` (a Dask scheduler's address, or ``local`` for a Dask cluster on this machine
    with ``workers`` processes) the pages go to Dask instead (needs ``postguard[scale]``).
    ``progress(done, total)`` is called after each page is saved; an exception it raises (a
    KeyboardInterrupt) stops the scan with everything before it saved, to ``resume`` later.
    """
    if chunk < 1:
        raise ValidationError(f"chunk must be at least 1, not {chunk}.", field="chunk")
    if workers is not None and workers < 1:
        raise ValidationError(f"workers must be at least 1, not {workers}.", field="workers")
    filters = ScanFilters.make(account, since, until)
    db = _open_database(settings.database_url)
    engine = "dask" if scheduler else "local"
    output: ScanOutput | None = None
    try:
        output, filters = ScanOutput.open(
            out,
            settings=settings,
            filters=filters,
            resume=resume,
            overwrite=overwrite,
            engine=engine,
            database=db.display_url,
        )
        before = output.counts.posts
        start = time.perf_counter()
        if not output.state["done"]:
            total = _count(db, filters)
            if progress is not None:
                progress(before, total)
            if scheduler:
                _scan_dask(settings, db, output, filters, scheduler, workers, chunk, total, progress)
            else:
                _scan_local(
                    settings, db, output, filters, workers or default_workers(), chunk, total, progress
                )
            output.finish()
        return ScanSummary(
            out,
            output.counts.posts,
            output.counts.flagged,
            output.counts.posts - before,
            time.perf_counter() - start,
            resume,
            bool(output.state["done"]),
            engine,
            output.counts,
            dict(output.state["fingerprint"]),
        )
    finally:
        if output is not None:
            output.close()
        db.engine.dispose()


def _scan_local(
    settings: Settings,
    db: Database,
    output: ScanOutput,
    filters: ScanFilters,
    workers: int,
    chunk: int,
    total: int,
    progress: Progress | None,
) -> None:
    global _CHECKER  # noqa: PLW0603  (the forked workers inherit it)
    _CHECKER = _text_checker(settings)
    done = output.counts.posts
    try:
        if workers <= 1:
            for rows in _pages(db, filters, output.last_id, chunk):
                start = time.perf_counter()
                result = _tally(rows, _check_slice([r[6] for r in rows]))
                output.commit(result.last_id, result.counts, result.lines, time.perf_counter() - start)
                done += len(rows)
                if progress is not None:
                    progress(done, total)
            return
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        db.engine.dispose()  # no open connection is handed to the workers (they never read)
        with context.Pool(workers, initializer=_init_worker, initargs=(settings,)) as pool:
            # Two pages in flight: the workers check one while this process reads the next.
            pending: deque[tuple[list[Row], list[Any], float]] = deque()

            def finish_oldest() -> None:
                nonlocal done
                rows, parts, started = pending.popleft()
                outcomes = [o for part in parts for o in part.get()]
                result = _tally(rows, outcomes)
                output.commit(result.last_id, result.counts, result.lines, time.perf_counter() - started)
                done += len(rows)
                if progress is not None:
                    progress(done, total)

            for rows in _pages(db, filters, output.last_id, chunk):
                started = time.perf_counter()
                step = -(-len(rows) // workers)
                parts = [
                    pool.apply_async(_check_slice, ([r[6] for r in rows[i : i + step]],))
                    for i in range(0, len(rows), step)
                ]
                pending.append((rows, parts, started))
                if len(pending) > 1:
                    finish_oldest()
            while pending:
                finish_oldest()
    finally:
        _CHECKER = None


def _scan_dask(
    settings: Settings,
    db: Database,
    output: ScanOutput,
    filters: ScanFilters,
    scheduler: str,
    workers: int | None,
    chunk: int,
    total: int,
    progress: Progress | None,
) -> None:
    from postguard.archive.distributed import run_partitions

    settings_json = worker_settings(settings)
    expected = output.state["fingerprint"]
    done = output.counts.posts
    tasks = (
        (settings_json, filters.to_json(), after, upto)
        for after, upto in partition_bounds(db, filters, output.last_id, chunk)
    )
    started = time.perf_counter()
    for print_, upto, counts, lines in run_partitions(
        scan_partition, tasks, scheduler=scheduler, workers=workers
    ):
        if print_ != expected:
            raise ConflictError(
                f"A Dask worker checks with {print_['policy']} (pack {print_['pack_sha256'][:12]}, model "
                f"{print_['model_sha256'][:12] or 'none'}), not the pack and model in force here: every "
                "worker needs the same pack and model files (POSTGUARD_POLICY, POSTGUARD_MODEL)."
            )
        part = Counts(counts)
        output.commit(upto, part, lines, time.perf_counter() - started)
        started = time.perf_counter()
        done += part.posts
        if progress is not None:
            progress(done, total)
