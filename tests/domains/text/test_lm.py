"""Tests for vaekit.domains.text.lm (interpolated modified Kneser-Ney fluency LM)."""
import math
import random
from collections import Counter

import numpy as np
import pytest

from vaekit.core.errors import ConfigError, DataValidationError, NotFittedError
from vaekit.domains.text.lm import KneserNeyLM, _modified_kn_discounts

CORPUS = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat ate the fish",
    "the dog ate a bone",
    "the cat sat on the log",
    "",
]
CONTEXTS = [(), ("the",), ("the", "cat"), ("sat", "on"), ("zzz", "the"), ("<s>", "<s>"),
            ("<s>", "the"), ("on", "the", "mat"), ("zzz", "qqq")]


# ----------------------------------------------------------------------------- a slow reference
def reference_prob(sentences, order, word, context):
    """Chen & Goodman's recursion written out over tuples (min_freq=1), for cross-checking."""
    bos, eos = "<s>", "</s>"
    padded = [[bos] * (order - 1) + s.split() + [eos] for s in sentences]
    raw = {k: Counter() for k in range(1, order + 1)}
    for toks in padded:
        for i in range(order - 1, len(toks)):
            for k in range(1, order + 1):
                raw[k][tuple(toks[i - k + 1:i + 1])] += 1
    adj = {order: raw[order]}
    for k in range(order - 1, 0, -1):
        left = Counter(u[1:] for u in raw[k + 1])     # distinct one-word left extensions
        adj[k] = Counter({u: (c if u[0] == bos else left[u]) for u, c in raw[k].items()})
    disc = {k: (0.0, *_modified_kn_discounts(np.array(list(adj[k].values())))) for k in adj}
    vocab = {w for toks in padded for w in toks if w != bos} | {"<unk>"}
    known = vocab | {bos}

    def p(k, w, h):
        if k == 0:
            return 1.0 / len(vocab)
        grams = {u: a for u, a in adj[k].items() if u[:-1] == h}
        total = sum(grams.values())
        if total == 0:
            return p(k - 1, w, h[1:])
        alpha = (grams.get(h + (w,), 0) - disc[k][min(grams.get(h + (w,), 0), 3)]) / total
        gamma = sum(disc[k][min(a, 3)] for a in grams.values()) / total
        return alpha + gamma * p(k - 1, w, h[1:])

    w = word if word in vocab else "<unk>"
    h = tuple(x if x in known else "<unk>" for x in context)
    h = ((bos,) * (order - 1) + h)[-(order - 1):] if order > 1 else ()
    return p(order, w, h)


# ----------------------------------------------------------------------------- generators
def _review(rng):
    subj = rng.choice(["the food", "the service", "our waiter", "the pizza", "the staff"])
    adj = rng.choice(["great", "friendly", "terrible", "slow", "amazing", "cold"])
    adv = rng.choice(["very", "really", "so", "quite"])
    return rng.choice([f"{subj} was {adv} {adj} .", f"i think {subj} was {adj} .",
                       f"{subj} is always {adj} here ."])


def _cycle(rng, pattern=("a", "b", "a", "c")):
    start, length = rng.randrange(len(pattern)), rng.randrange(6, 14)
    return " ".join(pattern[(start + i) % len(pattern)] for i in range(length))


# ----------------------------------------------------------------------------- probabilities
def test_discounts_match_chen_goodman_formula():
    # n1=2, n2=1, n3=1, n4=1: Y=1/2, D1=1-2Y*1/2, D2=2-3Y*1/1, D3+=3-4Y*1/1.
    assert _modified_kn_discounts(np.array([1, 1, 2, 3, 4, 9])) == pytest.approx((0.5, 0.5, 1.0))
    # No n-gram of count 2: Y is undefined, so all three fall back, each in (0, r).
    d = _modified_kn_discounts(np.array([1, 1, 3, 5]))
    assert all(0 < x < r for x, r in zip(d, (1, 2, 3)))


def test_unigram_matches_hand_computation():
    # Counts a:1 b:2 c:3 d:4 </s>:1, A=11, |V|=6 (a b c d </s> <unk>); D=(0.5, 0.5, 1.0),
    # gamma = (0.5*2 + 0.5*1 + 1.0*2) / 11 = 3.5/11.
    lm = KneserNeyLM(order=1).fit(["a b b c c c d d d d"])
    assert lm.vocab_size == 6
    assert lm.prob("d") == pytest.approx(3 / 11 + 3.5 / 66)
    assert lm.prob("a") == pytest.approx(0.5 / 11 + 3.5 / 66)
    assert lm.prob("never-seen") == pytest.approx(3.5 / 66) == pytest.approx(lm.prob("<unk>"))


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("context", CONTEXTS)
def test_next_word_distribution_sums_to_one(order, context):
    lm = KneserNeyLM(order=order).fit(CORPUS)
    assert "</s>" in lm.vocab and "<unk>" in lm.vocab and "<s>" not in lm.vocab
    probs = np.array([lm.prob(w, context) for w in lm.vocab])
    assert np.all(probs > 0)
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_matches_reference_recursion(order):
    lm = KneserNeyLM(order=order).fit(CORPUS)
    for context in CONTEXTS:
        for w in lm.vocab + ["zzz"]:
            assert lm.prob(w, context) == pytest.approx(
                reference_prob(CORPUS, order, w, context), rel=1e-12), (w, context)


def test_lower_order_uses_continuation_counts():
    # "francisco" is frequent but follows only "san"; "cat" is rarer but follows three words.
    # After an unseen context the bigram model backs off to continuation counts (Kneser & Ney).
    corpus = ["san francisco"] * 5 + ["a cat", "the cat", "my cat"]
    lm = KneserNeyLM(order=2).fit(corpus)
    assert lm.prob("cat", ("zzz",)) > lm.prob("francisco", ("zzz",))
    raw_unigram = KneserNeyLM(order=1).fit(corpus)   # raw counts say the opposite
    assert raw_unigram.prob("francisco") > raw_unigram.prob("cat")


