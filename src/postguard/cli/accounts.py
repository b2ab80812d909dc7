"""``postguard account``: the department's official social media accounts, and how to publish to them."""

from __future__ import annotations

from typing import Annotated

import typer

from postguard.cli.common import out, translate_errors
from postguard.cli.records import ActorOption, DatabaseOption, JsonOption, emit, open_registry
from postguard.registry.service import account_dict

__all__ = ["account_app"]

account_app = typer.Typer(help="The department's official social media accounts.", no_args_is_help=True)


@account_app.command("add")
def account_add(
    platform: Annotated[str, typer.Argument(help="e.g. mastodon, bluesky, x, facebook.")],
    handle: Annotated[str, typer.Argument(help="e.g. @police@social.example")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register one of the department's official accounts (needs it_admin)."""
    with translate_errors():
        opened = open_registry(database)
        account = opened.registry.add_account(opened.actor(actor), platform=platform, handle=handle)
    emit(account_dict(account), as_json, title="official account registered")


@account_app.command("list")
def account_list(database: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """List the department's official accounts."""
    with translate_errors():
        opened = open_registry(database)
        rows = opened.registry.accounts()
    emit(rows, as_json, title="official accounts")


@account_app.command("show")
def account_show(
    platform: str, handle: str, database: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """Show one official account."""
    with translate_errors():
        opened = open_registry(database)
        row = opened.registry.read(lambda s: account_dict(opened.registry.account(s, platform, handle)))
    emit(row, as_json, title="official account")


@account_app.command("revoke")
def account_revoke(
    platform: str, handle: str, actor: ActorOption = None, database: DatabaseOption = None
) -> None:
    """Retire an official account (needs it_admin)."""
    with translate_errors():
        opened = open_registry(database)
        opened.registry.retire_account(opened.actor(actor), platform=platform, handle=handle)
    out.print(f"Official account {platform}:{handle} is retired.")


@account_app.command("connect")
def account_connect(
    platform: str,
    handle: str,
    connector: Annotated[str, typer.Option(help="mastodon, bluesky or webhook.")],
    endpoint: Annotated[
        str,
        typer.Option(
            help="The instance URL (Mastodon), the PDS URL (Bluesky, e.g. https://bsky.social) "
            "or the webhook's URL."
        ),
    ],
    credential_env: Annotated[
        str, typer.Option(help="Name of the environment variable holding the access token or secret.")
    ] = "POSTGUARD_ACCOUNT_CREDENTIAL",
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Set how postguard publishes to an account (it_admin); the credential is stored encrypted.

    The credential is read from an environment variable, never from the command line.
    """
    import os

    from postguard.cli.common import fail

    secret = os.environ.get(credential_env, "")
    if not secret:
        fail(
            f"set {credential_env} to the account's access token (Mastodon), "
            "identifier:app-password (Bluesky) or webhook secret."
        )
    with translate_errors():
        opened = open_registry(database)
        opened.registry.connect_account(
            opened.actor(actor),
            platform=platform,
            handle=handle,
            connector=connector,
            endpoint=endpoint,
            credential=secret,
            keys_dir=opened.settings.keys_dir,
        )
    out.print(f"Account {platform}:{handle} publishes through {connector} at {endpoint}.")
