"""``postguard model`` and ``postguard corpus``: train and inspect the learned model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from postguard.checks.labelled import LabelledPost, ReadStats
from postguard.cli.common import (
    ModelOption,
    PolicyOption,
    err,
    fail,
    load_policy,
    out,
    settings_with,
    translate_errors,
)
from postguard.training import DEFAULT_FP_BUDGET

__all__ = ["corpus_app", "model_app"]

model_app = typer.Typer(help="Train and inspect the learned sentence model.", no_args_is_help=True)
corpus_app = typer.Typer(help="Validate and count the training corpus.", no_args_is_help=True)

CorpusOption = Annotated[
    Path, typer.Option("--corpus", help="Folder of the corpus's *.jsonl files.", file_okay=False)
]


def _corpus_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        fail(f"no *.jsonl files in '{folder}'. Point --corpus at data/corpus.")
    return files


ExtraOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--extra",
        metavar="FILE",
        help="More labelled posts (repeatable): JSON Lines with text (a department's past posts, "
        "'postguard reviews export'), or annotations by id (data/real/annotations.jsonl) with "
        "--real-posts. Lines in the 'test' split are never trained on.",
        dir_okay=False,
    ),
]
RealPostsOption = Annotated[
    Path | None,
    typer.Option(
        "--real-posts",
        metavar="DIR",
        help="Folder of the posts that annotations by id label (JSON Lines with id and text), "
        "e.g. ../shared/real.",
        file_okay=False,
    ),
]


def read_sources(
    corpus: Path | None,
    extra: list[Path],
    real_posts: Path | None,
    policy: Path | None,
    *,
    strict: bool = True,
) -> tuple[list[LabelledPost], ReadStats]:
    """Every labelled post of the corpus folder and the extra files; and how many by-id lines had no post."""
    from postguard.checks.labelled import LabelRules, PostsFolder, read_labelled

    files = _corpus_files(corpus) if corpus is not None else []
    for path in extra:
        if not path.is_file():
            fail(f"cannot read '{path}': no such file.")
    folder = PostsFolder(real_posts) if real_posts is not None else None
    stats = ReadStats()
    rules = LabelRules.of(load_policy(policy))
    posts = list(read_labelled([*files, *extra], rules, posts=folder, stats=stats, strict=strict))
    return posts, stats


@model_app.command("train")
def train_command(
    corpus: CorpusOption = Path("data/corpus"),
    extra: ExtraOption = None,
    real_posts: RealPostsOption = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write model.npz.")] = Path(
        "src/postguard/checks/model/weights/model.npz"
    ),
    fp_budget: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of ordinary real posts (read by id, no label) the model may flag out of fold, "
            "all clauses together, when the thresholds are chosen.",
        ),
    ] = DEFAULT_FP_BUDGET,
    policy: PolicyOption = None,
) -> None:
    """Train the learned scorer from the corpus and any extra sources (deterministic).

    The shipped model is trained with 'make train', which is:

      postguard model train --corpus data/corpus --extra data/real/annotations.jsonl
        --real-posts ../shared/real

    Without the real posts, train on the corpus alone (the thresholds then follow the
    corpus's base rate). Needs the 'train' extra: pip install 'postguard[train]'.
    """
    try:
        import sklearn  # noqa: F401
    except ImportError:
        fail("training needs scikit-learn: pip install 'postguard[train]'.")
    from postguard.factory import build_checker
    from postguard.training.train import TrainingOptions, train

    with translate_errors():
        posts, stats = read_sources(corpus, extra or [], real_posts, policy)
        missing = stats.missing
        if missing:
            err.print(
                f"[yellow]{missing} annotation(s) name posts that {real_posts} does not hold; left out.[/]"
            )
        patterns = build_checker(settings_with(policy=policy, scorer="none"))
        options = TrainingOptions(fp_budget=fp_budget)
        report = train(posts, output, patterns, options=options, progress=err.print)
    table = Table(title=f"out-of-fold, {report.posts} posts, {report.sentences} sentences")
    for column in ("clause", "threshold", "precision", "recall", "F1", "ordinary flagged", "Brier"):
        table.add_column(column)
    for clause, m in report.per_clause.items():
        table.add_row(
            clause,
            f"{m['threshold']:.2f}",
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"{m['f1']:.3f}",
            f"{m['ordinary_flagged']:.2%}",
            f"{m['brier']:.4f}",
        )
    out.print(table)
    if report.real_per_clause:
        real = Table(title="out-of-fold, the real posts alone (patterns or model)")
        for column in ("clause", "support", "precision", "recall", "F1"):
            real.add_column(column)
        for clause, m in report.real_per_clause.items():
            real.add_row(
                clause, f"{m['support']:.0f}", f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}"
            )
        out.print(real)
        if report.real_ordinary_flagged is not None:
            out.print(f"ordinary real posts flagged out of fold: {report.real_ordinary_flagged:.2%}")


@model_app.command("info")
def info_command(model: ModelOption = None) -> None:
    """Show what the model in use was trained on and how it scored out of fold."""
    from postguard.checks.model.inference import SentenceModel, default_model_path

    with translate_errors():
        loaded = SentenceModel.load(model or settings_with().model or default_model_path())
    meta = dict(loaded.meta)
    meta["vocabulary"] = len(loaded.vocabulary)
    out.print_json(json.dumps(meta))


@corpus_app.command("validate")
def validate_command(corpus: CorpusOption = Path("data/corpus"), policy: PolicyOption = None) -> None:
    """Check every corpus line (format, labels, evidence) and print counts per clause."""
    from collections import Counter

    counts: Counter[str] = Counter()
    total = 0
    with translate_errors():
        for post in read_sources(corpus, [], None, policy)[0]:
            total += 1
            counts.update(post.labels or {"(compliant)"})
    table = Table(title=f"{total} posts")
    table.add_column("label")
    table.add_column("posts", justify="right")
    for label, n in sorted(counts.items()):
        table.add_row(label, str(n))
    out.print(table)
