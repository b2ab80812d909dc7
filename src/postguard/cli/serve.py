"""``postguard serve`` (the service) and ``postguard token`` (API tokens for machines)."""

from __future__ import annotations

from typing import Annotated

import typer

from postguard.cli.common import err, out, translate_errors
from postguard.cli.records import ActorOption, DatabaseOption, KeysDirOption, open_registry

token_app = typer.Typer(
    help="API tokens for machines calling the service (a proxy, a script).", no_args_is_help=True
)


@token_app.command("create")
def token_create(
    member: Annotated[str, typer.Option(help="The member the token acts as (its roles apply).")],
    name: Annotated[str, typer.Option(help="What uses it, e.g. 'proxy-01'.")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Create a token (it_admin); it is printed once and only its hash is kept."""
    from postguard.registry.tokens import create_token

    with translate_errors():
        opened = open_registry(database)
        token, row = create_token(opened.registry, opened.actor(actor), member=member, name=name)
    err.print(f"Token {row.id} ('{name}') acts as {member}. Keep it secret; it is not shown again:")
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Revoke a token at once (it_admin)."""
    from postguard.registry.tokens import revoke_token

    with translate_errors():
        opened = open_registry(database)
        revoke_token(opened.registry, opened.actor(actor), token_id=token_id)
    out.print(f"Token {token_id} is revoked.")


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8400,
    workers: Annotated[int, typer.Option(help="Server processes (they share the database).", min=1)] = 1,
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
) -> None:
    """Run the service until stopped: the web application at /, the API under /api/v1, and its
    OpenAPI document at /openapi.json.

    Several processes (--workers, or several machines) may share one PostgreSQL database. The
    service also publishes scheduled drafts and expires overdue submissions every
    POSTGUARD_SCHEDULER_INTERVAL seconds (30). For plain-HTTP testing only, set
    POSTGUARD_SECURE_COOKIES=false so browsers keep the session cookie.

    The audit trail: give the department key's passphrase in POSTGUARD_DEPARTMENT_PASSPHRASE
    (or a file named by POSTGUARD_DEPARTMENT_PASSPHRASE_FILE) and the service signs a checkpoint
    every POSTGUARD_CHECKPOINT_INTERVAL seconds (60) when entries were added; a wrong passphrase
    stops the start. POSTGUARD_AUDIT_WITNESS=FILE appends each signed head to an append-only
    witness file outside the database (POSTGUARD_AUDIT_WITNESS_SYSLOG=host:port sends it to
    syslog too). Access decisions the database cannot take yet wait in POSTGUARD_AUDIT_SPOOL.

    Example: postguard serve --port 8400 --database postgresql+psycopg://postgres@127.0.0.1/test
    """
    import os

    import uvicorn

    if database:
        os.environ["POSTGUARD_DATABASE_URL"] = database
    if keys_dir:
        os.environ["POSTGUARD_KEYS_DIR"] = str(keys_dir)
    with translate_errors():
        open_registry(database, keys_dir).db.require_current()  # fail here, clearly, not in a worker
    out.print(
        f"postguard service on http://{host}:{port}/  (web application /, API /api/v1, "
        "OpenAPI document /openapi.json)"
    )
    uvicorn.run(
        "postguard.web.asgi:build", host=host, port=port, workers=workers, log_level="info", factory=True
    )


def publish_command(
    draft: Annotated[str, typer.Argument(metavar="DRAFT_ID")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
) -> None:
    """Publish an approved draft to its official account (retried; never sent twice)."""
    from postguard.workflow.publish import publish

    with translate_errors():
        opened = open_registry(database, keys_dir)
        row = publish(
            opened.workflow,
            opened.actor(actor),
            draft,
            keys_dir=opened.settings.keys_dir,
            media_root=opened.settings.media_root,
        )
    if row.status == "sent":
        out.print(f"Published {draft}: {row.remote_url or row.remote_id} ({row.attempts} attempt(s)).")
        return
    err.print(
        f"[bold red]Not published[/] after {row.attempts} attempt(s): {row.last_error}. "
        "It stays approved; run this again to retry."
    )
    raise typer.Exit(1)


def publish_due_command(
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
) -> None:
    """Expire overdue submissions and publish every scheduled draft that is due, once (for cron).

    The service does the same every POSTGUARD_SCHEDULER_INTERVAL seconds (30; 0 turns it off):
    run this where the service's round is off. Each draft is published as the member who
    scheduled it. Exits 1 if any publication failed (it stays approved and is reported).
    """
    from postguard.workflow.scheduler import run_once

    with translate_errors():
        opened = open_registry(database, keys_dir)
        expired, published = run_once(
            opened.registry, opened.workflow, opened.settings.keys_dir, opened.settings.media_root
        )
    for code in expired:
        out.print(f"{code} expired: it was not reviewed in time.")
    for code, sent, what in published:
        if sent:
            out.print(f"Published {code}: {what}")
        else:
            err.print(f"[bold red]Not published[/] {code}: {what}. It stays approved; publish it by hand.")
    if not expired and not published:
        out.print("Nothing was due.")
    if not all(sent for _, sent, _ in published):
        raise typer.Exit(1)
