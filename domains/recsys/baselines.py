"""Non-VAE recommenders (EASE, popularity) and the :class:`Recommender` base that every vaekit
recommender, VAE ones included, builds on.

All work on implicit feedback as a binary user x item matrix (scipy CSR; scipy sparse of
another format, numpy arrays and torch tensors are converted). The estimator protocol is
scikit-learn's: hyper-parameters in the constructor, ``fit(X, item_ids=None)`` returns
``self``, learned state ends in ``_``.

* :class:`Recommender`: the base. Subclasses implement ``fit`` and ``predict_scores``; the
  base supplies :meth:`~Recommender.recommend` (top-k with the user's own items excluded),
  the input checks and the optional item-id mapping.
* :class:`EASERecommender`: Steck's closed-form linear autoencoder (EASE^R, WWW 2019).
* :class:`PopularityRecommender`: every user gets the training item counts.
"""
from __future__ import annotations

import abc
import warnings
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, NotFittedError, fmt_error, require

from .metrics import _to_numpy, top_k


def _sparse():
    return require("scipy.sparse", "recsys")


class Recommender(abc.ABC):
    """Base class of vaekit recommenders on binary user x item matrices.

    Contract for subclasses (VAE recommenders included):

    * ``fit(self, X, item_ids=None)`` starts with ``X = self._start_fit(X, item_ids)``, which
      checks ``X`` (``where`` names the subclass), returns it as a binary float32 CSR matrix and
      sets ``n_items_`` and ``item_ids_``; then it learns and returns ``self``.
    * ``predict_scores(self, X_foldin)`` starts with ``X = self._check_foldin(X_foldin,
      "predict_scores")`` (raises :class:`~vaekit.core.errors.NotFittedError` before ``fit``,
      checks the item count) and returns a dense float ``numpy.ndarray`` ``(n_rows, n_items_)``,
      higher = recommend first. It must not mask the fold-in items itself: ``recommend`` does.

    The base then supplies :meth:`recommend`.

    Attributes
    ----------
    n_items_ : int
        Catalogue size seen by ``fit``.
    item_ids_ : numpy.ndarray ``(n_items_,)`` or None
        The id of each item column, if ``fit`` was given ``item_ids``.
    """

    n_items_: Optional[int] = None
    item_ids_: Optional[np.ndarray] = None

    @abc.abstractmethod
    def fit(self, X: Any, item_ids: Optional[Sequence[Any]] = None) -> "Recommender":
        """Learn from the training interactions ``X`` ``(n_users, n_items)``; return ``self``."""

    @abc.abstractmethod
    def predict_scores(self, X_foldin: Any) -> np.ndarray:
        """Scores ``(n_rows, n_items_)`` of every item for each fold-in row (no masking)."""

    # ------------------------------------------------------------------ provided
    @classmethod
    def _param_names(cls) -> List[str]:
        import inspect

        sig = inspect.signature(cls.__init__)
        return [n for n, p in sig.parameters.items()
                if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """The constructor arguments (scikit-learn's estimator API, so ``sklearn.base.clone``
        and parameter searches work; ``__init__`` stores its arguments unchanged)."""
        return {n: getattr(self, n) for n in self._param_names()}

    def set_params(self, **params: Any) -> "Recommender":
        """Set constructor arguments by name; returns ``self``."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ConfigError(fmt_error(f"{type(self).__name__}.set_params", "unknown parameter", name,
                                            f"Valid parameters: {', '.join(valid)}."))
            setattr(self, name, value)
        return self

    def recommend(self, X_foldin: Any, k: int, exclude_seen: bool = True) -> np.ndarray:
        """The ``k`` best items of each fold-in row, best first.

        Parameters
        ----------
        X_foldin : scipy sparse, array-like or torch.Tensor ``(n_rows, n_items_)``
            Binary interactions of the users to recommend for.
        k : int
            List length, ``1 <= k <= n_items_``.
        exclude_seen : bool
            Keep each row's own items out of its list (they are scored ``-inf``). A row with
            fewer than ``k`` unseen items gets seen items at the end (with a warning).

        Returns
        -------
        numpy.ndarray ``(n_rows, k)``
            Item column indices (int64), or item ids (``item_ids_[indices]``) if ``fit`` was
            given ``item_ids``. Ties go to the lower column index.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        ConfigError
            ``k`` out of range.
        DataValidationError
            ``X_foldin`` not binary, or its item count differs from the fitted one.
        """
        X = self._check_foldin(X_foldin, "recommend")
        scores = self.predict_scores(X)
        idx = top_k(scores, k, exclude=X if exclude_seen else None)  # checks k
        if exclude_seen:
            short = np.flatnonzero(self.n_items_ - np.diff(X.indptr) < k)
            if len(short):
                warnings.warn(f"{type(self).__name__}.recommend: {len(short)} row(s) have fewer than k={k} unseen "
                              f"items (first: row {int(short[0])}); their lists end with seen items.",
                              UserWarning, stacklevel=2)
        return idx if self.item_ids_ is None else self.item_ids_[idx]

    # ------------------------------------------------------------------ helpers for subclasses
    def _where(self, method: str) -> str:
        return f"{type(self).__name__}.{method}"

    def _check_X(self, X: Any, where: str):
        """``X`` as a canonical binary float32 CSR matrix (sorted indices, no duplicates)."""
        sp = _sparse()
        X = _to_numpy(X)
        if sp.issparse(X):
            csr = sp.csr_matrix(X, copy=True)
        else:
            arr = np.asarray(X)
            if arr.ndim != 2:
                raise DataValidationError(fmt_error(
                    f"{where}: X", "must be 2-D (n_users, n_items)", f"shape {arr.shape}",
                    "Pass a user x item matrix; for one user use x.reshape(1, -1)."))
            if arr.dtype.kind not in "iufb":
                raise DataValidationError(fmt_error(f"{where}: X", "must be numeric", f"dtype {arr.dtype}",
                                                    "Pass 0/1 interactions."))
            csr = sp.csr_matrix(arr)
        if csr.dtype.kind not in "iufb":
            raise DataValidationError(fmt_error(f"{where}: X", "must be numeric", f"dtype {csr.dtype}",
                                                "Pass 0/1 interactions."))
        csr.sum_duplicates()
        csr.eliminate_zeros()
        bad = np.flatnonzero(csr.data != 1)
        if len(bad):
            row = int(np.searchsorted(csr.indptr, bad[0], side="right") - 1)
            raise DataValidationError(fmt_error(
                f"{where}: X", "must be binary implicit feedback (every stored value 0 or 1; duplicate entries "
                "add up)", f"{len(bad)} other value(s), first {csr.data[bad[0]]!r} at row {row}, "
                f"item {int(csr.indices[bad[0]])}",
                "Binarise first, e.g. X = (X > 0).astype('float32') (or X.data[:] = 1 after X.sum_duplicates())."))
        return csr.astype(np.float32)

    def _start_fit(self, X: Any, item_ids: Optional[Sequence[Any]] = None):
        """Check the training matrix, set ``n_items_`` / ``item_ids_``; return ``X`` as binary CSR."""
        where = self._where("fit")
        X = self._check_X(X, where)
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise DataValidationError(fmt_error(f"{where}: X", "must have at least one user and one item",
                                                f"shape {X.shape}", "Fit on a non-empty training matrix."))
        ids = None
        if item_ids is not None:
            ids = np.asarray(item_ids)
            if ids.ndim != 1 or len(ids) != X.shape[1]:
                raise DataValidationError(fmt_error(
                    f"{where}: item_ids", f"must be 1-D with one id per item column ({X.shape[1]})",
                    f"shape {ids.shape}", "Pass the ids in column order, e.g. the item index of the encoder."))
            if len(np.unique(ids)) != len(ids):
                raise DataValidationError(fmt_error(f"{where}: item_ids", "must be unique",
                                                    f"{len(ids) - len(np.unique(ids))} duplicate(s)",
                                                    "Map each item column to a distinct id."))
        self.n_items_ = int(X.shape[1])
        self.item_ids_ = ids
        return X

    def _check_foldin(self, X_foldin: Any, method: str):
        """Raise before ``fit``; check ``X_foldin`` against the fitted catalogue; return binary CSR."""
        where = self._where(method)
        if self.n_items_ is None:
            raise NotFittedError(fmt_error(where, "the recommender must be fitted first",
                                           f"an unfitted {type(self).__name__}",
                                           "Call .fit(X_train) before scoring or recommending."))
        X = self._check_X(X_foldin, where)
        if X.shape[1] != self.n_items_:
            raise DataValidationError(fmt_error(
                f"{where}: X_foldin", f"must have the {self.n_items_} item columns of the training matrix",
                f"{X.shape[1]} columns (shape {X.shape})",
                "Encode fold-in users with the item index used for fit (same columns, same order)."))
        return X


class EASERecommender(Recommender):
    """EASE^R (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW).

    The item-item weights ``B`` minimise ``||X - X B||_F^2 + l2 ||B||_F^2`` subject to
    ``diag(B) = 0``, whose closed form (Steck's Eq. 8 / Algorithm 1) is

    ``G = X^T X + l2 I``, ``P = G^{-1}``, ``B_ij = -P_ij / P_jj`` (column-wise), ``B_jj = 0``.

    Each column ``j`` of ``B`` is the ridge regression (penalty ``l2``) of item ``j`` on the
    other items, which is what the tests check. Scores are ``X_foldin @ B``.

    Parameters
    ----------
    l2 : float
        L2 penalty ``lambda`` > 0. The default 500 is Steck's setting for ML-20M in the
        Liang et al. split (1000 for Netflix, 200 for MSD); checked in his code, where these
        are the ``L2const`` values of the zero-diagonal, no-dropout model (cell "used for green
        solid line in Figure 1") of ``EDLAE_NeurIPS2020.ipynb``,
        github.com/hasteck/EDLAE_NeurIPS2020. Tune it on validation users for other data.

    Attributes
    ----------
    B_ : numpy.ndarray ``(n_items, n_items)`` float64
        Item-item weights, zero diagonal.

    Notes
    -----
    Memory and time are set by the catalogue, not the users: ``G`` and its inverse are dense
    ``n_items x n_items`` float64 (8 bytes each; the inverse overwrites ``G``), so 20,000 items
    need about 3.2 GB for ``B_`` and two to three times that at the peak of ``fit`` (the
    sparse ``X^T X`` exists next to its dense copy for a moment); the inversion
    is O(n_items^3) (measured: 1.7 s for 3,000 items on one core, so roughly 8 minutes
    for 20,000 on one core, less with a multi-threaded BLAS). Beyond ~30,000 items
    use a sparse approximation instead.
    """

    def __init__(self, l2: float = 500.0):
        if isinstance(l2, (bool, np.bool_)) or not isinstance(l2, (int, float, np.integer, np.floating)) \
                or not np.isfinite(l2) or l2 <= 0:
            raise ConfigError(fmt_error("EASERecommender: l2", "must be a finite number > 0 (the L2 penalty "
                                        "keeps X^T X + l2 I invertible)", l2,
                                        "Use e.g. l2=500.0 (Steck's ML-20M value) and tune it on validation users."))
        self.l2 = float(l2)

    def fit(self, X: Any, item_ids: Optional[Sequence[Any]] = None) -> "EASERecommender":
        """Solve for ``B_`` on the training interactions ``X`` ``(n_users, n_items)``.

        Parameters
        ----------
        X : scipy sparse, array-like or torch.Tensor ``(n_users, n_items)``
            Binary (0/1) training interactions.
        item_ids : sequence, optional
            One id per item column; then :meth:`recommend` returns ids.

        Returns
        -------
        EASERecommender
            ``self``.
        """
        X = self._start_fit(X, item_ids)
        linalg = require("scipy.linalg", "recsys")
        X64 = X.astype(np.float64)
        G = (X64.T @ X64).toarray()
        G[np.diag_indices_from(G)] += self.l2
        # G is symmetric, so G.T (Fortran order, no copy) lets LAPACK invert in place
        P = linalg.inv(G.T, overwrite_a=True, check_finite=False)
        del G
        d = np.diag(P).copy()
        P /= -d[None, :]  # B_ij = -P_ij / P_jj: divide column j by -P_jj
        P[np.diag_indices_from(P)] = 0.0
        self.B_ = np.ascontiguousarray(P)
        return self

    def predict_scores(self, X_foldin: Any) -> np.ndarray:
        """``X_foldin @ B_``.

        Parameters
        ----------
        X_foldin : scipy sparse, array-like or torch.Tensor ``(n_rows, n_items_)``
            Binary interactions of the users to score.

        Returns
        -------
        numpy.ndarray ``(n_rows, n_items_)`` float64
        """
        X = self._check_foldin(X_foldin, "predict_scores")
        return np.asarray(X.astype(np.float64) @ self.B_)

    def __repr__(self) -> str:
        return f"EASERecommender(l2={self.l2!r})"


class PopularityRecommender(Recommender):
    """Recommend the most-interacted items: every row scores each item by its training count.

    Attributes
    ----------
    item_counts_ : numpy.ndarray ``(n_items,)`` float64
        Number of training users who interacted with each item.
    """

    def fit(self, X: Any, item_ids: Optional[Sequence[Any]] = None) -> "PopularityRecommender":
        """Count the users of each item in ``X`` ``(n_users, n_items)``; return ``self``.

        Parameters
        ----------
        X : scipy sparse, array-like or torch.Tensor ``(n_users, n_items)``
            Binary training interactions.
        item_ids : sequence, optional
            One id per item column; then :meth:`recommend` returns ids.
        """
        X = self._start_fit(X, item_ids)
        self.item_counts_ = np.bincount(X.indices, minlength=X.shape[1]).astype(np.float64)
        return self

    def predict_scores(self, X_foldin: Any) -> np.ndarray:
        """The training counts, repeated for each row.

        Parameters
        ----------
        X_foldin : scipy sparse, array-like or torch.Tensor ``(n_rows, n_items_)``
            Only its row count (and item count, checked) matter.

        Returns
        -------
        numpy.ndarray ``(n_rows, n_items_)`` float64
        """
        X = self._check_foldin(X_foldin, "predict_scores")
        return np.tile(self.item_counts_, (X.shape[0], 1))

    def __repr__(self) -> str:
        return "PopularityRecommender()"
