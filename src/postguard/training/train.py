"""Train the sentence model from the project's own corpus.

One deterministic command (``postguard model train``) does it all:

1. read and validate ``data/corpus/*.jsonl``;
2. split every post into sentences (normalised, as at run time); a sentence
   that overlaps the evidence for a clause is a positive example of that
   clause, every other sentence a negative one;
3. fit TF-IDF features and, per clause, one logistic regression on the
   sentences and one on whole posts, in five folds grouped by post, to get
   out-of-fold scores;
4. fit Platt scaling on those scores (calibration), join the two heads (the
   geometric mean of their probabilities, scaled once more at post level) and pick
   each clause's threshold where the post-level F1 of patterns-or-model is
   best on them;
5. fit the final heads on everything and write ``model.npz`` (NumPy arrays
   and JSON; no pickles).

Needs the ``train`` extra (scikit-learn); the run time needs only NumPy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from postguard.checks.analysed import AnalysedPost
from postguard.checks.engine import Checker
from postguard.checks.model.features import FeatureConfig, analyse
from postguard.checks.types import Post
from postguard.training.corpus import CorpusPost, LabelRules, read_corpus

__all__ = ["TrainingReport", "train"]

FOLDS = 5
DEFAULT_FEATURES = FeatureConfig()


@dataclass
class TrainingReport:
    posts: int
    sentences: int
    features: int
    per_clause: dict[str, dict[str, float]] = field(default_factory=dict)
    path: Path | None = None


@dataclass
class _Examples:
    post_texts: list[str]  # normalised, as the post head reads them at run time
    texts: list[str]
    labels: npt.NDArray[np.int8]  # (sentences, clauses)
    post_index: npt.NDArray[np.int64]
    post_labels: npt.NDArray[np.int8]  # (posts, clauses)
    pattern_hits: npt.NDArray[np.int8]  # (posts, clauses): a pattern fired


def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def _examples(posts: list[CorpusPost], patterns: Checker, clauses: tuple[str, ...]) -> _Examples:
    post_texts: list[str] = []
    texts: list[str] = []
    rows: list[list[int]] = []
    owner: list[int] = []
    post_labels = np.zeros((len(posts), len(clauses)), dtype=np.int8)
    hits = np.zeros_like(post_labels)
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
            owner.append(p_index)
    return _Examples(post_texts, texts, np.array(rows, dtype=np.int8), np.array(owner), post_labels, hits)


def _fold_of(post_ids: list[str]) -> npt.NDArray[np.int64]:
    """A fold per post, fixed by a hash of its id (deterministic, order-free)."""
    return np.array([int(hashlib.sha256(i.encode()).hexdigest(), 16) % FOLDS for i in post_ids])


def _fit(x: Any, y: npt.NDArray[np.int8], c_value: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c_value, solver="liblinear", max_iter=2000, random_state=0)
    model.fit(x, y)
    return model


def _platt(logits: npt.NDArray[np.float64], y: npt.NDArray[np.int8]) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
    lr.fit(logits.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _sigmoid(z: npt.NDArray[np.float64], platt: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    result: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-(float(platt[0]) * z + float(platt[1]))))
    return result


def _logit(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    result: npt.NDArray[np.float64] = np.log(clipped / (1 - clipped))
    return result


def _best_threshold(
    post_scores: npt.NDArray[np.float64], hits: npt.NDArray[np.int8], truth: npt.NDArray[np.int8]
) -> tuple[float, dict[str, float]]:
    best = (0.5, {"f1": -1.0, "precision": 0.0, "recall": 0.0})
    for threshold in np.arange(0.2, 0.91, 0.01):
        predicted = (post_scores >= threshold) | (hits == 1)
        tp = float(np.sum(predicted & (truth == 1)))
        fp = float(np.sum(predicted & (truth == 0)))
        fn = float(np.sum(~predicted & (truth == 1)))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if f1 > best[1]["f1"] + 1e-9:
            best = (float(round(threshold, 2)), {"f1": f1, "precision": precision, "recall": recall})
    return best


def train(
    corpus_paths: list[Path],
    output: Path,
    patterns: Checker,
    *,
    config: FeatureConfig = DEFAULT_FEATURES,
    c_value: float = 8.0,
    post_c_value: float = 8.0,
    progress: Callable[[str], None] = lambda _msg: None,
) -> TrainingReport:
    """Train on ``corpus_paths`` and write the model to ``output``.

    ``patterns`` is a checker without a scorer (its pack's patterns, normalisation
    and sentence split, as at run time); the model learns the pack's learned clauses.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    pack = patterns.pack
    clauses = pack.learned_clause_ids
    posts = [p for p in read_corpus(corpus_paths, LabelRules.of(pack)) if p.context.represents_department]
    posts.sort(key=lambda p: p.id)
    progress(f"read {len(posts)} posts")
    ex = _examples(posts, patterns, clauses)
    progress(f"split into {len(ex.texts)} sentences")

    def analyzer(text: str) -> list[str]:
        return analyse(text, config)

    post_folds = _fold_of([p.id for p in posts])
    folds = post_folds[ex.post_index]
    oof = np.zeros(ex.labels.shape, dtype=np.float64)
    post_oof = np.zeros(ex.post_labels.shape, dtype=np.float64)
    for fold in range(FOLDS):
        train_rows, test_rows = folds != fold, folds == fold
        train_posts, test_posts = post_folds != fold, post_folds == fold
        vec = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=2, dtype=np.float32)
        x_train = vec.fit_transform([ex.texts[i] for i in np.flatnonzero(train_rows)])
        x_test = vec.transform([ex.texts[i] for i in np.flatnonzero(test_rows)])
        px_train = vec.transform([ex.post_texts[i] for i in np.flatnonzero(train_posts)])
        px_test = vec.transform([ex.post_texts[i] for i in np.flatnonzero(test_posts)])
        for c_index in range(len(clauses)):
            model = _fit(x_train, ex.labels[train_rows, c_index], c_value)
            oof[test_rows, c_index] = model.decision_function(x_test)
            model = _fit(px_train, ex.post_labels[train_posts, c_index], post_c_value)
            post_oof[test_posts, c_index] = model.decision_function(px_test)
        progress(f"fold {fold + 1}/{FOLDS} done")

    report = TrainingReport(len(posts), len(ex.texts), 0)
    platt = np.zeros((len(clauses), 2), dtype=np.float32)
    post_platt = np.zeros_like(platt)
    final_platt = np.zeros_like(platt)
    thresholds = []
    for c_index, clause in enumerate(clauses):
        platt[c_index] = _platt(oof[:, c_index], ex.labels[:, c_index])
        post_platt[c_index] = _platt(post_oof[:, c_index], ex.post_labels[:, c_index])
        sentence_probs = _sigmoid(oof[:, c_index], platt[c_index])
        post_probs = _sigmoid(post_oof[:, c_index], post_platt[c_index])
        joined = np.sqrt(sentence_probs * post_probs[ex.post_index])
        best_joined = np.zeros(len(posts))
        np.maximum.at(best_joined, ex.post_index, joined)
        final_platt[c_index] = _platt(_logit(best_joined), ex.post_labels[:, c_index])
        post_scores = _sigmoid(_logit(best_joined), final_platt[c_index])
        threshold, metrics = _best_threshold(
            post_scores, ex.pattern_hits[:, c_index], ex.post_labels[:, c_index]
        )
        brier = float(np.mean((post_scores - ex.post_labels[:, c_index]) ** 2))
        thresholds.append(threshold)
        report.per_clause[clause] = {"threshold": threshold, "brier": brier, **metrics}
        progress(f"{clause}: threshold {threshold:.2f}, out-of-fold F1 {metrics['f1']:.3f}")

    vec = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=2, dtype=np.float32)
    x_all = vec.fit_transform(ex.texts)
    px_all = vec.transform(ex.post_texts)
    coef = np.zeros((x_all.shape[1], len(clauses)), dtype=np.float32)
    intercept = np.zeros(len(clauses), dtype=np.float32)
    post_coef = np.zeros_like(coef)
    post_intercept = np.zeros_like(intercept)
    for c_index in range(len(clauses)):
        model = _fit(x_all, ex.labels[:, c_index], c_value)
        coef[:, c_index] = model.coef_[0]
        intercept[c_index] = model.intercept_[0]
        model = _fit(px_all, ex.post_labels[:, c_index], post_c_value)
        post_coef[:, c_index] = model.coef_[0]
        post_intercept[c_index] = model.intercept_[0]
    vocabulary = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    report.features = len(vocabulary)
    digest = hashlib.sha256()
    for path in sorted(corpus_paths):
        digest.update(path.read_bytes())
    meta = {
        "clauses": list(clauses),
        "thresholds": thresholds,
        "features": config.to_dict(),
        "c": c_value,
        "post_c": post_c_value,
        "corpus_sha256": digest.hexdigest(),
        "posts": len(posts),
        "sentences": len(ex.texts),
        "out_of_fold": report.per_clause,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        output,
        meta=np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8),
        vocabulary=np.frombuffer(json.dumps(vocabulary).encode(), dtype=np.uint8),
        idf=vec.idf_.astype(np.float32),
        coef=coef,
        intercept=intercept,
        platt=platt,
        post_coef=post_coef,
        post_intercept=post_intercept,
        post_platt=post_platt,
        final_platt=final_platt,
    )
    report.path = output
    progress(f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB, {len(vocabulary):,} features)")
    return report
