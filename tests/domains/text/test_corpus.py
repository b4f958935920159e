"""Tests for vaekit.domains.text.corpus: the generated two-style review corpus and its rewrites."""
import math
import re
from collections import Counter

import pytest

from vaekit.core.errors import ConfigError
from vaekit.domains.text.corpus import (LABELS, MAX_LEN, MIN_LEN, STYLE_SLOTS, STYLE_WORDS, generate_corpus,
                                        write_corpus)
from vaekit.domains.text.io import read_labelled, read_references

TOKEN = re.compile(r"^(?:[a-z]+|[.,!])$")  # lower-case words, punctuation as its own token


@pytest.fixture(scope="module")
def big():
    return generate_corpus(20000, seed=0)


def _jaccard(a, b):
    a, b = set(a.split()), set(b.split())
    return len(a & b) / len(a | b)


def _other(label):
    return LABELS[1 - LABELS.index(label)]


# ---------------------------------------------------------------- determinism and balance
def test_same_seed_same_corpus_different_seed_differs():
    a = generate_corpus(300, seed=3)
    assert a == generate_corpus(300, seed=3)
    b = generate_corpus(300, seed=4)
    assert a[0] != b[0]
    assert sum(x == y for x, y in zip(a[0], b[0])) < 30  # not a shifted copy either


def test_output_types_and_lengths():
    s, y, r = generate_corpus(50, seed=1)
    assert len(s) == len(y) == len(r) == 50
    assert all(isinstance(v, str) for v in s + y + r)
    assert set(y) == {"0", "1"}


@pytest.mark.parametrize("n,balance,n_pos", [(1000, 0.5, 500), (1000, 0.3, 300), (999, 0.5, 500), (10, 0.9, 9),
                                             (2, 0.01, 1), (2, 0.99, 1)])
def test_label_balance_is_exact(n, balance, n_pos):
    _, y, _ = generate_corpus(n, seed=0, balance=balance)
    assert Counter(y) == {"1": n_pos, "0": n - n_pos}


def test_labels_are_shuffled():
    _, y, _ = generate_corpus(200, seed=0)
    assert y != sorted(y) and y != sorted(y, reverse=True)
    assert max(len(run) for run in re.findall(r"0+|1+", "".join(y))) < 20


def test_single_sentence():
    s, y, r = generate_corpus(1, seed=0)
    assert len(s) == 1 and y[0] in LABELS and r[0] != s[0]


# ---------------------------------------------------------------- form of the sentences
def test_lengths_tokens_and_case(big):
    s, _, r = big
    lengths = [len(x.split()) for x in s + r]
    assert MIN_LEN == 4 and MAX_LEN == 20
    assert min(lengths) >= MIN_LEN and max(lengths) <= MAX_LEN
    assert 7 <= sum(lengths) / len(lengths) <= 13
    assert len(set(lengths)) >= 10  # a spread of lengths, not a few fixed templates
    for x in s[:2000] + r[:2000]:
        assert x == x.strip() and "  " not in x and "\t" not in x
        assert all(TOKEN.match(t) for t in x.split()), x
        assert x.split()[-1] in {".", "!"}


def test_distinct_and_vocabulary_size(big):
    s, _, r = big
    assert len(set(s)) / len(s) >= 0.9
    vocab = {t for x in s + r for t in x.split()}
    assert 200 <= len(vocab) <= 1000


# ---------------------------------------------------------------- style markers and rewrites
def test_style_words_are_disjoint_and_every_marker_has_one():
    assert set(STYLE_WORDS) == {"0", "1"}
    assert STYLE_WORDS["0"] and STYLE_WORDS["1"] and not STYLE_WORDS["0"] & STYLE_WORDS["1"]
    for slot, pairs in STYLE_SLOTS.items():
        for neg, pos in pairs:
            assert neg != pos
            assert set(neg.split()) & STYLE_WORDS["0"], (slot, neg)
            assert set(pos.split()) & STYLE_WORDS["1"], (slot, pos)
    assert {"terrible", "hated", "never"} <= STYLE_WORDS["0"]
    assert {"great", "loved", "delicious"} <= STYLE_WORDS["1"]


def test_every_sentence_and_rewrite_is_marked_with_its_own_style_only(big):
    s, y, r = big
    for src, lab, dst in zip(s, y, r):
        a, b = set(src.split()), set(dst.split())
        assert a & STYLE_WORDS[lab] and not a & STYLE_WORDS[_other(lab)], src
        assert b & STYLE_WORDS[_other(lab)] and not b & STYLE_WORDS[lab], dst


def test_rewrite_differs_but_keeps_the_content(big):
    s, _, r = big
    assert all(a != b for a, b in zip(s, r))
    jac = [_jaccard(a, b) for a, b in zip(s, r)]
    assert sum(jac) / len(jac) >= 0.4
    assert sum(j >= 0.25 for j in jac) / len(jac) >= 0.99
    # the words that occur in no style marker (dishes, places, people, times) are identical, in order
    markers = {t for pairs in STYLE_SLOTS.values() for pair in pairs for phrase in pair for t in phrase.split()}
    for a, b in zip(s[:2000], r[:2000]):
        assert [t for t in a.split() if t not in markers] == [t for t in b.split() if t not in markers]


