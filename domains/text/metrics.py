"""Automatic metrics for text style transfer, as the Yelp sentiment-transfer papers report them.

The standard evaluation (Shen et al. 2017; Li et al. 2018, "Delete, Retrieve, Generate") scores
a system's rewrites of test sentences on three axes:

* style: :func:`transfer_accuracy`, the percentage of outputs that a separately trained
  :class:`StyleClassifier` (TF-IDF word 1-2 grams + logistic regression, *not* the model's
  own discriminator) assigns to the target style;
* content, against people: :func:`ref_bleu`, corpus BLEU (0-100) of the outputs against one
  or more human rewrites;
* content, against the input: :func:`self_bleu`, corpus BLEU of the outputs against their
  sources (100 for a system that copies its input).

:func:`copy_baseline` is the copy-the-input system; every report includes its row, because
it fixes the scale: it has the highest self-BLEU, a high ref-BLEU (human rewrites keep most
words), and a transfer accuracy near the classifier's error rate.

BLEU is sacrebleu's ``corpus_bleu`` with its defaults (13a tokenisation, case-sensitive,
exponential smoothing), so numbers are comparable with any sacrebleu report but *not* with
papers that used ``multi-bleu.perl`` on pre-tokenised text. Case and tokenisation matter:
the Yelp data of Shen et al. are lower-cased and PTB-tokenised (``it 's``, ``did n't``)
while Li et al.'s human references are raw text (``It's``, ``didn't``); 13a does not split
apostrophes, so bring both sides to one form first, e.g. with :func:`normalise_text`.
"""
from __future__ import annotations

import re
from typing import List, Sequence, Union

import numpy as np

from vaekit.core.errors import DataValidationError, NotFittedError, fmt_error, require

from .tokens import check_sentences

References = Union[Sequence[str], Sequence[Sequence[str]]]

# PTB-style clitics, split off as in the Yelp data of Shen et al. 2017 ("did n't", "it 's").
_NT = re.compile(r"(\w)n't\b")
_CLITIC = re.compile(r"(\w)'(s|m|re|ve|ll|d)\b")


# ----------------------------------------------------------------------------- input checks
def _reference_streams(references: References, n_outputs: int, where: str) -> List[List[str]]:
    """References as sacrebleu's streams: ``streams[j][i]`` = j-th reference of output ``i``.

    A flat list of strings is one reference per output; a list of lists gives each output
    its own references (all outputs must have the same number of them).
    """
    if isinstance(references, str):
        raise DataValidationError(fmt_error(
            f"{where}: references", "must be a sequence of sentences, not one string",
            references[:40], "Wrap it in a list."))
    refs = list(references)
    if len(refs) != n_outputs:
        raise DataValidationError(fmt_error(
            f"{where}: references", f"must have one entry per output ({n_outputs} outputs)",
            f"{len(refs)} references", "Pass the references in the order of the outputs."))
    if all(isinstance(r, str) for r in refs):
        return [refs]
    per_output = []
    for i, r in enumerate(refs):
        if isinstance(r, str) or not all(isinstance(s, str) for s in r):
            raise DataValidationError(fmt_error(
                f"{where}: references[{i}]",
                "must be a str (one reference each) or a list of str (several each), not mixed",
                r, "Use the same form for every output."))
        per_output.append(list(r))
    n_refs = {len(r) for r in per_output}
    if len(n_refs) != 1 or 0 in n_refs:
        raise DataValidationError(fmt_error(
            f"{where}: references", "every output must have the same, nonzero number of references",
            sorted(n_refs), "Pad or trim the reference lists to one common length."))
    return [list(stream) for stream in zip(*per_output)]


# ----------------------------------------------------------------------------- BLEU
def ref_bleu(outputs: Sequence[str], references: References) -> float:
    """Corpus BLEU (0-100) of ``outputs`` against ``references``, sacrebleu defaults.

    Parameters
    ----------
    outputs : sequence of str, length n
        System outputs, one sentence each.
    references : sequence of str (length n) or sequence of sequences of str (n x r)
        One reference per output, or ``r`` references per output (same ``r`` for all).

    Returns
    -------
    float
        ``sacrebleu.corpus_bleu(outputs, streams).score`` (13a tokenisation, case-sensitive).

    Raises
    ------
    DataValidationError
        Empty input, a length mismatch, or non-string entries.
    """
    where = "ref_bleu"
    outputs = check_sentences(outputs, where, "outputs")
    streams = _reference_streams(references, len(outputs), where)
    sacrebleu = require("sacrebleu", "text")
    # force=True only silences sacrebleu's "forgot to detokenize?" warning (the Yelp data are
    # tokenised on purpose); the score is the same.
    return float(sacrebleu.corpus_bleu(outputs, streams, force=True).score)


