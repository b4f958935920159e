"""Generic datasets and collate functions that domains reuse.

``ArrayDataset`` holds fixed-width examples (vectors, images, count rows);
``SparseRowDataset`` holds the rows of a scipy sparse matrix (e.g. users x items clicks) and
densifies them per batch; ``SequenceDataset`` holds variable-length token-id lists and pads
them per batch.
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


class SparseRowDataset(torch.utils.data.Dataset):
    """Rows of a scipy sparse matrix, kept sparse and densified one batch at a time.

    A 100,000 x 20,000 click matrix with 1 % density is 80 MB as CSR but 8 GB dense; a batch
    of 500 dense rows is 40 MB. Collate with :func:`collate_sparse_rows`.

    Parameters
    ----------
    x : scipy.sparse matrix ``(N, F)``
        Finite values (e.g. 0/1 clicks or counts).
    y : scipy.sparse matrix ``(N, F_y)``, optional
        Per-row targets kept for evaluation (e.g. a held-out user's items); never fed to the
        model; densified into ``Batch.y``.
    """

    def __init__(self, x, y=None, where: str = "data"):
        # Duck-typed (anything with .tocsr()), so that core does not depend on scipy.
        if not hasattr(x, "tocsr") or len(getattr(x, "shape", ())) != 2:
            raise DataValidationError(f"{where}: x must be a 2-D scipy.sparse matrix (rows = examples); got "
                                      f"{type(x).__name__}. Convert with scipy.sparse.csr_matrix(x).")
        self.x = x.tocsr().astype(np.float32)
        if not np.isfinite(self.x.data).all():
            raise DataValidationError(f"{where}: x has NaN or infinite stored values; clean them first.")
        self.y = None
        if y is not None:
            if not hasattr(y, "tocsr") or y.shape[0] != self.x.shape[0]:
                raise DataValidationError(f"{where}: y must be a scipy.sparse matrix with one row per example "
                                          f"({self.x.shape[0]}); got {type(y).__name__} of shape "
                                          f"{getattr(y, 'shape', None)}.")
            self.y = y.tocsr().astype(np.float32)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @staticmethod
    def _row(m, i: int):
        lo, hi = m.indptr[i], m.indptr[i + 1]
        return m.indices[lo:hi], m.data[lo:hi], m.shape[1]

    def __getitem__(self, i: int):
        return (i, self._row(self.x, i), None if self.y is None else self._row(self.y, i))


def _densify(rows) -> torch.Tensor:
    width = rows[0][2]
    out = np.zeros((len(rows), width), dtype=np.float32)
    for r, (cols, vals, _) in enumerate(rows):
        out[r, cols] = vals
    return torch.from_numpy(out)


def collate_sparse_rows(items: Sequence) -> Batch:
    """Densify :class:`SparseRowDataset` items into a :class:`Batch` (``x`` ``(B, F)``, ``y``
    ``(B, F_y)`` when the dataset has targets)."""
    idx, xs, ys = zip(*items)
    return Batch(x=_densify(xs), y=None if ys[0] is None else _densify(ys),
                 index=torch.as_tensor(idx, dtype=torch.long))


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
