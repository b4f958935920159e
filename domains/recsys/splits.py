"""Evaluation splits of interaction logs: the strong-generalisation split of Liang et al. 2018
(held-out *users*, fold-in/target items per held-out user), leave-last-out (temporal, per user) and
the fixed splits DiffRec (Wang et al. 2023) ships as ``.npy`` pairs."""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple, Union

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, fmt_error

from ..io import open_binary, show
from .interactions import Interactions, _check_threshold, drop_duplicate_pairs, filter_min_counts
from .io import _check_frame, _check_int, _numeric, _pd, _rows, _sparse, option

if TYPE_CHECKING:  # pragma: no cover
    import pandas

MIN_ITEMS_FOR_TARGET = 5  # Liang et al.'s split_train_test_proportion: fewer -> all fold-in
MIN_SPLIT_USERS = 3  # one train, one validation and one test user


@dataclass(eq=False)
class StrongGeneralizationSplit:
    """Users split into train, validation and test; held-out users' items into fold-in and target.

    Attributes
    ----------
    train : Interactions ``(n_train_users, n_items)``
        Every positive of the train users.
    val_foldin, val_target : Interactions ``(n_val_users, n_items)``
        The validation users' positives given to the model (fold-in) and to be predicted
        (target); same users, same row order. Users with fewer than 5 positives have empty
        target rows.
    test_foldin, test_target : Interactions ``(n_test_users, n_items)``
        Likewise for the test users.
    item_ids : ndarray ``(n_items,)``
        The train items (columns of every matrix), in order of first appearance.
    info : dict
        Counts of the preprocessing steps (see :meth:`summary`).
    """

    train: Interactions
    val_foldin: Interactions
    val_target: Interactions
    test_foldin: Interactions
    test_target: Interactions
    item_ids: np.ndarray
    info: Dict[str, int] = field(default_factory=dict)

    def summary(self) -> Dict[str, int]:
        """Counts: users and positives per part, items, and what preprocessing removed.

        Returns
        -------
        dict of str to int
        """
        out = {"n_items": len(self.item_ids), "n_train_users": self.train.n_users,
               "n_val_users": self.val_foldin.n_users, "n_test_users": self.test_foldin.n_users,
               "nnz_train": self.train.nnz, "nnz_val_foldin": self.val_foldin.nnz,
               "nnz_val_target": self.val_target.nnz, "nnz_test_foldin": self.test_foldin.nnz,
               "nnz_test_target": self.test_target.nnz,
               "n_val_users_without_target": int((np.diff(self.val_target.matrix.indptr) == 0).sum()),
               "n_test_users_without_target": int((np.diff(self.test_target.matrix.indptr) == 0).sum())}
        out.update(self.info)
        return out


def _split_proportion(users: np.ndarray, test_prop: float, seed: int) -> np.ndarray:
    """Target mask of ``split_train_test_proportion`` (Liang et al. 2018), rows in input order.

    Users are visited in sorted order (``groupby``), each user's rows in input order; a user
    with ``n >= 5`` rows gets ``int(test_prop * n)`` targets drawn by ``choice(n, size,
    replace=False)`` from one ``RandomState(seed)`` (the notebook seeds the global state with
    the same seed at the start of every call, so validation and test both start afresh).
    """
    pd = _pd()
    mask = np.zeros(len(users), dtype=bool)
    if len(users) == 0:
        return mask
    codes, _ = pd.factorize(users, sort=True)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rng = np.random.RandomState(seed)
    for start, n in zip(starts.tolist(), counts.tolist()):
        if n >= MIN_ITEMS_FOR_TARGET:
            pick = rng.choice(n, size=int(test_prop * n), replace=False).astype("int64")
            mask[order[start + pick]] = True
    return mask


def _size(df: "pandas.DataFrame") -> str:
    """``"N users, M items, R rows"`` of an interactions frame (for messages)."""
    return f"{df['user'].nunique()} users, {df['item'].nunique()} items, {len(df)} rows"


