"""Interactions as a matrix: :func:`binarize` (positives once per pair), :func:`filter_min_counts`
(rare items, then inactive users, as Liang et al. 2018's ``filter_triplets``),
:class:`Interactions`, the users x items CSR matrix of positives with the ids of its rows and
columns, and :func:`match_ids`, which finds ids read from another file among a model's ids."""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, fmt_error

from ..io import show
from .io import _check_frame, _check_int, _pd, _sparse, option

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import scipy.sparse


def _check_threshold(df: "pandas.DataFrame", threshold: Any, where: str) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) \
            or not math.isfinite(threshold):
        raise ConfigError(fmt_error(where, "threshold must be a finite number or None", threshold,
                                    f"Set e.g. {option('threshold', 4.0)}, or {option('threshold', None)} for "
                                    f"implicit data."))
    if "rating" not in df.columns:
        raise ConfigError(fmt_error(where, "a rating threshold needs a 'rating' column", list(df.columns),
                                    f"Set {option('threshold', None)} for implicit data (every row is a "
                                    f"positive), or name the rating column with {option('rating_col')}."))


def drop_duplicate_pairs(df: "pandas.DataFrame", where: str) -> "pandas.DataFrame":
    """The first row of each ``(user, item)`` pair (a pair is one positive); a warning gives the
    count of the rows removed.

    Parameters
    ----------
    df : DataFrame ``(N, ...)`` with columns ``user`` and ``item``
    where : str
        How the warning names the caller.

    Returns
    -------
    DataFrame ``(M, same columns)``
        The kept rows in input order (index unchanged).
    """
    dup = df.duplicated(["user", "item"]).to_numpy()
    if dup.any():
        warnings.warn(f"{where}: removed {int(dup.sum())} duplicate (user, item) rows of {len(df)} (the first row "
                      f"of each pair is kept: a pair is one positive).", stacklevel=3)
    return df.loc[~dup]


def binarize(df: "pandas.DataFrame", threshold: Optional[float] = 4.0) -> "pandas.DataFrame":
    """Positive interactions: rows with ``rating >= threshold``, once per ``(user, item)`` pair.

    Parameters
    ----------
    df : DataFrame ``(N, 2..4)``
        Columns ``user``, ``item`` (+ ``rating``, ``time``), e.g. from :func:`read_interactions`.
    threshold : float or None
        Keep ratings ``>= threshold`` (4.0: the 4- and 5-star ratings of MovieLens). ``None``
        keeps every row (the log is already implicit feedback).

    Returns
    -------
    DataFrame ``(M, same columns)``
        The first row of each kept ``(user, item)`` pair, in input order, index ``0 .. M-1``
        (the duplicate rows removed are counted in a warning).

    Raises
    ------
    ConfigError
        ``threshold`` given but ``df`` has no ``rating`` column, or not a finite number.
    DataValidationError
        ``df`` is not a frame with ``user`` and ``item`` columns.
    """
    df = _check_frame(df, ("user", "item"), "binarize")
    if threshold is not None:
        _check_threshold(df, threshold, "binarize")
        df = df.loc[df["rating"].to_numpy() >= threshold]
    return drop_duplicate_pairs(df, "binarize").reset_index(drop=True)


def _drop_rare(df: "pandas.DataFrame", column: str, minimum: int, parts: List[str]) -> "pandas.DataFrame":
    """The rows whose ``column`` value has at least ``minimum`` rows; what was dropped is appended to ``parts``."""
    if minimum <= 0:
        return df
    counts = df[column].value_counts()
    rare = counts.index[counts.to_numpy() < minimum]
    keep = ~df[column].isin(rare).to_numpy()
    if len(rare):
        parts.append(f"{len(rare)} {column}s with fewer than {minimum} rows ({int((~keep).sum())} rows)")
    return df.loc[keep]


