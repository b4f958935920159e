"""The recommendation domain's ``data`` config section and its loader: interactions ->
the protocol's split -> a :class:`~vaekit.core.types.DataBundle` of sparse click rows.

Splits (``split``):

* ``strong`` (default): strong generalisation exactly as Liang et al. 2018
  (:func:`~vaekit.domains.recsys.splits.strong_generalization_split`): train users' full
  histories train the model; validation and test users are held out whole, and each held-out
  user's items are split 80 % fold-in (the model's input) / 20 % target (to rank);
* ``temporal``: leave-last-out over time for every user: the last interaction is the test
  target, the one before the validation target, the rest trains; a user's fold-in is their
  training history;
* ``given``: a published split with train/valid/test files (``format: diffrec``, the ML-1M
  split of Wang et al. 2023): the fold-in is the user's train row; at test time the train and
  validation items are both excluded from the ranking, as DiffRec's evaluation does.

The train, val and test datasets are :class:`~vaekit.core.data.SparseRowDataset` (``x`` =
fold-in, ``y`` = target); each val/test dataset also carries ``exclude``, the CSR matrix of
items not to rank for that user (its fold-in; for ``given``, train + validation items at test).
``info.extra`` keeps ``item_ids`` (original ids in column order) and a split summary.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

import numpy as np

from vaekit.core.data import SparseRowDataset, collate_sparse_rows
from vaekit.core.errors import ConfigError
from vaekit.core.types import DataBundle, DataInfo


#: Names ``data.sep`` may give a separator by: ``--set data.sep=|`` reads ``|`` as YAML's
#: block-scalar marker (an empty string), and a tab is awkward to type.
SEPARATOR_NAMES = {"tab": "\t", "\\t": "\t", "pipe": "|", "comma": ",", "semicolon": ";", "space": " "}


@dataclass(frozen=True)
class RecsysDataConfig:
    """The ``data`` section of a recommendation run.

    Attributes
    ----------
    path : str, optional
        A ratings/interactions file (MovieLens ``ratings.dat``/``ratings.csv``/``u.data``,
        RecBole ``.inter``, any CSV/TSV/parquet; optionally ``.gz``) or, with
        ``format: diffrec``, a folder with ``{train,valid,test}_list.npy(.gz)``. ``null``:
        generated interactions with genre structure and power-law popularity (the embedded
        default; :func:`~vaekit.domains.recsys.synthetic.synthetic_interactions`).
    format : {"auto", "diffrec"}
    user_column, item_column, rating_column, time_column : str, optional
        Column names of a table (default: detected from common names).
    sep : str, optional
        Field separator of a text table (e.g. ``","``, ``"|"``, ``"::"``, or one of the names
        in :data:`SEPARATOR_NAMES`, e.g. ``tab``, ``pipe``, which need no quoting on the
        command line); ``null``: detected from the file's first line.
    threshold : float, optional
        Interactions with ``rating > threshold`` are positives (Liang et al.: 3.5 on a 1-5
        scale, i.e. 4 and 5 stars); ``null``: every row is a positive (implicit data). A
        pair listed more than once is one positive (the duplicates removed are counted in a
        warning and in ``data_info.json``).
    min_user_count : int
        Users with fewer positives are dropped (5).
    split : {"strong", "temporal", "given"}
    n_heldout_users : int, optional
        ``strong``: validation users = test users = this many; ``null``: 10 % of the users
        left after the threshold and ``min_user_count``, each.
    test_prop : float
        ``strong``: share of a held-out user's items that are targets (0.2).
    split_seed : int
        ``strong``: the permutation seed (98765, Liang et al.'s).
    synthetic_users, synthetic_items : int
        Size of the generated default.
    """

    path: Optional[str] = None
    format: Literal["auto", "diffrec"] = "auto"
    user_column: Optional[str] = None
    item_column: Optional[str] = None
    rating_column: Optional[str] = None
    time_column: Optional[str] = None
    sep: Optional[str] = None
    threshold: Optional[float] = 3.5
    min_user_count: int = 5
    split: Literal["strong", "temporal", "given"] = "strong"
    n_heldout_users: Optional[int] = None
    test_prop: float = 0.2
    split_seed: int = 98765
    synthetic_users: int = 3000
    synthetic_items: int = 1000

    def validate(self, path: str = "data") -> None:
        if self.format == "diffrec" and self.split != "given":
            raise ConfigError(f"{path}.split: a diffrec folder holds a fixed train/valid/test split; set split: "
                              f"given; got {self.split!r}.")
        if self.split == "given" and self.format != "diffrec":
            raise ConfigError(f"{path}.split: 'given' needs a published split (format: diffrec); got format "
                              f"{self.format!r}. Use split: strong or temporal for a ratings file.")
        if self.sep is not None and (not isinstance(self.sep, str) or not self.sep):
            raise ConfigError(f"{path}.sep: must be a non-empty separator or null (detected); got {self.sep!r}. "
                              f"Name it ({', '.join(k for k in SEPARATOR_NAMES if k.isalpha())}), e.g. --set "
                              f"{path}.sep=pipe, or quote it: --set \"{path}.sep='|'\" (a bare | is YAML for an "
                              f"empty block).")
        if self.n_heldout_users is not None and self.n_heldout_users < 1:
            raise ConfigError(f"{path}.n_heldout_users: must be >= 1 or null (10 % of the users); got "
                              f"{self.n_heldout_users!r}.")
        if not 0 < self.test_prop < 1:
            raise ConfigError(f"{path}.test_prop: must lie in (0, 1); got {self.test_prop!r}.")
        if self.min_user_count < 1:
            raise ConfigError(f"{path}.min_user_count: must be >= 1; got {self.min_user_count!r}.")
        if self.synthetic_users < 10 or self.synthetic_items < 10:
            raise ConfigError(f"{path}.synthetic_users/synthetic_items: need at least 10 each; got "
                              f"{self.synthetic_users}, {self.synthetic_items}.")


def read_config_interactions(cfg: RecsysDataConfig, seed: int):
    """The interactions table ``cfg`` describes (read, or generated when ``path`` is null)."""
    from .io import read_interactions
    from .synthetic import synthetic_interactions

    if cfg.path is None:
        return synthetic_interactions(n_users=cfg.synthetic_users, n_items=cfg.synthetic_items, seed=seed)
    return read_interactions(cfg.path, user_col=cfg.user_column, item_col=cfg.item_column,
                             rating_col=cfg.rating_column, time_col=cfg.time_column, sep=_separator(cfg.sep))


def _separator(sep: Optional[str]) -> Optional[str]:
    """``data.sep`` as the reader takes it: a name of :data:`SEPARATOR_NAMES` (any case) is replaced."""
    return SEPARATOR_NAMES.get(sep.lower(), sep) if sep is not None else None


def _dataset(foldin, target, exclude, where: str) -> SparseRowDataset:
    ds = SparseRowDataset(foldin, target, where=where)
    ds.exclude = exclude.tocsr()
    return ds


def load_recsys(cfg: RecsysDataConfig, seed: int) -> DataBundle:
    """Read, binarise and split the interactions of ``cfg``; see the module docstring."""
    from .interactions import filter_min_counts
    from .splits import leave_last_out_split, load_diffrec, strong_generalization_split

    cfg.validate()
    if cfg.format == "diffrec":
        if cfg.path is None:
            raise ConfigError("data.path: format diffrec needs the folder of {train,valid,test}_list.npy(.gz); "
                              "got null.")
        sp = load_diffrec(cfg.path)
        train, valid, test = sp.train.matrix, sp.valid.matrix, sp.test.matrix
        summary = dict(split="given", n_users=train.shape[0], n_items=train.shape[1], n_train=int(train.nnz),
                       n_valid=int(valid.nnz), n_test=int(test.nnz))
        train_ds = SparseRowDataset(train, where="data (train)")
        val_ds = _dataset(train, valid, train, "data (val)")
        test_ds = _dataset(train, test, train + valid, "data (test)")
        item_ids = np.asarray(sp.train.item_ids)
    else:
        df = read_config_interactions(cfg, seed)
        _check_rating_column(df, cfg)
        if cfg.split == "strong":
            # n_heldout_users null: 10 % of the users left after the filters (the split counts them).
            sp = strong_generalization_split(df, cfg.n_heldout_users, seed=cfg.split_seed, test_prop=cfg.test_prop,
                                             threshold=cfg.threshold, min_user=cfg.min_user_count)
            train = sp.train.matrix
            train_ds = SparseRowDataset(train, where="data (train)")
            val_ds = _dataset(sp.val_foldin.matrix, sp.val_target.matrix, sp.val_foldin.matrix, "data (val)")
            test_ds = _dataset(sp.test_foldin.matrix, sp.test_target.matrix, sp.test_foldin.matrix, "data (test)")
            item_ids = np.asarray(sp.item_ids)
            summary = dict(split="strong", **sp.summary())
        else:  # temporal
            pos, n_dup = _positives(df, cfg.threshold, _source(cfg))
            kept = filter_min_counts(pos, min_user=cfg.min_user_count, min_item=0)
            if len(kept) == 0:
                _no_users_left(df, pos, cfg)
            pos = kept
            sp = leave_last_out_split(pos, n_last=1)
            train = sp.train.matrix
            train_ds = SparseRowDataset(train, where="data (train)")
            val_ds = _dataset(train, sp.val.matrix, train, "data (val)")
            test_ds = _dataset(train, sp.test.matrix, train + sp.val.matrix, "data (test)")
            item_ids = np.asarray(sp.train.item_ids)
            summary = dict(split="temporal", n_users=train.shape[0], n_items=train.shape[1],
                           n_train=int(train.nnz), n_val=int(sp.val.matrix.nnz), n_test=int(sp.test.matrix.nnz),
                           n_duplicate_pairs_removed=n_dup)
    info = DataInfo(kind="vector", shape=(int(train.shape[1]),), likelihood="multinomial", n_train=len(train_ds),
                    extra={"item_ids": item_ids.tolist(), "split": summary,
                           "source": "generated" if cfg.path is None else str(Path(cfg.path))})
    return DataBundle(train=train_ds, val=val_ds, test=test_ds, info=info, collate=collate_sparse_rows)


def _check_rating_column(df, cfg: RecsysDataConfig) -> None:
    """A rating threshold needs a rating column: say so with the file's own column names."""
    if cfg.threshold is None or "rating" in df.columns:
        return
    source = _source(cfg)
    columns = list(df.attrs.get("source_columns", df.columns))
    raise ConfigError(f"data.threshold: {source} has no rating column to threshold (columns: {columns}); set "
                      f"data.threshold=null for implicit data (every row is a positive), or name the rating "
                      f"column with data.rating_column.")


def _no_users_left(read, positives, cfg: RecsysDataConfig) -> None:
    """Raise: the temporal split has no user left after the threshold and ``min_user_count``;
    the message gives what each step left and the setting that removed them."""
    from vaekit.core.errors import DataValidationError

    from .splits import _size, _too_few_users_fix

    steps = [f"{_size(read)} read"]
    if cfg.threshold is not None:
        steps.append(f"{_size(positives)} with rating > {cfg.threshold}")
    steps.append(f"0 users after the minimum count (users with >= {cfg.min_user_count} positives)")
    fix = _too_few_users_fix(read["user"].nunique(), positives["user"].nunique(), 0, minimum=1)
    raise DataValidationError(f"{_source(cfg)}: no user is left to split after the rating threshold and the minimum "
                              f"count: {'; '.join(steps)}. {fix}")


def _source(cfg: RecsysDataConfig) -> str:
    """How messages name the interactions: the file, or the generated default."""
    return "the generated interactions" if cfg.path is None else str(cfg.path)


def _positives(df, threshold: Optional[float], where: str):
    """Rows with ``rating > threshold`` (Liang et al.'s rule), one per (user, item), and the
    number of duplicate rows removed (counted in a warning that names ``where``)."""
    from .interactions import drop_duplicate_pairs

    if threshold is not None:
        df = df[df["rating"] > threshold]
    pos = drop_duplicate_pairs(df, where)
    return pos, len(df) - len(pos)
