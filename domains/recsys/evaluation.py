"""The recommendation domain's metrics for ``vaekit evaluate``: the model's ranking of each
held-out user's target items from their fold-in (Recall@k, NDCG@k, precision, coverage), and
EASE and popularity fitted on the same training rows, side by side."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

from vaekit.core.errors import ConfigError

from ..base import EvalContext, Metric

BASELINES = ("EASE", "popularity")
#: Steck 2019 tunes EASE's L2 weight on validation data; this is the grid searched when
#: ``ease_l2`` is null.
EASE_GRID = (1.0, 10.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0)


@dataclass(frozen=True)
class RecsysEvalOptions:
    """``eval.options`` for ``domain: recsys``.

    Attributes
    ----------
    ks : list of int
        Cut-offs of Recall/NDCG/precision/coverage.
    recall_denominator : {"truncated", "full"}
        ``truncated``: ``min(k, |targets|)`` (Liang et al. 2018); ``full``: ``|targets|``
        (DiffRec, Wang et al. 2023).
    baselines : list of str
        Among ``EASE``, ``popularity``; ``[]`` for none.
    ease_l2 : float, optional
        EASE's L2 weight; ``null``: the grid value with the best validation NDCG@100 (or the
        largest k) is used, as Steck 2019 tunes it.
    """

    ks: List[int] = field(default_factory=lambda: [20, 50, 100])
    recall_denominator: str = "truncated"
    baselines: List[str] = field(default_factory=lambda: list(BASELINES))
    ease_l2: Optional[float] = None

    def validate(self, path: str = "eval.options") -> None:
        if not self.ks or any(int(k) < 1 for k in self.ks):
            raise ConfigError(f"{path}.ks: needs positive cut-offs; got {self.ks!r}.")
        if self.recall_denominator not in ("truncated", "full"):
            raise ConfigError(f"{path}.recall_denominator: must be truncated or full; got "
                              f"{self.recall_denominator!r}.")
        bad = [b for b in self.baselines if b not in BASELINES]
        if bad:
            raise ConfigError(f"{path}.baselines: unknown {bad}; choose among {', '.join(BASELINES)}.")
        if self.ease_l2 is not None and self.ease_l2 <= 0:
            raise ConfigError(f"{path}.ease_l2: must be > 0 or null (tuned on validation); got {self.ease_l2!r}.")


def _options(ctx: EvalContext) -> RecsysEvalOptions:
    return ctx.options if isinstance(ctx.options, RecsysEvalOptions) else RecsysEvalOptions()


def report_for(scores: np.ndarray, ds, opts: RecsysEvalOptions) -> Dict[str, float]:
    """:func:`~vaekit.domains.recsys.metrics.ranking_report` of ``scores`` for a val/test
    dataset (targets ``ds.y``, excluded items ``ds.exclude``)."""
    from .metrics import ranking_report

    ks = sorted({min(int(k), scores.shape[1]) for k in opts.ks})
    return ranking_report(scores, ds.y, ks=ks, exclude=ds.exclude, denominator=opts.recall_denominator)


class RankingMetrics(Metric):
    """The trained VAE's ranking of the split's target items (keys ``rank/recall@k``, ...)."""

    name = "rank"
    higher_is_better = True
    needs = ("model", "data")

    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        from .models import item_scores

        ds = ctx.dataset
        scores = item_scores(ctx.model, ds.x, ctx.batch_size, ctx.device)
        return {f"rank/{k}": v for k, v in report_for(scores, ds, _options(ctx)).items() if k != "n_users"}


def tune_ease_l2(train, val_ds, grid=EASE_GRID, k: int = 100) -> float:
    """The L2 weight of ``grid`` with the best validation NDCG@k (Steck 2019's tuning)."""
    from .baselines import EASERecommender
    from .metrics import ndcg_at_k

    k = min(k, train.shape[1])
    best, best_l2 = -np.inf, grid[0]
    for l2 in grid:
        s = EASERecommender(l2=l2).fit(train).predict_scores(val_ds.x)
        v = ndcg_at_k(s, val_ds.y, k, exclude=val_ds.exclude)
        if v > best:
            best, best_l2 = v, l2
    return float(best_l2)


class BaselineMetrics(Metric):
    """EASE (Steck 2019) and popularity fitted on the training rows, on the same split (keys
    ``baseline/ease_recall@k``, ``baseline/popularity_ndcg@k``, ...)."""

    name = "baseline"
    higher_is_better = True
    needs = ("data",)

    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        from .baselines import EASERecommender, PopularityRecommender

        opts = _options(ctx)
        train = ctx.data.train.x
        ds = ctx.dataset
        out: Dict[str, float] = {}
        for name in opts.baselines:
            if name == "EASE":
                l2 = opts.ease_l2 if opts.ease_l2 is not None else tune_ease_l2(train, ctx.data.val)
                rec = EASERecommender(l2=l2).fit(train)
            else:
                rec = PopularityRecommender().fit(train)
            rep = report_for(rec.predict_scores(ds.x), ds, opts)
            out.update({f"baseline/{name.lower()}_{k}": v for k, v in rep.items() if k != "n_users"})
        return out
