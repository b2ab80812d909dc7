"""``postguard archive``: the records of what the department's accounts published (issue 14)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from postguard.audit.chain import AuditRecord
from postguard.cli.common import err, fail, out, plain, translate_errors
from postguard.cli.records import ActorOption, DatabaseOption, JsonOption, KeysDirOption, emit, open_registry
from postguard.media.store import file_sha256

__all__ = ["archive_app"]

archive_app = typer.Typer(
    help="The archive: every post seen on the official accounts, published by postguard or imported "
    "from a platform's export, kept as a record with its versions, media and the check made at the "
    "time, for the retention the pack sets (archive.retention_days).",
    no_args_is_help=True,
)


@archive_app.command("import")
def import_command(
    source: Annotated[
        Path,
        typer.Argument(
            metavar="EXPORT",
            help="A platform's own export: an X/Twitter archive (the .zip, its folder or data/tweets.js), "
            "a Facebook export in JSON (the .zip or its folder), or a Mastodon export (the .zip, its "
            "folder or outbox.json).",
            exists=True,
        ),
    ],
    account: Annotated[
        str | None,
        typer.Option(
            help="The account the posts are from, as platform:handle (default: as the export names it).",
            show_default=False,
        ),
    ] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a platform's export into the archive, checking each post with the pack in force.

    Importing the same export again adds nothing. Photos and videos go into the media store
    (POSTGUARD_MEDIA_ROOT) by SHA-256. Needs the it_admin, commissioner or auditor role.
    """
    from postguard.archive.formats import read_export
    from postguard.archive.importer import import_export
    from postguard.factory import build_checker

    with translate_errors():
        opened = open_registry(database, keys_dir)
        who = opened.authorised(actor, "archive.import")
        checker = build_checker(opened.settings)
        with (
            read_export(source, account=account) as export,
            _progress(f"Importing {export.format}") as (
                progress,
                task,
            ),
        ):
            summary = import_export(
                opened.registry,
                checker,
                export,
                source,
                actor=who,
                media_root=opened.settings.media_root,
                progress=lambda n: progress.advance(task, n),
            )
    if as_json:
        emit(summary.to_dict(), True)
        return
    out.print(
        plain(
            f"{summary.format}: {summary.added} post(s) added to the archive as {summary.account}, "
            f"{summary.already} there already; {summary.flagged} with findings; {summary.media} media "
            f"file(s) kept, {summary.missing_media} missing from the export."
        )
    )
    for reason in summary.skipped[:20]:
        err.print(plain(f"skipped: {reason}"))
    if len(summary.skipped) > 20:
        err.print(f"... and {len(summary.skipped) - 20} more skipped (--json lists them all).")


