"""vaekit.domains.anomaly: flag anomalous records (patients, lab panels) in tables.

* :class:`VAEDetector` (:mod:`.detector`): vaekit's VAE as a PyOD detector, with a trimmed
  ELBO for contaminated training data, deterministic scores and per-feature explanations;
* data: :mod:`.io` (ODDS ``.mat``, ADBench ``.npz``, CSV/parquet with a label column,
  the embedded breast-cancer default), :mod:`.features` (feature and label checks),
  :mod:`.preprocess` (impute, scale, one-hot) and :mod:`.loading` (the ``data`` section);
* metrics: :mod:`.metrics` (AUC-ROC, AUC-PR, precision@n, recall at a fixed FPR);
* PyOD baselines (:mod:`.baselines`) and the ADBench protocol of ``vaekit benchmark`` (:mod:`.protocol`).

Names are imported lazily so that ``import vaekit.domains.anomaly`` stays cheap.
"""
from __future__ import annotations

from ..lazy import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    ".detector": ["VAEDetector"],
    ".preprocess": ["TabularPreprocessor"],
    ".io": ["read_table", "breast_cancer_data"],
    ".loading": ["load_anomaly", "AnomalyDataConfig"],
    ".metrics": ["roc_auc", "average_precision", "precision_at_n", "recall_at_fpr", "anomaly_scores_report"],
    ".scoring": ["anomaly_scores"],
    ".benchmark": ["adbench_split", "pyod_baselines", "run_protocol"],
})
