"""A word n-gram language model, fitted apart from the VAE, to score the fluency of text.

The Yelp style-transfer papers report fluency as the perplexity of a system's outputs
under a language model trained on the corpus; :class:`KneserNeyLM` is that judge. It is
interpolated *modified* Kneser-Ney smoothing (Kneser & Ney 1995, "Improved backing-off for
m-gram language modeling", ICASSP; Chen & Goodman 1999, "An empirical study of smoothing
techniques for language modeling", Computer Speech and Language 13, sections 3 and 4.1.6):

.. math::

    p_k(w \\mid h) = \\frac{\\max(a(hw) - D_k(a(hw)), 0)}{\\sum_v a(hv)}
                    + \\gamma_k(h)\\, p_{k-1}(w \\mid h'), \\qquad
    \\gamma_k(h) = \\frac{D_{k,1} N_1(h\\cdot) + D_{k,2} N_2(h\\cdot) + D_{k,3+} N_{3+}(h\\cdot)}
                        {\\sum_v a(hv)},

where ``h'`` drops the oldest word of ``h``, ``a`` is the raw count at the highest order and
the continuation count ``N_{1+}(\\cdot hw)`` (number of distinct words seen before ``hw``) at
the lower orders, and the level below the unigrams is the uniform distribution over the
vocabulary (the kept words, ``<unk>`` and ``</s>``; ``<s>`` is only ever context). A context
never seen at order ``k`` passes ``p_{k-1}`` through unchanged.

Scope: whitespace-tokenised text in, natural-log probabilities and perplexities out; the
corpus readers live in :mod:`.data`, the BLEU and style metrics in :mod:`.metrics`.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Dict, List, Sequence, Tuple

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, NotFittedError, fmt_error

from .tokens import check_sentences

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
_BOS_ID, _EOS_ID, _UNK_ID = 0, 1, 2

# Used where Chen & Goodman's estimate of a discount is undefined (a zero count-of-counts in
# its denominator, common on tiny corpora and at order 1 with min_freq > 1, where no word
# is seen once) or falls outside (0, count) (it equals the count exactly when no n-gram has
# count + 1, a sign of a corpus too small to estimate it). Mid-range values, each strictly
# positive (so every context keeps mass for the lower order and no word gets probability 0)
# and below the count it discounts (so no probability goes negative).
_FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)


def _modified_kn_discounts(counts: np.ndarray) -> Tuple[float, float, float]:
    """Chen & Goodman (1999) eq. 26 discounts ``(D1, D2, D3+)`` from one order's counts.

    Parameters
    ----------
    counts : ndarray of int, shape (n_ngrams,)
        The (raw or continuation) counts of the n-grams of one order, all >= 1.

    Returns
    -------
    tuple of float
        ``Y = n1 / (n1 + 2 n2)``, ``D1 = 1 - 2Y n2/n1``, ``D2 = 2 - 3Y n3/n2``,
        ``D3+ = 3 - 4Y n4/n3`` with ``n_r`` the number of n-grams of count ``r``; an
        undefined estimate, or one outside ``(0, r)``, is replaced by :data:`_FALLBACK_DISCOUNTS`.
    """
    n = np.bincount(np.minimum(counts, 5), minlength=6).astype(float)  # n[r], r = 1..4 used
    if n[1] == 0 or n[2] == 0:
        return _FALLBACK_DISCOUNTS
    y = n[1] / (n[1] + 2.0 * n[2])
    out = []
    for r in (1, 2, 3):
        d = r - (r + 1) * y * n[r + 1] / n[r] if n[r] > 0 else float("nan")
        out.append(d if 0.0 < d < r else _FALLBACK_DISCOUNTS[r - 1])
    return tuple(out)


class KneserNeyLM:
    """Interpolated modified Kneser-Ney word n-gram language model (fluency judge).

    Sentences are split on whitespace, words seen fewer than ``min_freq`` times become
    ``<unk>``, and each sentence is padded with ``order - 1`` ``<s>`` and ends with ``</s>``
    (which is scored). All counts are kept in numpy arrays keyed by integer n-gram ids, so
    fitting is a few sorts over the token stream and scoring is vectorised over sentences.

    Parameters
    ----------
    order : int, default 3
        n of the n-grams (1 = unigram). At least 1.
    min_freq : int, default 1
        Words with fewer training occurrences map to ``<unk>``. At least 1.

    Attributes
    ----------
    order : int
    min_freq : int
    discounts : dict of int -> tuple of float
        After ``fit``: ``(D1, D2, D3+)`` of each order ``1..order``.

    Notes
    -----
    The literal tokens ``<s>`` and ``</s>`` inside a sentence are read as ``<unk>`` (so they
    cannot fake a sentence boundary); a literal ``<unk>`` (PTB) is the ``<unk>`` word.
    Lower-order n-grams that start with ``<s>`` keep their raw counts instead of
    continuation counts, because nothing but padding can precede them (the convention of
    SRILM and KenLM).
    """

    def __init__(self, order: int = 3, min_freq: int = 1) -> None:
        for name, value in (("order", order), ("min_freq", min_freq)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(fmt_error(
                    f"KneserNeyLM: {name}", "must be an int >= 1", value,
                    "Use e.g. order=3 (trigrams), min_freq=1 (keep every word)."))
        self.order = int(order)
        self.min_freq = int(min_freq)
        self.discounts: Dict[int, Tuple[float, float, float]] = {}
        self._words: List[str] = []          # id -> token; ids 0, 1, 2 = <s>, </s>, <unk>
        self._text_index: Dict[str, int] = {}  # token in a sentence -> id (specials -> <unk>)
        self._fitted = False

    # ------------------------------------------------------------------------- vocabulary
    @property
    def vocab_size(self) -> int:
        """Number of words the model predicts: kept words + ``<unk>`` + ``</s>`` (no ``<s>``)."""
        self._check_fitted("KneserNeyLM.vocab_size")
        return len(self._words) - 1

    @property
    def vocab(self) -> List[str]:
        """The predicted words (length ``vocab_size``): ``</s>``, ``<unk>``, then the kept words."""
        self._check_fitted("KneserNeyLM.vocab")
        return self._words[1:]

    def _check_fitted(self, where: str) -> None:
        if not self._fitted:
            raise NotFittedError(fmt_error(
                where, "the language model must be fitted first", None,
                "Call fit(sentences) first."))

    def _stream(self, token_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """Id stream, ``[<s>]*(order-1) + ids + [</s>]`` per sentence; shape (n_positions,)."""
        get = self._text_index.get
        pad = [_BOS_ID] * (self.order - 1)
        out: List[int] = []
        for toks in token_lists:
            out.extend(pad)
            out.extend([get(w, _UNK_ID) for w in toks])
            out.append(_EOS_ID)
        return np.asarray(out, dtype=np.int64)

    # ------------------------------------------------------------------------- fitting
    def fit(self, sentences: Sequence[str]) -> "KneserNeyLM":
        """Count n-grams of ``sentences`` and estimate the smoothed distributions.

        Parameters
        ----------
        sentences : sequence of str, length n_sentences
            Whitespace-tokenised sentences; blank ones contribute just ``</s>``.

        Returns
        -------
        KneserNeyLM
            ``self``.

        Raises
        ------
        DataValidationError
            Empty input, a single string, or a non-string entry.
        """
        sentences = check_sentences(sentences, "KneserNeyLM.fit")
        token_lists = [s.split() for s in sentences]
        freq = Counter(w for toks in token_lists for w in toks)
        kept = sorted((w for w, c in freq.items()
                       if c >= self.min_freq and w not in (BOS, EOS, UNK)),
                      key=lambda w: (-freq[w], w))
        self._words = [BOS, EOS, UNK] + kept
        self._text_index = {w: i for i, w in enumerate(self._words)}
        self._text_index[BOS] = self._text_index[EOS] = _UNK_ID
        n_ids = len(self._words)

        stream = self._stream(token_lists)
        target_pos = np.flatnonzero(stream != _BOS_ID)   # every position that is predicted
        ids = self._gram_ids(stream, fitting=True)

        self._alpha: List[np.ndarray] = [np.zeros(0)]   # [k][gram id]: discounted p_k term
        self._gamma: List[np.ndarray] = [np.zeros(0)]   # [k][context id]: back-off weight
        self._ctx_seen: List[np.ndarray] = [np.zeros(0, dtype=bool)]
        self.discounts = {}
        for k in range(1, self.order + 1):
            g = ids[k][target_pos]                        # k-gram id at each predicted position
            n_grams = len(self._codes[k]) if k > 1 else n_ids
            raw = np.bincount(g, minlength=n_grams)
            if k == self.order:
                adj = raw
            else:
                # Continuation count of a k-gram = number of distinct (k+1)-grams it ends
                # (Kneser & Ney 1995; Chen & Goodman 1999 eq. 20): the suffix of the
                # (k+1)-gram ending at a position is the k-gram ending at that position.
                _, first = np.unique(ids[k + 1][target_pos], return_index=True)
                adj = np.bincount(g[first], minlength=n_grams)
                if k > 1:
                    starts_bos = np.zeros(n_grams, dtype=bool)
                    starts_bos[g[stream[target_pos - k + 1] == _BOS_ID]] = True
                    adj = np.where(starts_bos, raw, adj)
            present = adj > 0
            d = _modified_kn_discounts(adj[present])
            self.discounts[k] = tuple(float(x) for x in d)
            d_table = np.array([0.0, *d])
            disc = d_table[np.minimum(adj, 3)]            # D(a) per gram, 0 where a = 0

            if k == 1:
                ctx = np.zeros(n_grams, dtype=np.int64)
                n_ctx = 1
            else:
                ctx = np.zeros(n_grams, dtype=np.int64)
                ctx[g] = ids[k - 1][target_pos - 1]       # (k-1)-gram before each k-gram
                n_ctx = len(self._codes[k - 1]) if k > 2 else n_ids
            total = np.bincount(ctx[present], weights=adj[present], minlength=n_ctx)
            mass = np.bincount(ctx[present], weights=disc[present], minlength=n_ctx)
            seen = total > 0
            safe_total = np.where(seen, total, 1.0)
            alpha = np.zeros(n_grams)
            alpha[present] = (adj[present] - disc[present]) / safe_total[ctx[present]]
            self._alpha.append(alpha)
            self._gamma.append(np.where(seen, mass / safe_total, 0.0))
            self._ctx_seen.append(seen)
        self._fitted = True
        return self

    def _gram_ids(self, stream: np.ndarray, fitting: bool = False) -> List[np.ndarray]:
        """Id of the k-gram ending at each position, for k = 1..order.

        A k-gram's code is ``id(its first k-1 words) * n_ids + last word``, which stays far
        below 2**63 (ids < n_positions), so n-grams of any order are single int64 keys.

        Parameters
        ----------
        stream : ndarray of int64, shape (n_positions,)
        fitting : bool
            Build the sorted code tables ``self._codes`` (fit) or look codes up in them.

        Returns
        -------
        list of ndarray of int64
            ``ids[k]`` has shape (n_positions,); -1 where the k-gram is unknown (or would
            start before the stream). ``ids[0]`` is unused.
        """
        n_ids = len(self._words)
        ids: List[np.ndarray] = [np.zeros(0, dtype=np.int64), stream]
        if fitting:
            self._codes: List[np.ndarray] = [np.zeros(0, dtype=np.int64)] * 2
        for k in range(2, self.order + 1):
            prev = np.full(len(stream), -1, dtype=np.int64)
            prev[1:] = ids[k - 1][:-1]
            valid = prev >= 0
            code = prev[valid] * n_ids + stream[valid]
            out = np.full(len(stream), -1, dtype=np.int64)
            if fitting:
                codes, inverse = np.unique(code, return_inverse=True)
                self._codes.append(codes)
                out[valid] = inverse.reshape(-1)
            else:
                codes = self._codes[k]
                j = np.minimum(np.searchsorted(codes, code), max(len(codes) - 1, 0))
                found = codes[j] == code if len(codes) else np.zeros(len(code), dtype=bool)
                out[valid] = np.where(found, j, -1)
            ids.append(out)
        return ids

    # ------------------------------------------------------------------------- scoring
    def _position_probs(self, stream: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """``p(stream[i] | the order-1 tokens before it)`` per i in ``positions``; shape (n,)."""
        ids = self._gram_ids(stream)
        p = np.full(len(positions), 1.0 / self.vocab_size)   # level 0: uniform over the vocab
        p = self._alpha[1][stream[positions]] + self._gamma[1][0] * p
        for k in range(2, self.order + 1):
            ctx = ids[k - 1][positions - 1]
            ctx_safe = np.maximum(ctx, 0)
            seen = (ctx >= 0) & self._ctx_seen[k][ctx_safe]
            g = ids[k][positions]
            a = np.where(g >= 0, self._alpha[k][np.maximum(g, 0)], 0.0)
            p = np.where(seen, a + self._gamma[k][ctx_safe] * p, p)
        return p

    def _sentence_log_probs(self, sentences: List[str]) -> Tuple[np.ndarray, np.ndarray]:
        """Natural-log probability and token count (with ``</s>``) per sentence, (n,) each."""
        token_lists = [s.split() for s in sentences]
        stream = self._stream(token_lists)
        positions = np.flatnonzero(stream != _BOS_ID)
        n_tokens = np.array([len(t) + 1 for t in token_lists], dtype=np.int64)
        sentence_of = np.repeat(np.arange(len(sentences)), n_tokens)
        logp = np.bincount(sentence_of, weights=np.log(self._position_probs(stream, positions)),
                           minlength=len(sentences))
        return logp, n_tokens

    def prob(self, word: str, context: Tuple[str, ...] = ()) -> float:
        """Smoothed ``p(word | context)``.

        Parameters
        ----------
        word : str
            A word, ``"</s>"`` or ``"<unk>"``; words outside the vocabulary are ``<unk>``.
        context : tuple of str
            Preceding tokens, oldest first; only the last ``order - 1`` are used, and a
            shorter context is the start of a sentence (left-padded with ``"<s>"``). ``"<s>"``
            and ``"</s>"`` here are the boundary tokens.

        Returns
        -------
        float
            In (0, 1]; sums to 1 over :attr:`vocab` for any fixed context.
        """
        self._check_fitted("KneserNeyLM.prob")
        if not isinstance(word, str) or word == BOS:
            raise DataValidationError(fmt_error(
                "KneserNeyLM.prob: word", "must be a str other than '<s>' (never predicted)",
                word, "Ask for a vocabulary word, '</s>' or '<unk>'."))
        if isinstance(context, str) or not all(isinstance(w, str) for w in context):
            raise DataValidationError(fmt_error(
                "KneserNeyLM.prob: context", "must be a tuple of str tokens", context,
                "Split the history first, e.g. tuple('the food'.split())."))
        index = {w: i for i, w in enumerate(self._words[:3])}  # boundary tokens keep their ids
        lookup = lambda w: index.get(w, self._text_index.get(w, _UNK_ID))  # noqa: E731
        hist = [lookup(w) for w in context][-(self.order - 1):] if self.order > 1 else []
        stream = np.array([_BOS_ID] * (self.order - 1 - len(hist)) + hist + [lookup(word)],
                          dtype=np.int64)
        return float(self._position_probs(stream, np.array([len(stream) - 1]))[0])

    def log_prob(self, sentence: str) -> float:
        """Natural-log probability of ``sentence`` including its ``</s>``.

        Parameters
        ----------
        sentence : str
            Whitespace-tokenised; unknown words score as ``<unk>``, so the result is finite.

        Returns
        -------
        float
            ``sum_i log p(w_i | w_{i-order+1..i-1})`` over the words and ``</s>`` (nats, <= 0).
        """
        self._check_fitted("KneserNeyLM.log_prob")
        if not isinstance(sentence, str):
            raise DataValidationError(fmt_error(
                "KneserNeyLM.log_prob: sentence", "must be a str", type(sentence).__name__,
                "Pass one whitespace-tokenised sentence; use perplexity() for many."))
        return float(self._sentence_log_probs([sentence])[0][0])

    def perplexity(self, sentences: Sequence[str]) -> float:
        """Corpus perplexity ``exp(-sum log p / n_tokens)`` of ``sentences``.

        Parameters
        ----------
        sentences : sequence of str, length n_sentences
            Whitespace-tokenised; a blank sentence is scored as just ``</s>``.

        Returns
        -------
        float
            Perplexity per token, ``</s>`` counted as a token (>= 1; lower is more fluent).
        """
        self._check_fitted("KneserNeyLM.perplexity")
        sentences = check_sentences(sentences, "KneserNeyLM.perplexity")
        logp, n_tokens = self._sentence_log_probs(sentences)
        return float(math.exp(-logp.sum() / n_tokens.sum()))


__all__ = ["KneserNeyLM"]