def test_rewrites_are_a_corpus_of_the_other_style():
    s, y, r = generate_corpus(500, seed=5)
    # rewriting every sentence of the rewrites would give the sources back: positive
    # rewrites of negative sources look like positive sources of another seed
    s2, y2, _ = generate_corpus(500, seed=6)
    pos_rewrites = {t for x, lab in zip(r, y) if lab == "0" for t in x.split()}
    pos_sources = {t for x, lab in zip(s2, y2) if lab == "1" for t in x.split()}
    assert len(pos_rewrites & pos_sources) / len(pos_rewrites | pos_sources) > 0.6


def test_tfidf_logistic_regression_separates_the_styles():
    pytest.importorskip("sklearn")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    train_s, train_y, _ = generate_corpus(2000, seed=10)
    test_s, test_y, test_r = generate_corpus(1000, seed=11)
    vec = TfidfVectorizer(token_pattern=r"\S+", ngram_range=(1, 2))
    clf = LogisticRegression(max_iter=1000).fit(vec.fit_transform(train_s), train_y)
    acc = (clf.predict(vec.transform(test_s)) == test_y).mean()
    assert acc >= 0.95
    # and the reference rewrites are classified as the target style (transfer accuracy ~100)
    flipped = [_other(lab) for lab in test_y]
    assert (clf.predict(vec.transform(test_r)) == flipped).mean() >= 0.95


# ---------------------------------------------------------------- files
def test_write_corpus_layout_and_formats(tmp_path):
    paths = write_corpus(tmp_path / "gen", n_train=200, n_dev=40, n_test=60, seed=2)
    assert set(paths) == {"train", "dev", "test", "reference"}
    names = sorted(p.name for p in (tmp_path / "gen").iterdir())
    assert names == sorted([f"sentiment.{sp}.{lab}" for sp in ("train", "dev", "test") for lab in "01"]
                           + ["reference.0", "reference.1"])
    for split, n in (("train", 200), ("dev", 40), ("test", 60)):
        assert set(paths[split]) == {"0", "1"}
        s, y = read_labelled(paths[split])
        assert len(s) == n and Counter(y) == {"0": n // 2, "1": n // 2}
    for lab in LABELS:
        text = paths["reference"][lab].read_text(encoding="utf-8")
        lines = text.splitlines()
        assert text.endswith("\n") and all(line.count("\t") == 1 for line in lines)
        src, ref = read_references(paths["reference"][lab])
        assert src == paths["test"][lab].read_text(encoding="utf-8").splitlines()
        for a, b in zip(src, ref):
            assert a != b and set(b.split()) & STYLE_WORDS[_other(lab)]
    assert not list((tmp_path / "gen").glob(".*"))  # no temporary files left behind


def test_write_corpus_is_deterministic_and_splits_differ(tmp_path):
    a = write_corpus(tmp_path / "a", n_train=100, n_dev=20, n_test=20, seed=7)
    b = write_corpus(tmp_path / "b", n_train=100, n_dev=20, n_test=20, seed=7)
    for split in ("train", "dev", "test", "reference"):
        for lab in LABELS:
            assert a[split][lab].read_bytes() == b[split][lab].read_bytes()
    # a split does not depend on the other splits' sizes
    c = write_corpus(tmp_path / "c", n_train=50, n_dev=20, n_test=20, seed=7)
    assert c["test"]["0"].read_bytes() == a["test"]["0"].read_bytes()
    assert a["train"]["0"].read_text().splitlines()[:20] != a["dev"]["0"].read_text().splitlines()


# ---------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("kwargs,match", [
    ({"n": 0}, r"generate_corpus\(n=\.\.\.\).*integer >= 1.*got 0"),
    ({"n": 2.5}, r"n=.*integer"),
    ({"n": True}, r"n=.*integer"),
    ({"n": "10"}, r"n=.*integer"),
    ({"n": 10, "seed": -1}, r"seed=.*>= 0"),
    ({"n": 10, "seed": 1.0}, r"seed="),
    ({"n": 10, "balance": 0.0}, r"balance=.*strictly between 0 and 1.*got 0\.0.*balance=0\.5"),
    ({"n": 10, "balance": 1}, r"balance="),
    ({"n": 10, "balance": -0.2}, r"balance="),
    ({"n": 10, "balance": math.nan}, r"balance="),
    ({"n": 10, "balance": "0.5"}, r"balance="),
])
def test_generate_corpus_bad_arguments(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        generate_corpus(**kwargs)


@pytest.mark.parametrize("kwargs,match", [
    ({"n_train": 1}, r"write_corpus\(n_train=\.\.\.\).*integer >= 2.*each label"),
    ({"n_dev": 0}, r"n_dev="),
    ({"n_test": 3.0}, r"n_test="),
    ({"seed": -5}, r"seed="),
    ({"balance": 1.5}, r"balance="),
])
def test_write_corpus_bad_arguments(tmp_path, kwargs, match):
    args = dict(n_train=10, n_dev=4, n_test=4)
    args.update(kwargs)
    with pytest.raises(ConfigError, match=match):
        write_corpus(tmp_path / "x", **args)
