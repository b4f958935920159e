"""PyOD detectors as baselines: built with their default settings, fitted and scored one way.

Used by the anomaly metrics of ``vaekit evaluate`` (:mod:`.evaluation`: baselines fitted on the
run's own train split) and by the ADBench protocol of ``vaekit benchmark`` (:mod:`.protocol`).
"""
from __future__ import annotations

import time
import warnings
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple

import numpy as np

from vaekit.core.errors import ConfigError

Factory = Callable[[int], object]
#: The PyOD detectors of :func:`pyod_baselines`, in table order.
PYOD_NAMES = ("IForest", "ECOD", "COPOD", "KNN", "LOF", "OCSVM", "PCA", "HBOS", "CBLOF", "PyOD-AE", "PyOD-VAE")


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


__all__ = ["PYOD_NAMES", "fit_score", "pyod_baselines"]
