"""``postguard sites``, ``postguard access`` and ``postguard squid-helper``."""

from __future__ import annotations

import sys
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from postguard.cli.common import PolicyOption, err, fail, load_policy, out, plain, translate_errors
from postguard.cli.records import ActorOption, DatabaseOption, JsonOption, KeysDirOption, emit, open_registry

sites_app = typer.Typer(
    help="The site catalogue: which sites are social media, by the policy's categories.", no_args_is_help=True
)
access_app = typer.Typer(help="Clause B and C access decisions, and reports for IT.", no_args_is_help=True)


@sites_app.command("lookup")
def sites_lookup(
    url: Annotated[str, typer.Argument(metavar="URL|HOST")],
    policy: PolicyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Say whether a URL or host is social media, and in which category.

    Exit status: 0 when the catalogue names it as social media (the policy applies
    to it), 1 when it does not (outside the catalogue, or a bare IP address the
    catalogue cannot name), 2 when no host can be read from it, 3 when the policy
    pack cannot be loaded. So 'if postguard sites lookup URL; then ...' reads as
    "if it is social media".

    Examples:

      postguard sites lookup https://video.xx.fbcdn.net/v/1.mp4

      postguard sites lookup www.gov.uk --json
    """
    from postguard.access.catalogue import Catalogue, parse_destination

    with translate_errors():
        catalogue = Catalogue(load_policy(policy))
    dest = parse_destination(url)
    if dest is None:
        fail(f"'{url[:200]}' has no host that can be read.")
    match = catalogue.lookup(dest)
    row = {
        "host": dest.host,
        "ip": dest.ip,
        "social_media": match is not None,
        "site": match.site if match else None,
        "category": match.category if match else None,
    }
    if as_json:
        emit(row, True)
    elif match:
        out.print(
            plain(
                f"{dest.host}: social media, category {match.category} "
                f"({match.category_name}), as {match.site}"
            )
        )
    elif dest.ip:
        out.print(plain(f"{dest.host}: an IP address; the catalogue cannot name it (policy: raw_ip)"))
    else:
        out.print(plain(f"{dest.host}: not in the catalogue, so outside the policy"))
    raise typer.Exit(0 if match else 1)


@sites_app.command("list")
def sites_list(
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    policy: PolicyOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the catalogue's sites by category."""
    from postguard.access.catalogue import Catalogue

    with translate_errors():
        catalogue = Catalogue(load_policy(policy))
    rows = [
        {"site": m.site, "category": m.category} for m in catalogue.sites() if category in (None, m.category)
    ]
    emit(rows, as_json, title="social media sites")


@access_app.command("decide")
def access_decide(
    destination: Annotated[str, typer.Argument(metavar="URL|HOST")],
    member: Annotated[str, typer.Option(help="Service number of the member asking.")],
    computer: Annotated[str | None, typer.Option(help="Asset tag of the department computer.")] = None,
    address: Annotated[str | None, typer.Option(help="Or: the computer's IP address.")] = None,
    device: Annotated[
        str | None, typer.Option(help="Or: the personally owned device's identifier (clause C).")
    ] = None,
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
    policy: PolicyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decide whether MEMBER may reach URL from a computer or device; the decision is audited.

    Exit status 0 allowed, 1 refused. Example:
    postguard access decide --member 3003 --computer PC-0042 https://x.com/police
    """
    from postguard.access.decide import AccessRequest
    from postguard.access.point import AccessPoint

    if sum(v is not None for v in (computer, address, device)) != 1:
        fail("give one of --computer ASSET_TAG, --address IP or --device IDENTIFIER.")
    with translate_errors():
        opened = open_registry(database, keys_dir)
        point = AccessPoint(opened.db, load_policy(policy), opened.settings.keys_dir, via="cli")
        try:
            decision = point.decide(
                AccessRequest(destination, member=member, computer=computer, address=address, device=device)
            )
        finally:
            point.close()
    row = {
        "allowed": decision.allowed,
        "clause": decision.clause or None,
        "reason": decision.reason,
        "grant": decision.grant,
        "site": decision.site,
        "category": decision.category,
    }
    if as_json:
        emit(row, True)
    else:
        verdict = ("ALLOWED", "green") if decision.allowed else ("REFUSED", "bold red")
        clause = f" (clause {decision.clause})" if decision.clause else ""
        out.print(Text.assemble(verdict, plain(f"{clause}: {decision.reason}.")))
    raise typer.Exit(0 if decision.allowed else 1)


@access_app.command("report")
def access_report(
    since: Annotated[str | None, typer.Option(help="Only decisions at or after this date/time.")] = None,
    denied_only: Annotated[bool, typer.Option("--denied", help="Only refused requests.")] = False,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Social media requests, allowed and refused, by member, computer (or device) and site."""
    from postguard.audit.queries import entries
    from postguard.registry.values import parse_when

    with translate_errors():
        opened = open_registry(database)
        when = parse_when(since, "--since")
        counts: Counter[tuple[str, str, str, str, str]] = Counter()
        with opened.db.reading() as session:
            for entry in entries(session, since=when, action="access.decide"):
                d = entry["detail"]
                if denied_only and d.get("allowed"):
                    continue
                counts[
                    (
                        entry["actor"],
                        d.get("computer") or d.get("device") or d.get("address") or "-",
                        d.get("site") or d.get("host") or "-",
                        entry["clause"] or "-",
                        "allowed" if d.get("allowed") else "refused",
                    )
                ] += 1
    rows = [
        {"member": k[0], "computer": k[1], "site": k[2], "clause": k[3], "outcome": k[4], "requests": n}
        for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    emit(rows, as_json, title="social media requests")


def squid_helper_command(
    ttl: Annotated[
        float | None, typer.Option(help="Cache and refresh time in seconds [default: the pack's].")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Decide every request afresh.")] = False,
    print_config: Annotated[
        bool, typer.Option("--print-config", help="Print the squid.conf lines and exit.")
    ] = False,
    database: DatabaseOption = None,
    keys_dir: KeysDirOption = None,
    policy: PolicyOption = None,
    actor: ActorOption = None,
) -> None:
    """Answer Squid's external ACL requests (%LOGIN %SRC %DST, with concurrency) on stdin/stdout.

    Every decision about social media is audited (a decision the database cannot take yet
    waits in POSTGUARD_AUDIT_SPOOL). Without its database the helper still answers, and
    refuses every request (fails closed), saying why on stderr. See --print-config for
    squid.conf.
    """
    import contextlib
    import logging

    from postguard.access.point import AccessPoint
    from postguard.access.squid import serve, serve_refusals
    from postguard.errors import PostguardError

    if print_config:
        typer.echo(squid_config())
        return
    try:
        opened = open_registry(database, keys_dir)
        point = AccessPoint(
            opened.db,
            load_policy(policy),
            opened.settings.keys_dir,
            ttl=ttl,
            cache=not no_cache,
            via="squid",
            spool=opened.settings.audit_spool,
            witness=opened.registry.witness,
        )
    except (PostguardError, typer.Exit) as exc:
        reason = str(exc) or "the registry cannot be opened"
        logging.getLogger("postguard.squid").error("refusing every request: %s", reason)
        err.print(plain(f"postguard squid-helper: refusing every request: {reason}"))
        with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
            serve_refusals("the registry cannot be read", sys.stdin.buffer, sys.stdout.buffer)
        raise typer.Exit(1) from None
    err.print(f"postguard squid-helper ready (cache {'off' if no_cache else f'{point.ttl:g} s'})")
    try:
        serve(point, sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        point.close()


def error_page_dir() -> Path:
    return Path(str(resources.files("postguard.access") / "errors"))


SQUID_TEMPLATES = Path("/usr/share/squid/errors/templates")


def squid_errors_command(
    into: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write (Squid's error_directory).")],
    templates: Annotated[
        Path, typer.Option(help="Squid's own error templates, copied beside ours.")
    ] = SQUID_TEMPLATES,
) -> None:
    """Write a Squid error_directory: Squid's own pages plus ERR_POSTGUARD_DENIED (names the clause).

    Example: postguard squid-errors /etc/squid/postguard-errors
    """
    import shutil

    into.mkdir(parents=True, exist_ok=True)
    copied = 0
    if templates.is_dir():
        for page in templates.iterdir():
            if page.is_file():
                shutil.copyfile(page, into / page.name)
                copied += 1
    else:
        err.print(f"warning: no Squid templates at {templates}; only postguard's page is written")
    shutil.copyfile(error_page_dir() / "ERR_POSTGUARD_DENIED", into / "ERR_POSTGUARD_DENIED")
    out.print(f"Wrote {into}/ ({copied} Squid pages and ERR_POSTGUARD_DENIED).")


def squid_config() -> str:
    return f"""# postguard: clause B at the proxy (Squid 4 or later)
auth_param basic program /usr/lib/squid/basic_ncsa_auth /etc/squid/passwords
acl authenticated proxy_auth REQUIRED
external_acl_type postguard ttl=30 negative_ttl=30 concurrency=100 children-max=2 \\
    %LOGIN %SRC %DST {Path(sys.argv[0]).resolve()} squid-helper
acl social_media_ok external postguard
# error pages: run 'postguard squid-errors /etc/squid/postguard-errors' once
error_directory /etc/squid/postguard-errors
deny_info 403:ERR_POSTGUARD_DENIED social_media_ok
http_access deny !authenticated
http_access deny !social_media_ok
logformat postguard %ts.%03tu %>a %un %rm %ru %>Hs %ea
access_log daemon:/var/log/squid/access.log postguard"""
