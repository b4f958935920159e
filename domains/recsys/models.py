"""Mult-VAE and Mult-DAE (Liang et al. 2018, "Variational Autoencoders for Collaborative
Filtering"): the scoring and validation of click-vector VAEs. The models themselves are the
packaged run configs ``recsys:multvae`` and ``recsys:multdae`` (``configs/multvae.yaml``,
``configs/multdae.yaml``), trained by :func:`vaekit.core.estimator.fit_vae` from the facades
in :mod:`~vaekit.domains.recsys.recommenders`.

Both are vaekit's one :class:`~vaekit.core.vae.VAE`: an MLP encoder reading the L2-normalised
click vector through input dropout (``normalize_input``, ``input_dropout``), a Gaussian latent,
an MLP decoder to item logits and the multinomial likelihood (``-sum_i x_i log softmax(f(z))_i``).
Liang et al.'s settings are in the two YAMLs (the best epoch is picked by validation NDCG@100,
:func:`ranking_validation`). Mult-DAE drops the KL term; its Gaussian code noise, untouched by
any KL, shrinks to the head's floor (std ``exp(-6)``), which makes it Liang et al.'s
deterministic denoising autoencoder up to that vanishing noise.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import torch

from vaekit.core.data import SparseRowDataset, collate_sparse_rows
from vaekit.core.types import DataInfo
from vaekit.core.vae import VAE


def click_info(n_items: int, n_train: int = 0) -> DataInfo:
    """:class:`DataInfo` of click vectors over ``n_items`` items."""
    return DataInfo(kind="vector", shape=(int(n_items),), likelihood="multinomial", n_train=int(n_train))


@torch.no_grad()
def score_rows(module: torch.nn.Module, logits_of: Callable[[torch.Tensor], torch.Tensor], X, batch_size: int = 2048,
               device: Optional[torch.device] = None, where: str = "scores(X)") -> np.ndarray:
    """``logits_of(x)`` for the rows of sparse ``X`` in dense batches, ``(n_rows, n_items)``
    float32, with ``module`` in eval mode (dropout off; its mode is restored afterwards)."""
    device = device or next(module.parameters()).device
    was = module.training
    module.eval()
    ds = SparseRowDataset(X, where=where)
    out = np.empty(X.shape, dtype=np.float32)
    try:
        for lo in range(0, len(ds), batch_size):
            b = collate_sparse_rows([ds[i] for i in range(lo, min(len(ds), lo + batch_size))])
            out[lo:lo + len(b)] = logits_of(b.x.to(device)).float().cpu().numpy()
    finally:
        module.train(was)
    return out


def item_scores(model: VAE, X, batch_size: int = 2048, device: Optional[torch.device] = None) -> np.ndarray:
    """Item logits of the decoder at each row's posterior mean, ``(n_rows, n_items)`` float32.

    A row is a user's click history (fold-in); the decoder's logits rank the items
    (softmax is monotone, so logits rank as probabilities do). Dropout is off; deterministic.

    Parameters
    ----------
    model : VAE
    X : scipy.sparse matrix ``(n_rows, n_items)``
    batch_size : int
    device : torch.device, optional
        Default: the model's.
    """
    return score_rows(model, lambda x: model.decode(model.embed(x)).logits, X, batch_size, device,
                      where="item_scores(X)")


def ranking_validation(foldin, target, ks: Sequence[int] = (20, 50, 100),
                       scorer: Callable[..., np.ndarray] = item_scores, exclude=None
                       ) -> Callable[[object], Dict[str, float]]:
    """Validation metrics for :func:`vaekit.core.trainer.fit`: Recall@k and NDCG@k of the
    held-out items of validation users from their fold-in items, keys ``recall@k`` and
    ``ndcg@k``.

    ``scorer(model, foldin) -> (n_users, n_items)`` scores the fold-in rows
    (:func:`item_scores` for vaekit VAEs); ``exclude`` (default: the fold-in) is masked
    before ranking.
    """
    from .metrics import ranking_report

    excl = foldin if exclude is None else exclude
    # A cut-off beyond the catalogue ranks every item: NDCG@k and Recall@k of a list of all n
    # items are the values at k = n, so they are computed at n and keep the name ``@k`` that a
    # config's ``train.monitor: ndcg@100`` asks for (a catalogue of 8 items must not make the
    # monitored quantity disappear).
    n_items = int(foldin.shape[1])
    at = {k: min(int(k), n_items) for k in ks}

    def compute(model) -> Dict[str, float]:
        rep = ranking_report(scorer(model, foldin), target, ks=sorted(set(at.values())), exclude=excl)
        return {f"{m}@{k}": rep[f"{m}@{at[k]}"] for k in ks for m in ("recall", "ndcg")}

    return compute


def liang_beta(cap: float, total_anneal_steps: Optional[int]) -> object:
    """Liang et al.'s KL weight ``min(cap, step / total_anneal_steps)`` as a linear schedule
    (the constant 0 when ``cap <= 0``, whatever ``total_anneal_steps``)."""
    if cap <= 0:
        return 0.0
    return {"kind": "linear", "start": 0.0, "end": float(cap), "steps": max(1, int(math.ceil(cap * total_anneal_steps)))}
