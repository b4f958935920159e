"""vaekit.domains.anomaly: flag anomalous records (patients, lab panels) in tables.

* :class:`VAEDetector` (:mod:`.detector`): vaekit's VAE as a PyOD detector, with a trimmed
  ELBO for contaminated training data, deterministic scores and per-feature explanations;
* data: :mod:`.io` (ODDS ``.mat``, ADBench ``.npz``, CSV/parquet with a label column,
  the embedded breast-cancer default), :mod:`.features` (feature and label checks),
  :mod:`.preprocess` (impute, scale, one-hot) and :mod:`.loading` (the ``data`` section);
* metrics: :mod:`.metrics` (AUC-ROC, AUC-PR, precision@n, recall at a fixed FPR);
* the ADBench protocol with PyOD baselines side by side: :mod:`.benchmark`.

Names are imported lazily so that ``import vaekit.domains.anomaly`` stays cheap.
"""
from __future__ import annotations

from ..lazy import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "VAEDetector": ".detector",
    "TabularPreprocessor": ".preprocess",
    "read_table": ".io",
    "breast_cancer_data": ".io",
    "load_anomaly": ".loading",
    "AnomalyDataConfig": ".loading",
    "roc_auc": ".metrics",
    "average_precision": ".metrics",
    "precision_at_n": ".metrics",
    "recall_at_fpr": ".metrics",
    "anomaly_scores_report": ".metrics",
    "anomaly_scores": ".scoring",
    "adbench_split": ".benchmark",
    "pyod_baselines": ".benchmark",
    "run_protocol": ".benchmark",
})
