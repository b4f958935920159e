"""vaekit.domains.recsys: recommend items from implicit feedback with VAEs.

* recommenders in scikit-learn style on CSR matrices (:mod:`.recommenders`,
  :mod:`.baselines`): :class:`MultVAERecommender`, :class:`MultDAERecommender` (Liang et al.
  2018), :class:`RecVAERecommender` (Shenbin et al. 2020), :class:`EASERecommender` (Steck
  2019), :class:`PopularityRecommender`; ``fit(X)``, ``predict_scores(X_foldin)``,
  ``recommend(X_foldin, k)``;
* data (:mod:`.data`): MovieLens ``ratings.dat``/``ratings.csv``/``u.data``, RecBole
  ``.inter``, any interactions table; the strong-generalisation split of Liang et al. 2018,
  leave-last-out, DiffRec's ML-1M split; generated interactions for the offline default;
* metrics (:mod:`.metrics`): Recall@k (truncated or full denominator), NDCG@k, precision,
  coverage, with fold-in items masked.

Names are imported lazily so that ``import vaekit.domains.recsys`` stays cheap.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "MultVAERecommender": ".recommenders",
    "MultDAERecommender": ".recommenders",
    "RecVAERecommender": ".recommenders",
    "EASERecommender": ".baselines",
    "PopularityRecommender": ".baselines",
    "Recommender": ".baselines",
    "read_interactions": ".data",
    "binarize": ".data",
    "filter_min_counts": ".data",
    "Interactions": ".data",
    "strong_generalization_split": ".data",
    "leave_last_out_split": ".data",
    "load_diffrec": ".data",
    "synthetic_interactions": ".data",
    "recall_at_k": ".metrics",
    "ndcg_at_k": ".metrics",
    "precision_at_k": ".metrics",
    "coverage_at_k": ".metrics",
    "ranking_report": ".metrics",
    "top_k": ".metrics",
    "RecsysDataConfig": ".loading",
    "load_recsys": ".loading",
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'vaekit.domains.recsys' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name], __name__), name)


__all__ = sorted(_LAZY)
