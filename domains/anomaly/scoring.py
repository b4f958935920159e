"""Anomaly scores of a trained VAE (higher = more anomalous), deterministic by construction.

Three scores, all in nats per record:

* ``"elbo"``: the negative ELBO, ``E_q[-log p(x|z)] + KL(q(z|x) || p(z))``, the reconstruction
  term averaged over ``n_samples`` posterior draws (the KL is analytic);
* ``"iwae"``: the importance-weighted estimate of ``-log p(x)`` with ``k = n_samples``
  (Burda et al. 2016; :func:`vaekit.core.objectives.iwae_nll`), a tighter bound on the
  same negative log-likelihood;
* ``"recon_prob"``: the negative "reconstruction probability" of An & Cho 2015, ``-(1/L)
  sum_l log p(x|z_l)`` with ``z_l ~ q(z|x)``: the reconstruction term alone, so a record is
  not flagged for an unusual latent code, only for being badly explained;
* ``"elbo_agg"``: the negative ELBO with the *aggregate posterior* of the training rows,
  ``q(z) = (1/K) sum_k q(z|x_k)``, in place of the prior: ``E_q[-log p(x|z)] + E_q[log q(z|x)
  - log q(z)]`` (Monte Carlo). The aggregate posterior is the prior that maximises the
  training ELBO (Hoffman & Johnson 2016, "ELBO surgery"; the VampPrior of Tomczak & Welling
  2018 is its learnable approximation), so the rate term measures how far a record's code lies
  from the codes of the training rows, holes between clusters included, where ``KL(q(z|x) ||
  N(0, I))`` only measures its distance from the origin. ``mixture`` gives the ``K`` training
  posteriors.

Monte-Carlo draws use a private generator state seeded with ``seed`` (``torch.random.fork_rng``),
so the same input gives the same score and the caller's random stream is untouched (PyOD's
own VAE scores with fresh noise on every call). Dropout is off while scoring.
"""
from __future__ import annotations

import contextlib
import math
from typing import Iterator, Literal

import numpy as np
import torch

from vaekit.core.errors import ConfigError
from vaekit.core.objectives import iwae_nll
from vaekit.core.types import Batch

from ..seeding import eval_mode, seeded

ScoreKind = Literal["elbo", "iwae", "recon_prob", "elbo_agg"]
SCORES = ("elbo", "iwae", "recon_prob", "elbo_agg")


def check_score(score: str, where: str = "score") -> None:
    if score not in SCORES:
        raise ConfigError(f"{where}: must be one of {', '.join(SCORES)}; got {score!r}.")


@contextlib.contextmanager
def _seeded_eval(model, seed: int) -> Iterator[torch.device]:
    """Eval mode (dropout off) and a private generator state seeded with ``seed``; the
    model's mode and the caller's random stream are restored afterwards."""
    device = next(model.parameters()).device
    with eval_mode(model), seeded(seed, device):
        yield device


@torch.no_grad()
def aggregate_posterior(model, x: np.ndarray, k: int = 1000, seed: int = 0):
    """The posteriors ``q(z|x_i)`` of up to ``k`` rows of ``x`` (drawn with ``seed``): the
    mixture components of score ``"elbo_agg"``.

    Returns
    -------
    (loc, scale) : Tensors, shapes (K, U)
    """
    rows = np.arange(len(x)) if len(x) <= k else np.sort(np.random.default_rng(seed).choice(len(x), k, replace=False))
    with _seeded_eval(model, seed) as device:
        q = model.encode(torch.as_tensor(x[rows], dtype=torch.float32, device=device))
    return q.loc.detach(), q.scale.detach()


