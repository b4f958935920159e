"""The anomaly domain's view in the run report (``report.html``).

Two sections:

* **ROC and precision-recall curves** of the VAE's anomaly score and of every PyOD baseline
  that :class:`~vaekit.domains.anomaly.evaluation.BaselineMetrics` fitted, on the evaluated
  split, with their AUCs. The scores are the ones the metrics computed (read from the
  evaluation context's cache), so the curves and the reported AUCs cannot disagree.
* **The most anomalous records** by the VAE's score, each with the measurements that
  contribute most to it: ``E_q[-log p(x_j|z)]`` (:func:`~vaekit.domains.anomaly.scoring.feature_nll`)
  summed over the model columns that encode input feature ``j`` (its value, missing-value
  indicator, one-hot levels), shown with the record's value and the model's reconstruction
  in the original units, so a reader sees *what* is unusual, not only *that* it is.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch

from ..base import EvalContext
from ..report_parts import Section, figure, figures_or_note, fmt, paragraph, plotting, table
from .evaluation import BASELINE_SCORES, AnomalyEvalOptions, vae_scores
from .metrics import average_precision, roc_auc
from .preprocess import inverse_transform
from .scoring import feature_nll

#: Records listed in the top-records table, and features explained per record.
TOP_RECORDS = 10
TOP_FEATURES = 3
CURVES_TITLE = "ROC and precision-recall curves"
TOP_TITLE = "Most anomalous records"
#: How the features' terms relate to each score (:mod:`~vaekit.domains.anomaly.scoring`).
_ADDS_UP = {"elbo": "The terms of all features plus the latent KL add up to the score.",
            "recon_prob": "The terms of all features add up to the score.",
            "iwae": "The terms of all features plus the latent KL add up to the negative ELBO, which the "
                    "iwae score tightens."}


def report_sections(ctx: EvalContext, result: Dict[str, Any]) -> List[Section]:
    """The anomaly sections of the run report.

    Parameters
    ----------
    ctx : EvalContext
        The evaluation's context; its cache holds the scores the metrics computed.
    result : dict
        The flat evaluation result (unused: every number here is derived from the scores).

    Returns
    -------
    list of Section
        The detection curves and the most anomalous records.
    """
    scores = vae_scores(ctx)
    y = None if ctx.dataset.y is None else ctx.dataset.y.numpy().astype(np.int64)
    return [curves_section(detector_scores(ctx, scores), y), top_records_section(ctx, scores, y)]


def detector_scores(ctx: EvalContext, scores: np.ndarray) -> Dict[str, np.ndarray]:
    """The VAE's scores and those of every baseline the metrics already fitted.

    Baselines are not fitted here: a report must not cost a second round of fits, and an
    evaluation without labels (so without baseline metrics) has no curves to draw anyway.

    Returns
    -------
    dict of str -> ndarray, shape (n,)
        Legend label -> scores, the VAE first.
    """
    return {f"VAE ({ctx.options_as(AnomalyEvalOptions).score})": scores, **ctx.extra.get(BASELINE_SCORES, {})}


def curves_section(scores: Dict[str, np.ndarray], y: Optional[np.ndarray]) -> Section:
    """ROC and precision-recall curves of each detector, and their AUCs as a table.

    Parameters
    ----------
    scores : dict of str -> ndarray, shape (n,)
        Detector -> anomaly scores (higher = more anomalous).
    y : ndarray of int, shape (n,), optional
        1 = anomaly; ``None`` when the split is unlabelled.
    """
    if y is None or len(np.unique(y)) < 2:
        return Section(CURVES_TITLE, paragraph("The evaluated split has no labels of both classes (normal and "
                                               "anomaly), so there are no curves; give the table a label column "
                                               "(data.label_column)."))
    from sklearn.metrics import precision_recall_curve, roc_curve

    aucs = {name: (roc_auc(y, s), average_precision(y, s)) for name, s in scores.items()}
    auc_table = table(["detector", "AUC-ROC", "AUC-PR (average precision)"],
                      [(name, a, p) for name, (a, p) in aucs.items()],
                      caption=f"{len(y)} records, {int(y.sum())} anomalies ({100 * y.mean():.1f}%).")
    roc, pr = [], []
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(y, s)
        precision, recall, _ = precision_recall_curve(y, s)
        roc.append((f"{name} (AUC {aucs[name][0]:.3f})", fpr, tpr))
        pr.append((f"{name} (AP {aucs[name][1]:.3f})", recall, precision))
    figs = [_curves_figure(roc, ([0, 1], [0, 1]), "false-positive rate", "true-positive rate (recall)",
                           "ROC curves", "ROC curves", "Chance: the diagonal.", steps=False),
            _curves_figure(pr, ([0, 1], [y.mean()] * 2), "recall", "precision", "Precision-recall curves",
                           "precision-recall curves", "Chance: the share of anomalies.", steps=True)]
    return Section(CURVES_TITLE, auc_table + figures_or_note(figs))


def _curves_figure(series: Sequence[tuple], chance: tuple, xlabel: str, ylabel: str, title: str, alt: str,
                   caption: str, steps: bool) -> Optional[str]:
    """Curves ``[(label, xs, ys), ...]`` over a dashed chance line, as an embedded figure.

    ``steps`` draws each curve as a staircase: a precision-recall curve is only defined at
    its points, and straight lines between them would overstate the precision in between
    (Davis & Goadrich 2006); average precision is the area under that staircase.

    Returns
    -------
    str or None
        The figure's HTML; ``None`` without matplotlib.
    """
    plt = plotting()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(5.0, 4.0))
    ax.plot(*chance, linestyle="--", color="grey", linewidth=1)
    for label, xs, ys in series:
        ax.plot(xs, ys, label=label, drawstyle="steps-post" if steps else "default")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right" if not steps else "best")
    fig.tight_layout()
    return figure(fig, alt, caption)


def top_records_section(ctx: EvalContext, scores: np.ndarray, y: Optional[np.ndarray]) -> Section:
    """The :data:`TOP_RECORDS` highest-scoring records and their :data:`TOP_FEATURES` main features.

    Parameters
    ----------
    ctx : EvalContext
    scores : ndarray, shape (n,)
        The VAE's scores of the evaluated split.
    y : ndarray of int, shape (n,), optional
        1 = anomaly.
    """
    o = ctx.options_as(AnomalyEvalOptions)
    state = ctx.data.info.extra["preprocessor"]
    x = ctx.dataset.x.numpy()
    top = np.argsort(-scores, kind="stable")[:TOP_RECORDS]
    # Over the whole split, not the top rows alone: the Monte-Carlo draws then match those of
    # the score, so with score=elbo the contributions plus the KL add up to it exactly.
    nll, kl = feature_nll(ctx.model, x, o.n_score_samples, seed=ctx.seed)
    contrib = feature_sums(state, nll[top])
    values = inverse_transform(state, x[top])
    expected = inverse_transform(state, _reconstruct(ctx, x[top]))
    names = state["feature_names"]
    rows = []
    for i, r in enumerate(top):
        label = "-" if y is None else ("anomaly" if y[r] else "normal")
        best = np.argsort(-contrib[i], kind="stable")[:TOP_FEATURES]
        cells = [f"{names[j]} = {fmt(values.iat[i, j])} (model: {fmt(expected.iat[i, j])}); "
                 f"{fmt(float(contrib[i, j]), 3)} nats" for j in best]
        rows.append([i + 1, int(r), float(scores[r]), label, *cells, float(kl[r])])
    header = ["rank", "record", f"score ({o.score}, nats)", "label",
              *[f"feature {k + 1}" for k in range(TOP_FEATURES)], "latent KL (nats)"]
    note = paragraph(f"The {len(top)} records of the {ctx.split} split with the highest anomaly score "
                     f"({o.score}). Each feature cell names one of the measurements that contribute most to "
                     f"the score: its value, the model's reconstruction (decoder mean at the posterior mean) "
                     f"and its term E_q[-log p(x_j|z)], summed over the model columns encoding it. "
                     f"{_ADDS_UP[o.score]}")
    summary = "" if y is None else paragraph(f"{int(y[top].sum())} of these {len(top)} are labelled anomalies "
                                             f"({int(y.sum())} of {len(y)} in the split).")
    return Section(TOP_TITLE, note + summary + table(header, rows, digits=4))


def feature_sums(state: Dict[str, Any], values: np.ndarray) -> np.ndarray:
    """Per-model-column values summed per input feature.

    Parameters
    ----------
    state : dict
        :meth:`~vaekit.domains.anomaly.preprocess.TabularPreprocessor.state` (``info.extra["preprocessor"]``).
    values : ndarray, shape (n, n_out)

    Returns
    -------
    ndarray, shape (n, n_features)
        Column ``j`` sums the model columns whose ``groups`` entry is ``j``.
    """
    out = np.zeros((values.shape[0], len(state["feature_names"])), dtype=np.float64)
    np.add.at(out.T, np.asarray(state["groups"]), values.T)
    return out


def _reconstruct(ctx: EvalContext, x: np.ndarray) -> np.ndarray:
    """The decoder mean at the posterior mean of each row, ``(n, n_out)``, in the model's input space."""
    xt = torch.as_tensor(x, dtype=torch.float32, device=ctx.device)
    return ctx.model.reconstruct(xt).reshape(len(x), -1).float().cpu().numpy()
