"""``postguard audit``: verify, show, export and checkpoint the audit trail."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from postguard.audit.chain import AuditRecord
from postguard.audit.checkpoints import create_checkpoint
from postguard.audit.queries import entries
from postguard.audit.verify import verify
from postguard.cli.common import err, out, translate_errors
from postguard.cli.records import (
    ActorOption,
    DatabaseOption,
    JsonOption,
    KeysDirOption,
    emit,
    open_registry,
    signing_key,
)
from postguard.registry.values import parse_when

audit_app = typer.Typer(
    help="The tamper-evident audit trail: every change and decision.", no_args_is_help=True
)


@audit_app.command("verify")
def audit_verify(
    witness: Annotated[
        Path | None,
        typer.Option(
            "--witness",
            metavar="FILE",
            help="The witness file of signed heads (default: POSTGUARD_AUDIT_WITNESS, if set): prove "
            "the trail extends each with an RFC 6962 consistency proof.",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Fail (exit 1) if any entry is not yet covered by a signed checkpoint."
        ),
    ] = False,
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check every entry's hash and link, every signed checkpoint, and every witnessed head.

    Exit 1 and name the first bad entry when the trail was edited, cut short or
    rewritten. Deleting the newest entries, or rewriting them and their checkpoints,
    is caught only where something signed covers them: run the service with the
    department key's passphrase (it signs a checkpoint every minute) and a witness
    file, and verify with --witness. Without --strict, entries not yet covered are
    reported but do not fail.

    Examples:

      postguard audit verify --witness /var/lib/postguard-witness/heads.jsonl

      postguard audit verify --strict --json
    """
    from postguard.audit.witness import read_heads
    from postguard.keys import load_public_if_present

    with translate_errors():
        opened = open_registry(database, keys_dir)
        public = load_public_if_present(opened.settings.keys_dir, "department")
        chosen = witness or opened.settings.audit_witness
        heads = read_heads(chosen) if chosen is not None else None
        report = verify(
            opened.db.engine,
            public,
            progress=lambda n: err.print(f"verified {n:,} entries"),
            witness=heads,
        )
    failed = not report.ok or (strict and report.uncovered > 0)
    result = {
        "ok": not failed,
        "entries": report.entries,
        "checkpoints": report.checkpoints,
        "checkpoints_verified": report.checkpoints_verified,
        "witnessed": report.witnessed,
        "witnessed_verified": report.witnessed_verified,
        "uncovered": report.uncovered,
        "first_bad": report.first_bad,
        "problem": report.problem,
        "warnings": report.warnings,
    }
    if as_json:
        emit(result, True)
    elif not report.ok:
        out.print(f"[bold red]AUDIT TRAIL BROKEN[/] at entry {report.first_bad}: {escape(report.problem)}.")
    else:
        out.print(
            f"Audit trail intact: {report.entries:,} entries, "
            f"{report.checkpoints_verified} of {report.checkpoints} signed checkpoints verified"
            + (
                f", {report.witnessed_verified} witnessed heads proved consistent"
                if heads is not None
                else ""
            )
            + "."
        )
        if report.uncovered:
            style = "bold red" if strict else "yellow"
            out.print(
                f"[{style}]{report.uncovered:,} entries are not yet covered by a signed checkpoint[/]: "
                "until one is signed, deleting or rewriting them would not be caught."
            )
        if heads is None:
            err.print("warning: no witness given (--witness or POSTGUARD_AUDIT_WITNESS): a trail cut "
                      "short together with its checkpoints would not be caught.")  # fmt: skip
        for warning in report.warnings:
            err.print(f"warning: {warning}")
    raise typer.Exit(1 if failed else 0)


@audit_app.command("show")
def audit_show(
    since: Annotated[str | None, typer.Option(help="Only entries at or after this date/time.")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this actor's entries.")] = None,
    clause: Annotated[
        str | None, typer.Option(help="Only entries under this clause (e.g. B, C, A.iii.confidential).")
    ] = None,
    action: Annotated[
        str | None, typer.Option(help="Only this action; '*' is a wildcard (permission.*).")
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, help="Show the newest N entries that match (newest first).")
    ] = 200,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search the audit trail: who did what, when, from where, under which clause.

    Shows the newest --limit entries that match, newest first (as the web's audit
    page does); 'audit export' writes the whole trail in chain order.

    Examples:

      postguard audit show --limit 20

      postguard audit show --since 2026-12-01 --actor 3003 --clause C
    """
    with translate_errors():
        opened = open_registry(database)
        when = parse_when(since, "--since")
        rows = opened.registry.read(
            lambda s: list(
                entries(
                    s, since=when, actor=actor, clause=clause, action=action, limit=limit, newest_first=True
                )
            )
        )
    if as_json:
        emit(rows, True)
        return
    for row in rows:
        row["detail"] = json.dumps(row["detail"], ensure_ascii=False)[:80]
    emit(
        rows,
        False,
        title="audit entries",
        columns=["seq", "at", "actor", "action", "clause", "target", "origin", "detail"],
    )


@audit_app.command("export")
def audit_export(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="JSON Lines file (default: stdout).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Only entries at or after this date/time.")] = None,
    database: DatabaseOption = None,
) -> None:
    """Write the audit trail as JSON Lines, one entry a line, hashes included."""
    with translate_errors():
        opened = open_registry(database)
        when = parse_when(since, "--since")
        with opened.db.reading() as session:
            fh = output.open("w", encoding="utf-8") if output else sys.stdout
            count = 0
            for row in entries(session, since=when):
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
            if output:
                fh.close()
    err.print(f"exported {count:,} entries")


@audit_app.command("checkpoint")
def audit_checkpoint(
    actor: ActorOption = None, database: DatabaseOption = None, keys_dir: KeysDirOption = None
) -> None:
    """Sign the Merkle root of the whole trail with the department key (auditor, commissioner or it_admin).

    The passphrase comes from POSTGUARD_DEPARTMENT_PASSPHRASE or a prompt. Where
    POSTGUARD_AUDIT_WITNESS is set, the signed head is appended to the witness too.
    The service signs one by itself every minute when given the passphrase.
    """
    with translate_errors():
        opened = open_registry(database, keys_dir)
        key = signing_key(opened, "department")
        who = opened.actor(actor)
        with opened.registry.acting(who, "audit.checkpoint") as (session, _):
            cp = create_checkpoint(
                session,
                key,
                AuditRecord(who or "", "audit.checkpoint", "audit", origin=opened.registry.origin),
            )
        witness = opened.registry.witness
        if witness is not None and witness.enabled:
            witness.append(cp.head)
    out.print(f"Checkpoint over {cp.size:,} entries: root {cp.root}, signed with {cp.key_id}.")
    if witness is not None and witness.enabled:
        out.print("Witnessed: the signed head was appended to the witness.")