def self_bleu(outputs: Sequence[str], sources: Sequence[str]) -> float:
    """Corpus BLEU (0-100) of ``outputs`` against their ``sources`` (how much is copied).

    Parameters
    ----------
    outputs : sequence of str, length n
    sources : sequence of str, length n
        The inputs the outputs were rewritten from, as the single reference.

    Returns
    -------
    float
        100 when every output equals its source.
    """
    sources = check_sentences(sources, "self_bleu", "sources")
    outputs = check_sentences(outputs, "self_bleu", "outputs")
    if len(outputs) != len(sources):
        raise DataValidationError(fmt_error(
            "self_bleu: sources", f"must have one entry per output ({len(outputs)} outputs)",
            f"{len(sources)} sources", "Pass the sources in the order of the outputs."))
    return ref_bleu(outputs, sources)


def normalise_text(text: str) -> str:
    """Lower-case and split English clitics PTB-style, like the Yelp data of Shen et al.

    ``"It didn't taste, it's bad."`` -> ``"it did n't taste, it 's bad."``. Punctuation is
    left to sacrebleu's 13a tokeniser, which splits it but not apostrophes.
    """
    text = text.lower().replace("\u2019", "'")
    text = _NT.sub(r"\1 n't", text)
    text = _CLITIC.sub(r"\1 '\2", text)
    return " ".join(text.split())


# ----------------------------------------------------------------------------- style
class StyleClassifier:
    """TF-IDF (word 1-2 grams, sublinear tf) + logistic regression style classifier.

    The external judge of transfer accuracy (never the model's own discriminator).
    Deterministic: lbfgs on a fixed feature matrix has no randomness.

    Parameters
    ----------
    C : float, default 1.0
        Inverse L2 strength of the logistic regression.
    max_iter : int, default 2000
        lbfgs iterations; large enough to converge on Yelp-sized corpora.
    min_df : int, default 1
        Minimum document frequency of an n-gram.
    """

    def __init__(self, C: float = 1.0, max_iter: int = 2000, min_df: int = 1) -> None:
        self.C = C
        self.max_iter = max_iter
        self.min_df = min_df
        self._pipeline = None

    def fit(self, sentences: Sequence[str], labels: Sequence[int]) -> "StyleClassifier":
        """Fit on ``sentences`` (n,) with style ``labels`` (n,) (any hashable labels, >= 2 kinds)."""
        sentences, labels = self._check(sentences, labels, "StyleClassifier.fit")
        if len(set(labels.tolist())) < 2:
            raise DataValidationError(fmt_error(
                "StyleClassifier.fit: labels", "must contain at least two styles",
                sorted(set(labels.tolist())), "Pass sentences of every style."))
        require("sklearn", "text")
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        self._pipeline = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=self.min_df),
            LogisticRegression(C=self.C, max_iter=self.max_iter),
        )
        self._pipeline.fit(sentences, labels)
        return self

    def predict(self, sentences: Sequence[str]) -> np.ndarray:
        """Predicted style of each sentence, shape ``(n,)``."""
        if self._pipeline is None:
            raise NotFittedError(fmt_error(
                "StyleClassifier.predict", "the classifier must be fitted first", None,
                "Call fit(sentences, labels) first."))
        sentences = check_sentences(sentences, "StyleClassifier.predict", "sentences")
        return self._pipeline.predict(sentences)

    def accuracy(self, sentences: Sequence[str], labels: Sequence[int]) -> float:
        """Percentage (0-100) of ``sentences`` whose predicted style equals ``labels``."""
        sentences, labels = self._check(sentences, labels, "StyleClassifier.accuracy")
        return float(100.0 * np.mean(self.predict(sentences) == labels))

    @staticmethod
    def _check(sentences, labels, where):
        sentences = check_sentences(sentences, where, "sentences")
        labels = np.asarray(list(labels))
        if labels.ndim != 1 or len(labels) != len(sentences):
            raise DataValidationError(fmt_error(
                f"{where}: labels", f"must have one label per sentence ({len(sentences)} sentences)",
                f"shape {labels.shape}", "Pass a flat list of labels in sentence order."))
        return sentences, labels


def transfer_accuracy(classifier: StyleClassifier, outputs: Sequence[str],
                      target_labels: Sequence[int]) -> float:
    """Percentage (0-100) of ``outputs`` that ``classifier`` assigns to their target style.

    Parameters
    ----------
    classifier : StyleClassifier
        Fitted on held-out text of both styles.
    outputs : sequence of str, length n
    target_labels : sequence, length n
        The style each output should have (for sentiment flipping: ``1 - source_label``).
    """
    return classifier.accuracy(outputs, target_labels)


def copy_baseline(sources: Sequence[str]) -> List[str]:
    """The copy-the-input system: returns the sources unchanged (as a new list).

    Every style-transfer report includes its row: self-BLEU 100, ref-BLEU = how much the
    human rewrites keep, transfer accuracy = roughly the classifier's error rate.
    """
    return list(check_sentences(sources, "copy_baseline", "sources"))


__all__ = ["ref_bleu", "self_bleu", "normalise_text", "StyleClassifier", "transfer_accuracy",
           "copy_baseline"]
