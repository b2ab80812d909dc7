"""``postguard authorise`` (clause B) and ``postguard permit`` (clauses A.iii and C)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from postguard.cli.common import fail, out, plain, settings_with, translate_errors
from postguard.cli.records import (
    ActorOption,
    DatabaseOption,
    JsonOption,
    KeysDirOption,
    emit,
    open_registry,
    signing_key,
)
from postguard.registry.grants import authorisation_dict, permission_dict

authorise_app = typer.Typer(
    help="Clause B: authorisations for department computers to reach social media.", no_args_is_help=True
)
permit_app = typer.Typer(
    help="The Commissioner's written permissions: signed, scoped, expiring, revocable.", no_args_is_help=True
)

FromOption = Annotated[
    str | None,
    typer.Option(
        "--from", help="Start, YYYY-MM-DD[THH:MM] (a date alone: 00:00 UTC that day; default: now)."
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option(
        "--until",
        help="End, YYYY-MM-DD[THH:MM] (no zone means UTC); a date alone means through the end of that "
        "day, 23:59:59.999999 UTC (default: until revoked).",
    ),
]


@authorise_app.command("add")
def authorise_add(
    member: Annotated[
        str | None, typer.Option(help="Service number of the member (or --all-members).")
    ] = None,
    all_members: Annotated[bool, typer.Option("--all-members", help="Every member.")] = False,
    computer: Annotated[
        str | None, typer.Option(help="Asset tag of the computer (or --all-computers).")
    ] = None,
    all_computers: Annotated[
        bool, typer.Option("--all-computers", help="Every department computer.")
    ] = False,
    site: Annotated[str | None, typer.Option(help="A site's domain, e.g. facebook.com.")] = None,
    category: Annotated[str | None, typer.Option(help="A category, e.g. micro-blogging.")] = None,
    all_sites: Annotated[bool, typer.Option("--all-sites", help="All social media.")] = False,
    valid_from: FromOption = None,
    valid_until: UntilOption = None,
    reason: Annotated[str, typer.Option(help="Why the access is needed.")] = "",
    actor: ActorOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Authorise access to social media from department computers (it_admin or commissioner).

    Example: postguard authorise add --member 4711 --computer PC-0042 --category micro-blogging
    --until 2027-06-30 --reason "press office duty" --actor 1001
    """
    if (member is not None) == all_members:
        fail("give either --member SERVICE_NO or --all-members.")
    if (computer is not None) == all_computers:
        fail("give either --computer ASSET_TAG or --all-computers.")
    scopes = [("site", site), ("category", category), ("all", "" if all_sites else None)]
    chosen = [(k, v) for k, v in scopes if v is not None]
    if len(chosen) != 1:
        fail("give exactly one of --site DOMAIN, --category ID or --all-sites.")
    with translate_errors():
        opened = open_registry(database)
        row = opened.grants.authorise(
            opened.actor(actor),
            member=member,
            computer=computer,
            scope=chosen[0][0],
            target=chosen[0][1] or "",
            valid_from=valid_from,
            valid_until=valid_until,
            reason=reason,
        )
    emit(authorisation_dict(row), as_json, title=f"authorisation {row.code}")


