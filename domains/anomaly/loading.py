"""The ``data`` section of an anomaly-detection run and its loader: read, split, preprocess, wrap.

:func:`load_anomaly` reads the table (:func:`~.io.read_labelled_table`, or the embedded
breast-cancer default), splits it (stratified when labelled), fits the preprocessor
(:mod:`.preprocess`) on the train split and returns a :class:`~vaekit.core.types.DataBundle`.

What would only fail later is refused here, at load time: a table too small to leave
:data:`~.features.MIN_TRAIN_ROWS` training rows after the held-out splits, and labels that
cannot be evaluated (one class in the table, or in the test split, which ``vaekit evaluate``
scores by default). A val split of one class is a warning (``vaekit evaluate --split val``
could not compute AUCs; the test split still can).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import List, Optional, Union

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, fmt_error

from .features import DEFAULT_NA_VALUES, MIN_TRAIN_ROWS, check_train_rows
from .io import breast_cancer_data, read_labelled_table, select_columns
from .preprocess import SCALINGS, TabularPreprocessor


@dataclass(frozen=True)
class AnomalyDataConfig:
    """The ``data`` section of an anomaly-detection run config.

    Attributes
    ----------
    path : str, optional
        A table (``.csv``, ``.tsv``, ``.parquet``, ODDS ``.mat``, ADBench ``.npz``; see
        :func:`read_table`). ``None``: the embedded breast-cancer default
        (:func:`breast_cancer_data`).
    label_column : str, optional
        The 0/1 (or two-valued, with ``positive_label``) anomaly label of a CSV/parquet table.
    positive_label : str or int, optional
        The label value that marks an anomaly when the labels are not 0/1.
    na_values : list of str (or numbers)
        Cells of a CSV/TSV/parquet table read as missing (imputed), besides pandas' own markers
        (``NaN``, ``null``, ...); the list replaces the default ``["?", "NA", ""]``. A number
        given here (``-999``, ``1e300``) also matches the same number written differently.
    feature_columns : list of str, optional
        Use only these columns as features.
    categorical_columns : list of str, optional
        Columns to one-hot (default: the non-numeric ones).
    preprocessing : {"quantile", "standard", "minmax", "none"}
        Scaling of numeric columns, fitted on the train split.
    test_fraction, val_fraction : float
        Stratified held-out shares: ``test`` of all rows, ``val`` of the rest.
    contamination : float
        Share of anomalies in the embedded default (ignored with ``path``).
    data_seed : int, optional
        Seed of the splits (default: the run's seed).
    """

    path: Optional[str] = None
    label_column: Optional[str] = None
    positive_label: Optional[Union[str, int]] = None
    na_values: List[Union[str, int, float]] = field(default_factory=lambda: list(DEFAULT_NA_VALUES))
    feature_columns: Optional[List[str]] = None
    categorical_columns: Optional[List[str]] = None
    preprocessing: str = "standard"
    test_fraction: float = 0.3
    val_fraction: float = 0.1
    contamination: float = 0.1
    data_seed: Optional[int] = None

    def validate(self, path: str = "data") -> None:
        if self.preprocessing not in SCALINGS:
            raise ConfigError(f"{path}.preprocessing: must be one of {', '.join(SCALINGS)}; got "
                              f"{self.preprocessing!r}.")
        if not 0 < self.test_fraction < 1:
            raise ConfigError(f"{path}.test_fraction: must lie in (0, 1); got {self.test_fraction!r}.")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f"{path}.val_fraction: must lie in [0, 1); got {self.val_fraction!r}.")
        if not 0 < self.contamination < 0.5:
            raise ConfigError(f"{path}.contamination: must lie in (0, 0.5); got {self.contamination!r}.")
        if isinstance(self.na_values, (str, bytes)) or not isinstance(self.na_values, (list, tuple)) \
                or any(isinstance(v, bool) or not isinstance(v, (str, int, float)) for v in self.na_values):
            raise ConfigError(fmt_error(f"{path}.na_values", "must be a list of cell values (strings or numbers)",
                                        self.na_values, f"Write a YAML list, e.g. --set \"{path}.na_values="
                                                        f"['?','NA','','-999']\"."))


def split_sizes(n_rows: int, test_fraction: float, val_fraction: float):
    """``(n_train, n_val, n_test)`` of :func:`load_anomaly`'s splits of ``n_rows`` rows.

    As scikit-learn's ``train_test_split`` sizes them: the test split takes
    ``ceil(test_fraction * n_rows)`` rows, the val split ``ceil(val_fraction * rest)`` of the rest.
    """
    n_test = math.ceil(test_fraction * n_rows)
    n_val = math.ceil(val_fraction * (n_rows - n_test)) if val_fraction > 0 else 0
    return n_rows - n_test - n_val, n_val, n_test


def _check_size(n_rows: int, cfg: AnomalyDataConfig, where: str) -> None:
    """Enough rows for :data:`MIN_TRAIN_ROWS` training rows after the held-out splits."""
    n_train, n_val, n_test = split_sizes(n_rows, cfg.test_fraction, cfg.val_fraction)
    if n_train >= MIN_TRAIN_ROWS:
        return
    # The ceilings make the closed form a lower bound; step up to the first size that works.
    need = max(MIN_TRAIN_ROWS, int(MIN_TRAIN_ROWS / ((1 - cfg.test_fraction) * (1 - cfg.val_fraction))))
    while split_sizes(need, cfg.test_fraction, cfg.val_fraction)[0] < MIN_TRAIN_ROWS:
        need += 1
    check_train_rows(n_train, f"{where}: the training split",
                     f"The table has {n_rows} row{'' if n_rows == 1 else 's'}, of which "
                     f"data.test_fraction={cfg.test_fraction} and "
                     f"data.val_fraction={cfg.val_fraction} hold out {n_test} and {n_val}. Use a table of at least "
                     f"{need} rows, or lower data.test_fraction / data.val_fraction.")


def _check_labels(y: np.ndarray, label_source: str, where: str) -> None:
    """A labelled table must hold both classes, at least 2 of each, so that a stratified split
    gives the test split both (AUCs are undefined on one class)."""
    counts = np.bincount(y, minlength=2)
    if counts.min() == 0:
        value = int(y[0])
        raise DataValidationError(fmt_error(
            f"{where}: {label_source}", "a labelled table must hold both anomalies (1) and normal rows (0), so "
                                        "that the test split can be evaluated",
            f"{len(y)} labels, all {value} ({'anomalies' if value else 'normal rows'})",
            "If some rows are anomalies, fix the labels (data.positive_label names the value that marks one; "
            "data.label_column the column). To train without labels, remove this column from the table "
            "(vaekit evaluate then reports no AUC)."))
    if counts.min() < 2:
        raise DataValidationError(fmt_error(
            f"{where}: {label_source}", "a labelled table needs at least 2 anomalies (1) and 2 normal rows (0), so "
                                        "that the stratified split gives the test split both classes",
            f"{counts[1]} anomalies and {counts[0]} normal rows", "Add labelled rows of the rarer class."))


def _check_splits(y: np.ndarray, splits, cfg: AnomalyDataConfig, where: str) -> None:
    """The test split must hold both classes (an error); the val split should (a warning)."""
    for name, rows in splits:
        if len(rows) == 0 or len(np.unique(y[rows])) == 2:
            continue
        only = "anomalies (1)" if y[rows[0]] else "normal rows (0)"
        if name == "test":
            raise DataValidationError(fmt_error(
                f"{where}: the test split", "must hold both anomalies (1) and normal rows (0) to be evaluated",
                f"{len(rows)} rows, only {only}; the table has {int(y.sum())} anomalies in {len(y)} rows",
                f"Raise data.test_fraction (now {cfg.test_fraction}) or add labelled anomalies."))
        warnings.warn(f"{where}: the val split ({len(rows)} rows) holds only {only}, so `vaekit evaluate --split val` "
                      f"cannot compute AUCs (the test split can); raise data.val_fraction (now {cfg.val_fraction}) "
                      f"to evaluate on val.", UserWarning, stacklevel=3)


def load_anomaly(cfg: AnomalyDataConfig, seed: int):
    """Read, split (stratified when labelled), preprocess (fitted on train) and wrap a table.

    Items are ``(index, x (d,), None, y)`` with ``y`` the 0/1 label (kept for evaluation,
    never seen by the model); training uses the contaminated train split, as in practice.

    Returns
    -------
    DataBundle
        ``info.extra`` holds ``preprocessor`` (:meth:`TabularPreprocessor.state`),
        ``source`` and the anomaly counts per split.
    """
    from sklearn.model_selection import train_test_split

    from vaekit.core.data import ArrayDataset, collate_arrays
    from vaekit.core.types import DataBundle, DataInfo

    if cfg.path is None:
        df, y = breast_cancer_data(contamination=cfg.contamination, seed=0)
        source, label_source = "sklearn breast-cancer (embedded default)", "its malignant/benign labels"
        if cfg.feature_columns:
            df = select_columns(df, list(cfg.feature_columns), f"data ({source})")
    else:
        df, y, label_source = read_labelled_table(cfg.path, label_column=cfg.label_column,
                                                  feature_columns=cfg.feature_columns,
                                                  na_values=[str(v) for v in cfg.na_values],
                                                  positive_label=cfg.positive_label,
                                                  categorical_columns=cfg.categorical_columns)
        source = str(cfg.path)
    where = f"data ({source})"
    _check_size(len(df), cfg, where)
    if y is not None:
        _check_labels(y, label_source, where)
    s = seed if cfg.data_seed is None else cfg.data_seed
    idx = np.arange(len(df))
    tr, te = train_test_split(idx, test_size=cfg.test_fraction, random_state=s, shuffle=True, stratify=y)
    va = np.array([], dtype=np.int64)
    if cfg.val_fraction > 0:
        strat_tr = None if y is None or np.bincount(y[tr], minlength=2).min() < 2 else y[tr]
        tr, va = train_test_split(tr, test_size=cfg.val_fraction, random_state=s, shuffle=True, stratify=strat_tr)
    if y is not None:
        _check_splits(y, (("test", te), ("val", va)), cfg, where)
    pre = TabularPreprocessor(cfg.preprocessing, cfg.categorical_columns, random_state=s)
    # Messages about a row name it as the file does (1 = first data row).
    pre.fit(df.iloc[tr], where, rows=tr + 1)

    def ds(rows):
        if len(rows) == 0:
            return None
        x = pre.transform(df.iloc[rows], where, rows=rows + 1)
        return ArrayDataset(x, y=None if y is None else y[rows], where=where)

    counts = {}
    if y is not None:
        counts = {name: int(y[rows].sum()) for name, rows in (("train", tr), ("val", va), ("test", te))}
    info = DataInfo(kind="vector", shape=(len(pre.output_names_),), likelihood="gaussian", n_train=len(tr),
                    extra={"source": source, "preprocessor": pre.state(), "labelled": y is not None,
                           "n_anomalies": counts})
    return DataBundle(train=ds(tr), val=ds(va), test=ds(te), info=info, collate=collate_arrays)


__all__ = ["AnomalyDataConfig", "load_anomaly"]
