"""vaekit.domains.recsys: recommend items from implicit feedback with VAEs.

* recommenders in scikit-learn style on CSR matrices (:mod:`.recommenders`,
  :mod:`.baselines`): :class:`MultVAERecommender`, :class:`MultDAERecommender` (Liang et al.
  2018), :class:`RecVAERecommender` (Shenbin et al. 2020), :class:`EASERecommender` (Steck
  2019), :class:`PopularityRecommender`; ``fit(X)``, ``predict_scores(X_foldin)``,
  ``recommend(X_foldin, k)``;
* data: :mod:`.io` (MovieLens ``ratings.dat``/``ratings.csv``/``u.data``, RecBole ``.inter``,
  any interactions table), :mod:`.interactions` (binarise, filter, the CSR matrix),
  :mod:`.splits` (the strong-generalisation split of Liang et al. 2018, leave-last-out,
  DiffRec's ML-1M split), :mod:`.synthetic` (generated interactions for the offline default)
  and :mod:`.loading` (the ``data`` section);
* metrics (:mod:`.metrics`): Recall@k (truncated or full denominator), NDCG@k, precision,
  coverage, with fold-in items masked.

Names are imported lazily so that ``import vaekit.domains.recsys`` stays cheap.
"""
from __future__ import annotations

from ..lazy import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "MultVAERecommender": ".recommenders",
    "MultDAERecommender": ".recommenders",
    "RecVAERecommender": ".recommenders",
    "EASERecommender": ".baselines",
    "PopularityRecommender": ".baselines",
    "Recommender": ".baselines",
    "read_interactions": ".io",
    "binarize": ".interactions",
    "filter_min_counts": ".interactions",
    "Interactions": ".interactions",
    "strong_generalization_split": ".splits",
    "leave_last_out_split": ".splits",
    "load_diffrec": ".splits",
    "synthetic_interactions": ".synthetic",
    "recall_at_k": ".metrics",
    "ndcg_at_k": ".metrics",
    "precision_at_k": ".metrics",
    "coverage_at_k": ".metrics",
    "ranking_report": ".metrics",
    "top_k": ".metrics",
    "RecsysDataConfig": ".loading",
    "load_recsys": ".loading",
})