def test_log_prob_is_sum_of_next_word_probs():
    lm = KneserNeyLM(order=3).fit(CORPUS)
    sentence = "the cat ate a log"
    toks = sentence.split() + ["</s>"]
    expected = sum(math.log(lm.prob(w, tuple(toks[:i]))) for i, w in enumerate(toks))
    assert lm.log_prob(sentence) == pytest.approx(expected, rel=1e-12)
    assert lm.log_prob("") == pytest.approx(math.log(lm.prob("</s>", ())))


def test_perplexity_formula_and_blank_sentence():
    lm = KneserNeyLM(order=2).fit(CORPUS)
    sents = ["the cat sat", "", "a dog"]
    n_tokens = 4 + 1 + 3
    expected = math.exp(-sum(lm.log_prob(s) for s in sents) / n_tokens)
    assert lm.perplexity(sents) == pytest.approx(expected)
    assert lm.perplexity([""]) == pytest.approx(1.0 / lm.prob("</s>", ()))


# ----------------------------------------------------------------------------- behaviour
def test_training_like_sentences_beat_shuffled_ones():
    rng = random.Random(0)
    lm = KneserNeyLM(order=3).fit([_review(rng) for _ in range(400)])
    held_out = [_review(rng) for _ in range(60)]
    shuffled = []
    for s in held_out:
        words = s.split()
        while words == s.split():
            rng.shuffle(words)
        shuffled.append(" ".join(words))
    assert lm.perplexity(held_out) < 0.5 * lm.perplexity(shuffled)


def test_higher_order_is_lower_perplexity_on_repetitive_text():
    # After "a" the next word is b or c (a bigram cannot tell); the word before "a" decides.
    rng = random.Random(1)
    train = [_cycle(rng) for _ in range(300)]
    held_out = [_cycle(rng) for _ in range(50)]
    ppl = [KneserNeyLM(order=n).fit(train).perplexity(held_out) for n in (1, 2, 3)]
    assert ppl[0] > ppl[1] > ppl[2]
    assert ppl[2] < 0.8 * ppl[1]


def test_unknown_words_give_finite_log_prob():
    lm = KneserNeyLM(order=3).fit(CORPUS)
    lp = lm.log_prob("zebra quokka the cat")
    assert math.isfinite(lp) and lp < 0
    assert math.isfinite(lm.perplexity(["zebra quokka", "unseen words only here"]))
    # Unknown words are scored as <unk>.
    assert lm.log_prob("zebra cat") == pytest.approx(lm.log_prob("quokka cat"))


def test_min_freq_maps_rare_words_to_unk():
    lm = KneserNeyLM(order=2, min_freq=2).fit(CORPUS)
    assert "fish" not in lm.vocab and "bone" not in lm.vocab and "cat" in lm.vocab
    assert lm.prob("fish", ("the",)) == pytest.approx(lm.prob("<unk>", ("the",)))
    # "the <unk>" was seen (the fish, the mat), so <unk> is likelier than when nothing is rare.
    assert lm.prob("<unk>", ("the",)) > 3 * KneserNeyLM(order=2).fit(CORPUS).prob("<unk>", ("the",))
    assert lm.log_prob("a fish") == pytest.approx(lm.log_prob("a mat"))  # both <unk>


def test_literal_boundary_tokens_in_text_are_unk():
    lm = KneserNeyLM(order=2).fit(["a <s> b </s> c"])
    assert lm.vocab.count("</s>") == 1 and "<s>" not in lm.vocab
    assert lm.log_prob("a </s>") == pytest.approx(lm.log_prob("a <unk>"))


def test_fit_returns_self_and_order_attribute():
    lm = KneserNeyLM(order=2)
    assert lm.fit(CORPUS) is lm
    assert lm.order == 2 and set(lm.discounts) == {1, 2}


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("bad", [[], "the cat sat", ["ok", 3], ["ok", None]])
def test_fit_rejects_bad_input(bad):
    with pytest.raises(DataValidationError, match=r"KneserNeyLM\.fit: sentences.*;.*got"):
        KneserNeyLM().fit(bad)


def test_bad_item_is_named_by_index():
    with pytest.raises(DataValidationError, match=r"sentences\[1\].*must be a str.*int"):
        KneserNeyLM().fit(["ok", 3])


def test_perplexity_rejects_empty_input():
    lm = KneserNeyLM().fit(CORPUS)
    with pytest.raises(DataValidationError, match="at least one sentence"):
        lm.perplexity([])
    with pytest.raises(DataValidationError, match="must be a str"):
        lm.log_prob(["the cat"])
    with pytest.raises(DataValidationError, match="never predicted"):
        lm.prob("<s>", ())


@pytest.mark.parametrize("call", [
    lambda lm: lm.log_prob("the cat"),
    lambda lm: lm.perplexity(["the cat"]),
    lambda lm: lm.prob("cat", ("the",)),
    lambda lm: lm.vocab_size,
])
def test_not_fitted(call):
    with pytest.raises(NotFittedError, match="fitted first.*Call fit"):
        call(KneserNeyLM())


@pytest.mark.parametrize("kwargs", [{"order": 0}, {"order": -2}, {"order": 2.5}, {"order": True},
                                    {"min_freq": 0}, {"order": "3"}])
def test_bad_config(kwargs):
    with pytest.raises(ConfigError, match=r"KneserNeyLM: (order|min_freq).*int >= 1.*got"):
        KneserNeyLM(**kwargs)
