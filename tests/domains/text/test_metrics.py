"""Tests for vaekit.domains.text.metrics (BLEU wrappers, style classifier, copy baseline)."""
import pytest
import sacrebleu

from vaekit.core.errors import DataValidationError, NotFittedError
from vaekit.domains.text.metrics import (
    StyleClassifier, copy_baseline, normalise_text, ref_bleu, self_bleu, transfer_accuracy)

OUT = ["the food was great and the staff friendly .", "i will never come back here ."]
REF = ["the food was great and the staff was friendly .", "i will definitely come back here !"]
REF2 = ["food was great , staff friendly .", "i would never return here ."]

POS = ["great food", "great service", "love it", "love the staff", "great place", "love this"]
NEG = ["awful food", "awful service", "hate it", "hate the staff", "awful place", "hate this"]


def test_ref_bleu_matches_sacrebleu():
    assert ref_bleu(OUT, REF) == pytest.approx(sacrebleu.corpus_bleu(OUT, [REF]).score)
    assert 0 < ref_bleu(OUT, REF) < 100


def test_multi_reference():
    many = [[a, b] for a, b in zip(REF, REF2)]
    expected = sacrebleu.corpus_bleu(OUT, [REF, REF2]).score
    assert ref_bleu(OUT, many) == pytest.approx(expected)
    assert ref_bleu(OUT, many) >= ref_bleu(OUT, REF)


def test_self_bleu():
    assert self_bleu(OUT, OUT) == pytest.approx(100.0)
    assert self_bleu(OUT, REF) == pytest.approx(ref_bleu(OUT, REF))
    assert self_bleu(copy_baseline(REF), REF) == pytest.approx(100.0)


@pytest.mark.parametrize("fn", [ref_bleu, self_bleu])
def test_length_mismatch_names_both(fn):
    with pytest.raises(DataValidationError, match=r"2 outputs.*1 (references|sources)"):
        fn(OUT, REF[:1])


@pytest.mark.parametrize("bad", [([], []), ("a string", ["x"])])
def test_empty_or_string_input(bad):
    with pytest.raises(DataValidationError):
        ref_bleu(*bad)
    with pytest.raises(DataValidationError):
        self_bleu(*bad)


def test_ragged_or_mixed_references():
    with pytest.raises(DataValidationError, match="same"):
        ref_bleu(OUT, [[REF[0], REF2[0]], [REF[1]]])
    with pytest.raises(DataValidationError, match="not mixed"):
        ref_bleu(OUT, [REF[0], [REF[1]]])


def test_classifier_separable_toy_and_transfer_accuracy():
    clf = StyleClassifier().fit(POS + NEG, [1] * 6 + [0] * 6)
    assert clf.accuracy(POS + NEG, [1] * 6 + [0] * 6) == 100.0
    assert list(clf.predict(["great", "hate"])) == [1, 0]
    # 3 outputs meant to be positive: 2 are, 1 is not -> 66.67 %.
    outs = ["great food", "love the place", "awful food"]
    assert transfer_accuracy(clf, outs, [1, 1, 1]) == pytest.approx(200 / 3)
    assert transfer_accuracy(clf, outs, [1, 1, 0]) == 100.0


def test_classifier_deterministic():
    sents, labels = POS + NEG + ["great awful", "love hate"], [1] * 6 + [0] * 6 + [1, 0]
    a = StyleClassifier().fit(sents, labels)
    b = StyleClassifier().fit(sents, labels)
    probe = ["great awful food", "hate love", "the staff", "great hate"]
    assert list(a.predict(probe)) == list(b.predict(probe))
    assert (a._pipeline[-1].coef_ == b._pipeline[-1].coef_).all()


def test_classifier_errors():
    with pytest.raises(NotFittedError):
        StyleClassifier().predict(["x"])
    with pytest.raises(DataValidationError, match="two styles"):
        StyleClassifier().fit(POS, [1] * 6)
    with pytest.raises(DataValidationError, match="one label per sentence"):
        StyleClassifier().fit(POS, [1, 0])


def test_copy_baseline_returns_sources():
    out = copy_baseline(OUT)
    assert out == OUT and out is not OUT


def test_normalise_text():
    assert normalise_text("It didn't taste, it's BAD.") == "it did n't taste, it 's bad."
    assert normalise_text("You're   I'm we've") == "you 're i 'm we 've"
