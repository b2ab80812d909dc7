"""``postguard watch``: what the department's accounts published, and the alerts it raised (issue 14).

``watch run`` reads the accounts once (for cron, where the service's own rounds are off);
``watch alerts`` lists the alerts (open ones first); ``watch ack`` acknowledges one with a note,
as a reviewer or the Commissioner (``--actor``), audited like the web app's form.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from postguard.cli.common import err, out, plain, translate_errors
from postguard.cli.records import (
    ActorOption,
    DatabaseOption,
    JsonOption,
    KeysDirOption,
    emit,
    open_registry,
)

__all__ = ["app"]

app = typer.Typer(
    help="The watch over the department's accounts: posts made outside postguard, approved posts "
    "edited, deletions, and the alerts they raise.",
    no_args_is_help=True,
)


@app.command("run")
def run_command(
    account: Annotated[
        list[str] | None,
        typer.Option(
            "--account",
            metavar="PLATFORM:HANDLE",
            help="Read only this account (repeat for more; default: every connected account that "
            "can be read).",
        ),
    ] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Read each official account's recent posts once: keep them in the archive, and raise an alert
    for a post made outside postguard, an approved post edited, or a deletion.

    The service does this every POSTGUARD_WATCH_INTERVAL seconds (300; 0 turns it off); run this
    from cron where the service's round is off. With --actor the round is asked for by a member
    (it_admin, reviewer or commissioner; audited); without, it runs as the system's watch. --json
    prints a line for each new post: platform_id, url, outside_workflow, decision, findings.
    Exits 1 when an account could not be read.
    """
    from postguard.factory import build_checker, build_watch

    with translate_errors():
        opened = open_registry(database, keys_dir)
        if actor or opened.settings.actor:
            opened.authorised(actor, "watch.run")
        watch = build_watch(opened.settings, opened.registry, build_checker(opened.settings))
        found = watch.run(account or ())
    if as_json:
        for line in found.posts:  # JSON lines: one object per new post
            typer.echo(json.dumps(line, ensure_ascii=False))
    else:
        for line in found.posts:
            where = "OUTSIDE the workflow" if line["outside_workflow"] else "through postguard"
            verdict = ", ".join(sorted({f["clause"] for f in line["findings"]})) or "no findings"
            out.print(
                plain(f"new: {line['account']} {line['url'] or line['platform_id']} ({where}; {verdict})")
            )
        for line in found.edits:
            out.print(plain(f"edited: {line['account']} {line['url'] or line['platform_id']}"))
        for line in found.deletions:
            out.print(plain(f"deleted: {line['account']} {line['url'] or line['platform_id']}"))
        out.print(
            plain(
                f"Read {len(found.accounts)} account(s): {len(found.posts)} new post(s), {len(found.edits)} "
                f"edit(s), {len(found.deletions)} deletion(s), {len(found.alerts)} alert(s) raised."
            )
        )
    for error in found.errors:
        err.print(plain(f"error: {error['account']}: {error['error']}"))
    if found.errors:
        raise typer.Exit(1)


def _row(alert: dict[str, Any]) -> dict[str, Any]:
    """One alert as a line of the table."""
    post = alert.get("post") or {}
    return {
        "id": alert["id"],
        "kind": alert["title"],
        "raised": (alert["created_at"] or "")[:16].replace("T", " "),
        "account": post.get("account") or "-",
        "summary": alert["summary"],
        "state": "open"
        if alert["open"]
        else f"acknowledged by {alert['acknowledged_by']} ({(alert['acknowledged_at'] or '')[:10]})",
    }


@app.command("alerts")
def alerts_command(
    open_only: Annotated[bool, typer.Option("--open", help="Only the alerts not yet acknowledged.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="At most this many.")] = 200,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the watch's alerts, open ones first, newest first within each."""
    from postguard.watch.alerts import alerts, open_count

    with translate_errors():
        opened = open_registry(database)
        rows = alerts(opened.registry, open_only=open_only, limit=limit)
        waiting = open_count(opened.registry)
    if as_json:
        emit(rows, True)
        return
    if not rows:
        out.print("No alert is open." if open_only else "The watch has raised no alert.")
        return
    emit([_row(a) for a in rows], False, title=f"alerts, {waiting} open")


@app.command("ack")
def ack_command(
    alert_id: Annotated[int, typer.Argument(metavar="ALERT_ID", help="The alert's number.")],
    note: Annotated[
        str, typer.Option("--note", help="What was done about it (who was told, whether the post came down).")
    ],
    actor: ActorOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Acknowledge an alert with a note (a reviewer or the Commissioner); once only."""
    from postguard.watch.alerts import acknowledge

    with translate_errors():
        opened = open_registry(database)
        done = acknowledge(opened.registry, opened.actor(actor) or "", alert_id, note)
    if as_json:
        emit(done, True)
        return
    out.print(f"Alert {done['id']} ({done['title']}) acknowledged by {done['acknowledged_by']}.")
