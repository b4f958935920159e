"""Top-k ranking metrics for implicit-feedback recommendation, as the VAE-CF papers report them.

Every metric ranks a dense block of ``scores`` ``(n_users, n_items)`` (higher = recommend
first; a numpy array or a torch tensor) and compares the top ``k`` items of each user with
a sparse ``heldout`` matrix of the same shape (scipy sparse, or dense; any stored nonzero
value counts as relevant, so counts or ratings are binarised, and explicitly stored zeros
are not relevant). ``exclude`` (same shape) names items to drop from the ranking first: the
fold-in / training items a user already has, which the papers set to ``-inf`` before ranking.

* :func:`mask_seen`: a copy of ``scores`` with the excluded items at ``-inf``.
* :func:`top_k`: the ``k`` best items of each user, best first; ties go to the lower item
  index, so results do not depend on the sort algorithm.
* :func:`recall_at_k`: hits in the top ``k`` divided by ``min(k, |heldout_u|)``
  (``denominator="truncated"``, Liang et al. 2018, ``Recall_at_k_batch`` in the Mult-VAE
  notebook ``VAE_ML20M_WWW2018.ipynb`` of github.com/dawenl/vae_cf) or by ``|heldout_u|``
  (``denominator="full"``, the Recall of DiffRec, Wang et al. SIGIR 2023,
  ``computeTopNAccuracy`` in ``DiffRec/evaluate_utils.py`` of github.com/YiyanXu/DiffRec).
* :func:`precision_at_k`: hits / ``k`` (DiffRec's Precision).
* :func:`ndcg_at_k`: binary-relevance NDCG, ``DCG = sum_{i<k} rel_i / log2(i + 2)`` over the
  ranked list and ``IDCG`` the same sum over ``min(k, |heldout_u|)`` ones. Liang's
  ``NDCG_binary_at_k_batch`` and DiffRec's ``computeTopNAccuracy`` agree on this.
* :func:`coverage_at_k`: the share of the catalogue that is in at least one user's top ``k``.
* :func:`ranking_report`: all of them for several ``k`` in one dict.

Users without held-out items have no recall or NDCG: they are left out of the mean, with a
warning that counts them, and are NaN in the ``per_user=True`` arrays. (Liang's functions give
NaN for them, which his protocol never meets; DiffRec skips them in the sum but divides by
all users, which lowers the mean: see the function notes.) To evaluate more users than fit
in memory at once, score them in blocks, call the metric with ``per_user=True`` on each
block and take ``numpy.nanmean`` of the concatenated values: a mean of block means would
weigh blocks, not users, equally.

Memory: the functions read ``scores`` in row chunks of about ``2**22`` entries, so the
temporaries of ranking stay small whatever the block size (10,000 users x 20,000 items is
fine); only :func:`mask_seen` copies the whole block. The ranking itself is vectorised with
numpy (``numpy.partition`` for the k-th best score, then a sort of the ``k`` survivors);
membership in ``heldout`` is a ``searchsorted`` on the sorted (user, item) keys of the
sparse matrix.
"""
from __future__ import annotations

import warnings
from typing import Any, Dict, Iterable, Optional, Tuple

import numpy as np
import torch

from vaekit.core.errors import ConfigError, DataValidationError, fmt_error, require

# Entries of `scores` ranked per chunk; bounds the temporaries of `_top_k_block`
# (a float copy, two bool masks and an int32 cumsum of this many entries).
_CHUNK_ENTRIES = 1 << 22

_DENOMINATORS = ("truncated", "full")


# ----------------------------------------------------------------------------- input checks
def _sparse():
    return require("scipy.sparse", "recsys")


def _to_numpy(x: Any) -> Any:
    """Torch tensors (dense or sparse, any device) -> numpy; anything else unchanged."""
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.layout != torch.strided:
            x = x.to_dense()
        if x.dtype in (torch.bfloat16, torch.float16):
            x = x.float()
        return x.cpu().numpy()
    return x


