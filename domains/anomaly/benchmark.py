"""The ADBench unsupervised protocol: vaekit's and PyOD's detectors through one loop.

Protocol (Han et al. 2022, ADBench; ``../shared/data/README.md``), per data set and seed:

1. a set with fewer than 1,000 rows is resampled with replacement to 1,000 rows, one with
   more than 10,000 rows subsampled to 10,000 (as ADBench does; resampling duplicates rows,
   some of which land in both splits);
2. a stratified 70/30 train/test split;
3. a ``MinMaxScaler`` fitted on the train split, applied to both;
4. every detector, with its default settings, is fitted on the *contaminated* train split
   (labels unused) and scores the test split;
5. AUC-ROC and AUC-PR (average precision) on the test split; fit and scoring times.

Detectors are factories ``seed -> detector`` with PyOD's ``fit``/``decision_function``, so
any PyOD detector, a :class:`~vaekit.domains.anomaly.detector.VAEDetector` or a user's own
plugs in unchanged.
"""
from __future__ import annotations

import time
import warnings
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from vaekit.core.errors import ConfigError

if TYPE_CHECKING:
    from vaekit.domains.base import BenchmarkSuite, SuiteContext

from .metrics import average_precision, roc_auc

Factory = Callable[[int], object]
SEEDS = (1, 2, 3)
#: The PyOD detectors of :func:`pyod_baselines`, in table order.
PYOD_NAMES = ("IForest", "ECOD", "COPOD", "KNN", "LOF", "OCSVM", "PCA", "HBOS", "CBLOF", "PyOD-AE", "PyOD-VAE")


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


def pyod_baselines(names: Optional[Iterable[str]] = None,
                   params: Optional[Mapping[str, Any]] = None) -> Dict[str, Factory]:
    """PyOD detectors with their default settings (``random_state`` set where they take one).

    ``VAE`` is PyOD's own, with its defaults: note ``capacity=0.0``, which clamps its KL term
    to zero (so it trains as an autoencoder with noisy codes). ``verbose=0`` only silences
    progress output. ``params`` (keyword arguments of the detectors' constructors, e.g.
    ``{"n_estimators": 500}`` for one IForest) apply to every detector named.
    """
    from pyod.models.auto_encoder import AutoEncoder
    from pyod.models.cblof import CBLOF
    from pyod.models.copod import COPOD
    from pyod.models.ecod import ECOD
    from pyod.models.hbos import HBOS
    from pyod.models.iforest import IForest
    from pyod.models.knn import KNN
    from pyod.models.lof import LOF
    from pyod.models.ocsvm import OCSVM
    from pyod.models.pca import PCA
    from pyod.models.vae import VAE

    # name -> (class, fixed keyword arguments, takes random_state)
    all_: Dict[str, Tuple[type, Dict[str, Any], bool]] = {
        "IForest": (IForest, {}, True), "ECOD": (ECOD, {}, False), "COPOD": (COPOD, {}, False),
        "KNN": (KNN, {}, False), "LOF": (LOF, {}, False), "OCSVM": (OCSVM, {}, False),
        "PCA": (PCA, {}, True), "HBOS": (HBOS, {}, False), "CBLOF": (CBLOF, {}, True),
        "PyOD-AE": (AutoEncoder, {"verbose": 0}, True), "PyOD-VAE": (VAE, {"verbose": 0}, True),
    }
    chosen = list(PYOD_NAMES) if names is None else list(names)
    unknown = [n for n in chosen if n not in all_]
    if unknown:
        raise ConfigError(f"baselines: unknown PyOD detector(s) {unknown}; valid: {', '.join(all_)}.")
    extra = dict(params or {})

    def factory(name: str) -> Factory:
        cls, fixed, seeded = all_[name]
        return lambda s: cls(**fixed, **({"random_state": s} if seeded else {}), **extra)

    return {n: factory(n) for n in chosen}


def fit_score(detector, X_train: np.ndarray, X_eval: np.ndarray) -> Tuple[np.ndarray, float, float]:
    """Fit ``detector`` on ``X_train`` (labels unused) and score ``X_eval``.

    Returns the scores ``(n_eval,)`` and the fit and scoring times in seconds. Detectors'
    own warnings (e.g. PyOD's about deprecated defaults) are silenced.
    """
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        detector.fit(X_train)
        t1 = time.perf_counter()
        s = np.asarray(detector.decision_function(X_eval), dtype=np.float64)
    return s, t1 - t0, time.perf_counter() - t1


