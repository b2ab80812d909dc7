"""``postguard device``: department computers (clause B) and personally owned devices (clause C)."""

from __future__ import annotations

from typing import Annotated

import typer

from postguard.cli.common import out, translate_errors
from postguard.cli.records import ActorOption, DatabaseOption, JsonOption, emit, open_registry
from postguard.registry.service import computer_dict, device_dict

__all__ = ["device_app"]

device_app = typer.Typer(
    help="Department computers (clause B) and personally owned devices (clause C).", no_args_is_help=True
)


@device_app.command("add-computer")
def device_add_computer(
    asset_tag: Annotated[str, typer.Argument(metavar="ASSET_TAG")],
    hostname: Annotated[str, typer.Option(help="Host name.")] = "",
    address: Annotated[
        list[str] | None,
        typer.Option("--address", help="IP address or CIDR range, e.g. 10.20.0.0/24 (repeatable)."),
    ] = None,
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
        reg = opened.registry
        computers = reg.computers() if kind in ("all", "computer") else []
        personal = reg.devices() if kind in ("all", "personal") else []
        rows = [{"kind": "computer", **c} for c in computers] + [{"kind": "personal", **d} for d in personal]
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
    with translate_errors():
        row = open_registry(database).registry.equipment(ident)
    emit(row, as_json, title=f"device {ident}")


@device_app.command("change")
def device_change(
    ident: Annotated[str, typer.Argument(metavar="ASSET_TAG|IDENTIFIER")],
    hostname: Annotated[str | None, typer.Option(help="New host name (computers).")] = None,
    address: Annotated[
        list[str] | None,
        typer.Option("--address", help="Replace the addresses: IPs or CIDR ranges (computers)."),
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
