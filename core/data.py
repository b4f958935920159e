"""Generic datasets and collate functions that domains reuse.

``ArrayDataset`` holds fixed-width examples (vectors, images, count rows);
``SequenceDataset`` holds variable-length token-id lists and pads them per batch.
"""
from __future__ import annotations

from typing import List, Sequence

import numpy as np
import torch

from .errors import DataValidationError
from .types import Batch


class ArrayDataset(torch.utils.data.Dataset):
    """Fixed-shape examples ``x`` with optional ``cond`` and ``y``.

    Parameters
    ----------
    x : array-like ``(N, ...)``
    cond : array-like ``(N, cond_dim)`` float or ``(N,)`` int, optional
    y : array-like ``(N, ...)``, optional
        Labels/properties kept for evaluation; never fed to the model.
    """

    def __init__(self, x, cond=None, y=None, where: str = "data"):
        self.x = torch.as_tensor(np.asarray(x), dtype=torch.float32)
        if self.x.dim() < 2:
            raise DataValidationError(f"{where}: x must be (N, ...) with one row per example; got shape "
                                      f"{tuple(self.x.shape)}. Reshape single features to (N, 1).")
        if not torch.isfinite(self.x).all():
            bad = int((~torch.isfinite(self.x)).any(dim=tuple(range(1, self.x.dim()))).sum())
            raise DataValidationError(f"{where}: x has NaN or infinite values in {bad} rows; impute or drop them "
                                      f"before training.")
        self.cond = None if cond is None else _as_cond(cond, where)
        self.y = None if y is None else torch.as_tensor(np.asarray(y))
        _check_rows(self.x.shape[0], self.cond, self.y, where)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __getitem__(self, i: int):
        return (i, self.x[i], None if self.cond is None else self.cond[i], None if self.y is None else self.y[i])


def _as_cond(cond, where: str) -> torch.Tensor:
    """Class ids (1-D integers) -> long; anything else -> float32, which must be finite."""
    arr = np.asarray(cond)
    if np.issubdtype(arr.dtype, np.integer) and arr.ndim == 1:
        return torch.as_tensor(arr, dtype=torch.long)
    t = torch.as_tensor(arr, dtype=torch.float32)
    if not torch.isfinite(t).all():
        bad = int((~torch.isfinite(t)).reshape(t.shape[0], -1).any(1).sum()) if t.dim() else 1
        raise DataValidationError(f"{where}: cond has NaN or infinite values in {bad} rows; impute or drop them "
                                  f"before training.")
    return t


def _check_rows(n: int, cond, y, where: str) -> None:
    for name, t in (("cond", cond), ("y", y)):
        if t is not None and (t.dim() == 0 or t.shape[0] != n):
            got = "a scalar" if t.dim() == 0 else f"{t.shape[0]} rows"
            raise DataValidationError(f"{where}: {name} has {got} but there are {n} examples; give one row per "
                                      f"example.")


def collate_arrays(items: Sequence) -> Batch:
    """Stack :class:`ArrayDataset` items into a :class:`Batch`."""
    idx, xs, cs, ys = zip(*items)
    return Batch(x=torch.stack(xs), cond=None if cs[0] is None else torch.stack(cs),
                 y=None if ys[0] is None else torch.stack(ys), index=torch.as_tensor(idx, dtype=torch.long))


class SequenceDataset(torch.utils.data.Dataset):
    """Variable-length token-id sequences (each already ending with ``<eos>``)."""

    def __init__(self, seqs: Sequence[Sequence[int]], cond=None, y=None, where: str = "data"):
        self.seqs: List[torch.Tensor] = [torch.as_tensor(s, dtype=torch.long) for s in seqs]
        if any(len(s) == 0 for s in self.seqs):
            raise DataValidationError(f"{where}: empty sequences are not allowed (each needs at least <eos>).")
        self.cond = None if cond is None else _as_cond(cond, where)
        self.y = None if y is None else torch.as_tensor(np.asarray(y))
        _check_rows(len(self.seqs), self.cond, self.y, where)

    def __len__(self) -> int:
        return len(self.seqs)

    @property
    def lengths(self) -> List[int]:
        """Tokens per sequence (for length bucketing, ``train.length_buckets``)."""
        return [len(s) for s in self.seqs]

    def __getitem__(self, i: int):
        return (i, self.seqs[i], None if self.cond is None else self.cond[i], None if self.y is None else self.y[i])


class PadCollate:
    """Pad token sequences to the longest in the batch; the mask marks real tokens."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, items: Sequence) -> Batch:
        idx, seqs, cs, ys = zip(*items)
        t = max(len(s) for s in seqs)
        x = torch.full((len(seqs), t), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), t), dtype=torch.bool)
        for i, s in enumerate(seqs):
            x[i, : len(s)] = s
            mask[i, : len(s)] = True
        return Batch(x=x, mask=mask, cond=None if cs[0] is None else torch.stack(cs),
                     y=None if ys[0] is None else torch.stack(ys), index=torch.as_tensor(idx, dtype=torch.long))