def _when(value: str | None, what: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        found = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(f"{what} must be a date or time in ISO 8601 (2024-01-31 or 2024-01-31T12:00Z), not {value!r}")
    return found if found.tzinfo else found.replace(tzinfo=dt.UTC)


SinceOption = Annotated[
    str | None,
    typer.Option(
        help="Only posts posted at or after this date or time (ISO 8601; UTC unless it says).",
        show_default=False,
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option(
        help="Only posts posted before this date or time (ISO 8601; UTC unless it says).", show_default=False
    ),
]
AccountFilter = Annotated[
    str | None, typer.Option(help="Only the posts of this account (platform:handle).", show_default=False)
]


@archive_app.command("export")
def export_command(
    folder: Annotated[Path, typer.Argument(metavar="FOLDER", help="A new (or empty) folder to write into.")],
    account: AccountFilter = None,
    since: SinceOption = None,
    until: UntilOption = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the archive for a records request: posts.jsonl (each post with its versions and the check
    made at the time), media/ (each file named by its SHA-256) and manifest.json (the SHA-256 and size
    of every file, so the recipient can check nothing was changed, added or left out).

    Needs the it_admin, commissioner or auditor role; the export is audited. Check a copy later
    with 'postguard archive verify FOLDER'.
    """
    from postguard.archive.export import write_records_export
    from postguard.media.store import MediaStore

    with translate_errors():
        opened = open_registry(database, keys_dir)
        who = opened.authorised(actor, "archive.export")
        start, end = _when(since, "--since"), _when(until, "--until")
        summary = write_records_export(
            opened.registry,
            folder,
            MediaStore(opened.settings.media_root),
            account=account,
            since=start,
            until=end,
        )
        with opened.registry.db.session() as session:
            opened.registry.audit(
                session,
                AuditRecord(
                    who,
                    "archive.export",
                    f"archive:{account or '*'}",
                    detail={
                        "folder": str(folder),
                        "since": since,
                        "until": until,
                        "posts": summary.posts,
                        "media": summary.media_files,
                        "manifest_sha256": file_sha256(summary.manifest),
                    },
                ),
            )
    result = {
        "folder": str(folder),
        "posts": summary.posts,
        "versions": summary.versions,
        "media_files": summary.media_files,
        "bytes": summary.bytes_written,
        "media_missing": summary.media_missing,
        "media_damaged": summary.media_damaged,
        "manifest": str(summary.manifest),
    }
    if as_json:
        emit(result, True)
        return
    out.print(
        plain(
            f"Wrote {summary.posts} post(s) ({summary.versions} version(s)) and {summary.media_files} media "
            f"file(s) to {folder}/; the manifest is {summary.manifest}."
        )
    )
    if summary.media_missing or summary.media_damaged:
        err.print(
            plain(
                f"{len(summary.media_missing)} media file(s) missing from the store and "
                f"{len(summary.media_damaged)} damaged were left out (named in the manifest)."
            )
        )


@archive_app.command("verify")
def verify_command(
    folder: Annotated[
        Path, typer.Argument(metavar="FOLDER", help="A records export.", exists=True, file_okay=False)
    ],
) -> None:
    """Check a records export against its manifest: every file there, unchanged, nothing added.
    Exits 1 and lists the problems if it is not intact."""
    from postguard.archive.export import verify_records_export

    with translate_errors():
        problems = verify_records_export(folder)
    if not problems:
        out.print(plain(f"{folder}: intact (every file matches the manifest)."))
        return
    for problem in problems:
        err.print(plain(f"problem: {problem}"))
    raise typer.Exit(1)


@archive_app.command("scan")
def scan_command(
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="FOLDER",
            help="Where the scan writes findings.jsonl, state.json and the report (a new or empty folder, "
            "or the folder of a scan to --resume).",
        ),
    ],
    account: AccountFilter = None,
    since: SinceOption = None,
    until: UntilOption = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Processes that check posts (default: one per core).", min=1, show_default=False),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Go on with the interrupted scan in --out.")
    ] = False,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Start afresh in --out even though it holds a scan.")
    ] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Run on a Dask cluster: its scheduler's address (tcp://HOST:8786), or 'local' for a Dask "
            "cluster of --workers processes here. Needs postguard[scale].",
            show_default=False,
        ),
    ] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check every archived post's text with the pack and model in force, and report what is found.

    Reads the archive a page at a time (memory stays flat however large it is), on every core,
    with a progress bar; Ctrl-C stops it, and --resume goes on where it stopped without losing
    or repeating a post. Writes report.html (charts per month, clause and account; the posts
    found), counts.csv and findings.csv into --out. Photos and videos are not inspected again.
    Needs the it_admin, commissioner or auditor role; the scan is audited.
    """
    from postguard.archive.report import write_report
    from postguard.archive.scan import scan

    with translate_errors():
        opened = open_registry(database, keys_dir)
        who = opened.authorised(actor, "archive.scan")
        start, end = _when(since, "--since"), _when(until, "--until")
        with _progress("Scanning the archive") as (progress, task):

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            try:
                summary = scan(
                    opened.settings,
                    out_dir,
                    workers=workers,
                    resume=resume,
                    overwrite=overwrite,
                    account=account,
                    since=start,
                    until=end,
                    progress=advance,
                    scheduler=scheduler,
                )
            except KeyboardInterrupt:
                err.print(plain(f"Stopped. What was checked is kept: go on with --resume --out {out_dir}"))
                raise typer.Exit(130) from None
        paths = write_report(out_dir)
        with opened.registry.db.session() as session:
            opened.registry.audit(
                session,
                AuditRecord(
                    who,
                    "archive.scan",
                    f"archive:{account or '*'}",
                    detail={
                        "out": str(out_dir),
                        "posts": summary.posts,
                        "flagged": summary.flagged,
                        "resumed": summary.resumed,
                        "engine": summary.engine,
                        "policy": summary.fingerprint,
                    },
                ),
            )
    result = {
        "posts": summary.posts,
        "flagged": summary.flagged,
        "checked_now": summary.checked_now,
        "seconds": round(summary.seconds, 2),
        "engine": summary.engine,
        "report": str(paths.html),
        "counts": str(paths.counts),
        "findings": str(paths.findings),
    }
    if as_json:
        emit(result, True)
        return
    rate = summary.checked_now / summary.seconds if summary.seconds else 0.0
    out.print(
        plain(
            f"Scanned {summary.posts} post(s): {summary.flagged} with findings ({summary.checked_now} "
            f"checked now in {summary.seconds:.1f} s, {rate:.0f} posts/s). Report: {paths.html}"
        )
    )


@contextmanager
def _progress(description: str) -> Iterator[tuple[Progress, TaskID]]:
    """A Rich progress bar on stderr (hidden when stderr is not a terminal), and its task."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        yield bar, bar.add_task(description, total=None)