def filter_min_counts(df: "pandas.DataFrame", min_user: int = 5, min_item: int = 0) -> "pandas.DataFrame":
    """Drop items with fewer than ``min_item`` rows, then users with fewer than ``min_user`` rows.

    One pass, items first, as ``filter_triplets`` of Liang et al. (2018): after it some items
    may have fewer than ``min_item`` rows again (the reference does not iterate). Counts are
    rows, so pass deduplicated positives (:func:`binarize`). What is removed is reported in
    one warning.

    Parameters
    ----------
    df : DataFrame ``(N, ...)`` with columns ``user`` and ``item``
    min_user : int
        Smallest number of rows a user keeps (0: no user filter).
    min_item : int
        Smallest number of rows an item keeps (0: no item filter).

    Returns
    -------
    DataFrame ``(M, same columns)``
        The kept rows in input order, index ``0 .. M-1``.
    """
    df = _check_frame(df, ("user", "item"), "filter_min_counts")
    min_user = _check_int(min_user, "min_user", "filter_min_counts")
    min_item = _check_int(min_item, "min_item", "filter_min_counts")
    n0 = len(df)
    parts: List[str] = []
    df = _drop_rare(df, "item", min_item, parts)  # items first, then users (Liang et al.'s order)
    df = _drop_rare(df, "user", min_user, parts)
    if parts:
        warnings.warn(f"filter_min_counts: removed {n0 - len(df)} of {n0} rows: " + ", then ".join(parts) + ".",
                      stacklevel=2)
    return df.reset_index(drop=True)


# ---------------------------------------------------------------------------- matching ids
def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _as_number(v: Any) -> Any:
    """``v`` as a Python int (integral) or float; text parsed (``" 67"``, ``"67.0"``); ``None`` if not a number."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str):
        t = v.strip()
        if "_" in t:  # int() and float() accept "1_0" as 10; an id file does not mean that
            return None
        try:
            return int(t)
        except ValueError:
            try:
                v = float(t)
            except ValueError:
                return None
    if not _is_number(v) or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _as_text(v: Any) -> str:
    """``v`` as text without surrounding spaces; an integral float as an integer (``67.0`` -> ``"67"``)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def match_ids(known: Sequence[Any], values: Sequence[Any]) -> np.ndarray:
    """The position of each of ``values`` in ``known`` (-1: not there), compared in ``known``'s type.

    Ids read from two files need not have the same type: a file whose item column holds one
    text id is read with every id as text (``"67"``), while the training file gave integers
    (``67``). So the comparison is on a canonical form chosen by the known ids: when they are
    all numbers, each value is read as a number (``"67"``, ``" 67"``, ``"67.0"`` and ``67``
    all match ``67``; text that is not a number matches nothing); otherwise both sides are
    compared as text without surrounding spaces (``7`` matches ``"7"``, not ``"007"``).

    Parameters
    ----------
    known : sequence ``(K,)``
        The ids a model knows (e.g. ``info.extra["item_ids"]``), unique.
    values : sequence ``(N,)``
        Ids to look up.

    Returns
    -------
    ndarray ``(N,)`` of int64
        Index into ``known``, or -1.
    """
    pd = _pd()
    known = list(known)
    key: Callable[[Any], Any] = _as_number if known and all(_is_number(k) for k in known) else _as_text
    where: Dict[Any, int] = {}
    for i, k in enumerate(known):
        canonical = key(k)
        if canonical is not None:  # a NaN id matches nothing
            where.setdefault(canonical, i)  # ids equal in canonical form (e.g. "7" and " 7"): the first
    values = np.asarray(values, dtype=object)
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    codes, uniq = pd.factorize(values)  # one look-up per distinct value
    found = np.asarray([where.get(key(v), -1) for v in uniq], dtype=np.int64)
    out = np.full(len(values), -1, dtype=np.int64)
    out[codes >= 0] = found[codes[codes >= 0]]
    return out


