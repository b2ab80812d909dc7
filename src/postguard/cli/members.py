"""``postguard member``, ``postguard device`` and ``postguard account``."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from postguard.cli.common import out, translate_errors
from postguard.cli.records import ActorOption, DatabaseOption, JsonOption, emit, open_registry
from postguard.registry.models import Computer, Member, OfficialAccount, PersonalDevice
from postguard.registry.service import account_dict, computer_dict, device_dict, member_dict

member_app = typer.Typer(help="Members of the department and their roles.", no_args_is_help=True)
device_app = typer.Typer(
    help="Department computers (clause B) and personally owned devices (clause C).", no_args_is_help=True
)
account_app = typer.Typer(help="The department's official social media accounts.", no_args_is_help=True)

RolesOption = Annotated[
    str | None,
    typer.Option(help="Comma-separated roles: officer, pio, reviewer, commissioner, it_admin, auditor."),
]


@member_app.command("add")
def member_add(
    service_number: Annotated[str, typer.Argument(metavar="SERVICE_NO")],
    name: Annotated[str, typer.Option(help="Full name.")],
    rank: Annotated[str, typer.Option(help="Rank, e.g. Sergeant.")] = "",
    unit: Annotated[str, typer.Option(help="Unit, e.g. Public Information Office.")] = "",
    roles: RolesOption = "officer",
    actor: ActorOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a member (needs it_admin).

    Example: postguard member add 4711 --name "Jo Bloggs" --rank Sergeant --roles pio --actor 1001
    """
    with translate_errors():
        opened = open_registry(database)
        member = opened.registry.add_member(
            opened.actor(actor),
            service_number=service_number,
            name=name,
            rank=rank,
            unit=unit,
            roles=roles or "officer",
        )
    emit(member_dict(member), as_json, title=f"member {service_number} added")


