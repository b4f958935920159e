"""RecVAE (Shenbin et al. 2020, "RecVAE: a New Variational Autoencoder for Top-N
Recommendations with Implicit Feedback", WSDM), the recommendation domain's stronger model.

What it changes from Mult-VAE (section 3 of the paper):

* encoder: five dense layers of width 600 with swish, layer normalisation (eps 0.1) and
  dense skip connections (each layer's pre-activation adds all earlier outputs);
* decoder: one linear layer from ``z`` to item logits;
* **composite prior**: ``p(z|x) = 3/20 N(0, I) + 3/4 q_old(z|x) + 1/10 N(0, e^10 I)``, where
  ``q_old`` is a frozen copy of the encoder from the previous epoch; the KL term is the
  single-sample ``log q(z|x) - log p(z|x)`` (no closed form for a mixture);
* the KL weight of a user is ``gamma * |x_u|`` (the number of clicks), not a global beta;
* **alternating updates**: each epoch trains the encoder for 3 passes (input dropout 0.5),
  then copies it into ``q_old``, then trains the decoder for 1 pass (no input dropout), with
  separate Adam optimisers (lr 5e-4); the best epoch by validation NDCG@100 is kept.

The alternating schedule with two optimisers and a moving prior is why this model has its
own short training loop rather than vaekit's trainer; scoring and metrics are shared with
the other recommenders.
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from vaekit.core.data import SparseRowDataset, collate_sparse_rows

_LOG2PI = math.log(2 * math.pi)


def _log_normal(z: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """Elementwise ``log N(z; mu, exp(logvar))``."""
    return -0.5 * (logvar + _LOG2PI + (z - mu).pow(2) / logvar.exp())


class RecVAEEncoder(nn.Module):
    """Dense-skip MLP encoder, ``(B, n_items) -> (mu, logvar)`` each ``(B, latent_dim)``."""

    def __init__(self, n_items: int, hidden_dim: int = 600, latent_dim: int = 200, n_layers: int = 5,
                 ln_eps: float = 0.1):
        super().__init__()
        self.fcs = nn.ModuleList([nn.Linear(n_items if i == 0 else hidden_dim, hidden_dim) for i in range(n_layers)])
        self.lns = nn.ModuleList([nn.LayerNorm(hidden_dim, eps=ln_eps) for _ in range(n_layers)])
        self.fc_mu = nn.Linear(hidden_dim, latent_dim)
        self.fc_logvar = nn.Linear(hidden_dim, latent_dim)

    def forward(self, x: Tensor, dropout: float = 0.0) -> tuple:
        h = F.normalize(x, dim=1)
        h = F.dropout(h, p=dropout, training=self.training)
        outs = []
        for i, (fc, ln) in enumerate(zip(self.fcs, self.lns)):
            pre = fc(h if i == 0 else outs[-1])
            for o in outs:  # dense connections: every earlier layer's output
                pre = pre + o
            outs.append(ln(F.silu(pre)))
        return self.fc_mu(outs[-1]), self.fc_logvar(outs[-1])


class RecVAENet(nn.Module):
    """Encoder, linear decoder and the composite prior's frozen encoder copy.

    Parameters
    ----------
    n_items : int
    hidden_dim, latent_dim : int
    mixture_weights : sequence of 3 floats
        Weights of the standard normal, the old posterior and the wide normal.
    wide_logvar : float
        Log-variance of the wide ("uniform-like") component.
    """

    def __init__(self, n_items: int, hidden_dim: int = 600, latent_dim: int = 200,
                 mixture_weights: Sequence[float] = (3 / 20, 3 / 4, 1 / 10), wide_logvar: float = 10.0):
        super().__init__()
        self.encoder = RecVAEEncoder(n_items, hidden_dim, latent_dim)
        self.decoder = nn.Linear(latent_dim, n_items)
        self.encoder_old = copy.deepcopy(self.encoder).requires_grad_(False)
        self.register_buffer("log_mix", torch.log(torch.tensor(list(mixture_weights), dtype=torch.float32)))
        self.wide_logvar = float(wide_logvar)

    def update_prior(self) -> None:
        """Copy the encoder into the prior's ``q_old`` (after each encoder phase)."""
        self.encoder_old.load_state_dict(self.encoder.state_dict())

    def log_prior(self, x: Tensor, z: Tensor) -> Tensor:
        """``log p(z|x)`` of the composite prior per latent unit, ``(B, latent_dim)``."""
        with torch.no_grad():
            self.encoder_old.eval()
            mu_old, logvar_old = self.encoder_old(x, 0.0)
        zero = torch.zeros_like(z)
        comps = torch.stack([_log_normal(z, zero, zero), _log_normal(z, mu_old, logvar_old),
                             _log_normal(z, zero, zero + self.wide_logvar)], dim=-1)
        return torch.logsumexp(comps + self.log_mix, dim=-1)

    def loss(self, x: Tensor, gamma: float, dropout: float) -> tuple:
        """Negative ELBO with the per-user KL weight ``gamma * |x_u|``; returns ``(loss, nll, kl)``
        (batch means; ``kl`` unweighted, in nats)."""
        mu, logvar = self.encoder(x, dropout)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        logits = self.decoder(z)
        nll = -(F.log_softmax(logits, dim=-1) * x).sum(-1)
        kl = (_log_normal(z, mu, logvar) - self.log_prior(x, z)).sum(-1)
        weight = gamma * x.sum(-1)
        return (nll + weight * kl).mean(), nll.mean(), kl.mean()

    @torch.no_grad()
    def logits(self, x: Tensor) -> Tensor:
        """Item logits at the posterior mean, ``(B, n_items)``."""
        mu, _ = self.encoder(x, 0.0)
        return self.decoder(mu)


