"""``postguard member``: members of the department, their roles and passwords."""

from __future__ import annotations

from typing import Annotated

import typer

from postguard.cli.common import out, translate_errors
from postguard.cli.records import ActorOption, DatabaseOption, JsonOption, emit, open_registry
from postguard.registry.service import member_dict

__all__ = ["member_app"]

member_app = typer.Typer(help="Members of the department and their roles.", no_args_is_help=True)

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
    unacknowledged: Annotated[
        bool,
        typer.Option(
            "--unacknowledged", help="Only active members who have not acknowledged the policy in force."
        ),
    ] = False,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the members (or, with --unacknowledged, those who have yet to acknowledge the policy)."""
    if unacknowledged:
        _member_list_unacknowledged(database, as_json)
        return
    with translate_errors():
        opened = open_registry(database)
        rows = opened.registry.members(active_only=not include_inactive)
    emit(rows, as_json, title="members")


def _member_list_unacknowledged(database: str | None, as_json: bool) -> None:
    from postguard.factory import build_pack
    from postguard.registry.acknowledgements import Acknowledgements

    with translate_errors():
        opened = open_registry(database)
        pack = build_pack(opened.settings)
        rows = Acknowledgements(opened.registry, pack).unacknowledged()
    if as_json:
        emit(rows, True)
        return
    out.print(f"The policy in force: {pack.version}, SHA-256 {pack.sha256}")
    table = [
        {
            **{k: v for k, v in row.items() if k != "last_acknowledged"},
            "last acknowledged": (
                f"{row['last_acknowledged']['version']} on {row['last_acknowledged']['at'][:10]}"
                if row["last_acknowledged"]
                else "never"
            ),
        }
        for row in rows
    ]
    emit(table, False, title="members who have not acknowledged it")


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


@member_app.command("grant")
def member_grant(
    service_number: Annotated[str, typer.Argument(metavar="SERVICE_NO")],
    roles: Annotated[str, typer.Option(help="Comma-separated roles to add, e.g. reviewer.")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give a member more roles. The Commissioner grants the privileged ones (reviewer,
    commissioner, as the pack says); nobody grants roles to themself.

    Example: postguard member grant 4004 --roles reviewer --actor 2002
    """
    with translate_errors():
        opened = open_registry(database)
        member = opened.registry.grant_roles(opened.actor(actor), service_number, roles)
    emit(member_dict(member), as_json, title=f"member {service_number}: roles granted")


@member_app.command("request")
def member_request(
    service_number: Annotated[str, typer.Argument(metavar="SERVICE_NO")],
    roles: Annotated[str, typer.Option(help="Comma-separated privileged roles to ask for, e.g. reviewer.")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Ask for privileged roles for a member, where the pack says two it_admins grant them
    (governance: grant_by: two-it-admins). Another it_admin decides the request.

    Example: postguard member request 4004 --roles reviewer --actor 1001
    """
    with translate_errors():
        opened = open_registry(database)
        row = opened.registry.request_roles(opened.actor(actor), service_number, roles)
        code = row.code
    out.print(f"Role request {code} for {service_number} is waiting for a second it_admin:")
    out.print(f"  postguard member decide {code} --grant --actor SERVICE_NO")


@member_app.command("decide")
def member_decide(
    request: Annotated[str, typer.Argument(metavar="REQUEST_ID", help="The request's id (RR-00001).")],
    grant: Annotated[bool, typer.Option("--grant/--refuse", help="Grant the roles, or refuse them.")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Grant or refuse another it_admin's role request (never one's own, nor one for oneself)."""
    with translate_errors():
        opened = open_registry(database)
        row = opened.registry.decide_role_request(opened.actor(actor), request, grant=grant)
        state = row.state
    out.print(f"Role request {request}: {state}.")


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
