"""The ``data`` section of an anomaly-detection run and its loader: read, split, preprocess, wrap.

:func:`load_anomaly` reads the table (:func:`~.io.read_table`, or the embedded breast-cancer
default), splits it (stratified when labelled), fits the preprocessor (:mod:`.preprocess`) on
the train split and returns a :class:`~vaekit.core.types.DataBundle`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Union

import numpy as np

from vaekit.core.errors import ConfigError

from .io import breast_cancer_data, read_table
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
        source = "sklearn breast-cancer (embedded default)"
        if cfg.feature_columns:
            df = df[list(cfg.feature_columns)]
    else:
        df, y = read_table(cfg.path, label_column=cfg.label_column, feature_columns=cfg.feature_columns,
                           positive_label=cfg.positive_label)
        source = str(cfg.path)
    s = seed if cfg.data_seed is None else cfg.data_seed
    idx = np.arange(len(df))
    strat = y if y is not None and np.bincount(y, minlength=2).min() >= 2 else None
    tr, te = train_test_split(idx, test_size=cfg.test_fraction, random_state=s, shuffle=True, stratify=strat)
    va = np.array([], dtype=np.int64)
    if cfg.val_fraction > 0:
        strat_tr = None if strat is None or np.bincount(y[tr], minlength=2).min() < 2 else y[tr]
        tr, va = train_test_split(tr, test_size=cfg.val_fraction, random_state=s, shuffle=True, stratify=strat_tr)
    pre = TabularPreprocessor(cfg.preprocessing, cfg.categorical_columns, random_state=s)
    where = f"data ({source})"
    pre.fit(df.iloc[tr], where)

    def ds(rows):
        if len(rows) == 0:
            return None
        return ArrayDataset(pre.transform(df.iloc[rows], where), y=None if y is None else y[rows], where=where)

    counts = {}
    if y is not None:
        counts = {name: int(y[rows].sum()) for name, rows in (("train", tr), ("val", va), ("test", te))}
    info = DataInfo(kind="vector", shape=(len(pre.output_names_),), likelihood="gaussian", n_train=len(tr),
                    extra={"source": source, "preprocessor": pre.state(), "labelled": y is not None,
                           "n_anomalies": counts})
    return DataBundle(train=ds(tr), val=ds(va), test=ds(te), info=info, collate=collate_arrays)


__all__ = ["AnomalyDataConfig", "load_anomaly"]
