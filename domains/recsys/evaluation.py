"""The recommendation domain's metrics for ``vaekit evaluate``: the model's ranking of each
held-out user's target items from their fold-in (Recall@k, NDCG@k, precision, coverage), and
EASE and popularity fitted on the same training rows, side by side."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import numpy as np

from vaekit.core.errors import ConfigError

from ..base import EvalContext, Metric

BASELINES = ("EASE", "popularity")
#: Steck 2019 tunes EASE's L2 weight on validation data; this is the grid searched when
#: ``ease_l2`` is null.
EASE_GRID = (1.0, 10.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0)
#: Cut-offs of the run report's Recall/NDCG-by-k view (clipped to the catalogue), ranked in the
#: same pass as ``eval.options.ks`` (see :func:`ranking`).
CURVE_KS = (1, 5, 10, 20, 50, 100)


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


def cutoffs(ks, n_items: int) -> List[int]:
    """The distinct cut-offs of ``ks``, each clipped to the catalogue size ``n_items``, sorted."""
    return sorted({min(int(k), n_items) for k in ks})


def _metric_keys(opts: RecsysEvalOptions, n_items: int) -> List[str]:
    """The keys a metric reports: recall, precision, NDCG and coverage at each ``opts.ks``."""
    return [f"{m}@{k}" for k in cutoffs(opts.ks, n_items) for m in ("recall", "precision", "ndcg", "coverage")]


def ranking(ctx: EvalContext, model: str, scores: Callable[[], np.ndarray]) -> Dict[str, float]:
    """:func:`~vaekit.domains.recsys.metrics.ranking_report` of one model on the evaluated split,
    at ``eval.options.ks`` and :data:`CURVE_KS`, computed once per context.

    The result is cached in ``ctx.extra["recsys/ranking/<model>"]``, so the run report reads the
    rankings the metrics made instead of scoring again (or refitting EASE). Ranking once at the
    largest cut-off gives every smaller cut-off the prefix of the same list (:func:`top_k`
    breaks ties by item index), so adding :data:`CURVE_KS` leaves the metric values unchanged.

    Parameters
    ----------
    ctx : EvalContext
    model : str
        Cache key and label (``"VAE"``, ``"EASE"``, ``"popularity"``).
    scores : callable
        ``() -> (n_users, n_items)`` item scores of the split's fold-in rows; called only on a
        cache miss.

    Returns
    -------
    dict
        ``"recall@k"``, ``"precision@k"``, ``"ndcg@k"``, ``"coverage@k"`` and ``"n_users"``.
    """
    from .metrics import ranking_report

    def run() -> Dict[str, float]:
        ds, opts = ctx.dataset, ctx.options_as(RecsysEvalOptions)
        s = scores()
        ks = cutoffs([*opts.ks, *CURVE_KS], s.shape[1])
        return ranking_report(s, ds.y, ks=ks, exclude=ds.exclude, denominator=opts.recall_denominator)

    return ctx.cached(f"recsys/ranking/{model}", run)


def vae_ranking(ctx: EvalContext) -> Dict[str, float]:
    """:func:`ranking` of the trained VAE (decoder logits at the posterior mean)."""
    from .models import item_scores

    return ranking(ctx, "VAE", lambda: item_scores(ctx.model, ctx.dataset.x, ctx.batch_size, ctx.device))


def baseline_ranking(ctx: EvalContext, name: str) -> Dict[str, float]:
    """:func:`ranking` of the baseline ``name`` (of :data:`BASELINES`) fitted on the training rows."""
    return ranking(ctx, name, lambda: _fit_baseline(ctx, name).predict_scores(ctx.dataset.x))


class RankingMetrics(Metric):
    """The trained VAE's ranking of the split's target items (keys ``rank/recall@k``, ...)."""

    name = "rank"
    higher_is_better = True
    needs = ("model", "data")

    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        rep = vae_ranking(ctx)
        return {f"rank/{k}": rep[k] for k in _metric_keys(ctx.options_as(RecsysEvalOptions), ctx.dataset.x.shape[1])}


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


def _fit_baseline(ctx: EvalContext, name: str):
    """EASE (L2 weight from ``eval.options`` or tuned on validation) or popularity, fitted on
    the training rows."""
    from .baselines import EASERecommender, PopularityRecommender

    train = ctx.data.train.x
    if name == "EASE":
        opts = ctx.options_as(RecsysEvalOptions)
        l2 = opts.ease_l2 if opts.ease_l2 is not None else tune_ease_l2(train, ctx.data.val)
        return EASERecommender(l2=l2).fit(train)
    return PopularityRecommender().fit(train)


class BaselineMetrics(Metric):
    """EASE (Steck 2019) and popularity fitted on the training rows, on the same split (keys
    ``baseline/ease_recall@k``, ``baseline/popularity_ndcg@k``, ...)."""

    name = "baseline"
    higher_is_better = True
    needs = ("data",)

    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        opts = ctx.options_as(RecsysEvalOptions)
        keys = _metric_keys(opts, ctx.dataset.x.shape[1])
        out: Dict[str, float] = {}
        for name in opts.baselines:
            rep = baseline_ranking(ctx, name)
            out.update({f"baseline/{name.lower()}_{k}": rep[k] for k in keys})
        return out
