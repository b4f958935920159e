"""Text as model input: checked sentence lists, whitespace tokens, the word vocabulary and ids.

The files are pre-tokenised, so :func:`tokenize` splits on whitespace. :func:`encode_sentences`
maps tokens to ids without ``<bos>``/``<eos>`` (the model adds them); the literal token
``<unk>`` (PTB) is the vocabulary's ``<unk>`` id. Long sentences are truncated with a count and
one warning (or rejected); labels outside the allowed ones are an error naming them with their
counts (:func:`check_labels`).
"""
from __future__ import annotations

import warnings
from typing import Iterable, List, Optional, Sequence

from vaekit.core.errors import ConfigError, DataValidationError, fmt_error
from vaekit.core.registry import did_you_mean
from vaekit.core.vocab import BOS, EOS, PAD, SPECIALS, UNK, Vocabulary

from ..io import N_SHOWN, show

ON_LONG = ("truncate", "error")

def check_sentences(items: Sequence[str], where: str, name: str = "sentences", allow_empty: bool = False) -> List[str]:
    """``items`` as a list of ``str`` (non-empty unless ``allow_empty``), or a
    :class:`DataValidationError` naming the offending argument (or item index), the rule and the fix."""
    if isinstance(items, str):
        raise DataValidationError(fmt_error(f"{where}: {name}", "must be a sequence of sentences, not one string",
                                            items[:40], f"Wrap it in a list: [{name}]."))
    try:
        items = list(items)
    except TypeError:
        raise DataValidationError(fmt_error(f"{where}: {name}", "must be a sequence of str", type(items).__name__,
                                            "Pass a list of sentences.")) from None
    if not items and not allow_empty:
        raise DataValidationError(fmt_error(f"{where}: {name}", "must hold at least one sentence", items,
                                            "Pass the sentences."))
    for i, s in enumerate(items):
        if not isinstance(s, str):
            raise DataValidationError(fmt_error(f"{where}: {name}[{i}]", "must be a str", type(s).__name__,
                                                "Decode token ids to text first."))
    return items


# ====================================================================== tokens
def tokenize(sentence: str, lowercase: bool = False) -> List[str]:
    """Whitespace tokens of a pre-tokenised sentence.

    Parameters
    ----------
    sentence : str
        One sentence, tokens separated by whitespace (Yelp and PTB are pre-tokenised).
    lowercase : bool
        Lower-case the tokens (``<UNK>`` becomes the special ``<unk>``).

    Returns
    -------
    list of str
        The tokens, ``(L,)``; empty for a blank sentence.
    """
    if not isinstance(sentence, str):
        raise DataValidationError(fmt_error("tokenize", "sentence must be a str", type(sentence).__name__,
                                            "Pass one sentence as a string."))
    return (sentence.lower() if lowercase else sentence).split()

def _short(v: object, n: int = 80) -> object:
    """A label as shown in a message: strings cut to their first ``n`` characters."""
    return v[:n] + "..." if isinstance(v, str) and len(v) > n else v


def label_counts(labels: Iterable[object], outside: Iterable[object] = ()) -> dict:
    """``{value: count}`` of the labels not in ``outside``, in first-seen order."""
    skip = set(outside)
    counts: dict = {}
    for v in labels:
        if v not in skip:
            counts[v] = counts.get(v, 0) + 1
    return counts


def shown_counts(counts: dict) -> str:
    """The first few ``{value: count}`` of ``counts`` (values cut to 80 characters), with the total when more."""
    keys = sorted(counts, key=repr)
    shown = {_short(k): counts[k] for k in keys[:N_SHOWN]}
    more = f" ({len(counts)} values in all)" if len(counts) > N_SHOWN else ""
    return f"{shown}{more}"


def check_labels(labels: Iterable[object], allowed: Iterable[object], where: str = "check_labels",
                 source: Optional[str] = None, fix: Optional[str] = None) -> None:
    """Fail on label values outside ``allowed``.

    Parameters
    ----------
    labels : iterable
        The labels read (e.g. from :func:`read_labelled`).
    allowed : iterable
        The permitted values (compared as given: ``"0"`` is not ``0``).
    where : str
        Where the labels come from, for the message.
    source : str, optional
        Where ``allowed`` comes from (e.g. ``"data.labels"``), added to the rule.
    fix : str, optional
        The advice of the message (default: fix the rows or widen the allowed labels).

    Raises
    ------
    DataValidationError
        Naming the unknown values (with their counts, the first few) and the allowed set.
    """
    allowed_list = sorted(set(allowed), key=repr)
    counts = label_counts(labels, allowed_list)
    if counts:
        src = f" ({source})" if source else ""
        raise DataValidationError(fmt_error(where, f"labels must be in {show([_short(v) for v in allowed_list], 20)}{src}",
                                            f"unknown value(s) with counts {shown_counts(counts)}",
                                            fix or "Fix or remove those rows, or widen the allowed labels."))