@authorise_app.command("list")
def authorise_list(database: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """List the authorisations, revoked ones included."""
    with translate_errors():
        rows = open_registry(database).grants.list_authorisations()
    emit(
        rows,
        as_json,
        title="authorisations",
        columns=["id", "member", "computer", "scope", "target", "valid_from", "valid_until", "revoked_at"],
    )


@authorise_app.command("show")
def authorise_show(
    code: Annotated[str, typer.Argument(metavar="ID")],
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one authorisation."""
    with translate_errors():
        row = open_registry(database).grants.get_authorisation(code)
    emit(row, as_json, title=f"authorisation {code}")


@authorise_app.command("change")
def authorise_change(
    code: Annotated[str, typer.Argument(metavar="ID")],
    valid_until: UntilOption = None,
    reason: Annotated[str | None, typer.Option(help="New reason.")] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change an authorisation's end or reason."""
    with translate_errors():
        opened = open_registry(database)
        row = opened.grants.change_authorisation(
            opened.actor(actor), code, valid_until=valid_until, reason=reason
        )
    emit(authorisation_dict(row), as_json, title=f"authorisation {code} changed")


@authorise_app.command("revoke")
def authorise_revoke(
    code: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="Why it is revoked.")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Revoke an authorisation at once."""
    with translate_errors():
        opened = open_registry(database)
        opened.grants.revoke_authorisation(opened.actor(actor), code, reason)
    out.print(f"Authorisation {code} is revoked.")


@permit_app.command("add")
def permit_add(
    kind: Annotated[str, typer.Option(help="personal-device (clause C) or confidential-release (A.iii).")],
    reason: Annotated[str, typer.Option(help="Why the permission is given.")],
    text: Annotated[str, typer.Option(help="The permission's words, as the Commissioner gives them.")],
    member: Annotated[str | None, typer.Option(help="Service number of the member it covers.")] = None,
    device: Annotated[str | None, typer.Option(help="Identifier of the personal device it covers.")] = None,
    post: Annotated[
        str,
        typer.Option(
            help="The post a confidential release covers: a draft id (D-00012), or sha256: and the "
            "SHA-256 of its text and attachments (postguard check --json --trace prints it).",
        ),
    ] = "",
    valid_from: FromOption = None,
    valid_until: UntilOption = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a written permission, signed with the commissioner key (commissioner only).

    The key's passphrase comes from POSTGUARD_COMMISSIONER_PASSPHRASE or a prompt.
    """
    with translate_errors():
        opened = open_registry(database, keys_dir)
        key = signing_key(opened, "commissioner")
        row = opened.grants.permit(
            opened.actor(actor),
            key,
            kind=kind,
            member=member,
            device=device,
            post=post,
            valid_from=valid_from,
            valid_until=valid_until,
            reason=reason,
            text_=text,
        )
    emit(permission_dict(row), as_json, title=f"permission {row.code} issued")


@permit_app.command("list")
def permit_list(
    database: DatabaseOption = None, keys_dir: KeysDirOption = None, as_json: JsonOption = False
) -> None:
    """List the written permissions, each with whether it is honoured now."""
    with translate_errors():
        opened = open_registry(database, keys_dir)
        rows = opened.grants.list_permissions()
        for row in rows:
            verdict = opened.grants.honoured(row["id"])
            row["honoured"], row["why"] = verdict.valid, verdict.reason
    emit(
        rows,
        as_json,
        title="written permissions",
        columns=["id", "kind", "member", "device", "post", "valid_until", "honoured", "why"],
    )


@permit_app.command("show")
def permit_show(
    code: Annotated[str, typer.Argument(metavar="ID")],
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one permission and whether it is honoured now, and why (not)."""
    with translate_errors():
        opened = open_registry(database, keys_dir)
        _, row = opened.grants.get_permission(code)
        verdict = opened.grants.honoured(code)
    emit({**row, "honoured": verdict.valid, "why": verdict.reason}, as_json, title=f"permission {code}")


@permit_app.command("change")
def permit_change(
    code: Annotated[str, typer.Argument(metavar="ID")],
    valid_until: UntilOption = None,
    reason: Annotated[str | None, typer.Option(help="New reason.")] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change a permission's end or reason; it is signed anew (commissioner only)."""
    with translate_errors():
        opened = open_registry(database, keys_dir)
        key = signing_key(opened, "commissioner")
        row = opened.grants.change_permission(
            opened.actor(actor), key, code, valid_until=valid_until, reason=reason
        )
    emit(permission_dict(row), as_json, title=f"permission {code} changed")


@permit_app.command("revoke")
def permit_revoke(
    code: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="Why it is revoked.")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Revoke a permission at once (commissioner only)."""
    with translate_errors():
        opened = open_registry(database)
        opened.grants.revoke_permission(opened.actor(actor), code, reason)
    out.print(f"Permission {code} is revoked.")


@permit_app.command("export")
def permit_export(
    code: Annotated[str, typer.Argument(metavar="ID")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Signed JSON document (default ID.json).")
    ] = None,
    html: Annotated[Path | None, typer.Option(help="Also write a printable HTML copy here.")] = None,
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
) -> None:
    """Write the signed permission document, which 'permit verify' checks offline."""
    from postguard.factory import build_pack
    from postguard.keys import load_public
    from postguard.registry.documents import export_document, render_html, write_document

    with translate_errors():
        opened = open_registry(database, keys_dir)
        row, _ = opened.grants.get_permission(code)
        document = export_document(row, load_public(opened.settings.keys_dir, "commissioner"))
        target = output or Path(f"{code}.json")
        write_document(target, document)
        out.print(f"Wrote {target}.")
        if html is not None:
            pack = build_pack(opened.settings)
            html.write_text(
                render_html(document, pack.policy.authority, pack.policy.department), encoding="utf-8"
            )
            out.print(f"Wrote {html} (printable).")


@permit_app.command("verify")
def permit_verify(
    document: Annotated[Path, typer.Argument(metavar="FILE", help="A document from 'permit export'.")],
    public_key: Annotated[
        Path | None, typer.Option(help="The commissioner's public key (default keys/commissioner.pub).")
    ] = None,
    keys_dir: KeysDirOption = None,
) -> None:
    """Check a signed permission offline with only the public key (exit 0 genuine and in force)."""
    from postguard.keys import PublicKey, load_public
    from postguard.registry.documents import verify_document

    with translate_errors():
        if public_key is not None:
            if not public_key.is_file():
                fail(f"no public key file at '{public_key}'.")
            trusted = PublicKey.from_pem(public_key.read_bytes(), str(public_key))
        else:
            trusted = load_public(settings_with(keys_dir=keys_dir).keys_dir, "commissioner")
        if not document.is_file():
            fail(f"no document at '{document}'.")
        check = verify_document(document.read_bytes(), trusted)
    payload = check.payload
    out.print(plain(f"{payload.get('code')}: {'VALID' if check.valid else 'NOT VALID'}: {check.reason}."))
    raise typer.Exit(0 if check.valid else 1)