def recvae_scores(net: RecVAENet, X, batch_size: int = 2048) -> np.ndarray:
    """Item logits ``(n_rows, n_items)`` of each fold-in row of ``X`` (dropout off)."""
    from .models import score_rows

    return score_rows(net, net.logits, X, batch_size, where="RecVAE scores(X)")


def train_recvae(X, *, hidden_dim: int = 600, latent_dim: int = 200, epochs: int = 50, n_enc_epochs: int = 3,
                 n_dec_epochs: int = 1, batch_size: int = 500, lr: float = 5e-4, gamma: float = 0.005,
                 dropout: float = 0.5, seed: int = 0, device: str = "cpu", X_val=None, X_val_target=None,
                 progress: bool = False, log: Optional[Callable[[str], None]] = None) -> RecVAENet:
    """Train RecVAE with alternating encoder/decoder passes (the reference ``run.py`` schedule).

    Parameters
    ----------
    X : scipy.sparse matrix ``(n_users, n_items)``
    X_val, X_val_target : scipy.sparse matrices, optional
        Validation fold-in and held-out items; the epoch with the best NDCG@100 is kept.
    progress : bool
        A progress bar over epochs.
    log : callable, optional
        Receives one line per epoch (losses, validation NDCG@100).

    Returns
    -------
    RecVAENet
        In eval mode, on ``device``.
    """
    from vaekit.core.distributed import resolve_device

    from .models import ranking_validation

    dev = resolve_device(device)
    ds = SparseRowDataset(X, where="RecVAE fit(X)")
    n = len(ds)
    batch = int(min(batch_size, n))
    has_val = X_val is not None and X_val_target is not None and X_val.shape[0] > 0
    validate = ranking_validation(X_val, X_val_target, ks=(100,), scorer=recvae_scores) if has_val else None
    gen = torch.Generator().manual_seed(int(seed))
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(int(seed))
        net = RecVAENet(X.shape[1], hidden_dim, latent_dim).to(dev)
        net.update_prior()
        opt_enc = torch.optim.Adam(net.encoder.parameters(), lr=lr)
        opt_dec = torch.optim.Adam(net.decoder.parameters(), lr=lr)
        best, best_state = -math.inf, None
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=epochs, desc="RecVAE", unit="epoch")

        def run(opt: torch.optim.Optimizer, passes: int, p_drop: float) -> Dict[str, float]:
            net.train()
            tot = {"loss": 0.0, "nll": 0.0, "kl": 0.0}
            count = 0
            for _ in range(passes):
                perm = torch.randperm(n, generator=gen).tolist()
                for lo in range(0, n, batch):
                    x = collate_sparse_rows([ds[i] for i in perm[lo:lo + batch]]).x.to(dev)
                    opt.zero_grad(set_to_none=True)
                    loss, nll, kl = net.loss(x, gamma, p_drop)
                    loss.backward()
                    opt.step()
                    for k, v in (("loss", loss), ("nll", nll), ("kl", kl)):
                        tot[k] += float(v.detach())
                    count += 1
            return {k: v / max(count, 1) for k, v in tot.items()}

        for epoch in range(int(epochs)):
            enc = run(opt_enc, n_enc_epochs, dropout)
            net.update_prior()
            run(opt_dec, n_dec_epochs, 0.0)
            msg = f"epoch {epoch + 1}: loss {enc['loss']:.2f} nll {enc['nll']:.2f} kl {enc['kl']:.2f}"
            if validate is not None:
                score = validate(net)["ndcg@100"]
                msg += f" val ndcg@100 {score:.4f}"
                if score > best:
                    best, best_state = score, copy.deepcopy(net.state_dict())
            if log:
                log(msg)
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        if best_state is not None:
            net.load_state_dict(best_state)
    return net.eval()
