"""Train the learned scorer from labelled posts: the project's corpus and any extra sources.

One deterministic command (``postguard model train``) does it all:

1. read and validate every source (:mod:`postguard.checks.labelled`): the
   corpus, JSONL files with text, and annotations by id resolved against a
   folder of posts; annotations in the ``test`` split are never read;
2. split every post into sentences (normalised, as at run time); a sentence
   that overlaps the evidence for a clause is a positive example of that
   clause, every other sentence a negative one;
3. fit TF-IDF features (seen through the real-traffic view, see
   :mod:`postguard.checks.model.features`) and, per clause, one logistic
   regression on the sentences and one on whole posts, in five folds grouped
   by post, to get out-of-fold scores; each source has a weight;
4. fit Platt scaling on those scores (calibration), join the two heads (the
   geometric mean of their probabilities, scaled once more at post level), score
   each post as the checker will (by its best sentence that the pack's ``neutral``
   shapes do not cover) and choose the clauses' thresholds together: starting
   high, lower the threshold that buys the most post-level F1 (patterns or model)
   for each ordinary post it flags, while the model flags at most ``fp_budget`` of
   the ordinary posts (the real posts with no label) in all: thresholds follow real
   base rates, not the corpus's, and the budget goes where it buys most;
5. fit the final heads on everything and write ``model.npz`` (NumPy arrays
   and JSON; no pickles).

Needs the ``train`` extra (scikit-learn); the run time needs only NumPy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from postguard.checks.analysed import AnalysedPost
from postguard.checks.detectors.learned import LearnedDetector
from postguard.checks.engine import Checker
from postguard.checks.labelled import REAL, LabelledPost
from postguard.checks.model.features import FeatureConfig, analyse
from postguard.checks.model.inference import stack_scores
from postguard.checks.types import Post
from postguard.training import DEFAULT_FP_BUDGET

__all__ = ["DEFAULT_FEATURES", "TrainingOptions", "TrainingReport", "train"]

FOLDS = 5
DEFAULT_FEATURES = FeatureConfig(view=2)


@dataclass(frozen=True)
class TrainingOptions:
    """The knobs of a training run (all stored in the model's metadata)."""

    features: FeatureConfig = DEFAULT_FEATURES
    c_value: float = 8.0
    post_c_value: float = 8.0
    #: How much a real post (read by id from a folder of real posts) counts against a written one.
    real_weight: float = 3.0
    #: Whether the whole-post head reads words only (not character n-grams), so that a topic
    #: word's spellings ("arrested": "rest", "sted") cannot carry a post on their own.
    post_words_only: bool = True
    #: Whether the two heads are joined by weights learned out of fold (else a geometric mean).
    stack: bool = False
    #: In the geometric mean, the post head's share (0.5: the plain mean; lower: the sentence
    #: counts for more than the post around it).
    post_weight: float = 0.5
    #: The share of ordinary real posts (unlabelled posts of a folder of real posts, read by id)
    #: that the model may flag out of fold, all clauses together (None: no limit).
    fp_budget: float | None = DEFAULT_FP_BUDGET
    #: How a threshold's F1 is counted: over all posts together (``all``); as the mean of the
    #: F1 on written posts and the F1 on real posts (``balanced``), each where it has at least
    #: ``min_real_positives`` examples of the clause, so the few real posts are not outvoted
    #: by the many written ones; or (``weighted``) as that mean with each group weighted by
    #: the square root of its examples of the clause, as sure as its F1 is (a group's F1
    #: wavers as one over that root), so that a flat, noisy curve on 65 real posts does not
    #: overrule a clear one on 840 written posts.
    threshold_objective: str = "weighted"
    min_real_positives: int = 20

    def __post_init__(self) -> None:
        if self.threshold_objective not in ("all", "balanced", "weighted"):
            raise ValueError(f"Unknown threshold objective '{self.threshold_objective}'.")


@dataclass
class TrainingReport:
    posts: int
    sentences: int
    features: int
    sources: dict[str, int] = field(default_factory=dict)
    per_clause: dict[str, dict[str, float]] = field(default_factory=dict)
    #: The same out-of-fold figures on the real posts alone (read by id), when there are any:
    #: how the model does on real traffic, which the corpus's figures can hide.
    real_per_clause: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Of the ordinary real posts (no label), the share flagged by patterns or model, any clause.
    real_ordinary_flagged: float | None = None
    #: Each trained post's id and its out-of-fold score per clause (posts, clauses), for analysis.
    post_ids: list[str] = field(default_factory=list)
    post_scores: npt.NDArray[np.float64] | None = None
    path: Path | None = None


@dataclass
class _Examples:
    post_texts: list[str]  # normalised, as the post head reads them at run time
    texts: list[str]
    labels: npt.NDArray[np.int8]  # (sentences, clauses)
    post_index: npt.NDArray[np.int64]
    post_labels: npt.NDArray[np.int8]  # (posts, clauses)
    pattern_hits: npt.NDArray[np.int8]  # (posts, clauses): a pattern fired
    post_weights: npt.NDArray[np.float64]
    ordinary: npt.NDArray[np.bool_]  # (posts,): an unlabelled post of a real source
    real: npt.NDArray[np.bool_]  # (posts,): a post of a real source (read by id)
    #: (sentences, clauses): a sentence of a shape the pack calls neutral for the clause, which
    #: the model never flags at run time.
    neutral: npt.NDArray[np.bool_]


def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def _examples(posts: list[LabelledPost], patterns: Checker, clauses: tuple[str, ...]) -> _Examples:
    post_texts: list[str] = []
    texts: list[str] = []
    rows: list[list[int]] = []
    owner: list[int] = []
    post_labels = np.zeros((len(posts), len(clauses)), dtype=np.int8)
    hits = np.zeros_like(post_labels)
    learned = {d.clause: d for d in patterns.detectors if isinstance(d, LearnedDetector)}
    shaped = [learned.get(c) for c in clauses]
    neutral: list[list[bool]] = []
    for p_index, item in enumerate(posts):
        post = Post(item.text, item.context)
        analysed = AnalysedPost(post)
        post_texts.append(analysed.text)
        evidence = {c: item.evidence_spans(c) for c in clauses}
        for c_index, clause in enumerate(clauses):
            post_labels[p_index, c_index] = clause in item.labels
        found = patterns.check_post(post).findings
        for c_index, clause in enumerate(clauses):
            hits[p_index, c_index] = any(f.clause == clause and f.source == "pattern" for f in found)
        for start, end in analysed.sentences:
            span = analysed.normal.to_original(start, end)
            texts.append(analysed.text[start:end])
            rows.append([int(_overlaps(span, evidence[c])) for c in clauses])
            neutral.append([d is not None and d.is_neutral(texts[-1], timeout=1.0) for d in shaped])
            owner.append(p_index)
    weights = np.array([p.weight for p in posts], dtype=np.float64)
    real = np.array([p.source.startswith(REAL) for p in posts], dtype=np.bool_)
    ordinary = real & np.array([not p.labels for p in posts], dtype=np.bool_)
    return _Examples(
        post_texts,
        texts,
        np.array(rows, dtype=np.int8).reshape(-1, len(clauses)),
        np.array(owner, dtype=np.int64),
        post_labels,
        hits,
        weights,
        ordinary,
        real,
        np.array(neutral, dtype=np.bool_).reshape(-1, len(clauses)),
    )


def _fold_of(post_ids: list[str]) -> npt.NDArray[np.int64]:
    """A fold per post, fixed by a hash of its id (deterministic, order-free)."""
    return np.array([int(hashlib.sha256(i.encode()).hexdigest(), 16) % FOLDS for i in post_ids])


class _Constant:
    """The model for a clause with one class only in its training rows: it says so, always."""

    def __init__(self, features: int, positive: bool) -> None:
        self.coef_ = np.zeros((1, features))
        self.intercept_ = np.array([12.0 if positive else -12.0])

    def decision_function(self, x: Any) -> npt.NDArray[np.float64]:
        return np.full(x.shape[0], self.intercept_[0])


def _fit(x: Any, y: npt.NDArray[np.int8], c_value: float, weights: npt.NDArray[np.float64]) -> Any:
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        return _Constant(x.shape[1], bool(y.max()))
    model = LogisticRegression(C=c_value, solver="liblinear", max_iter=2000, random_state=0)
    model.fit(x, y, sample_weight=weights)
    return model


def _platt(logits: npt.NDArray[np.float64], y: npt.NDArray[np.int8]) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        return 1.0, 0.0
    lr = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
    lr.fit(logits.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _stack(
    sentence: npt.NDArray[np.float64],
    post: npt.NDArray[np.float64],
    y: npt.NDArray[np.int8],
    weights: npt.NDArray[np.float64],
) -> tuple[float, float, float]:
    """Weights joining the two heads' out-of-fold decision values for a sentence's label."""
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        return 1.0, 0.0, 0.0
    lr = LogisticRegression(C=100.0, solver="lbfgs", max_iter=1000)
    lr.fit(np.column_stack([sentence, post]), y, sample_weight=weights)
    return float(lr.coef_[0, 0]), float(lr.coef_[0, 1]), float(lr.intercept_[0])


def _sigmoid(z: npt.NDArray[np.float64], platt: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    result: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-(float(platt[0]) * z + float(platt[1]))))
    return result


def _logit(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    result: npt.NDArray[np.float64] = np.log(clipped / (1 - clipped))
    return result


GRID = np.round(np.arange(0.95, 0.195, -0.01), 2)


def _f1(predicted: npt.NDArray[np.bool_], truth: npt.NDArray[np.bool_]) -> tuple[float, float, float]:
    """F1, precision and recall of ``predicted`` against ``truth`` (boolean, one per post)."""
    tp = float(np.sum(predicted & truth))
    fp = float(np.sum(predicted & ~truth))
    fn = float(np.sum(~predicted & truth))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return f1, precision, recall


def _thresholds(
    post_scores: npt.NDArray[np.float64],
    hits: npt.NDArray[np.int8],
    truth: npt.NDArray[np.int8],
    ordinary: npt.NDArray[np.bool_],
    budget: float | None,
    groups: Sequence[npt.NDArray[np.bool_]] = (),
    min_positives: int = 20,
    weighted: bool = False,
) -> list[tuple[float, dict[str, float]]]:
    """Each clause's threshold, chosen together under one budget of ordinary posts flagged.

    ``post_scores``, ``hits`` and ``truth`` are (posts, clauses). Greedy: from the top of
    the grid, take the move (one clause's threshold down to any lower value) with the
    most F1 gained per ordinary post newly flagged, while the model's flags on ordinary
    posts (any clause) stay within ``budget``; without a budget, each clause's best F1.
    With ``groups`` (masks over the posts), the F1 that is maximised is the mean of each
    group's F1, over the groups with at least ``min_positives`` posts of the clause; with
    ``weighted``, each group's F1 counts by the square root of its posts of the clause.
    """
    clauses = post_scores.shape[1]
    plain = max(int(ordinary.sum()), 1)
    # Per clause and threshold: F1 (patterns or model) and which ordinary posts the model flags.
    f1s = np.zeros((clauses, len(GRID)))
    flags = np.zeros((clauses, len(GRID), int(ordinary.sum())), dtype=np.bool_)
    stats: list[list[tuple[float, float, float]]] = []
    for c in range(clauses):
        rows = []
        positive = truth[:, c] == 1
        counted = [m for m in groups if int(np.sum(positive[m])) >= min_positives]
        for g, threshold in enumerate(GRID):
            by_model = post_scores[:, c] >= threshold
            predicted = by_model | (hits[:, c] == 1)
            rows.append(_f1(predicted, positive))
            f1s[c, g] = rows[-1][0]
            if counted:
                weights = [np.sqrt(np.sum(positive[m])) if weighted else 1.0 for m in counted]
                f1s[c, g] = float(
                    np.average([_f1(predicted[m], positive[m])[0] for m in counted], weights=weights)
                )
            flags[c, g] = by_model[ordinary]
        stats.append(rows)
    if budget is None:
        # The best F1; of equal ones, the highest threshold (the first in the grid).
        chosen = [int(np.argmax(f1s[c] >= f1s[c].max() - 1e-12)) for c in range(clauses)]
    else:
        chosen = [0] * clauses
        union = np.zeros(flags.shape[2], dtype=np.bool_)
        for c in range(clauses):
            union |= flags[c, 0]
        while True:
            best: tuple[float, int, int] | None = None
            for c in range(clauses):
                others = np.zeros_like(union)
                for o in range(clauses):
                    if o != c:
                        others |= flags[o, chosen[o]]
                for g in range(chosen[c] + 1, len(GRID)):
                    gain = f1s[c, g] - f1s[c, chosen[c]]
                    if gain <= 1e-9:
                        continue
                    flagged = others | flags[c, g]
                    if flagged.sum() / plain > budget:
                        break  # lower thresholds only flag more
                    cost = max(int(flagged.sum()) - int(union.sum()), 0)
                    ratio = gain / (cost + 0.5)
                    if best is None or ratio > best[0]:
                        best = (ratio, c, g)
            if best is None:
                break
            _, c, g = best
            chosen[c] = g
            union = np.zeros_like(union)
            for o in range(clauses):
                union |= flags[o, chosen[o]]
    out = []
    for c in range(clauses):
        f1, precision, recall = stats[c][chosen[c]]
        flagged_share = float(flags[c, chosen[c]].sum()) / plain
        metrics = {"f1": f1, "precision": precision, "recall": recall, "ordinary_flagged": flagged_share}
        out.append((float(GRID[chosen[c]]), metrics))
    return out


def _real_figures(
    report: TrainingReport, clauses: tuple[str, ...], by_model: npt.NDArray[np.bool_], ex: _Examples
) -> None:
    """Fill the report's out-of-fold figures for the real posts alone (patterns or model)."""
    if not ex.real.any():
        return
    flagged = by_model | (ex.pattern_hits == 1)
    for c_index, clause in enumerate(clauses):
        truth = ex.post_labels[ex.real, c_index] == 1
        f1, precision, recall = _f1(flagged[ex.real, c_index], truth)
        report.real_per_clause[clause] = {
            "support": float(truth.sum()),
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    if ex.ordinary.any():
        report.real_ordinary_flagged = float(flagged[ex.ordinary].any(axis=1).mean())


def train(
    posts: Sequence[LabelledPost],
    output: Path,
    patterns: Checker,
    *,
    options: TrainingOptions = TrainingOptions(),
    progress: Callable[[str], None] = lambda _msg: None,
) -> TrainingReport:
    """Train on ``posts`` and write the model to ``output``.

    ``patterns`` is a checker without a scorer (its pack's patterns, normalisation
    and sentence split, as at run time); the model learns the pack's learned clauses.
    Posts in a ``test`` split, and posts outside the content clauses (a personal
    account in a personal capacity), are left out.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    config = options.features
    clauses = patterns.pack.learned_clause_ids
    chosen = sorted(
        (p for p in posts if p.split != "test" and p.context.represents_department), key=lambda p: p.id
    )
    sources: dict[str, int] = {}
    for p in chosen:
        sources[p.source] = sources.get(p.source, 0) + 1
    progress(f"read {len(chosen)} posts: " + ", ".join(f"{k} {v}" for k, v in sorted(sources.items())))
    ex = _examples(chosen, patterns, clauses)
    progress(f"split into {len(ex.texts)} sentences; {int(ex.ordinary.sum())} ordinary real posts")

    def analyzer(text: str) -> list[str]:
        return analyse(text, config)

    if options.real_weight != 1.0:
        ex.post_weights = np.where(ex.real, ex.post_weights * options.real_weight, ex.post_weights)
    sentence_weights = ex.post_weights[ex.post_index]

    def post_view(matrix: Any, vocabulary: dict[str, int]) -> Any:
        """The whole-post head's features: all, or (post_words_only) the word n-grams alone."""
        if not options.post_words_only:
            return matrix
        keep = np.zeros(matrix.shape[1], dtype=np.float32)
        for feature, column in vocabulary.items():
            keep[column] = not feature.startswith("#")
        from scipy.sparse import diags

        return matrix @ diags(keep)

    post_folds = _fold_of([p.id for p in chosen])
    folds = post_folds[ex.post_index]
    oof = np.zeros(ex.labels.shape, dtype=np.float64)
    post_oof = np.zeros(ex.post_labels.shape, dtype=np.float64)
    for fold in range(FOLDS):
        train_rows, test_rows = folds != fold, folds == fold
        train_posts, test_posts = post_folds != fold, post_folds == fold
        vec = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=2, dtype=np.float32)
        x_train = vec.fit_transform([ex.texts[i] for i in np.flatnonzero(train_rows)])
        x_test = vec.transform([ex.texts[i] for i in np.flatnonzero(test_rows)])
        px_train = post_view(
            vec.transform([ex.post_texts[i] for i in np.flatnonzero(train_posts)]), vec.vocabulary_
        )
        px_test = post_view(
            vec.transform([ex.post_texts[i] for i in np.flatnonzero(test_posts)]), vec.vocabulary_
        )
        for c_index in range(len(clauses)):
            model = _fit(
                x_train, ex.labels[train_rows, c_index], options.c_value, sentence_weights[train_rows]
            )
            oof[test_rows, c_index] = model.decision_function(x_test)
            model = _fit(
                px_train,
                ex.post_labels[train_posts, c_index],
                options.post_c_value,
                ex.post_weights[train_posts],
            )
            post_oof[test_posts, c_index] = model.decision_function(px_test)
        progress(f"fold {fold + 1}/{FOLDS} done")

    report = TrainingReport(len(chosen), len(ex.texts), 0, sources)
    platt = np.zeros((len(clauses), 2), dtype=np.float32)
    post_platt = np.zeros_like(platt)
    final_platt = np.zeros_like(platt)
    all_scores = np.zeros((len(chosen), len(clauses)))
    stack = np.zeros((len(clauses), 3), dtype=np.float32)
    for c_index in range(len(clauses)):
        platt[c_index] = _platt(oof[:, c_index], ex.labels[:, c_index])
        post_platt[c_index] = _platt(post_oof[:, c_index], ex.post_labels[:, c_index])
        if options.stack:
            stack[c_index] = _stack(
                oof[:, c_index], post_oof[ex.post_index, c_index], ex.labels[:, c_index], sentence_weights
            )
            joined = stack_scores(
                oof[:, c_index : c_index + 1],
                post_oof[ex.post_index, c_index : c_index + 1],
                stack[c_index : c_index + 1],
            )[:, 0].astype(np.float64)
        else:
            sentence_probs = _sigmoid(oof[:, c_index], platt[c_index])
            post_probs = _sigmoid(post_oof[:, c_index], post_platt[c_index])
            beta = options.post_weight
            joined = sentence_probs ** (1 - beta) * post_probs[ex.post_index] ** beta
        best_joined = np.zeros(len(chosen))
        np.maximum.at(best_joined, ex.post_index, joined)
        final_platt[c_index] = _platt(_logit(best_joined), ex.post_labels[:, c_index])
        # What the checker does at run time: a post is flagged by its best sentence that the
        # pack does not call neutral (calibration is fitted on all sentences, as they are scored).
        best_seen = np.zeros(len(chosen))
        np.maximum.at(best_seen, ex.post_index, np.where(ex.neutral[:, c_index], 0.0, joined))
        all_scores[:, c_index] = _sigmoid(_logit(best_seen), final_platt[c_index])
    groups = [~ex.real, ex.real] if options.threshold_objective != "all" else []
    chosen_thresholds = _thresholds(
        all_scores,
        ex.pattern_hits,
        ex.post_labels,
        ex.ordinary,
        options.fp_budget,
        groups,
        options.min_real_positives,
        weighted=options.threshold_objective == "weighted",
    )
    thresholds = []
    for c_index, (clause, (threshold, metrics)) in enumerate(zip(clauses, chosen_thresholds, strict=True)):
        brier = float(np.mean((all_scores[:, c_index] - ex.post_labels[:, c_index]) ** 2))
        thresholds.append(threshold)
        report.per_clause[clause] = {"threshold": threshold, "brier": brier, **metrics}
        progress(
            f"{clause}: threshold {threshold:.2f}, out-of-fold F1 {metrics['f1']:.3f}, "
            f"ordinary posts flagged {metrics['ordinary_flagged']:.2%}"
        )

    _real_figures(report, clauses, all_scores >= np.array(thresholds), ex)
    report.post_ids = [p.id for p in chosen]
    report.post_scores = all_scores

    vec = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=2, dtype=np.float32)
    x_all = vec.fit_transform(ex.texts)
    px_all = post_view(vec.transform(ex.post_texts), vec.vocabulary_)
    coef = np.zeros((x_all.shape[1], len(clauses)), dtype=np.float32)
    intercept = np.zeros(len(clauses), dtype=np.float32)
    post_coef = np.zeros_like(coef)
    post_intercept = np.zeros_like(intercept)
    for c_index in range(len(clauses)):
        model = _fit(x_all, ex.labels[:, c_index], options.c_value, sentence_weights)
        coef[:, c_index] = model.coef_[0]
        intercept[c_index] = model.intercept_[0]
        model = _fit(px_all, ex.post_labels[:, c_index], options.post_c_value, ex.post_weights)
        post_coef[:, c_index] = model.coef_[0]
        post_intercept[c_index] = model.intercept_[0]
    vocabulary = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    report.features = len(vocabulary)
    digest = hashlib.sha256()
    for p in chosen:
        digest.update(f"{p.id}\x00{p.text}\x00{sorted(p.labels)}\x00{p.weight}\n".encode())
    meta = {
        "clauses": list(clauses),
        "thresholds": thresholds,
        "features": config.to_dict(),
        "c": options.c_value,
        "post_c": options.post_c_value,
        "fp_budget": options.fp_budget,
        "threshold_objective": options.threshold_objective,
        "real_weight": options.real_weight,
        "post_words_only": options.post_words_only,
        "stack": options.stack,
        "post_weight": options.post_weight,
        "data_sha256": digest.hexdigest(),
        "sources": sources,
        "posts": len(chosen),
        "sentences": len(ex.texts),
        "out_of_fold": report.per_clause,
        "real_out_of_fold": report.real_per_clause,
        "real_ordinary_flagged": report.real_ordinary_flagged,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, npt.NDArray[Any]] = {
        "meta": np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8),
        "vocabulary": np.frombuffer(json.dumps(vocabulary).encode(), dtype=np.uint8),
        "idf": vec.idf_.astype(np.float32),
        "coef": coef,
        "intercept": intercept,
        "platt": platt,
        "post_coef": post_coef,
        "post_intercept": post_intercept,
        "post_platt": post_platt,
        "final_platt": final_platt,
    }
    if options.stack:
        arrays["stack"] = stack
    np.savez_compressed(output, **arrays)  # type: ignore[arg-type]
    report.path = output
    progress(f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB, {len(vocabulary):,} features)")
    return report
