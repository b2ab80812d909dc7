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


@app.command("acknowledge")
def acknowledge(
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            metavar="SERVICE_NO",
            help="The member acknowledging (themselves). Env: POSTGUARD_ACTOR.",
        ),
    ] = None,
    answers: Annotated[
        list[str] | None,
        typer.Option(
            "--answer",
            metavar="QUESTION=CLAUSE",
            help="A quiz answer (repeat it); without any, the questions are asked at the terminal.",
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option("--database", metavar="URL", help="Database URL. Env: POSTGUARD_DATABASE_URL."),
    ] = None,
) -> None:
    """Acknowledge the policy in force as a member, answering its quiz when it has one.

    Read it first with `postguard policy show`. Any change to the pack asks again.
    """
    import sys

    from postguard.cli.common import fail
    from postguard.cli.records import open_registry
    from postguard.factory import build_pack
    from postguard.registry.acknowledgements import Acknowledgements

    with translate_errors():
        opened = open_registry(database)
        pack = build_pack(opened.settings)
        member = opened.actor(actor)
        if not member:
            fail("say who acknowledges the policy: --actor SERVICE_NO (or POSTGUARD_ACTOR).")
        acks = Acknowledgements(opened.registry, pack)
        out.print(f"The policy in force: [bold]{escape(pack.version)}[/], SHA-256 {pack.sha256}")
        given: dict[str, str] = {}
        for item in answers or []:
            question, sep, clause = item.partition("=")
            if not sep:
                fail(f"--answer takes QUESTION=CLAUSE, not '{item}'.")
            given[question.strip()] = clause.strip()
        questions = acks.quiz(member)
        if questions and not given:
            if not sys.stdin.isatty():
                fail("the policy asks a quiz: answer it at a terminal, or give --answer QUESTION=CLAUSE.")
            for n, q in enumerate(questions, 1):
                out.print(f"\n[bold]Question {n}[/]: does this violate the policy, and if so which clause?")
                out.print(f"  “{escape(q.example)}”")
                for k, option in enumerate(q.options, 1):
                    out.print(f"  {k}. {escape(option.label)}")
                pick = str(typer.prompt("Your answer (number)")).strip()
                while not (pick.isdigit() and 1 <= int(pick) <= len(q.options)):
                    pick = str(typer.prompt(f"A number from 1 to {len(q.options)}")).strip()
                given[q.id] = q.options[int(pick) - 1].value
        row = acks.acknowledge(member, sha256=pack.sha256, answers=given)
    when = f"{row.at:%Y-%m-%d %H:%M} UTC"
    out.print(f"[green]{escape(member)} acknowledged {escape(row.pack_version)}[/] on {when}.")