def _log_mixture(z: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """``log (1/K) sum_k N(z; loc_k, diag scale_k^2)`` for ``z`` ``(..., U)``; chunked over z."""
    flat = z.reshape(-1, z.shape[-1])
    out = []
    log_k = math.log(loc.shape[0])
    for i in range(0, len(flat), chunk):
        zi = flat[i:i + chunk, None, :]  # (c, 1, U) against (K, U)
        lp = (-0.5 * ((zi - loc) / scale) ** 2 - scale.log() - 0.5 * math.log(2 * math.pi)).sum(-1)
        out.append(torch.logsumexp(lp, dim=1) - log_k)
    return torch.cat(out).reshape(z.shape[:-1])


@torch.no_grad()
def anomaly_scores(model, x: np.ndarray, score: ScoreKind = "elbo", n_samples: int = 16, seed: int = 0,
                   batch_size: int = 4096, mixture=None) -> np.ndarray:
    """Anomaly score of each row of ``x``.

    Parameters
    ----------
    model : VAE
        Trained, with a vector likelihood (e.g. Gaussian).
    x : ndarray, shape (n, d)
        Preprocessed rows (the model's input space).
    score : {"elbo", "iwae", "recon_prob"}
    n_samples : int
        Posterior draws per record (``k`` for ``iwae``).
    seed : int
    batch_size : int
    mixture : (loc, scale), optional
        The aggregate posterior's components (:func:`aggregate_posterior`); needed by
        ``"elbo_agg"``.

    Returns
    -------
    ndarray, shape (n,)
        float64 nats; higher = more anomalous.
    """
    check_score(score)
    if score == "elbo_agg" and mixture is None:
        raise ConfigError("score 'elbo_agg': pass mixture=aggregate_posterior(model, x_train), the training rows' "
                          "posteriors.")
    if n_samples < 1:
        raise ConfigError(f"n_samples: must be >= 1 posterior draws; got {n_samples!r}.")
    out = []
    with _seeded_eval(model, seed) as device:
        for i in range(0, len(x), batch_size):
            b = Batch(x=torch.as_tensor(x[i:i + batch_size], dtype=torch.float32, device=device))
            if score == "iwae":
                s = iwae_nll(model, b, k=n_samples)
            elif score == "elbo_agg":
                o = model(b, n_samples=n_samples)
                z = o.z.reshape(n_samples, len(b), -1)  # (S, B, U)
                log_q = o.posterior.log_prob(z).sum(-1)
                loc, scale = (t.to(device) for t in mixture)
                s = (o.recon_nll.reshape(n_samples, len(b)) + log_q - _log_mixture(z, loc, scale)).mean(0)
            else:
                o = model(b, n_samples=n_samples)
                s = o.recon_nll.reshape(-1, len(b)).mean(0)
                if score == "elbo":
                    s = s + o.kl.sum(1)
            out.append(s.double().cpu())
    return torch.cat(out).numpy()


@torch.no_grad()
def feature_nll(model, x: np.ndarray, n_samples: int = 16, seed: int = 0, batch_size: int = 4096):
    """Per-column reconstruction NLL ``E_q[-log p(x_j|z)]`` and the KL of each row.

    For a likelihood that factorises over columns (the Gaussian, Laplace and Bernoulli ones) the
    columns' NLLs add up to the reconstruction term, and with the KL to the ``"elbo"`` score
    of :func:`anomaly_scores` (same ``seed`` and ``n_samples``, up to float rounding).

    Returns
    -------
    nll : ndarray, shape (n, d)
    kl : ndarray, shape (n,)
    """
    nlls, kls = [], []
    with _seeded_eval(model, seed) as device:
        for i in range(0, len(x), batch_size):
            xb = torch.as_tensor(x[i:i + batch_size], dtype=torch.float32, device=device)
            o = model(Batch(x=xb), n_samples=n_samples)
            px = o.px  # batch (S * b, d): the S draws stacked along the batch
            lp = px.log_prob(xb.repeat(n_samples, 1) if n_samples > 1 else xb)
            nlls.append((-lp).reshape(n_samples, len(xb), -1).mean(0).double().cpu())
            kls.append(o.kl.sum(1).double().cpu())
    return torch.cat(nlls).numpy(), torch.cat(kls).numpy()
