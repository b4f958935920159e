"""The recommendation domain's view in the run report (``report.html``).

* Recall@k and NDCG@k by cut-off (:data:`~vaekit.domains.recsys.evaluation.CURVE_KS`) of the
  VAE beside EASE and popularity (Liang et al. 2018's definitions, :mod:`.metrics`), as two line
  plots and a table. The numbers are the rankings the evaluation's metrics made (cached in the
  evaluation context), so no model is scored or fitted again and the cut-offs shared with
  ``eval.options.ks`` equal the ``rank/`` and ``baseline/`` metrics exactly.
* A few evaluated users: their held-out items beside the VAE's top recommendations, hits marked.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..base import EvalContext
from ..report_parts import Section, figure, figures_or_note, paragraph, plotting, table
from .evaluation import CURVE_KS, RecsysEvalOptions, baseline_ranking, cutoffs, vae_ranking

#: Users shown in the example table (the first ones of the split with held-out items).
EXAMPLE_USERS = 3
#: Items listed per user in the example table.
EXAMPLE_ITEMS = 5
#: Marks a recommended item that is held out for the user (a hit).
HIT = "\u2713"
#: Significant digits of the by-k table: enough to check it against ``eval.json`` (to 1e-6).
TABLE_DIGITS = 6
_METRICS = (("recall", "Recall"), ("ndcg", "NDCG"))


def report_sections(ctx: EvalContext, result: Dict[str, Any]) -> List[Section]:
    """The recsys sections of the run report.

    Parameters
    ----------
    ctx : EvalContext
        The evaluation's context; its cache holds the metrics' rankings.
    result : dict
        The flat result of ``vaekit evaluate``; not read: the numbers come from the rankings
        cached in ``ctx``, the very ones its ``rank/`` and ``baseline/`` keys were taken from.

    Returns
    -------
    list of Section
        "Recall and NDCG by k" and "Example recommendations".
    """
    return [by_k_section(ctx), examples_section(ctx)]


# ----------------------------------------------------------------------------- Recall/NDCG by k
def model_rankings(ctx: EvalContext) -> Dict[str, Dict[str, float]]:
    """``{model: ranking report}`` of the VAE and each configured baseline, in that order
    (cached by the metrics; computed here only when the metrics did not run)."""
    out = {"VAE": vae_ranking(ctx)}
    out.update({name: baseline_ranking(ctx, name) for name in ctx.options_as(RecsysEvalOptions).baselines})
    return out


def by_k_section(ctx: EvalContext) -> Section:
    """Recall@k and NDCG@k against k, one line per model, and the table of the same numbers."""
    ks = cutoffs(CURVE_KS, ctx.dataset.x.shape[1])
    reps = model_rankings(ctx)
    figs = [_by_k_figure(reps, ks, key, label) for key, label in _METRICS]
    header = ["k"] + [f"{model} {label}@k" for key, label in _METRICS for model in reps]
    rows = [[k] + [rep[f"{key}@{k}"] for key, _ in _METRICS for rep in reps.values()] for k in ks]
    truncated = ctx.options_as(RecsysEvalOptions).recall_denominator == "truncated"
    denom = "min(k, |held-out|)" if truncated else "|held-out|"
    caption = (f"{ctx.split} split, {reps['VAE']['n_users']} users with held-out items; Recall over {denom}, "
               f"binary-relevance NDCG (Liang et al. 2018)")
    note = paragraph("Fold-in items are excluded from every ranking. The rows at eval.options.ks are the "
                     "rank/ (VAE) and baseline/ metrics of this evaluation.")
    body = figures_or_note(figs) + table(header, rows, caption=caption, digits=TABLE_DIGITS) + note
    return Section("Recall and NDCG by k", body)


def _by_k_figure(reps: Dict[str, Dict[str, float]], ks: Sequence[int], key: str, label: str) -> Optional[str]:
    """``label``@k against k (log axis, ticks at the cut-offs) for every model; ``None``
    without matplotlib."""
    plt = plotting()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    for model, rep in reps.items():
        ax.plot(ks, [rep[f"{key}@{k}"] for k in ks], marker="o", label=model)
    # The cut-offs span two decades; a linear axis would crowd k = 1, 5, 10, 20 together.
    ax.set_xscale("log")
    ax.set_xticks(ks)
    ax.set_xticklabels([str(k) for k in ks])
    ax.minorticks_off()
    ax.set_xlabel("k (list length)")
    ax.set_ylabel(f"{label}@k")
    ax.set_title(f"{label} by k")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return figure(fig, f"{label}@k by k", f"{label}@k of the VAE and the baselines against the cut-off k.")


# ----------------------------------------------------------------------------- examples
def example_rows(ctx: EvalContext, n_users: int = EXAMPLE_USERS, n_items: int = EXAMPLE_ITEMS) -> List[list]:
    """Rows ``[user, |held-out|, held-out items, VAE top items, hits]`` of the example table.

    The users are the first ``n_users`` rows of the split with held-out items; their held-out
    items are listed best-ranked by the VAE first (the set has no order of its own). Only these
    rows are scored again, which is cheap and deterministic.

    Parameters
    ----------
    ctx : EvalContext
    n_users, n_items : int
        Users shown, items listed per user.

    Returns
    -------
    list of list
        Item ids from ``info.extra["item_ids"]``; hits carry :data:`HIT`.
    """
    from .metrics import top_k
    from .models import item_scores

    ds = ctx.dataset
    ids = np.asarray(ctx.data.info.extra["item_ids"], dtype=object)
    users = np.flatnonzero(np.diff(ds.y.indptr) > 0)[:n_users]
    scores = item_scores(ctx.model, ds.x[users], ctx.batch_size, ctx.device)  # (len(users), n_items)
    top = top_k(scores, min(n_items, scores.shape[1]), exclude=ds.exclude[users])  # (len(users), n)
    rows = []
    for u, s, rec in zip(users, scores, top):
        held = np.sort(ds.y[u].indices)
        held = held[np.argsort(-s[held], kind="stable")]  # ties: lower item index first, as top_k
        hits = set(held.tolist()) & set(rec.tolist())
        rows.append([int(u), len(held), _items(ids, held[:n_items], hits), _items(ids, rec, hits), len(hits)])
    return rows


def _items(ids: np.ndarray, idx: np.ndarray, hits: set) -> str:
    """Comma-separated item ids, the hits marked with :data:`HIT`."""
    return ", ".join(f"{ids[i]} {HIT}" if i in hits else str(ids[i]) for i in idx.tolist())


def examples_section(ctx: EvalContext) -> Section:
    """The example table: a few users' held-out items beside the VAE's top recommendations."""
    n = EXAMPLE_ITEMS
    header = ["user (row)", "|held-out|", f"held-out, best-ranked {n}", f"VAE top-{n}", f"hits@{n}"]
    caption = (f"{HIT} = a recommended item the user holds out; fold-in items are never recommended. "
               f"Users are rows of the {ctx.split} split.")
    return Section("Example recommendations", table(header, example_rows(ctx), caption=caption))