# ====================================================================== vocabulary and ids
def build_vocab(sentences: Iterable[str], min_freq: int = 1, max_size: Optional[int] = None,
                lowercase: bool = False) -> Vocabulary:
    """Vocabulary of the whitespace tokens of ``sentences``, most frequent first.

    Parameters
    ----------
    sentences : iterable of str
        Usually the training split only.
    min_freq : int
        Tokens seen fewer times are left out (they encode to ``<unk>``).
    max_size : int, optional
        Keep only the ``max_size`` most frequent ordinary tokens (the four specials come on
        top, so ``len(vocab) <= max_size + 4``); ties are broken alphabetically as in
        :meth:`Vocabulary.build`.
    lowercase : bool
        Lower-case before counting (pass the same to :func:`encode_sentences`).

    Returns
    -------
    Vocabulary
        Special tokens in the data (e.g. PTB's ``<unk>``) are not counted.
    """
    if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1):
        raise ConfigError(fmt_error("build_vocab", "max_size must be None or an integer >= 1", max_size,
                                    "Pass e.g. max_size=10000."))
    vocab = Vocabulary.build((tokenize(s, lowercase) for s in sentences), min_freq=min_freq)
    if max_size is not None and len(vocab) - len(SPECIALS) > max_size:
        vocab = Vocabulary(vocab.to_list()[len(SPECIALS):len(SPECIALS) + max_size])
    return vocab


def encode_sentences(sentences: Sequence[str], vocab: Vocabulary, max_len: int, on_long: str = "truncate",
                     where: str = "encode_sentences", lowercase: bool = False) -> List[List[int]]:
    """Token ids of each sentence, without ``<bos>``/``<eos>`` (the model adds them).

    Unknown words and the literal ``<unk>`` map to ``vocab.unk_id``; the literals ``<pad>``,
    ``<bos>`` and ``<eos>`` in the text also map to ``<unk>`` (counted in one warning) so
    they cannot act as control ids.

    Parameters
    ----------
    sentences : sequence of str
        Pre-tokenised sentences.
    vocab : Vocabulary
        From :func:`build_vocab`.
    max_len : int
        Most tokens per sentence (not counting the ``<bos>``/``<eos>`` the model adds).
    on_long : {"truncate", "error"}
        Longer sentences are cut to ``max_len`` tokens (one warning with the count) or
        rejected (the first offending line and its length are named).
    where : str
        Where the sentences come from (e.g. the file), for messages.
    lowercase : bool
        Lower-case before lookup (as for :func:`build_vocab`).

    Returns
    -------
    list of list of int
        One list of ids per sentence, each of length ``<= max_len``.
    """
    if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1:
        raise ConfigError(fmt_error(where, "max_len must be an integer >= 1", max_len, "Pass e.g. max_len=50."))
    if on_long not in ON_LONG:
        raise ConfigError(fmt_error(where, f"on_long must be one of {list(ON_LONG)}", on_long,
                                    f"Pass on_long='truncate' or 'error'.{did_you_mean(str(on_long), ON_LONG)}"))
    if not isinstance(vocab, Vocabulary):
        raise ConfigError(fmt_error(where, "vocab must be a Vocabulary", type(vocab).__name__,
                                    "Build it with build_vocab(train_sentences)."))
    control = {PAD, BOS, EOS}
    out: List[List[int]] = []
    n_long = 0
    n_control = 0
    longest = 0
    for i, s in enumerate(sentences):
        toks = tokenize(s, lowercase)
        if len(toks) > max_len:
            if on_long == "error":
                raise DataValidationError(fmt_error(f"{where}, line {i + 1}",
                                                    f"sentences must have at most max_len={max_len} tokens",
                                                    f"{len(toks)} tokens",
                                                    "Raise max_len, or pass on_long='truncate'."))
            n_long += 1
            longest = max(longest, len(toks))
            toks = toks[:max_len]
        ids = vocab.encode(toks, add_eos=False)
        for j, t in enumerate(toks):
            if t in control:
                ids[j] = vocab.unk_id
                n_control += 1
        out.append(ids)
    if n_long:
        warnings.warn(f"{where}: truncated {n_long} of {len(out)} sentence(s) longer than max_len={max_len} tokens "
                      f"(longest {longest}).", stacklevel=2)
    if n_control:
        warnings.warn(f"{where}: mapped {n_control} literal {sorted(control)} token(s) to {UNK}.", stacklevel=2)
    return out


__all__ = ["ON_LONG", "check_sentences", "tokenize", "check_labels", "label_counts", "shown_counts", "build_vocab", "encode_sentences"]