def strong_generalization_split(df: "pandas.DataFrame", n_heldout_users: Optional[int], seed: int = 98765,
                                test_prop: float = 0.2, threshold: Optional[float] = 3.5, min_user: int = 5,
                                min_item: int = 0) -> StrongGeneralizationSplit:
    """Held-out-user split of Liang et al. (2018), step for step as their ML-20M notebook.

    Reproduces the "Data preprocessing" of ``VAE_ML20M_WWW2018.ipynb`` (github dawenl/vae_cf):

    1. keep ``rating > threshold`` (the notebook's ``rating > 3.5``, i.e. ``>= 4`` on the
       1-5 half-star scale; note: **strictly greater**, unlike :func:`binarize`'s ``>=``);
       ``threshold=None`` keeps every row (implicit data); then one row per ``(user, item)``
       pair (the first; MovieLens has no duplicate pairs, so this changes nothing there;
       duplicates removed are counted in a warning and ``info``);
    2. ``filter_triplets(min_uc=min_user, min_sc=min_item)`` (:func:`filter_min_counts`);
    3. users sorted (``user_activity.index``), permuted by ``RandomState(seed).permutation``
       (= ``np.random.seed(98765); np.random.permutation``); the first ``n_users - 2 *
       n_heldout_users`` are train users, the next ``n_heldout_users`` validation users, the
       last ``n_heldout_users`` test users;
    4. the items are the train users' items in order of first appearance
       (``pd.unique(train_plays['movieId'])``); held-out users' rows on other items are
       dropped (counted in ``info['n_heldout_rows_unseen_items']``);
    5. ``split_train_test_proportion`` for validation and test separately, each from a fresh
       ``RandomState(seed)``: users in sorted order; a user with ``n >= 5`` rows gets
       ``int(test_prop * n)`` target rows drawn by ``choice(n, size, replace=False)``, the
       rest are fold-in; a user with fewer rows is all fold-in (empty target row).

    Rows of every matrix follow the permuted user order (the notebook's ``profile2id``),
    columns the train items (``show2id``). A held-out user left with no row by step 4 is
    dropped (one warning); the notebook would give it an empty row.

    Parameters
    ----------
    df : DataFrame ``(N, 2..4)``
        Columns ``user``, ``item`` and (unless ``threshold`` is None) ``rating``.
    n_heldout_users : int or None
        Users in each of validation and test (10,000 for ML-20M, 50,000 for MSD). ``None``:
        10 % of the users left after steps 1-2 (at least 1).
    seed : int
        Seed of the user permutation and of both fold-in/target draws (98765 in the paper).
    test_prop : float
        Fraction of a held-out user's positives that become targets, in (0, 1).
    threshold : float or None
        Keep ``rating > threshold``; ``None``: every row is a positive.
    min_user, min_item : int
        Minimum counts of :func:`filter_min_counts` (5 and 0 in the paper).

    Returns
    -------
    StrongGeneralizationSplit

    Raises
    ------
    ConfigError
        Bad ``n_heldout_users`` (below 1, or ``2 * n_heldout_users`` not below the number of
        users, which the message gives), ``test_prop``, ``seed``, or a threshold without
        ``rating`` column.
    DataValidationError
        ``df`` lacks ``user``/``item``; user ids that cannot be sorted; fewer than 3 users
        left after steps 1-2 (the message gives the users, items and rows after each step and
        the setting that removed them).
    """
    pd = _pd()
    where = "strong_generalization_split"
    df = _check_frame(df, ("user", "item"), where)
    if n_heldout_users is not None:
        n_heldout_users = _check_int(n_heldout_users, "n_heldout_users", where, minimum=1)
    seed = _check_int(seed, "seed", where)
    if isinstance(test_prop, bool) or not isinstance(test_prop, (int, float, np.floating)) \
            or not 0.0 < float(test_prop) < 1.0:
        raise ConfigError(fmt_error(where, "test_prop must be a number in (0, 1)", test_prop,
                                    f"Set e.g. {option('test_prop', 0.2)} (the paper's value)."))
    n_in = len(df)
    # What each step leaves, for the message when too few users remain.
    steps = [f"{_size(df)} read"]
    users_read = df["user"].nunique()
    if threshold is not None:
        _check_threshold(df, threshold, where)
        df = df.loc[df["rating"].to_numpy() > threshold]
        steps.append(f"{_size(df)} with rating > {threshold}")
    users_positive = df["user"].nunique()
    n_pos = len(df)
    data = drop_duplicate_pairs(df[["user", "item"]], where)
    n_dedup = len(data)
    if n_dedup < n_pos:
        steps.append(f"{n_dedup} rows once per (user, item) pair")
    data = filter_min_counts(data, min_user=min_user, min_item=min_item)
    if min_user or min_item:
        steps.append(f"{_size(data)} after the minimum counts ("
                     + (f"items with >= {min_item} positives, then " if min_item else "")
                     + f"users with >= {min_user} positives)")

    try:
        codes, uniq = pd.factorize(data["user"], sort=True)
    except TypeError as exc:
        raise DataValidationError(fmt_error(where, "user ids must be sortable (all numbers or all strings)",
                                            show(pd.unique(data["user"])), "Convert the ids to one type.")) from exc
    uniq = np.asarray(uniq)
    n_users = len(uniq)
    funnel = "; ".join(steps)
    if n_users < MIN_SPLIT_USERS:
        fix = _too_few_users_fix(users_read, users_positive, min_item)
        raise DataValidationError(
            f"{where}: the split needs at least {MIN_SPLIT_USERS} users (train, validation, test) after the rating "
            f"threshold and the minimum counts; {n_users} are left: {funnel}. {fix}")
    if n_heldout_users is None:
        n_heldout_users = min(max(1, int(round(0.1 * n_users))), (n_users - 1) // 2)
    if 2 * n_heldout_users >= n_users:
        raise ConfigError(
            f"{where}: 2 * n_heldout_users must be below the number of users left, leaving train users; got "
            f"n_heldout_users={n_heldout_users} with {n_users} users ({funnel}). Set "
            f"{option('n_heldout_users', (n_users - 1) // 2, ' <= ')}.")
    perm = np.random.RandomState(seed).permutation(n_users)
    n_train = n_users - 2 * n_heldout_users
    rank = np.empty(n_users, dtype=np.int64)
    rank[perm] = np.arange(n_users)  # position of each (sorted) user in the permuted order
    row_rank = rank[codes]
    users_in_order = uniq[perm]

    train_rows = data.loc[row_rank < n_train]
    item_ids = pd.unique(train_rows["item"])
    train = Interactions.from_frame(train_rows, item_ids=item_ids, user_ids=users_in_order[:n_train])
    info = {"n_rows_in": n_in, "n_rows_positive": n_pos, "n_duplicate_pairs_removed": n_pos - n_dedup,
            "n_rows_after_min_counts": len(data), "n_users_after_min_counts": n_users}
    parts = {}
    unseen = 0
    lost: List[str] = []
    n_lost = 0
    for name, lo, hi in (("val", n_train, n_train + n_heldout_users), ("test", n_train + n_heldout_users, n_users)):
        rows = data.loc[(row_rank >= lo) & (row_rank < hi)]
        known = rows["item"].isin(item_ids).to_numpy()
        unseen += int((~known).sum())
        rows = rows.loc[known]
        present = set(rows["user"].tolist())
        users = np.asarray([u for u in users_in_order[lo:hi] if u in present], dtype=uniq.dtype)
        if len(users) < hi - lo:
            n_lost += hi - lo - len(users)
            lost.append(f"{hi - lo - len(users)} {name}")
        target = _split_proportion(rows["user"].to_numpy(), float(test_prop), seed)
        parts[name] = (Interactions.from_frame(rows.loc[~target], item_ids=item_ids, user_ids=users),
                       Interactions.from_frame(rows.loc[target], item_ids=item_ids, user_ids=users))
    info["n_heldout_rows_unseen_items"] = unseen
    info["n_heldout_users_dropped"] = n_lost
    if lost:
        warnings.warn(f"{where}: dropped {' and '.join(lost)} users none of whose positives is on a train item "
                      f"(nothing to fold in or predict).", stacklevel=2)
    return StrongGeneralizationSplit(train=train, val_foldin=parts["val"][0], val_target=parts["val"][1],
                                     test_foldin=parts["test"][0], test_target=parts["test"][1],
                                     item_ids=np.asarray(item_ids), info=info)


def _too_few_users_fix(users_read: int, users_positive: int, min_item: int, minimum: int = MIN_SPLIT_USERS) -> str:
    """The fix for a split left with fewer than ``minimum`` users: the setting of the step
    that removed them (the log itself, the rating threshold, or the minimum counts)."""
    if users_read < minimum:
        return f"Use a log with at least {minimum} users."
    if users_positive < minimum:
        return (f"Lower {option('threshold')}, or set {option('threshold', None)} to count every row as a "
                f"positive (implicit data).")
    fix = f"Lower {option('min_user')}"
    if min_item:
        fix += f" or min_item={min_item}"
    return fix + " (the minimum number of positives a user keeps), or use a log with more interactions per user."


# ---------------------------------------------------------------------------- leave-last-out
@dataclass(eq=False)
class LeaveLastOutSplit:
    """Temporal split: each user's last interactions are the test target, the ones before validation.

    Attributes
    ----------
    train, val, test : Interactions ``(n_users, n_items)``
        One user index and one item index (the train items) for all three.
    n_users_train_only : int
        Users with fewer than ``2 * n_last + 1`` interactions, kept wholly in train.
    info : dict
        Further counts (see :meth:`summary`).
    """

    train: Interactions
    val: Interactions
    test: Interactions
    n_users_train_only: int
    info: Dict[str, int] = field(default_factory=dict)

    def summary(self) -> Dict[str, int]:
        """Counts: users, items, positives per part, train-only users, dropped target rows."""
        out = {"n_users": self.train.n_users, "n_items": self.train.n_items, "nnz_train": self.train.nnz,
               "nnz_val": self.val.nnz, "nnz_test": self.test.nnz, "n_users_train_only": self.n_users_train_only}
        out.update(self.info)
        return out


def leave_last_out_split(df: "pandas.DataFrame", n_last: int = 1) -> LeaveLastOutSplit:
    """Per user, by time: last ``n_last`` -> test, the ``n_last`` before -> validation, rest -> train.

    Each user's rows are ordered by ``time``, ties by input row order. Users with fewer than
    ``2 * n_last + 1`` rows stay wholly in train (``n_users_train_only``). Items are the train
    part's items in order of first appearance; validation/test rows on other items are dropped
    with a count in one warning. Every row counts as an interaction: pass deduplicated
    positives (:func:`binarize`), otherwise a repeated item may be both train and target.

    Parameters
    ----------
    df : DataFrame ``(N, 3..4)``
        Columns ``user``, ``item``, ``time``.
    n_last : int
        Target interactions per user in each of validation and test.

    Returns
    -------
    LeaveLastOutSplit
        Users in order of first appearance.

    Raises
    ------
    DataValidationError
        No ``time`` column, or missing / non-numeric times.
    ConfigError
        ``n_last`` below 1.
    """
    pd = _pd()
    where = "leave_last_out_split"
    df = _check_frame(df, ("user", "item"), where)
    n_last = _check_int(n_last, "n_last", where, minimum=1)
    if "time" not in df.columns:
        raise DataValidationError(fmt_error(where, "a temporal split needs a 'time' column", list(df.columns),
                                            f"Read a log with timestamps (name the column with "
                                            f"{option('time_col')}), or use the strong split "
                                            f"(data.split=strong; strong_generalization_split in Python)."))
    if len(df) == 0:
        raise DataValidationError(fmt_error(where, "needs at least one interaction", "0 rows",
                                            "Pass the positives left after thresholding and the minimum counts."))
    t = _numeric(df["time"], f"{where}: column 'time'", dates=True).to_numpy()
    codes, users = pd.factorize(df["user"], sort=False)
    n = len(df)
    order = np.lexsort((np.arange(n), t, codes))  # by user, then time, then input row
    counts = np.bincount(codes, minlength=len(users))
    pos_sorted = np.arange(n) - np.repeat(np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    from_end = np.empty(n, dtype=np.int64)
    from_end[order] = np.repeat(counts, counts) - 1 - pos_sorted  # 0 = the user's last row
    eligible = counts[codes] >= 2 * n_last + 1
    part = np.zeros(n, dtype=np.int8)  # 0 train, 1 val, 2 test
    part[eligible & (from_end < 2 * n_last)] = 1
    part[eligible & (from_end < n_last)] = 2
    train_rows = df.loc[part == 0]
    item_ids = pd.unique(train_rows["item"])
    user_ids = np.asarray(users)
    known = df["item"].isin(item_ids).to_numpy()
    drop_val, drop_test = int(((part == 1) & ~known).sum()), int(((part == 2) & ~known).sum())
    if drop_val or drop_test:
        warnings.warn(f"{where}: dropped {drop_val} validation and {drop_test} test rows whose item never occurs in "
                      f"train (it has no column).", stacklevel=2)
    val = Interactions.from_frame(df.loc[(part == 1) & known], item_ids=item_ids, user_ids=user_ids)
    test = Interactions.from_frame(df.loc[(part == 2) & known], item_ids=item_ids, user_ids=user_ids)
    train = Interactions.from_frame(train_rows, item_ids=item_ids, user_ids=user_ids)
    return LeaveLastOutSplit(train=train, val=val, test=test, n_users_train_only=int((counts < 2 * n_last + 1).sum()),
                             info={"n_val_rows_unseen_items": drop_val, "n_test_rows_unseen_items": drop_test})


# ---------------------------------------------------------------------------- DiffRec splits
@dataclass(eq=False)
class DiffRecSplit:
    """DiffRec's fixed train/validation/test interactions on one ``(n_users, n_items)`` index.

    Attributes
    ----------
    train, valid, test : Interactions ``(n_users, n_items)``
        Ids are the 0-based indices (``user_ids = arange(n_users)``).
    """

    train: Interactions
    valid: Interactions
    test: Interactions

    def summary(self) -> Dict[str, int]:
        """Counts: users, items and positives per part."""
        return {"n_users": self.train.n_users, "n_items": self.train.n_items, "nnz_train": self.train.nnz,
                "nnz_valid": self.valid.nnz, "nnz_test": self.test.nnz}


def _load_pairs(root: Path, name: str) -> Tuple[np.ndarray, str]:
    for fname in (f"{name}_list.npy", f"{name}_list.npy.gz"):
        p = root / fname
        if p.is_file():
            break
    else:
        present = sorted(x.name for x in root.iterdir())
        raise DataValidationError(fmt_error(str(root), f"no {name}_list.npy or {name}_list.npy.gz",
                                            f"files {show(present, 10)}",
                                            "Point root to DiffRec's data folder (e.g. datasets/ml-1m_clean)."))
    where = str(p)
    try:
        with open_binary(p) as f:  # np.load needs a seekable file: a .gz is read into memory first
            arr = np.load(io.BytesIO(f.read()) if fname.endswith(".gz") else f, allow_pickle=False)
    except (OSError, EOFError, ValueError) as exc:
        raise DataValidationError(fmt_error(where, "cannot be read as a numeric .npy array", str(exc),
                                            "Check the file (object arrays are not read: loading them would run "
                                            "pickled code).")) from exc
    arr = np.asarray(arr)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.dtype.kind not in "iu":
        raise DataValidationError(fmt_error(where, "must be an integer array of [user, item] rows, shape (N, 2)",
                                            f"shape {arr.shape}, dtype {arr.dtype}", "Check the file."))
    if len(arr) and arr.min() < 0:
        bad = np.flatnonzero((arr < 0).any(axis=1))
        raise DataValidationError(fmt_error(where, "ids must be 0-based (>= 0)", f"rows {_rows(bad)}",
                                            "Check the file."))
    return arr.astype(np.int64), where


def load_diffrec(root: Union[str, Path]) -> DiffRecSplit:
    """Read DiffRec's ``train_list.npy``, ``valid_list.npy``, ``test_list.npy`` (each optionally ``.gz``).

    Each file is an int64 array ``(N, 2)`` of 0-based ``[user, item]`` pairs (Wang et al. 2023,
    "Diffusion Recommender Model", github YiyanXu/DiffRec). The shape of every matrix is
    ``(max user id + 1, max item id + 1)`` over all three files.

    Parameters
    ----------
    root : str or Path
        The folder holding the three files.

    Returns
    -------
    DiffRecSplit

    Raises
    ------
    DataValidationError
        Missing folder or file, unreadable file, wrong shape or dtype, negative ids, empty
        train list.
    """
    sp = _sparse()
    root = Path(root)
    if not root.is_dir():
        raise DataValidationError(fmt_error(str(root), "folder not found", str(root),
                                            f"Fix the path (relative paths are read from {Path.cwd()})."))
    loaded = {name: _load_pairs(root, name) for name in ("train", "valid", "test")}
    if len(loaded["train"][0]) == 0:
        raise DataValidationError(fmt_error(loaded["train"][1], "the train list must not be empty", "0 rows",
                                            "Check the file."))
    allp = np.concatenate([a for a, _ in loaded.values()])
    n_users, n_items = int(allp[:, 0].max()) + 1, int(allp[:, 1].max()) + 1
    users, items = np.arange(n_users), np.arange(n_items)
    out = {}
    for name, (arr, _) in loaded.items():
        m = sp.csr_matrix((np.ones(len(arr), dtype=np.float32), (arr[:, 0], arr[:, 1])),
                          shape=(n_users, n_items), dtype=np.float32)
        m.sum_duplicates()
        m.data[:] = 1.0
        out[name] = Interactions(m, users, items)
    return DiffRecSplit(**out)


__all__ = ["MIN_ITEMS_FOR_TARGET", "StrongGeneralizationSplit", "strong_generalization_split",
           "LeaveLastOutSplit", "leave_last_out_split", "DiffRecSplit", "load_diffrec"]
