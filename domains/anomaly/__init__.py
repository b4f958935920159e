"""vaekit.domains.anomaly: flag anomalous records (patients, lab panels) in tables.

* :class:`VAEDetector` (:mod:`.detector`): vaekit's VAE as a PyOD detector, with a trimmed
  ELBO for contaminated training data, deterministic scores and per-feature explanations;
* data: :mod:`.data` (ODDS ``.mat``, ADBench ``.npz``, CSV/parquet with a label column,
  the embedded breast-cancer default) and :mod:`.preprocess` (impute, scale, one-hot);
* metrics: :mod:`.metrics` (AUC-ROC, AUC-PR, precision@n, recall at a fixed FPR);
* the ADBench protocol with PyOD baselines side by side: :mod:`.benchmark`.

Names are imported lazily so that ``import vaekit.domains.anomaly`` stays cheap.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "VAEDetector": ".detector",
    "TabularPreprocessor": ".preprocess",
    "read_table": ".data",
    "breast_cancer_data": ".data",
    "load_anomaly": ".data",
    "AnomalyDataConfig": ".data",
    "roc_auc": ".metrics",
    "average_precision": ".metrics",
    "precision_at_n": ".metrics",
    "recall_at_fpr": ".metrics",
    "anomaly_scores_report": ".metrics",
    "anomaly_scores": ".scoring",
    "adbench_split": ".benchmark",
    "pyod_baselines": ".benchmark",
    "run_protocol": ".benchmark",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'vaekit.domains.anomaly' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name], __name__), name)


__all__ = sorted(_LAZY)