def _check_scores(scores: Any, where: str) -> np.ndarray:
    """``scores`` as a 2-D real float array (no copy when it already is one)."""
    arr = np.asarray(_to_numpy(scores))
    if arr.ndim != 2:
        raise DataValidationError(fmt_error(
            f"{where}: scores", "must be 2-D (n_users, n_items)", f"shape {arr.shape}",
            "Pass one row per user; for a single user use scores.reshape(1, -1)."))
    if arr.dtype.kind not in "iufb":
        raise DataValidationError(fmt_error(f"{where}: scores", "must be real numbers", f"dtype {arr.dtype}",
                                            "Pass the model's numeric item scores (logits or probabilities)."))
    if arr.shape[1] == 0:
        raise DataValidationError(fmt_error(f"{where}: scores", "must have at least one item column",
                                            f"shape {arr.shape}", "Score a non-empty catalogue."))
    if arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    elif arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    return arr


def _check_k(k: Any, n_items: int, where: str) -> int:
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n_items:
        raise ConfigError(fmt_error(
            f"{where}: k", f"must be an integer in 1..n_items = 1..{n_items} (the catalogue scored)", k,
            "Use a smaller cut-off (k=20, 50 and 100 are the usual ones) or score more items."))
    return int(k)


def _check_ks(ks: Any, n_items: int, where: str) -> Tuple[int, ...]:
    if isinstance(ks, (int, np.integer)) and not isinstance(ks, (bool, np.bool_)):
        ks = (ks,)
    try:
        ks = tuple(ks)
    except TypeError:
        ks = None
    if not ks:
        raise ConfigError(fmt_error(f"{where}: ks", "must be a non-empty sequence of cut-offs", ks,
                                    "Use e.g. ks=(20, 50, 100)."))
    return tuple(sorted({_check_k(k, n_items, f"{where}: ks") for k in ks}))


def _binary_csr(x: Any, shape: Tuple[int, int], where: str, name: str):
    """``x`` (scipy sparse, dense array or torch tensor) as a canonical binary CSR matrix.

    Canonical: sorted indices, no duplicates, no stored zeros, every stored value 1. Any
    stored nonzero (a count, a rating, a negative value) counts as relevant.
    """
    sp = _sparse()
    x = _to_numpy(x)
    if sp.issparse(x):
        csr = sp.csr_matrix(x, copy=True)
    else:
        arr = np.asarray(x)
        if arr.ndim != 2:
            raise DataValidationError(fmt_error(f"{where}: {name}", "must be 2-D (n_users, n_items)",
                                                f"shape {arr.shape}", f"Pass {name} as a scipy CSR matrix."))
        if arr.dtype.kind not in "iufb":
            raise DataValidationError(fmt_error(f"{where}: {name}", "must hold numeric values", f"dtype {arr.dtype}",
                                                "Store 1 for each relevant (user, item) pair."))
        csr = sp.csr_matrix(arr)
    if csr.shape != tuple(shape):
        raise DataValidationError(fmt_error(
            f"{where}: {name}", "must have the shape of scores (one row per scored user, one column per item)",
            f"{name} shape {csr.shape} but scores shape {tuple(shape)}",
            f"Slice {name} to the same users (rows, in the same order) and items as the scored block."))
    if csr.dtype.kind not in "iufb":
        raise DataValidationError(fmt_error(f"{where}: {name}", "must hold numeric values", f"dtype {csr.dtype}",
                                            "Store 1 for each relevant (user, item) pair."))
    if csr.dtype.kind == "f" and not np.isfinite(csr.data).all():
        bad = int(np.flatnonzero(~np.isfinite(csr.data))[0])
        row = int(np.searchsorted(csr.indptr, bad, side="right") - 1)
        raise DataValidationError(fmt_error(f"{where}: {name}", "must hold finite values",
                                            f"{csr.data[bad]} at user row {row}, item {int(csr.indices[bad])}",
                                            "Store 1 for each relevant (user, item) pair."))
    csr.data = csr.data != 0
    csr.eliminate_zeros()
    csr.sum_duplicates()  # also sorts the indices; True + True stays True
    csr.data = np.ones(csr.nnz, dtype=np.int8)
    return csr


def _keys(csr) -> np.ndarray:
    """Sorted int64 keys ``user * n_items + item`` of a canonical CSR matrix."""
    rows = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
    return rows * csr.shape[1] + csr.indices.astype(np.int64)


def _member(keys: np.ndarray, n_items: int, idx: np.ndarray, row_offset: int = 0) -> np.ndarray:
    """``(r, k)`` bool: is item ``idx[u, j]`` stored in row ``row_offset + u`` of the keyed matrix."""
    if keys.size == 0:
        return np.zeros(idx.shape, dtype=bool)
    rows = np.arange(row_offset, row_offset + idx.shape[0], dtype=np.int64)[:, None]
    q = rows * n_items + idx
    pos = np.minimum(np.searchsorted(keys, q), keys.size - 1)
    return keys[pos] == q


