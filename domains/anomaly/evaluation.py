"""The anomaly domain's metrics for ``vaekit evaluate``: the detector's scores on the test
split (AUC-ROC, AUC-PR, precision@n, recall at a fixed FPR) and PyOD baselines fitted on the
same (preprocessed, contaminated) train split, side by side."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, fmt_error

from ..base import EvalContext, Metric
from .metrics import anomaly_scores_report
from .scoring import SCORES, anomaly_scores

#: ``EvalContext.extra`` keys of the scores the metrics compute, read again by the run report
#: (:mod:`~vaekit.domains.anomaly.report`) so that it draws the very scores the metrics measured.
VAE_SCORES = "anomaly/vae_scores"
BASELINE_SCORES = "anomaly/baseline_scores"


@dataclass(frozen=True)
class AnomalyEvalOptions:
    """``eval.options`` for ``domain: anomaly``.

    Attributes
    ----------
    score : {"elbo", "iwae", "recon_prob", "elbo_agg"}
        The anomaly score (:mod:`~vaekit.domains.anomaly.scoring`; ``elbo_agg`` takes the
        aggregate posterior of the training split's rows).
    n_score_samples : int
        Posterior draws per record.
    fpr : float
        False-positive rate of the ``recall_at_fpr`` metric.
    baselines : list of str
        PyOD detectors (default settings) fitted on the same train split; ``[]`` for none.
    """

    score: str = "elbo"
    n_score_samples: int = 16
    fpr: float = 0.05
    baselines: List[str] = field(default_factory=lambda: ["IForest", "ECOD", "COPOD"])

    def validate(self, path: str = "eval.options") -> None:
        from .baselines import pyod_baselines

        if self.score not in SCORES:
            raise ConfigError(f"{path}.score: must be one of {', '.join(SCORES)}; got {self.score!r}.")
        if self.n_score_samples < 1:
            raise ConfigError(f"{path}.n_score_samples: must be >= 1; got {self.n_score_samples!r}.")
        if not 0 < self.fpr < 1:
            raise ConfigError(f"{path}.fpr: must lie in (0, 1); got {self.fpr!r}.")
        try:
            pyod_baselines(self.baselines)
        except ConfigError as exc:
            raise ConfigError(f"{path}.{exc}") from None


def _labels(ctx: EvalContext, what: str):
    y = ctx.dataset.y
    if y is None:
        warnings.warn(f"{what}: the {ctx.split} split has no anomaly labels, so no AUC is computed; give the "
                      f"table a label column (data.label_column).", stacklevel=2)
        return None
    y = y.numpy().astype(np.int64)
    if len(y) and len(np.unique(y)) == 1:
        # load_anomaly refuses a test split of one class; a val split (or a run trained before
        # that check) can still be one, and AUCs are undefined on it.
        fix = ("Evaluate the test split (vaekit evaluate RUN --split test), or retrain with a larger "
               "data.val_fraction." if ctx.split == "val" else
               "Retrain with a larger data.test_fraction or more labelled anomalies.")
        raise DataValidationError(fmt_error(f"{what}: the {ctx.split} split", "must hold both anomalies (1) and "
                                            "normal rows (0) to compute AUCs",
                                            f"{len(y)} rows, all {int(y[0])}", fix))
    return y


def vae_scores(ctx: EvalContext) -> np.ndarray:
    """The model's anomaly scores (``eval.options.score``) of the evaluated split, once per context.

    Returns
    -------
    ndarray, shape (n,)
        float64 nats, higher = more anomalous; cached under :data:`VAE_SCORES`.
    """
    from .scoring import aggregate_posterior

    o = ctx.options_as(AnomalyEvalOptions)

    def scores():
        # elbo_agg's mixture: the posteriors of the training split's rows
        mixture = aggregate_posterior(ctx.model, ctx.data.train.x.numpy(), seed=ctx.seed) \
            if o.score == "elbo_agg" else None
        return anomaly_scores(ctx.model, ctx.dataset.x.numpy(), o.score, o.n_score_samples, seed=ctx.seed,
                              mixture=mixture)

    return ctx.cached(VAE_SCORES, scores)


def baseline_scores(ctx: EvalContext) -> Dict[str, np.ndarray]:
    """Every ``eval.options.baselines`` detector fitted on the train split, scoring the evaluated one.

    Returns
    -------
    dict of str -> ndarray, shape (n,)
        Detector name (as configured) -> its scores, in the configured order; cached under
        :data:`BASELINE_SCORES`.
    """
    from .baselines import fit_score, pyod_baselines

    def fit_all():
        x_train, x_eval = ctx.data.train.x.numpy(), ctx.dataset.x.numpy()
        return {name: fit_score(make(ctx.seed), x_train, x_eval)[0]
                for name, make in pyod_baselines(ctx.options_as(AnomalyEvalOptions).baselines).items()}

    return ctx.cached(BASELINE_SCORES, fit_all)


class DetectionMetrics(Metric):
    """The model's anomaly scores on the evaluated split against its labels."""

    name = "detect"
    higher_is_better = True
    needs = ("model", "data")

    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        o = ctx.options_as(AnomalyEvalOptions)
        y = _labels(ctx, "detect")
        if y is None:
            return {}
        return {f"detect/{k}": float(v) for k, v in anomaly_scores_report(y, vae_scores(ctx), fpr=o.fpr).items()}


class BaselineMetrics(Metric):
    """PyOD detectors (default settings) fitted on the same train split, scored the same way."""

    name = "baseline"
    higher_is_better = True
    needs = ("data",)

    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        o = ctx.options_as(AnomalyEvalOptions)
        y = _labels(ctx, "baseline")
        if y is None or not o.baselines:
            return {}
        out = {}
        for name, s in baseline_scores(ctx).items():
            rep = anomaly_scores_report(y, s, fpr=o.fpr)
            key = name.lower().replace("-", "_")
            out[f"baseline/{key}_roc_auc"] = float(rep["roc_auc"])
            out[f"baseline/{key}_auc_pr"] = float(rep["auc_pr"])
        return out
