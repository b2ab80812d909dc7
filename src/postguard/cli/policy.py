"""``postguard policy``: show or validate the policy in force."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from postguard.cli.common import PolicyOption, load_policy, out, translate_errors

__all__ = ["app"]

app = typer.Typer(help="Show or validate the policy pack in force.", no_args_is_help=True)


@app.command("show")
def show(
    policy: PolicyOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole pack as JSON.")] = False,
) -> None:
    """Print the policy in force: its clauses, what violates each, and the decision rules."""
    with translate_errors():
        pack = load_policy(policy)
    if as_json:
        out.print_json(json.dumps(pack.model_dump(mode="json")))
        return
    info = pack.policy
    out.print(f"[bold]{escape(info.title)}[/] of {escape(info.department)}, dated {info.date:%d %B %Y}")
    out.print(f"Written permissions are granted by the {escape(info.authority)}.\n")
    table = Table(show_lines=True, expand=True)
    table.add_column("id", no_wrap=True)
    for column in ("clause", "violated by", "not violated by"):
        table.add_column(column, overflow="fold")
    table.add_column("on", no_wrap=True)
    for clause in pack.clauses:
        table.add_row(
            clause.id,
            f"[bold]{escape(clause.title)}[/]\n{escape(clause.text)}",
            "\n".join(f"• {escape(v)}" for v in clause.violates),
            "\n".join(f"• {escape(v)}" for v in clause.does_not_violate),
            "yes" if clause.enabled else "[red]off[/]",
        )
    out.print(table)
    out.print("\n[bold]Decisions[/] (first matching rule per finding; the post takes the most severe):")
    for rule in pack.decision_rules:
        match = rule.match
        clauses = ", ".join(match.clauses) or "any clause"
        out.print(
            f"  {rule.applies_to} on {clauses}, score {match.min_score:.2f}-{match.max_score:.2f}"
            f" -> [bold]{rule.decision}[/]  ({escape(rule.name)})"
        )
    sites = sum(len(c.sites) for c in pack.categories)
    out.print(f"\n{len(pack.categories)} social media categories, {sites} sites in the catalogue.")


@app.command("validate")
def validate(
    path: Annotated[Path, typer.Argument(help="The policy pack (YAML) to check.", dir_okay=False)],
) -> None:
    """Check a policy pack and say what is wrong with it (file, place and field)."""
    from postguard.policy import load_pack

    with translate_errors():
        pack = load_pack(path)
    enabled = sum(c.enabled for c in pack.clauses)
    out.print(
        f"[green]'{path}' is a valid policy pack[/]: {len(pack.clauses)} clauses "
        f"({enabled} enabled), authority: {escape(pack.policy.authority)}."
    )