@member_app.command("list")
def member_list(
    include_inactive: Annotated[bool, typer.Option("--all", help="Include inactive members.")] = False,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the members."""
    with translate_errors():
        opened = open_registry(database)
        rows = opened.registry.read(
            lambda s: [member_dict(m) for m in s.scalars(select(Member).order_by(Member.service_number))]
        )
    emit([r for r in rows if include_inactive or r["active"]], as_json, title="members")


@member_app.command("show")
def member_show(
    service_number: Annotated[str, typer.Argument(metavar="SERVICE_NO")],
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one member."""
    with translate_errors():
        opened = open_registry(database)
        row = opened.registry.read(lambda s: member_dict(opened.registry.member(s, service_number)))
    emit(row, as_json, title=f"member {service_number}")


@member_app.command("change")
def member_change(
    service_number: Annotated[str, typer.Argument(metavar="SERVICE_NO")],
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    rank: Annotated[str | None, typer.Option(help="New rank.")] = None,
    unit: Annotated[str | None, typer.Option(help="New unit.")] = None,
    roles: RolesOption = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a member's name, rank, unit or roles (needs it_admin)."""
    with translate_errors():
        opened = open_registry(database)
        member = opened.registry.change_member(
            opened.actor(actor), service_number, name=name, rank=rank, unit=unit, roles=roles
        )
    emit(member_dict(member), as_json, title=f"member {service_number} changed")


@member_app.command("revoke")
def member_revoke(
    service_number: Annotated[str, typer.Argument(metavar="SERVICE_NO")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Deactivate a member: their records stay, they can no longer act (needs it_admin)."""
    with translate_errors():
        opened = open_registry(database)
        opened.registry.change_member(opened.actor(actor), service_number, active=False)
    out.print(f"Member {service_number} is now inactive.")


@device_app.command("add-computer")
def device_add_computer(
    asset_tag: Annotated[str, typer.Argument(metavar="ASSET_TAG")],
    hostname: Annotated[str, typer.Option(help="Host name.")] = "",
    address: Annotated[list[str] | None, typer.Option("--address", help="IP address (repeatable).")] = None,
    off_network: Annotated[bool, typer.Option("--off-network", help="Not on the Police Network.")] = False,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a department computer (needs it_admin).

    Example: postguard device add-computer PC-0042 --hostname pio-02 --address 10.20.0.42 --actor 1001
    """
    with translate_errors():
        opened = open_registry(database)
        computer = opened.registry.add_computer(
            opened.actor(actor),
            asset_tag=asset_tag,
            hostname=hostname,
            addresses=address or [],
            on_police_network=not off_network,
        )
    emit(computer_dict(computer), as_json, title=f"computer {asset_tag} registered")


@device_app.command("add-personal")
def device_add_personal(
    identifier: Annotated[str, typer.Argument(metavar="IDENTIFIER", help="Serial number, IMEI or MAC.")],
    owner: Annotated[str, typer.Option(help="Owner's service number.")],
    description: Annotated[str, typer.Option(help="What the device is, e.g. 'iPhone 15, black'.")] = "",
    actor: ActorOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a personally owned device (needs it_admin); using it needs a permission (clause C)."""
    with translate_errors():
        opened = open_registry(database)
        device = opened.registry.add_device(
            opened.actor(actor), identifier=identifier, owner=owner, description=description
        )
    emit(device_dict(device), as_json, title=f"device {identifier} registered")


@device_app.command("list")
def device_list(
    kind: Annotated[str, typer.Option(help="computer, personal or all.")] = "all",
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List department computers and personally owned devices."""
    with translate_errors():
        opened = open_registry(database)
        rows = opened.registry.read(
            lambda s: (
                (
                    [
                        {"kind": "computer", **computer_dict(c)}
                        for c in s.scalars(select(Computer).order_by(Computer.asset_tag))
                    ]
                    if kind in ("all", "computer")
                    else []
                )
                + (
                    [{"kind": "personal", **device_dict(d)} for d in s.scalars(select(PersonalDevice))]
                    if kind in ("all", "personal")
                    else []
                )
            )
        )
    emit(
        rows,
        as_json,
        title="devices",
        columns=[
            "kind",
            "asset_tag",
            "identifier",
            "hostname",
            "addresses",
            "owner",
            "description",
            "active",
        ],
    )


@device_app.command("show")
def device_show(
    ident: Annotated[str, typer.Argument(metavar="ASSET_TAG|IDENTIFIER")],
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one computer (by asset tag) or personal device (by identifier)."""
    from postguard.errors import NotFoundError

    with translate_errors():
        opened = open_registry(database)
        reg = opened.registry

        def find(session: Session) -> dict[str, object]:
            computer = session.scalar(select(Computer).where(Computer.asset_tag == ident))
            if computer is not None:
                return {"kind": "computer", **computer_dict(computer)}
            device = session.scalar(select(PersonalDevice).where(PersonalDevice.identifier == ident))
            if device is not None:
                return {"kind": "personal", **device_dict(device)}
            raise NotFoundError(f"No computer or personal device is registered as '{ident}'.")

        row = reg.read(find)
    emit(row, as_json, title=f"device {ident}")


@device_app.command("change")
def device_change(
    ident: Annotated[str, typer.Argument(metavar="ASSET_TAG|IDENTIFIER")],
    hostname: Annotated[str | None, typer.Option(help="New host name (computers).")] = None,
    address: Annotated[
        list[str] | None, typer.Option("--address", help="Replace the addresses (computers).")
    ] = None,
    description: Annotated[str | None, typer.Option(help="New description (personal devices).")] = None,
    owner: Annotated[str | None, typer.Option(help="New owner's service number (personal devices).")] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a computer or a personal device (needs it_admin)."""
    with translate_errors():
        opened = open_registry(database)
        if hostname is not None or address:
            row = computer_dict(
                opened.registry.change_computer(
                    opened.actor(actor), ident, hostname=hostname, addresses=address or None
                )
            )
        else:
            row = device_dict(
                opened.registry.change_device(
                    opened.actor(actor), ident, description=description, owner=owner
                )
            )
    emit(row, as_json, title=f"device {ident} changed")


@device_app.command("revoke")
def device_revoke(
    ident: Annotated[str, typer.Argument(metavar="ASSET_TAG|IDENTIFIER")],
    personal: Annotated[bool, typer.Option("--personal", help="IDENT is a personal device.")] = False,
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Retire a computer or (with --personal) a personal device (needs it_admin)."""
    with translate_errors():
        opened = open_registry(database)
        if personal:
            opened.registry.change_device(opened.actor(actor), ident, active=False)
        else:
            opened.registry.change_computer(opened.actor(actor), ident, active=False)
    out.print(f"{'Device' if personal else 'Computer'} {ident} is retired.")


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
        rows = opened.registry.read(lambda s: [account_dict(a) for a in s.scalars(select(OfficialAccount))])
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


@member_app.command("set-password")
def member_set_password(
    service_number: Annotated[str, typer.Argument(metavar="SERVICE_NO")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Set a member's sign-in password (it_admin, or the member themself).

    The password comes from POSTGUARD_NEW_PASSWORD or a hidden prompt (asked twice).
    """
    import os
    import sys

    from postguard.cli.common import fail
    from postguard.registry.signin import set_password

    password = os.environ.get("POSTGUARD_NEW_PASSWORD", "")
    if not password:
        if not sys.stdin.isatty():
            fail("set POSTGUARD_NEW_PASSWORD or run this on a terminal.")
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with translate_errors():
        opened = open_registry(database)
        set_password(opened.registry, opened.actor(actor), member=service_number, password=password)
    out.print(f"Password set for {service_number}.")
