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
    ".recommenders": ["MultVAERecommender", "MultDAERecommender", "RecVAERecommender"],
    ".baselines": ["EASERecommender", "PopularityRecommender", "Recommender"],
    ".io": ["read_interactions"],
    ".interactions": ["binarize", "filter_min_counts", "Interactions"],
    ".splits": ["strong_generalization_split", "leave_last_out_split", "load_diffrec"],
    ".synthetic": ["synthetic_interactions"],
    ".metrics": ["recall_at_k", "ndcg_at_k", "precision_at_k", "coverage_at_k", "ranking_report", "top_k"],
    ".loading": ["RecsysDataConfig", "load_recsys"],
})
