"""``postguard eval``: measure the checker on labelled posts, as a reviewer needs to see it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from postguard.checks.evaluate import Evaluation, evaluate
from postguard.cli.common import ModelOption, PolicyOption, err, fail, load_checker, out, translate_errors
from postguard.cli.model import RealPostsOption, read_sources

__all__ = ["eval_command"]


def _clause_table(title: str, result: Evaluation) -> Table:
    table = Table(title=title)
    for column in ("clause", "support", "precision", "recall", "F1"):
        table.add_column(column, justify="right" if column != "clause" else "left")
    for score in result.scores.values():
        table.add_row(
            score.clause,
            str(score.support),
            f"{score.precision:.3f}",
            f"{score.recall:.3f}",
            f"{score.f1:.3f}",
        )
    return table


def _summary(result: Evaluation) -> str:
    return (
        f"macro-F1 (clauses present): [bold]{result.macro_f1:.3f}[/]; clean posts flagged: "
        f"[bold]{result.clean_fp_rate:.1%}[/] ({result.clean_flagged} of {result.clean_posts})"
    )


def _print(result: Evaluation, name: str, shown: int, by_source: bool) -> None:
    out.print(_clause_table(f"{name}: {result.posts} posts", result))
    out.print(_summary(result))
    if result.confusion:
        confusion = Table(title="what was found for each labelled clause (the clause itself when found)")
        confusion.add_column("labelled")
        confusion.add_column("found")
        for clause, row in result.confusion.items():
            confusion.add_row(clause, ", ".join(f"{k} {v}" for k, v in row.most_common()))
        out.print(confusion)
    if result.patterns:
        by_pattern = Table(title="patterns: posts they fired on, precision, share of the clause's posts")
        # The figures never shrink to "1.…" in a narrow terminal: a long pattern id folds instead.
        by_pattern.add_column("pattern", overflow="fold")
        by_pattern.add_column("clause", no_wrap=True)
        for column in ("fired", "precision", "recall"):
            by_pattern.add_column(column, justify="right", no_wrap=True, min_width=len(column))
        for p in result.patterns.values():
            by_pattern.add_row(p.pattern, p.clause, str(p.fired), f"{p.precision:.3f}", f"{p.recall:.3f}")
        out.print(by_pattern)
    if by_source and result.by_source:
        for source, part in sorted(result.by_source.items()):
            out.print(_clause_table(f"{source}: {part.posts} posts", part))
            out.print(_summary(part))
    if shown and result.false_positives:
        listed = min(shown, len(result.false_positives))
        out.print(f"\n[bold]Worst false positives[/] (highest scores first; {listed}):")
        for w in result.false_positives[:shown]:
            out.print(
                f'  {escape(w.id)} {w.clause} {w.score:.2f} "{escape(w.evidence[:100])}"  ({escape(w.how)})'
            )
    if shown and result.missed:
        out.print(f"\n[bold]Misses[/] ({min(shown, len(result.missed))} shown, with the labelled evidence):")
        for w in result.missed[:shown]:
            out.print(f'  {escape(w.id)} {w.clause} "{escape(w.evidence[:120])}"')
    if result.unreadable:
        out.print(f"[yellow]{result.unreadable} line(s) could not be read and were skipped.[/]")


def _eval_media(
    paths: list[Path], media_root: Path, policy: Path | None, model: Path | None, as_json: bool
) -> None:
    """``postguard eval FILE --media-root DIR``: the media figures (see :mod:`postguard.media.evaluate`)."""
    from postguard.media.evaluate import ensure_files, evaluate_media, read_media_items
    from postguard.media.inspect import load_inspector

    with translate_errors():
        checker = load_checker(policy, model)
        known = [c.id for c in checker.pack.content_clauses]
        items = [item for path in paths for item in read_media_items(path, known)]
        if not items:
            fail("no labelled media cases (lines with a 'media' part) in the files given.")
        media_root.mkdir(parents=True, exist_ok=True)
        made = ensure_files(items, media_root)
        if made:
            err.print(f"{made} media file(s) made under {media_root}.")
        checker = checker.with_media(load_inspector(checker.pack, media_root))
        with Progress(console=err, disable=not err.is_terminal, transient=True) as bar:
            task = bar.add_task("evaluating media", total=len(items))
            result = evaluate_media(checker, items, progress=lambda _n: bar.advance(task))
    figures = result.to_dict()
    if as_json:
        out.print_json(json.dumps(figures))
        return
    table = Table(title=f"media: {result.cases} cases; recall per kind of thing")
    for column in ("kind", "support", "found", "recall"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind, rate in figures["kinds"].items():
        table.add_row(kind, str(rate["support"]), str(rate["found"]), f"{rate['recall']:.3f}")
    out.print(table)
    by_clause = Table(title="clauses on attachments")
    for column in ("clause", "tp", "fp", "fn", "precision", "recall"):
        by_clause.add_column(column, justify="left" if column == "clause" else "right")
    for clause, v in figures["clauses"].items():
        by_clause.add_row(
            clause, *(str(v[k]) for k in ("tp", "fp", "fn")), f"{v['precision']:.3f}", f"{v['recall']:.3f}"
        )
    out.print(by_clause)
    faces, text, clean = (
        figures["face_recall_frontal_40px"],
        figures["text_recall_legible"],
        figures["clean_without_finding"],
    )
    out.print(
        f"face recall (frontal, >= 40 px, by box): [bold]{faces['recall']:.3f}[/] "
        f"({faces['found']} of {faces['support']}); text findings on legible text: "
        f"[bold]{text['recall']:.3f}[/] ({text['found']} of {text['support']}); clean pictures with "
        f"no finding: [bold]{clean['rate']:.1%}[/] ({clean['passed']} of {clean['clean']}); seconds per "
        f"case p50 {figures['seconds_p50']:.2f}, max {figures['seconds_max']:.2f}"
    )
    for line in (figures["misses"] + figures["wrong"])[:40]:
        out.print(f"  {escape(line)}")


def eval_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Labelled JSON Lines: id, text (or, with --real-posts, an id to look up), labels, "
            "optional evidence or spans and context.",
            dir_okay=False,
            metavar="FILE...",
        ),
    ],
    real_posts: RealPostsOption = None,
    split: Annotated[str, typer.Option(help="Which annotations to measure on: test, train or all.")] = "all",
    by_source: Annotated[bool, typer.Option("--by-source", help="The figures per source file too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    show_errors: Annotated[
        int, typer.Option("--errors", help="How many false positives and misses to list.")
    ] = 20,
    policy: PolicyOption = None,
    model: ModelOption = None,
    media_root: Annotated[
        Path | None,
        typer.Option(
            "--media-root",
            help="Score labelled media cases (lines with a 'media' part; their context.attachments "
            "are paths under this folder; files the set can draw are made there when missing).",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Measure the checker on labelled posts: per clause precision, recall, F1 and support;
    macro-F1; the share of clean posts flagged; the confusion between clauses; precision
    and recall per pattern id; the worst false positives and the misses, with evidence.

    Examples:

      postguard eval ../shared/eval/dev.jsonl

      postguard eval data/real/annotations.jsonl --real-posts ../shared/real --split test --by-source

      postguard eval data/media/labels.jsonl --media-root /tmp/media-set
    """
    if split not in ("test", "train", "all"):
        fail("--split must be test, train or all.")
    if media_root is not None:
        _eval_media(paths, media_root, policy, model, as_json)
        return
    with translate_errors():
        items, stats = read_sources(None, paths, real_posts, policy, strict=False)
        missing = stats.missing
        if split != "all":
            items = [i for i in items if (i.split or "train") == split]
        if not items:
            fail("no labelled posts to measure (check the files, --split and --real-posts).")
        if missing:
            err.print(
                f"[yellow]{missing} annotation(s) name posts that the folder does not hold; left out.[/]"
            )
        checker = load_checker(policy, model)
        with Progress(console=err, disable=not err.is_terminal, transient=True) as bar:
            task = bar.add_task("evaluating", total=len(items))
            result = evaluate(
                checker, items, progress=lambda _n: bar.advance(task), worst=max(show_errors, 50)
            )
        result.unreadable = stats.unreadable
    if as_json:
        out.print_json(json.dumps(result.to_dict()))
        return
    name = ", ".join(p.name for p in paths)
    _print(result, name, show_errors, by_source)