# ----------------------------------------------------------------------------- ranking
def _top_k_block(s: np.ndarray, k: int) -> np.ndarray:
    """Top-``k`` item indices of each row of ``s`` (no NaN), best first, ties to the lower index."""
    r, m = s.shape
    if k == m:
        return np.argsort(-s, axis=1, kind="stable")
    # k-th largest score of each row: everything above it is in, and the ties at it are
    # filled in item order (lowest index first) until the row holds k items.
    kth = np.partition(s, m - k, axis=1)[:, m - k][:, None]
    above = s > kth
    at = s == kth
    need = k - above.sum(axis=1, keepdims=True)
    keep = above | (at & (np.cumsum(at, axis=1, dtype=np.int32) <= need))
    cols = np.nonzero(keep)[1].reshape(r, k)  # ascending item index within each row
    # a stable sort of the k survivors by descending score keeps equal scores in item order
    order = np.argsort(-np.take_along_axis(s, cols, axis=1), axis=1, kind="stable")
    return np.take_along_axis(cols, order, axis=1)


def _rank(s: np.ndarray, k: int, excl, where: str) -> np.ndarray:
    """``(n_users, k)`` int64 top-k indices of checked ``scores``, excluded items at ``-inf``."""
    n, m = s.shape
    out = np.empty((n, k), dtype=np.int64)
    step = max(1, _CHUNK_ENTRIES // m)
    for r0 in range(0, n, step):
        r1 = min(n, r0 + step)
        block = s[r0:r1]
        nan_rows = np.flatnonzero(np.isnan(block).any(axis=1))
        if len(nan_rows):
            u = int(nan_rows[0])
            raise DataValidationError(fmt_error(
                f"{where}: scores", "must not contain NaN",
                f"NaN in {len(nan_rows)} user row(s) of rows {r0}..{r1 - 1}, first at user row {r0 + u} "
                f"(item {int(np.flatnonzero(np.isnan(block[u]))[0])})",
                "Check the model: NaN scores usually mean the training diverged or NaN inputs reached it."))
        if excl is not None and excl.indptr[r1] > excl.indptr[r0]:
            block = block.copy()
            lo, hi = excl.indptr[r0], excl.indptr[r1]
            rows = np.repeat(np.arange(r1 - r0), np.diff(excl.indptr[r0:r1 + 1]))
            block[rows, excl.indices[lo:hi]] = -np.inf
        out[r0:r1] = _top_k_block(block, k)
    return out


def mask_seen(scores: Any, seen: Any) -> np.ndarray:
    """A copy of ``scores`` with the ``seen`` items of each user set to ``-inf``.

    This is the papers' ``pred[X_foldin.nonzero()] = -np.inf`` (Liang et al. 2018; DiffRec
    masks the training items the same way), which keeps fold-in / training items out of
    every top-k list.

    Parameters
    ----------
    scores : array-like or torch.Tensor ``(n_users, n_items)``
        Real item scores; the input is never modified.
    seen : scipy sparse or array-like ``(n_users, n_items)``
        Any stored nonzero marks an item to mask.

    Returns
    -------
    numpy.ndarray ``(n_users, n_items)``
        Floating point (float32 stays float32; integers become float64).

    Raises
    ------
    DataValidationError
        Not 2-D, shapes differ, non-numeric values.
    """
    s = _check_scores(scores, "mask_seen")
    excl = _binary_csr(seen, s.shape, "mask_seen", "seen")
    out = np.array(s, copy=True)
    rows = np.repeat(np.arange(s.shape[0]), np.diff(excl.indptr))
    out[rows, excl.indices] = -np.inf
    return out


def top_k(scores: Any, k: int, exclude: Optional[Any] = None) -> np.ndarray:
    """The ``k`` highest-scoring items of each user, best first.

    Vectorised ``partition`` + sort (like the ``argpartition`` + ``argsort`` of Liang et al.'s
    ``NDCG_binary_at_k_batch``), except that ties are broken deterministically: among equal
    scores the lower item index ranks first (also at the cut-off), exactly as a stable full
    sort of ``-scores`` would.

    Parameters
    ----------
    scores : array-like or torch.Tensor ``(n_users, n_items)``
        Real item scores, higher = better; ``-inf`` allowed, NaN is an error.
    k : int
        List length, ``1 <= k <= n_items``.
    exclude : scipy sparse or array-like ``(n_users, n_items)``, optional
        Items to rank last (scored ``-inf``), e.g. the fold-in items. A user with fewer than
        ``k`` other items gets excluded items (in index order) at the end of the list.

    Returns
    -------
    numpy.ndarray ``(n_users, k)`` of int64
        Item indices.

    Raises
    ------
    ConfigError
        ``k`` is not an integer in ``1..n_items``.
    DataValidationError
        Bad shapes or values, NaN scores (the message names the user row).
    """
    s = _check_scores(scores, "top_k")
    k = _check_k(k, s.shape[1], "top_k")
    excl = None if exclude is None else _binary_csr(exclude, s.shape, "top_k", "exclude")
    return _rank(s, k, excl, "top_k")


# ----------------------------------------------------------------------------- metrics
class _Evaluation:
    """Ranked lists and hits of one ``(scores, heldout, exclude)`` triple at the largest ``k``."""

    def __init__(self, scores: Any, heldout: Any, k_max: Any, exclude: Any, where: str):
        s = _check_scores(scores, where)
        self.k_max = _check_k(k_max, s.shape[1], where)
        self.shape = s.shape
        held = _binary_csr(heldout, s.shape, where, "heldout")
        excl = None if exclude is None else _binary_csr(exclude, s.shape, where, "exclude")
        if excl is not None:
            both = np.intersect1d(_keys(held), _keys(excl), assume_unique=True)
            if both.size:
                m = s.shape[1]
                raise DataValidationError(fmt_error(
                    f"{where}: heldout, exclude", "must not share (user, item) pairs: an excluded item can "
                    "never be recommended, so it could never count as a hit",
                    f"{both.size} shared pair(s), first user row {int(both[0] // m)}, item {int(both[0] % m)}",
                    "Check the split (fold-in and held-out items of a user must be disjoint), or drop the pairs "
                    "from one side, e.g. heldout = heldout - heldout.multiply(exclude)."))
        self.n_rel = np.diff(held.indptr)
        self.valid = self.n_rel > 0
        self.idx = _rank(s, self.k_max, excl, where)
        self.hits = _member(_keys(held), s.shape[1], self.idx)
        self.excl = excl

    def require_users(self, where: str) -> None:
        if not self.valid.any():
            raise DataValidationError(fmt_error(
                f"{where}: heldout", "must hold at least one item for at least one user (the metric is "
                "undefined for users without held-out items)", f"{self.shape[0]} user row(s), all empty",
                "Pass the held-out (test) interactions of the scored users, in the same row order."))

    def warn_skipped(self, where: str, stacklevel: int) -> None:
        """Warn (``stacklevel`` as :func:`warnings.warn`, counted from the caller) if users are left out."""
        n_skip = int((~self.valid).sum())
        if n_skip:
            warnings.warn(f"{where}: {n_skip} of {len(self.valid)} user(s) have no held-out items and are left "
                          "out of the mean (their per-user value is NaN with per_user=True).",
                          UserWarning, stacklevel=stacklevel + 1)

    def _per_user(self, values: np.ndarray) -> np.ndarray:
        out = np.full(self.shape[0], np.nan)
        out[self.valid] = values[self.valid]
        return out

    def recall(self, k: int, denominator: str) -> np.ndarray:
        n_hit = self.hits[:, :k].sum(axis=1)
        denom = np.minimum(self.n_rel, k) if denominator == "truncated" else self.n_rel
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._per_user(n_hit / denom)

    def precision(self, k: int) -> np.ndarray:
        return self._per_user(self.hits[:, :k].sum(axis=1) / k)

    def ndcg(self, k: int) -> np.ndarray:
        discount = 1.0 / np.log2(np.arange(2, k + 2))
        dcg = self.hits[:, :k] @ discount
        # ideal DCG: the min(k, |heldout_u|) relevant items in the first positions
        ideal = np.concatenate(([0.0], np.cumsum(discount)))[np.minimum(self.n_rel, k)]
        with np.errstate(invalid="ignore", divide="ignore"):
            return self._per_user(dcg / ideal)

    def coverage(self, k: int) -> float:
        return _coverage(self.idx[:, :k], self.excl, self.shape[1])


def _coverage(idx: np.ndarray, excl, n_items: int) -> float:
    items = idx if excl is None else idx[~_member(_keys(excl), n_items, idx)]
    return float(np.count_nonzero(np.bincount(items.ravel(), minlength=n_items)) / n_items)


def _check_denominator(denominator: Any, where: str) -> str:
    if denominator not in _DENOMINATORS:
        raise ConfigError(fmt_error(f"{where}: denominator", "must be 'truncated' (min(k, |heldout|), Liang "
                                    "et al. 2018) or 'full' (|heldout|, DiffRec)", denominator,
                                    "Use denominator='truncated' to compare with Mult-VAE / EASE numbers."))
    return denominator


def _finish(values: np.ndarray, ev: _Evaluation, per_user: bool, where: str):
    if per_user:
        return values
    ev.warn_skipped(where, stacklevel=3)  # _finish <- the public metric <- its caller
    return float(np.nanmean(values))


def recall_at_k(scores: Any, heldout: Any, k: int, denominator: str = "truncated",
                exclude: Optional[Any] = None, per_user: bool = False):
    """Recall@k: held-out items in the top ``k``, over ``min(k, |heldout_u|)`` or ``|heldout_u|``.

    ``"truncated"`` is Liang et al.'s ``Recall_at_k_batch`` (``tmp / np.minimum(k,
    X_true_binary.sum(axis=1))``), used by Mult-VAE, EASE, RecVAE and most VAE-CF papers;
    it reaches 1 whenever the top ``k`` are all relevant. ``"full"`` is DiffRec's
    ``sumForRecall += userHit / len(GroundTruth[i])``, which cannot reach 1 for users with
    more than ``k`` held-out items. DiffRec divides the sum by all users (those without
    held-out items add 0); here such users are left out of the mean.

    Parameters
    ----------
    scores : array-like or torch.Tensor ``(n_users, n_items)``
        Real item scores, higher = recommend first; NaN is an error.
    heldout : scipy sparse or array-like ``(n_users, n_items)``
        Relevant items: any stored nonzero counts (values are binarised).
    k : int
        Cut-off, ``1 <= k <= n_items``.
    denominator : {"truncated", "full"}
    exclude : scipy sparse or array-like ``(n_users, n_items)``, optional
        Items masked to ``-inf`` before ranking (fold-in items); must not overlap ``heldout``.
    per_user : bool
        Return the per-user values instead of their mean.

    Returns
    -------
    float or numpy.ndarray ``(n_users,)``
        The mean over users with held-out items, or the per-user values (NaN for users without
        held-out items).

    Raises
    ------
    ConfigError
        ``k`` out of range, unknown ``denominator``.
    DataValidationError
        Shape mismatch (both shapes named), NaN scores (the user row named), ``heldout`` and
        ``exclude`` overlapping, no user with held-out items.
    """
    where = "recall_at_k"
    denominator = _check_denominator(denominator, where)
    ev = _Evaluation(scores, heldout, k, exclude, where)
    ev.require_users(where)
    return _finish(ev.recall(ev.k_max, denominator), ev, per_user, where)


def precision_at_k(scores: Any, heldout: Any, k: int, exclude: Optional[Any] = None, per_user: bool = False):
    """Precision@k: held-out items in the top ``k``, over ``k`` (DiffRec's ``userHit / topN``).

    Parameters
    ----------
    scores : array-like or torch.Tensor ``(n_users, n_items)``
    heldout : scipy sparse or array-like ``(n_users, n_items)``
    k : int
    exclude : scipy sparse or array-like ``(n_users, n_items)``, optional
    per_user : bool

    Returns
    -------
    float or numpy.ndarray ``(n_users,)``
        As :func:`recall_at_k` (users without held-out items are left out / NaN).

    Raises
    ------
    ConfigError, DataValidationError
        As :func:`recall_at_k`.
    """
    where = "precision_at_k"
    ev = _Evaluation(scores, heldout, k, exclude, where)
    ev.require_users(where)
    return _finish(ev.precision(ev.k_max), ev, per_user, where)


def ndcg_at_k(scores: Any, heldout: Any, k: int, exclude: Optional[Any] = None, per_user: bool = False):
    """NDCG@k with binary relevance.

    ``DCG_u = sum_{i<k} rel_{u,i} / log2(i + 2)`` over the ranked list and ``IDCG_u`` the same
    sum with ``min(k, |heldout_u|)`` relevant items in front, as in Liang et al.'s
    ``NDCG_binary_at_k_batch`` (``IDCG = tp[:min(n, k)].sum()``) and DiffRec's
    ``computeTopNAccuracy`` (``idcg`` accumulates while ``idcgCount > 0``). Liang multiplies
    the discounts by the stored held-out *values*, so counts there would weigh items (and
    can push NDCG above 1); here every stored nonzero is relevance 1.

    Parameters
    ----------
    scores : array-like or torch.Tensor ``(n_users, n_items)``
    heldout : scipy sparse or array-like ``(n_users, n_items)``
    k : int
    exclude : scipy sparse or array-like ``(n_users, n_items)``, optional
    per_user : bool

    Returns
    -------
    float or numpy.ndarray ``(n_users,)``
        In [0, 1]; as :func:`recall_at_k` for users without held-out items.

    Raises
    ------
    ConfigError, DataValidationError
        As :func:`recall_at_k`.
    """
    where = "ndcg_at_k"
    ev = _Evaluation(scores, heldout, k, exclude, where)
    ev.require_users(where)
    return _finish(ev.ndcg(ev.k_max), ev, per_user, where)


def coverage_at_k(scores: Any, k: int, exclude: Optional[Any] = None) -> float:
    """Catalogue coverage: the share of items in at least one user's top ``k``.

    Every row of ``scores`` counts (no held-out data is needed). Excluded items that fill
    the list of a user with fewer than ``k`` other items are not counted as recommended.

    Parameters
    ----------
    scores : array-like or torch.Tensor ``(n_users, n_items)``
    k : int
        Cut-off, ``1 <= k <= n_items``.
    exclude : scipy sparse or array-like ``(n_users, n_items)``, optional
        Items masked before ranking.

    Returns
    -------
    float
        In [0, 1]; at most ``n_users * k / n_items``.

    Raises
    ------
    ConfigError, DataValidationError
        As :func:`top_k`.
    """
    where = "coverage_at_k"
    s = _check_scores(scores, where)
    k = _check_k(k, s.shape[1], where)
    excl = None if exclude is None else _binary_csr(exclude, s.shape, where, "exclude")
    return _coverage(_rank(s, k, excl, where), excl, s.shape[1])


def ranking_report(scores: Any, heldout: Any, ks: Iterable[int] = (20, 50, 100), exclude: Optional[Any] = None,
                   denominator: str = "truncated") -> Dict[str, float]:
    """Recall, precision, NDCG and coverage at every ``k`` of ``ks``, ranking once.

    Parameters
    ----------
    scores : array-like or torch.Tensor ``(n_users, n_items)``
    heldout : scipy sparse or array-like ``(n_users, n_items)``
    ks : iterable of int
        Cut-offs, each in ``1..n_items``.
    exclude : scipy sparse or array-like ``(n_users, n_items)``, optional
        Fold-in items, masked before ranking.
    denominator : {"truncated", "full"}
        Of the recall (see :func:`recall_at_k`).

    Returns
    -------
    dict
        ``"recall@k"``, ``"precision@k"``, ``"ndcg@k"`` (means over the users with held-out
        items) and ``"coverage@k"`` (over all rows) for each ``k``, and ``"n_users"``, the
        number of users evaluated. One warning counts the users left out.

    Raises
    ------
    ConfigError, DataValidationError
        As :func:`recall_at_k`.
    """
    where = "ranking_report"
    denominator = _check_denominator(denominator, where)
    s = _check_scores(scores, where)
    ks = _check_ks(ks, s.shape[1], where)
    ev = _Evaluation(s, heldout, ks[-1], exclude, where)
    ev.require_users(where)
    ev.warn_skipped(where, stacklevel=2)
    report: Dict[str, float] = {}
    for k in ks:
        report[f"recall@{k}"] = float(np.nanmean(ev.recall(k, denominator)))
        report[f"precision@{k}"] = float(np.nanmean(ev.precision(k)))
        report[f"ndcg@{k}"] = float(np.nanmean(ev.ndcg(k)))
        report[f"coverage@{k}"] = ev.coverage(k)
    report["n_users"] = int(ev.valid.sum())
    return report