# ---------------------------------------------------------------------------- the matrix
@dataclass(eq=False)
class Interactions:
    """Positive interactions as a users x items matrix with the original ids.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix ``(n_users, n_items)``, float32
        1.0 per positive ``(user, item)`` pair, no explicit zeros.
    user_ids : ndarray ``(n_users,)``
        Original user id of each row.
    item_ids : ndarray ``(n_items,)``
        Original item id of each column.
    """

    matrix: "scipy.sparse.csr_matrix"
    user_ids: np.ndarray
    item_ids: np.ndarray

    def __post_init__(self) -> None:
        sp = _sparse()
        if not sp.issparse(self.matrix):
            raise DataValidationError(fmt_error("Interactions", "matrix must be a scipy.sparse matrix",
                                                type(self.matrix).__name__, "Use Interactions.from_frame(df)."))
        if not (sp.isspmatrix_csr(self.matrix) and self.matrix.dtype == np.float32):
            self.matrix = sp.csr_matrix(self.matrix, dtype=np.float32)
        self.user_ids = np.asarray(self.user_ids)
        self.item_ids = np.asarray(self.item_ids)
        if self.matrix.shape != (len(self.user_ids), len(self.item_ids)):
            raise DataValidationError(fmt_error(
                "Interactions", "matrix shape must be (len(user_ids), len(item_ids))",
                f"{self.matrix.shape} vs ({len(self.user_ids)}, {len(self.item_ids)})",
                "Pass one id per row and one per column."))

    @property
    def n_users(self) -> int:
        """Number of rows (users)."""
        return int(self.matrix.shape[0])

    @property
    def n_items(self) -> int:
        """Number of columns (items)."""
        return int(self.matrix.shape[1])

    @property
    def nnz(self) -> int:
        """Number of positive ``(user, item)`` pairs."""
        return int(self.matrix.nnz)

    @classmethod
    def from_frame(cls, df: "pandas.DataFrame", item_ids: Optional[Sequence[Any]] = None,
                   user_ids: Optional[Sequence[Any]] = None) -> "Interactions":
        """The matrix of the ``(user, item)`` rows of ``df`` (every row is a positive).

        Parameters
        ----------
        df : DataFrame ``(N, ...)`` with columns ``user`` and ``item``
            Duplicate pairs give one 1.0.
        item_ids : sequence, optional
            Column index to map onto (e.g. the train items); rows whose item is not in it are
            dropped with a count in one warning. ``None``: the items in order of first
            appearance.
        user_ids : sequence, optional
            Row index, likewise (users without rows get empty rows). ``None``: the users in
            order of first appearance.

        Returns
        -------
        Interactions
        """
        pd = _pd()
        sp = _sparse()
        df = _check_frame(df, ("user", "item"), "Interactions.from_frame")
        users = df["user"].to_numpy()
        items = df["item"].to_numpy()
        idx = {}
        for role, ids, values in (("user", user_ids, users), ("item", item_ids, items)):
            index = pd.Index(pd.unique(values) if ids is None else np.asarray(ids))
            if ids is not None and not index.is_unique:
                dup = index[index.duplicated()].unique()
                raise DataValidationError(fmt_error("Interactions.from_frame", f"{role}_ids must be unique",
                                                    f"{show(dup)} more than once", f"Pass each {role} once."))
            idx[role] = (index, index.get_indexer(values) if len(values) else np.zeros(0, dtype=np.intp))
        (u_index, rows), (i_index, cols) = idx["user"], idx["item"]
        keep = (rows >= 0) & (cols >= 0)
        if not keep.all():
            n_u, n_i = int((rows < 0).sum()), int((cols < 0).sum())
            what = []
            if n_i:
                what.append(f"{n_i} rows whose item is not in item_ids (e.g. {show(pd.unique(items[cols < 0]), 3)})")
            if n_u:
                what.append(f"{n_u} rows whose user is not in user_ids (e.g. {show(pd.unique(users[rows < 0]), 3)})")
            warnings.warn(f"Interactions.from_frame: dropped {int((~keep).sum())} of {len(keep)} rows: "
                          + "; ".join(what) + ".", stacklevel=2)
            rows, cols = rows[keep], cols[keep]
        m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                          shape=(len(u_index), len(i_index)), dtype=np.float32)
        m.sum_duplicates()
        m.data[:] = 1.0
        return cls(m, u_index.to_numpy(), i_index.to_numpy())

    def to_frame(self) -> "pandas.DataFrame":
        """The positives as a DataFrame with columns ``user``, ``item`` (original ids), row-major order.

        Returns
        -------
        DataFrame ``(nnz, 2)``
        """
        pd = _pd()
        coo = self.matrix.tocoo()
        return pd.DataFrame({"user": self.user_ids[coo.row], "item": self.item_ids[coo.col]})


__all__ = ["binarize", "drop_duplicate_pairs", "filter_min_counts", "match_ids", "Interactions"]
