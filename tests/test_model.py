"""The learned model: the NumPy run time equals scikit-learn's computation,
training is deterministic, and the shipped model is small and loads offline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from postguard.checks import Checker
from postguard.checks.labelled import LabelledPost, LabelRules, PostsFolder, ReadStats, read_labelled
from postguard.checks.model.features import FeatureConfig, analyse, view
from postguard.checks.model.inference import SentenceModel, default_model_path
from postguard.checks.normalise import normalise
from postguard.errors import CorpusError, ModelError
from postguard.policy import default_pack
from postguard.training.train import TrainingOptions, _thresholds, train

MODEL_CLAUSES = default_pack().learned_clause_ids
PATTERNS = Checker(default_pack(), None)
RULES = LabelRules.of(default_pack())


def _read(*paths: Path, posts: PostsFolder | None = None) -> list[LabelledPost]:
    return list(read_labelled(paths, RULES, posts=posts))


_POSTS = [
    ("We got our man, the thief is behind bars.", ["A.iii.guilt"], {"A.iii.guilt": ["We got our man"]}),
    ("The killer was arrested tonight.", ["A.iii.guilt"], {"A.iii.guilt": ["The killer"]}),
    ("A man was arrested and charged with theft.", [], {}),
    ("He is due in court on Monday.", [], {}),
    ("What a bunch of idiots on the motorway.", ["A.i"], {"A.i": ["bunch of idiots"]}),
    ("Speeding kills. Slow down.", [], {}),
    ("Vote for Smith on Tuesday!", ["A.iv.political"], {"A.iv.political": ["Vote for Smith"]}),
    ("Police will be at polling stations.", [], {}),
    (
        "The evidence is overwhelming, expect a conviction.",
        ["A.iii.prosecution"],
        {"A.iii.prosecution": ["The evidence is overwhelming"]},
    ),
    ("He was remanded in custody.", [], {}),
    (
        "The victim, named as Ann Lee, is in hospital.",
        ["A.iii.confidential"],
        {"A.iii.confidential": ["named as Ann Lee"]},
    ),
    ("A woman in her 40s is in hospital.", [], {}),
    ("Use my code COP10 at my cousin's shop.", ["A.iv.private"], {"A.iv.private": ["Use my code COP10"]}),
    ("Join our charity run for the hospice.", [], {}),
]


def _corpus(folder: Path, copies: int = 3) -> Path:
    folder.mkdir()
    with (folder / "tiny.jsonl").open("w", encoding="utf-8") as fh:
        for n in range(copies):
            for i, (text, labels, evidence) in enumerate(_POSTS):
                fh.write(
                    json.dumps(
                        {"id": f"t-{n}-{i}", "text": f"{text} ({n})", "labels": labels, "evidence": evidence}
                    )
                    + "\n"
                )
    return folder


def test_training_is_deterministic_and_inference_matches_sklearn(tmp_path: Path) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    corpus = _corpus(tmp_path / "corpus")
    first, second = tmp_path / "a.npz", tmp_path / "b.npz"
    posts = _read(*sorted(corpus.glob("*.jsonl")))
    train(posts, first, PATTERNS)
    train(list(reversed(posts)), second, PATTERNS)  # the order of the sources does not matter
    a, b = np.load(first), np.load(second)
    for key in a.files:
        assert np.array_equal(a[key], b[key]), key

    model = SentenceModel.load(first)
    assert model.clauses == MODEL_CLAUSES
    texts = [t for t, _, _ in _POSTS]
    vocabulary = sorted(model.vocabulary, key=model.vocabulary.__getitem__)
    vec = TfidfVectorizer(
        analyzer=lambda t: analyse(t, model.config),
        sublinear_tf=True,
        vocabulary=vocabulary,
        dtype=np.float32,
    )
    vec.fit(texts)
    vec.idf_ = model.idf
    x = vec.transform(texts)
    ours = model.logits(texts)
    for column, clause in enumerate(model.clauses):
        lr = LogisticRegression()
        lr.classes_ = np.array([0, 1])
        lr.coef_ = model.coef[:, column][None, :].astype(np.float64)
        lr.intercept_ = np.array([model.intercept[column]], dtype=np.float64)
        np.testing.assert_allclose(
            ours[:, column], lr.decision_function(x), rtol=1e-4, atol=1e-4, err_msg=clause
        )
    probs = model.probabilities(texts)
    assert probs.shape == (len(texts), len(MODEL_CLAUSES))
    assert ((probs >= 0) & (probs <= 1)).all()


def test_shipped_model_is_small_and_complete() -> None:
    path = default_model_path()
    assert path.stat().st_size < 5_000_000
    model = SentenceModel.load(path)
    assert model.clauses == MODEL_CLAUSES
    assert model.meta["posts"] >= 4000
    assert all(0.0 < t < 1.0 for t in model.thresholds.values())


def test_missing_or_broken_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="postguard model train"):
        SentenceModel.load(tmp_path / "none.npz")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="cannot be read"):
        SentenceModel.load(broken)


def test_malformed_corpus_line_names_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "x.jsonl").write_text(
        json.dumps({"id": "a", "text": "hello", "labels": ["A.i"], "evidence": {"A.i": ["bye"]}}) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match=r"x.jsonl:1 \(a\): evidence 'bye' is not a substring"):
        _read(folder / "x.jsonl")


def test_feature_indexer_gives_exactly_the_features_of_analyse() -> None:
    from collections import Counter

    from postguard.checks.model.features import FeatureIndexer
    from postguard.checks.model.inference import default_model

    model = default_model()
    indexer = FeatureIndexer(model.vocabulary, model.config)
    texts = [t for t, _, _ in _POSTS] + ["", "!!! ???", "Ünïcödé wörds, déjà vu", "x " * 500, "a'b c'd"]
    texts += ["@jo_77 see https://t.co/AbC #KnifeCrimeWeek", "Jo Bloggs, 16, of Leeds (B/M, 27) 17y/o"]
    texts += [normalise("Well done, party people 🎉👏 and 🙄").text]
    for text in texts:
        expected = Counter(i for i in map(model.vocabulary.get, analyse(text, model.config)) if i is not None)
        assert indexer.counts(text) == dict(expected), text
        assert indexer.counts(text) == dict(expected), text  # and again, from its cache


def test_post_head_cannot_flag_a_benign_sentence_alone() -> None:
    """The joined score needs both heads: a neutral sentence stays low in any post."""
    from postguard.checks.model.inference import default_model

    model = default_model()
    text = "A 34-year-old man was arrested and charged with robbery. He is due in court on Monday."
    sentences = ["A 34-year-old man was arrested and charged with robbery.", "He is due in court on Monday."]
    scores = model.scores(text, sentences)
    assert scores.shape == (2, len(MODEL_CLAUSES))
    for column, clause in enumerate(model.clauses):
        assert scores[:, column].max() < model.thresholds[clause], clause


def test_the_view_keeps_what_real_posts_carry_as_tokens() -> None:
    seen = view("@jsmith_77 Tributes to John Smith, 16, of Leeds https://t.co/Ab12Cd #KnifeCrimeWeek")
    assert "mentiontoken" in seen and "urltoken" in seen and "agejuvenile" in seen
    assert "hashtagtoken knife crime week" in seen and "nametoken John Smith" in seen
    assert "ageadult" in view("Mackenzie Jackson (W/M, 27) has been charged")
    headline = view("Latest News : Man Charged With Murder Over Death Of Man In Leeds")
    assert "nametoken" not in headline  # title case: every word is capitalised, no name is marked
    assert FeatureConfig(view=0).words("#JAILED") == ["jailed"]
    assert FeatureConfig(view=1).words("#JAILED") == ["hashtagtoken", "jailed"]


def test_view_two_reads_an_emoji_as_one_token_not_as_the_words_of_its_name() -> None:
    text = normalise("Officers came face to face with a pony 😍 and a driver 🙄").text
    words = FeatureConfig(view=2).words(text)
    assert "emojismilingfacewithheartshapedeyes" in words and "emojifacewithrollingeyes" in words
    assert words.count("face") == 2  # the text's own two, none from the emoji
    assert FeatureConfig(view=1).words(text).count("face") == 4  # version 1 could not tell them apart
    party = analyse(normalise("Welcome, new recruits 🎉").text, FeatureConfig(view=2))
    assert "emojipartypopper" in party and not any("part" in f for f in party if f.startswith("#"))


def test_extra_sources_with_text_and_by_id(tmp_path: Path) -> None:
    posts_dir = tmp_path / "posts"
    posts_dir.mkdir()
    (posts_dir / "force.jsonl").write_text(
        json.dumps({"id": "r-1", "text": "Tributes to John Smith, who was murdered."})
        + "\n"
        + json.dumps({"id": "r-2", "text": "Road closed on Main St."})
        + "\n",
        encoding="utf-8",
    )
    annotations = tmp_path / "annotations.jsonl"
    annotations.write_text(
        json.dumps(
            {"id": "r-1", "labels": ["A.iii.confidential"], "spans": {"A.iii.confidential": [[12, 22]]}}
        )
        + "\n"
        + json.dumps({"id": "r-2", "labels": [], "spans": {}, "split": "test"})
        + "\n"
        + json.dumps({"id": "r-9", "labels": [], "spans": {}})
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match="needs the folder of posts"):
        _read(annotations)
    stats = ReadStats()
    found = list(read_labelled([annotations], RULES, posts=PostsFolder(posts_dir), stats=stats))
    assert [p.id for p in found] == ["r-1", "r-2"] and stats.missing == 1
    assert found[0].evidence("A.iii.confidential") == ["John Smith"] and found[0].source == "real:force"
    assert found[1].split == "test"
    inline = tmp_path / "ours.jsonl"
    inline.write_text(
        json.dumps({"id": "o-1", "text": "Idiots, the lot of you.", "labels": ["A.i"], "spans": {"A.i": [[0, 6]]},
                    "weight": 2})
        + "\n",
        encoding="utf-8",
    )  # fmt: skip
    assert _read(inline)[0].weight == 2.0
    inline.write_text(
        json.dumps({"id": "o-1", "text": "Hi", "labels": ["A.i"], "spans": {"A.i": [[0, 9]]}}) + "\n"
    )
    with pytest.raises(CorpusError, match="does not point into the text"):
        _read(inline)


def test_training_leaves_out_the_test_split_and_keeps_to_the_budget(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus")
    posts = _read(*sorted(corpus.glob("*.jsonl")))
    held = LabelledPost("held-1", "We got our man.", frozenset({"A.iii.guilt"}), split="test")
    report = train([*posts, held], tmp_path / "m.npz", PATTERNS, options=TrainingOptions(fp_budget=0.0))
    assert report.posts == len(posts)  # the test split is never trained on
    meta = SentenceModel.load(tmp_path / "m.npz").meta
    assert meta["fp_budget"] == 0.0 and meta["features"]["view"] == 2


def test_balanced_thresholds_do_not_let_written_posts_outvote_real_ones() -> None:
    # 100 written posts (40 violations scored 0.9, 30 near misses scored 0.4) and 40 real ones
    # (20 violations the model scores only 0.4). Over all posts, 0.9 and 0.4 tie at F1 0.8 and
    # the higher wins; counted group by group, 0.4 is far better for the real posts.
    scores = np.array([[0.9]] * 40 + [[0.4]] * 30 + [[0.1]] * 30 + [[0.4]] * 20 + [[0.1]] * 20)
    truth = np.array([[1]] * 40 + [[0]] * 60 + [[1]] * 20 + [[0]] * 20, dtype=np.int8)
    real = np.array([False] * 100 + [True] * 40)
    hits = np.zeros_like(truth)
    ordinary = np.zeros(len(truth), dtype=np.bool_)
    [(overall, _)] = _thresholds(scores, hits, truth, ordinary, None)
    [(balanced, metrics)] = _thresholds(scores, hits, truth, ordinary, None, [~real, real], 20)
    assert overall == 0.9 and balanced <= 0.4
    assert metrics["recall"] == 1.0
    # A group with too few examples of the clause does not count on its own.
    [(few, _)] = _thresholds(scores, hits, truth, ordinary, None, [~real, real], 21)
    assert few == 0.9


def test_weighted_thresholds_count_each_group_by_how_sure_its_f1_is() -> None:
    # 700 written posts (400 violations scored 0.9, 300 near misses scored 0.4) and 40 real
    # ones (20 violations scored 0.4). The plain mean of the two groups' F1 takes 0.4 (the
    # written F1 falls from 1.0 to 0.73, the real one rises from 0 to 1); weighted by the
    # square roots of 400 and 20, the written posts' clear loss outweighs the small group.
    scores = np.array([[0.9]] * 400 + [[0.4]] * 300 + [[0.4]] * 20 + [[0.1]] * 20)
    truth = np.array([[1]] * 400 + [[0]] * 300 + [[1]] * 20 + [[0]] * 20, dtype=np.int8)
    real = np.array([False] * 700 + [True] * 40)
    hits = np.zeros_like(truth)
    ordinary = np.zeros(len(truth), dtype=np.bool_)
    [(balanced, _)] = _thresholds(scores, hits, truth, ordinary, None, [~real, real], 20)
    [(weighted, _)] = _thresholds(scores, hits, truth, ordinary, None, [~real, real], 20, weighted=True)
    assert balanced == 0.4 and weighted == 0.9
    # Where the real posts gain as much and the groups are of a size, the real posts still count.
    small = np.r_[np.arange(40), np.arange(40, 70), np.arange(700, 740)]
    [(even, _)] = _thresholds(
        scores[small],
        hits[small],
        truth[small],
        ordinary[small],
        None,
        [~real[small], real[small]],
        20,
        weighted=True,
    )
    assert even == 0.4


def test_training_reports_the_real_posts_apart(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus")
    posts = _read(*sorted(corpus.glob("*.jsonl")))
    real = [
        LabelledPost(f"r-{i}", text, frozenset(), source="real:force")
        for i, text in enumerate(["Road closed on Main St.", "Happy new year from all of us!"] * 10)
    ]
    report = train([*posts, *real], tmp_path / "m.npz", PATTERNS)
    assert report.real_ordinary_flagged is not None and 0.0 <= report.real_ordinary_flagged <= 1.0
    assert set(report.real_per_clause) == set(PATTERNS.pack.learned_clause_ids)
    assert all(m["support"] == 0 for m in report.real_per_clause.values())
    assert report.post_scores is not None and report.post_scores.shape == (
        len(report.post_ids),
        len(PATTERNS.pack.learned_clause_ids),
    )
    assert SentenceModel.load(tmp_path / "m.npz").meta["threshold_objective"] == "weighted"


def test_training_scores_a_post_as_the_checker_does_leaving_out_neutral_sentences() -> None:
    from postguard.training.train import _examples

    posts = [
        LabelledPost(
            "n-1", "A man was arrested in connection with the burglary. Road closed on Elm St.", frozenset()
        ),
        LabelledPost("n-2", "We got our man, the thief is behind bars.", frozenset({"A.iii.guilt"})),
    ]
    ex = _examples(posts, PATTERNS, MODEL_CLAUSES)
    guilt = MODEL_CLAUSES.index("A.iii.guilt")
    # The pack calls the neutral arrest report neutral for A.iii.guilt, and nothing else.
    assert ex.neutral[:, guilt].tolist() == [True, False, False]
    assert not ex.neutral[:, MODEL_CLAUSES.index("A.i")].any()