def run_protocol(datasets: Mapping[str, Tuple[np.ndarray, np.ndarray]], detectors: Mapping[str, Factory],
                 seeds: Sequence[int] = SEEDS, log: Optional[Callable[[str], None]] = None) -> List[dict]:
    """Run every detector on every data set and seed.

    Parameters
    ----------
    datasets : mapping name -> (X, y)
    detectors : mapping name -> factory(seed)
    seeds : sequence of int
    log : callable, optional
        Receives one line per (data set, seed, detector).

    Returns
    -------
    list of dict
        One record per run: ``dataset, detector, seed, auc_roc, auc_pr, fit_s, score_s``
        (AUCs in percent); a detector that raises gets NaN AUCs and its error in ``error``.
    """
    rows = []
    for dname, (X, y) in datasets.items():
        for seed in seeds:
            X_tr, X_te, y_tr, y_te = adbench_split(X, y, seed)
            for name, make in detectors.items():
                rec = dict(dataset=dname, detector=name, seed=seed, n_train=len(X_tr), n_test=len(X_te))
                try:
                    s, fit_s, score_s = fit_score(make(seed), X_tr, X_te)
                    rec.update(auc_roc=100 * roc_auc(y_te, s), auc_pr=100 * average_precision(y_te, s),
                               fit_s=fit_s, score_s=score_s, error="")
                except Exception as exc:  # a baseline failing must not lose the other results
                    rec.update(auc_roc=float("nan"), auc_pr=float("nan"), fit_s=float("nan"),
                               score_s=float("nan"), error=f"{type(exc).__name__}: {exc}")
                rows.append(rec)
                if log:
                    msg = rec["error"] or f"AUC-ROC {rec['auc_roc']:.1f} AUC-PR {rec['auc_pr']:.1f} fit {rec['fit_s']:.2f}s"
                    log(f"{dname} seed {seed} {name}: {msg}")
    return rows


def summarize(rows: List[dict], groups: Optional[Mapping[str, Sequence[str]]] = None):
    """Mean over seeds per (data set, detector), and means over data-set groups.

    Returns
    -------
    per_dataset : DataFrame
        Index (dataset, detector); columns ``auc_roc, auc_pr, fit_s`` (seed means) and
        ``auc_roc_std``.
    group_means : dict of str -> DataFrame
        For each group: per detector, the mean over its data sets of the seed means.
    """
    import pandas as pd

    df = pd.DataFrame(rows)
    per = df.groupby(["dataset", "detector"]).agg(auc_roc=("auc_roc", "mean"), auc_roc_std=("auc_roc", "std"),
                                                   auc_pr=("auc_pr", "mean"), fit_s=("fit_s", "mean"))
    out = {}
    for gname, names in (groups or {"all": sorted(df["dataset"].unique())}).items():
        sub = per[per.index.get_level_values("dataset").isin(list(names))]
        if len(sub):
            out[gname] = (sub.groupby("detector")[["auc_roc", "auc_pr", "fit_s"]].mean()
                          .sort_values("auc_roc", ascending=False))
    return per, out


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


# ---------------------------------------------------------------- the `vaekit benchmark` suite
ADBENCH_ROOT = "../shared/data/anomaly/adbench"


@lru_cache(maxsize=4)
def _adbench_cached(root: str, names: Optional[Tuple[str, ...]]) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    return load_adbench(root, names)


def _adbench_run(model: str, params: Mapping[str, Any], seed: int, options: Mapping[str, Any],
                 ctx: "SuiteContext") -> List[dict]:
    """One detector, one seed, every data set of ``options``: the suite ``anomaly:adbench``."""
    from .detector import VAEDetector

    names = options.get("datasets")
    data = _adbench_cached(str(options["root"]), tuple(names) if names else None)
    if model == "vaekit":
        detectors = {model: lambda s: VAEDetector(random_state=s, **params)}
    else:
        detectors = pyod_baselines([model], params)
    return [{k: r[k] for k in ("dataset", "auc_roc", "auc_pr", "fit_s", "score_s", "error", "n_train", "n_test")}
            for r in run_protocol(data, detectors, seeds=[seed], log=ctx.log)]


def _adbench_groups(datasets: Sequence[str]) -> Dict[str, List[str]]:
    from .io import MEDICAL, OTHER

    groups = {"medical": [d for d in datasets if d in MEDICAL], "other": [d for d in datasets if d in OTHER],
              "all": list(datasets)}
    return {k: v for k, v in groups.items() if v}


def benchmark_suites() -> Dict[str, "BenchmarkSuite"]:
    """``anomaly:adbench``: the protocol above; ``runs[].model`` is ``vaekit`` (a
    :class:`~vaekit.domains.anomaly.detector.VAEDetector`, ``params`` = its arguments) or a
    PyOD detector name (``params`` = its constructor's); options ``root`` (the folder of
    ADBench ``.npz`` files) and ``datasets`` (names; default every file there)."""
    from vaekit.domains.base import BenchmarkSuite

    return {"adbench": BenchmarkSuite(run=_adbench_run, models=("vaekit",) + PYOD_NAMES,
                                      options={"root": ADBENCH_ROOT, "datasets": None}, groups=_adbench_groups,
                                      doc="ADBench unsupervised protocol (Han et al. 2022): resample, 70/30 "
                                          "stratified split, MinMax, fit on the contaminated train split")}
