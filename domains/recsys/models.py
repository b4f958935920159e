"""Mult-VAE and Mult-DAE (Liang et al. 2018, "Variational Autoencoders for Collaborative
Filtering") as vaekit configs, and the scoring and training of click-vector VAEs.

Both are vaekit's one :class:`~vaekit.core.vae.VAE`: an MLP encoder reading the L2-normalised
click vector through input dropout (``normalize_input``, ``input_dropout``), a Gaussian latent,
an MLP decoder to item logits and the multinomial likelihood (``-sum_i x_i log softmax(f(z))_i``).
Liang et al.'s settings: ``[n_items -> 600 -> 200 -> 600 -> n_items]`` with tanh, dropout 0.5,
batch 500, Adam 1e-3, KL weight annealed linearly by ``1 / 200,000`` per update and capped at
0.2, the best epoch picked by validation NDCG@100. Mult-DAE drops the KL term (``beta = 0``) and
adds weight decay ``2 * 0.01 / batch_size`` (the notebook's ``lam = 0.01 / batch_size`` on
``sum w^2 / 2``, doubled in its loss); its Gaussian code noise, untouched by any KL, shrinks to
the head's floor (std ``exp(-6)``), which makes it Liang et al.'s deterministic denoising
autoencoder up to that vanishing noise.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import torch

from vaekit.core.data import SparseRowDataset, collate_sparse_rows
from vaekit.core.objectives import ELBO
from vaekit.core.types import DataBundle, DataInfo
from vaekit.core.vae import VAE, ComponentConfig, ModelConfig, build_vae


def mult_vae_config(latent_dim: int = 200, hidden_dims: Sequence[int] = (600,), dropout: float = 0.5,
                    activation: str = "tanh") -> ModelConfig:
    """The Mult-VAE / Mult-DAE network (Liang et al. 2018, section 2 and 4.3).

    Parameters
    ----------
    latent_dim : int
    hidden_dims : sequence of int
        Encoder widths; the decoder mirrors them.
    dropout : float
        Dropout on the normalised input click vector.
    activation : str
    """
    enc = {"hidden_dims": list(hidden_dims), "activation": activation, "input_dropout": float(dropout),
           "normalize_input": True}
    dec = {"hidden_dims": list(reversed(list(hidden_dims))), "activation": activation}
    return ModelConfig(latent_dim=int(latent_dim), encoder=ComponentConfig("mlp", enc),
                       decoder=ComponentConfig("mlp", dec), likelihood=ComponentConfig("multinomial", {}))


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

    def compute(model) -> Dict[str, float]:
        rep = ranking_report(scorer(model, foldin), target, ks=ks, exclude=excl)
        return {key: v for k in ks for key in (f"recall@{k}", f"ndcg@{k}") for v in [rep[key]]}

    return compute


def train_click_vae(model_cfg: ModelConfig, X, *, beta: object, epochs: int, batch_size: int, lr: float,
                    weight_decay: float, seed: int, device: str = "cpu", X_val=None, X_val_target=None,
                    monitor: str = "ndcg@100", progress: bool = False) -> VAE:
    """Train a click-vector VAE on the rows of ``X`` with vaekit's trainer.

    With validation users (``X_val`` fold-in, ``X_val_target`` held-out items) it evaluates
    every epoch and keeps the epoch with the best ``monitor`` (Liang et al.'s model selection);
    without, it keeps the last epoch.

    Parameters
    ----------
    model_cfg : ModelConfig
    X : scipy.sparse matrix ``(n_users, n_items)``
    beta : float or schedule mapping
        KL weight (``0`` for Mult-DAE).
    epochs, batch_size : int
    lr, weight_decay : float
    seed : int
    device : str
    X_val, X_val_target : scipy.sparse matrices ``(n_val, n_items)``, optional
    monitor : str
    progress : bool

    Returns
    -------
    VAE
        In eval mode.
    """
    from vaekit.core.distributed import resolve_device
    from vaekit.core.trainer import TrainConfig, fit

    n = X.shape[0]
    batch = int(min(batch_size, n))
    per_epoch = max(1, n // batch)  # the trainer's epochs drop the last partial batch
    steps = int(epochs) * per_epoch
    dev = resolve_device(device)
    has_val = X_val is not None and X_val_target is not None and X_val.shape[0] > 0
    cfg = TrainConfig(max_steps=steps, batch_size=batch, lr=lr, weight_decay=weight_decay, eval_every=per_epoch,
                      log_every=per_epoch, restore_best=has_val, monitor=monitor if has_val else "neg_elbo",
                      monitor_mode="max" if has_val else "min", seed=int(seed), progress=progress, device=str(dev))
    val = SparseRowDataset(X_val, X_val_target, where="X_val") if has_val else None
    data = DataBundle(train=SparseRowDataset(X, where="X"), val=val, test=None,
                      info=click_info(X.shape[1], n), collate=collate_sparse_rows)
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(int(seed))
        model = build_vae(model_cfg, data.info).to(dev)
        fit(model, ELBO(beta=beta, where="objective"), data, cfg,
            val_metrics=ranking_validation(X_val, X_val_target) if has_val else None)
    return model.eval()


def liang_beta(cap: float = 0.2, total_anneal_steps: int = 200_000) -> object:
    """Liang et al.'s KL weight ``min(cap, step / total_anneal_steps)`` as a linear schedule."""
    if cap <= 0:
        return 0.0
    return {"kind": "linear", "start": 0.0, "end": float(cap), "steps": max(1, int(math.ceil(cap * total_anneal_steps)))}
