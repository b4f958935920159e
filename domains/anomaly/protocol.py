"""The ADBench unsupervised protocol (``suite: anomaly:adbench``): vaekit's and PyOD's detectors, declared.

Protocol (Han et al. 2022, ADBench; the data root's ``README.md``), per data set and seed:

1. a set with fewer than 1,000 rows is resampled with replacement to 1,000 rows, one with
   more than 10,000 rows subsampled to 10,000 (as ADBench does; resampling duplicates rows,
   some of which land in both splits);
2. a stratified 70/30 train/test split;
3. a ``MinMaxScaler`` fitted on the train split, applied to both;
4. every detector, with its default settings, is fitted on the *contaminated* train split
   (labels unused) and scores the test split;
5. AUC-ROC and AUC-PR (average precision) on the test split; fit and scoring times.

Models are factories of detectors with PyOD's ``fit``/``decision_function`` (the protocol's
fit/score adapter is :func:`~vaekit.domains.anomaly.baselines.fit_score`), so any PyOD detector,
a :class:`~vaekit.domains.anomaly.detector.VAEDetector` or a user's own plugs in unchanged;
``vaekit benchmark`` (:mod:`vaekit.pipelines.benchmark`) runs the loops over data sets, models
and seeds.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from vaekit.core.errors import ConfigError

from ..data_root import UnderDataRoot
from ..protocols import Model, Protocol, Unit
from .baselines import PYOD_NAMES, fit_score, pyod_baselines
from .metrics import average_precision, roc_auc


def adbench_split(X: np.ndarray, y: np.ndarray, seed: int, min_rows: int = 1000, max_rows: int = 10000,
                  test_size: float = 0.3) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Resample, split (stratified) and min-max scale one data set as ADBench does.

    Returns
    -------
    X_train, X_test : ndarray, shapes (n_train, F), (n_test, F)
    y_train, y_test : ndarray of int, 1 = anomaly
    """
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import MinMaxScaler

    rng = np.random.RandomState(seed)
    n = len(X)
    if n < min_rows:
        idx = rng.choice(n, min_rows, replace=True)
    elif n > max_rows:
        idx = rng.choice(n, max_rows, replace=False)
    else:
        idx = np.arange(n)
    X, y = np.asarray(X, dtype=np.float64)[idx], np.asarray(y)[idx]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, shuffle=True, stratify=y,
                                              random_state=seed)
    scaler = MinMaxScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr.astype(np.int64), y_te.astype(np.int64)


def load_adbench(root: str | Path, names: Optional[Iterable[str]] = None) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """``{name: (X, y)}`` for the ADBench ``.npz`` files in ``root`` (all, or ``names``)."""
    from .io import load_adbench_dir, read_table

    files = load_adbench_dir(root)
    wanted = list(names) if names is not None else sorted(files)
    missing = [n for n in wanted if n not in files]
    if missing:
        raise ConfigError(f"datasets: {missing} not found in {root}; available: {', '.join(sorted(files))}.")
    out = {}
    for n in wanted:
        X, y = read_table(files[n])
        out[n] = (X.to_numpy(dtype=np.float64), y)
    return out


def _load(seed: int, options: Mapping[str, Any]) -> Dict[Optional[str], Tuple[np.ndarray, ...]]:
    """Every data set of ``options`` split for ``seed``: ``{name: (X_train, X_test, y_train, y_test)}``."""
    names = options.get("datasets")
    if isinstance(names, str):  # a development half by name, not a list of sets
        from .io import MEDICAL, OTHER, development_halves

        halves = dict(zip(("selection", "confirmation"), development_halves(list(MEDICAL) + list(OTHER))))
        if names not in halves:
            raise ConfigError(f"options.datasets: a list of set names, or 'selection' / 'confirmation' (the fixed "
                              f"development halves); got {names!r}.")
        names = halves[names]
    return {name: adbench_split(X, y, seed)
            for name, (X, y) in load_adbench(str(options["root"]), list(names) if names else None).items()}


def _evaluate(detector, unit: Unit) -> Dict[str, Any]:
    """Fit on the contaminated train split, score the test split: AUCs in percent and the times."""
    X_tr, X_te, _, y_te = unit.data
    s, fit_s, score_s = fit_score(detector, X_tr, X_te)
    return dict(auc_roc=100 * roc_auc(y_te, s), auc_pr=100 * average_precision(y_te, s), fit_s=fit_s,
                score_s=score_s, n_train=len(X_tr), n_test=len(X_te))


def _vaekit(unit: Unit):
    from .detector import VAEDetector

    return VAEDetector(random_state=unit.seed, **unit.params)


def _pyod(name: str) -> Model:
    return Model(make=lambda unit: pyod_baselines([name], unit.params)[name](unit.seed),
                 doc=f"PyOD's {name} (params: its constructor's arguments)")


def _adbench_groups(datasets: Sequence[str]) -> Dict[str, List[str]]:
    """Medical, other, the two development halves (:func:`~.io.development_halves`, fixed by
    name over the 35 shared sets, so a subset keeps each set in its half) and all."""
    from .io import MEDICAL, OTHER, development_halves

    selection, confirmation = development_halves(list(MEDICAL) + list(OTHER))
    groups = {"medical": [d for d in datasets if d in MEDICAL], "other": [d for d in datasets if d not in MEDICAL],
              "selection": [d for d in datasets if d in selection],
              "confirmation": [d for d in datasets if d in confirmation],
              "medical selection": [d for d in datasets if d in MEDICAL and d in selection],
              "medical confirmation": [d for d in datasets if d in MEDICAL and d in confirmation],
              "all": list(datasets)}
    return {k: v for k, v in groups.items() if v}


def _describe(rec: Mapping[str, Any]) -> str:
    return f"AUC-ROC {rec['auc_roc']:.1f} AUC-PR {rec['auc_pr']:.1f} fit {rec['fit_s']:.2f}s"


#: ``anomaly:adbench``: ``runs[].model`` is ``vaekit`` (a :class:`~vaekit.domains.anomaly.detector.VAEDetector`,
#: ``params`` = its arguments) or a PyOD detector name (``params`` = its constructor's); options
#: ``root`` (the folder of ADBench ``.npz`` files) and ``datasets`` (names, or ``selection`` /
#: ``confirmation`` for a development half; default every file there).
PROTOCOLS = {
    "adbench": Protocol(
        doc="ADBench unsupervised protocol (Han et al. 2022): resample, 70/30 stratified split, MinMax, fit on "
            "the contaminated train split",
        load=_load, evaluate=_evaluate, metrics=("auc_roc", "auc_pr", "fit_s", "score_s"),
        models={"vaekit": Model(make=_vaekit, doc="vaekit's VAEDetector (params: its arguments)"),
                **{name: _pyod(name) for name in PYOD_NAMES}},
        options={"root": UnderDataRoot("anomaly/adbench"), "datasets": None},
        groups=_adbench_groups, describe=_describe, ranked={"auc_roc": "max", "auc_pr": "max"}),
}

__all__ = ["PROTOCOLS", "adbench_split", "load_adbench"]
