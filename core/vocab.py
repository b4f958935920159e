"""A token vocabulary: tokens <-> integer ids, with the four special tokens every sequence
model in vaekit uses.

Ids ``0..3`` are always ``<pad>``, ``<bos>``, ``<eos>``, ``<unk>`` (the same layout as the
toy sequence data), so a model wired from :class:`~vaekit.core.types.DataInfo` can rely on
them. The vocabulary is domain-free: it maps strings (SMILES tokens, words, ...) and is
stored as a plain list of strings (``to_list`` / ``from_list``) in ``DataInfo.extra``, so a
run directory can rebuild it without pickles.
"""
from __future__ import annotations

from collections import Counter
from typing import Dict, Iterable, List, Sequence

from .errors import DataValidationError

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3


class Vocabulary:
    """Bidirectional map between tokens and ids; ids ``0..3`` are the special tokens.

    Parameters
    ----------
    tokens : sequence of str
        The ordinary tokens, in id order (they get ids ``4, 5, ...``). Must be unique and must
        not contain a special token.

    Examples
    --------
    >>> v = Vocabulary.build([["C", "C", "O"], ["C", "N"]])
    >>> v.encode(["C", "O", "Br"])
    [4, 6, 3, 2]
    >>> v.decode([1, 4, 6, 2, 0])
    ['C', 'O']
    """

    def __init__(self, tokens: Sequence[str] = ()):
        self._itos: List[str] = list(SPECIALS)
        self._stoi: Dict[str, int] = {t: i for i, t in enumerate(SPECIALS)}
        for t in tokens:
            if not isinstance(t, str) or t == "":
                raise DataValidationError(f"Vocabulary: tokens must be non-empty strings; got {t!r}. "
                                          f"Drop empty tokens before building the vocabulary.")
            if t in self._stoi:
                what = "is a special token" if t in SPECIALS else "appears twice"
                raise DataValidationError(f"Vocabulary: every token must be unique and not special; {t!r} {what}. "
                                          f"Pass each ordinary token once (the specials {list(SPECIALS)} are added "
                                          f"automatically).")
            self._stoi[t] = len(self._itos)
            self._itos.append(t)

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(cls, sequences: Iterable[Sequence[str]], min_freq: int = 1) -> "Vocabulary":
        """Vocabulary of the tokens occurring at least ``min_freq`` times in ``sequences``.

        Tokens are ordered by decreasing count, ties alphabetically, so the ids do not depend
        on the order of the data. Special tokens occurring in the data are not counted.

        Parameters
        ----------
        sequences : iterable of sequence of str
            Tokenised examples (e.g. the training split).
        min_freq : int
            Rarer tokens are left out and will encode to ``<unk>``.
        """
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise DataValidationError(f"Vocabulary.build: min_freq must be an integer >= 1; got {min_freq!r}.")
        counts: Counter = Counter()
        for seq in sequences:
            counts.update(seq)
        for s in SPECIALS:
            counts.pop(s, None)
        kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        return cls(kept)

    @classmethod
    def from_list(cls, itos: Sequence[str]) -> "Vocabulary":
        """Rebuild from :meth:`to_list` output (e.g. ``DataInfo.extra["vocab"]``)."""
        itos = list(itos)
        if tuple(itos[: len(SPECIALS)]) != SPECIALS:
            raise DataValidationError(f"Vocabulary.from_list: the list must start with the special tokens "
                                      f"{list(SPECIALS)}; got {itos[: len(SPECIALS)]!r}. Pass the list written by "
                                      f"Vocabulary.to_list().")
        return cls(itos[len(SPECIALS):])

    def to_list(self) -> List[str]:
        """All tokens in id order, specials first (JSON-serialisable)."""
        return list(self._itos)

    # ------------------------------------------------------------------ lookup
    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token: object) -> bool:
        return token in self._stoi

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self._itos == other._itos

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens: {self._itos[len(SPECIALS):len(SPECIALS) + 8]}...)"

    pad_id, bos_id, eos_id, unk_id = PAD_ID, BOS_ID, EOS_ID, UNK_ID

    def token_to_id(self, token: str) -> int:
        """Id of ``token``; ``unk_id`` when it is not in the vocabulary."""
        return self._stoi.get(token, UNK_ID)

    def id_to_token(self, i: int) -> str:
        """Token of id ``i``."""
        if not 0 <= int(i) < len(self._itos):
            raise DataValidationError(f"Vocabulary.id_to_token: id must be in [0, {len(self._itos)}); got {i!r}. "
                                      f"Was the ids' model built with a different vocabulary?")
        return self._itos[int(i)]

    def encode(self, tokens: Sequence[str], add_eos: bool = True) -> List[int]:
        """Token ids of ``tokens``, ``(L,)`` or ``(L + 1,)`` with the final ``<eos>``.

        Unknown tokens map to ``unk_id`` (count them with ``ids.count(vocab.unk_id)``). No
        ``<bos>`` is added: autoregressive decoders prepend it themselves.
        """
        get = self._stoi.get
        ids = [get(t, UNK_ID) for t in tokens]
        if add_eos:
            ids.append(EOS_ID)
        return ids

    def decode(self, ids: Iterable[int]) -> List[str]:
        """Tokens of ``ids`` up to the first ``<eos>`` (excluded); ``<pad>`` and ``<bos>`` skipped.

        Parameters
        ----------
        ids : iterable of int
            One sequence, e.g. a list or a 1-D tensor ``(T,)`` (anything with ``tolist`` is
            converted first).
        """
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        out: List[str] = []
        n = len(self._itos)
        for i in ids:
            i = int(i)
            if i == EOS_ID:
                break
            if i in (PAD_ID, BOS_ID):
                continue
            if not 0 <= i < n:
                raise DataValidationError(f"Vocabulary.decode: id must be in [0, {n}); got {i}. Was the ids' model "
                                          f"built with a different vocabulary?")
            out.append(self._itos[i])
        return out


__all__ = ["Vocabulary", "SPECIALS", "PAD", "BOS", "EOS", "UNK", "PAD_ID", "BOS_ID", "EOS_ID", "UNK_ID"]
