"""RecVAE (Shenbin et al. 2020, "RecVAE: a New Variational Autoencoder for Top-N
Recommendations with Implicit Feedback", WSDM) as a configuration of the one core ``VAE``.

What it changes from Mult-VAE (section 3 of the paper), and where each piece lives:

* encoder (kind ``recvae``, :class:`RecVAEEncoder`, registered here): five dense layers of
  width 600 with swish, layer normalisation (eps 0.1) and dense skip connections (each
  layer's pre-activation adds all earlier outputs), on the L2-normalised click vector with
  input dropout 0.5; a ``gaussian`` head gives ``q(z|x)``;
* decoder: one linear layer from ``z`` to item logits (``mlp`` with ``hidden_dims: []``),
  multinomial likelihood;
* **composite prior** (kind ``recvae_composite``, :class:`CompositePrior`, registered here):
  ``p(z|x) = 3/20 N(0, I) + 3/4 q_old(z|x) + 1/10 N(0, e^10 I)``, where ``q_old`` is a frozen
  copy of the encoder and head, refreshed when an encoder phase ends; no closed-form KL for a
  mixture, so the head's KL is the single-sample ``log q(z|x) - log p(z|x)``;
* the KL weight of user ``u`` is ``gamma * |x_u|`` (``objective.beta: gamma`` with
  ``beta_scale: input_sum``);
* **alternating updates** (``train.phases``): per round 3 encoder passes (input dropout on),
  then 1 decoder pass (encoder in eval mode: no dropout), each with its own Adam (lr 5e-4);
  validation NDCG@100 after each round picks the best one.

``configs/recvae.yaml`` holds these settings, once (``vaekit train recsys:recvae``; the
facade :class:`~vaekit.domains.recsys.recommenders.RecVAERecommender` maps its arguments onto
it). Importing this module (the recsys domain does) registers the two component kinds in
core's registries.
"""
from __future__ import annotations

import copy
import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import Categorical, Distribution, MixtureSameFamily, Normal

from vaekit.core.encoders import ENCODERS, Encoder
from vaekit.core.errors import ConfigError, DataValidationError
from vaekit.core.priors import PRIORS, Prior

@ENCODERS.register("recvae")
class RecVAEEncoder(Encoder):
    """Dense-skip layer-norm MLP on the L2-normalised click vector, ``(B, in_dim) -> (B, hidden_dim)``.

    Layer ``i`` computes ``LN(swish(W_i h_{i-1} + sum_{j<i} h_j))`` (the reference
    implementation's dense connections); a latent head maps the last output to ``q(z|x)``.

    Parameters
    ----------
    in_dim : int
        Number of items (wired).
    hidden_dim : int
    n_layers : int
    ln_eps : float
        Layer-norm epsilon (0.1 in the reference code: a strong smoothing of small batches).
    input_dropout : float
        Dropout on the normalised input while training (0.5).
    cond_dim : int
        Wired; RecVAE takes no condition.
    """

    def __init__(self, in_dim: int, hidden_dim: int = 600, n_layers: int = 5, ln_eps: float = 0.1,
                 input_dropout: float = 0.5, cond_dim: int = 0):
        super().__init__()
        if cond_dim:
            raise ConfigError("model.encoder: kind 'recvae' reads click vectors only and takes no condition; got "
                              f"cond_dim={cond_dim}. Set model.condition.into_encoder: false.")
        if n_layers < 1 or hidden_dim < 1:
            raise ConfigError(f"model.encoder.params: n_layers and hidden_dim must be >= 1; got n_layers={n_layers}, "
                              f"hidden_dim={hidden_dim}.")
        if not 0.0 <= input_dropout < 1.0:
            raise ConfigError(f"model.encoder.params.input_dropout: must lie in [0, 1); got {input_dropout!r}.")
        self.fcs = nn.ModuleList([nn.Linear(in_dim if i == 0 else hidden_dim, hidden_dim) for i in range(n_layers)])
        self.lns = nn.ModuleList([nn.LayerNorm(hidden_dim, eps=ln_eps) for _ in range(n_layers)])
        self.input_dropout = float(input_dropout)
        self.out_dim = hidden_dim

    def forward(self, x: Tensor, cond: Optional[Tensor] = None, mask: Optional[Tensor] = None) -> Tensor:
        h = F.normalize(x.reshape(x.shape[0], -1).float(), dim=1)
        h = F.dropout(h, p=self.input_dropout, training=self.training)
        outs = []
        for i, (fc, ln) in enumerate(zip(self.fcs, self.lns)):
            pre = fc(h if i == 0 else outs[-1])
            for o in outs:  # dense connections: every earlier layer's output
                pre = pre + o
            outs.append(ln(F.silu(pre)))
        return outs[-1]


class _Frozen(nn.Module):
    """A copy of the encoder and head that never trains and stays in eval mode (dropout off)."""

    def __init__(self, encoder: nn.Module, head: nn.Module):
        super().__init__()
        self.encoder = copy.deepcopy(encoder).requires_grad_(False)
        self.head = copy.deepcopy(head).requires_grad_(False)
        self.train(False)

    def train(self, mode: bool = True) -> "_Frozen":
        return super().train(False)

    @torch.no_grad()
    def forward(self, x: Tensor) -> Normal:
        return self.head.posterior(self.encoder(x))


@PRIORS.register("recvae_composite")
class CompositePrior(Prior):
    """RecVAE's composite prior ``w_0 N(0, I) + w_1 q_old(z|x) + w_2 N(0, e^{wide_logvar} I)``
    per latent unit, ``batch_shape (B, D)`` (Shenbin et al. 2020, section 3.3).

    ``q_old`` is a frozen copy of the model's encoder and head (wired by ``build_vae``),
    refreshed from the live ones by :meth:`on_phase_end` when the phase ``refresh_after``
    ends: the encoder of the previous round regularises the current one. The copy is part of
    the state dict, so checkpoints and exact resume carry it.

    Parameters
    ----------
    latent_dim : int
        Wired.
    encoder, head : nn.Module
        The VAE's live encoder and latent head (wired; a Gaussian head).
    mixture_weights : sequence of 3 floats
        Weights of the standard normal, the old posterior and the wide normal; sum to 1.
    wide_logvar : float
        Log-variance of the wide ("uniform-like") component.
    refresh_after : str
        Name of the ``train.phases`` entry after which ``q_old`` is refreshed.
    """

    needs_input = True

    def __init__(self, latent_dim: int, encoder: nn.Module, head: nn.Module,
                 mixture_weights: Sequence[float] = (3 / 20, 3 / 4, 1 / 10), wide_logvar: float = 10.0,
                 refresh_after: str = "encoder"):
        super().__init__()
        w = [float(v) for v in mixture_weights]
        if len(w) != 3 or min(w) <= 0 or abs(sum(w) - 1.0) > 1e-6:
            raise ConfigError(f"model.prior.params.mixture_weights: needs 3 positive weights (standard normal, old "
                              f"posterior, wide normal) that sum to 1; got {list(mixture_weights)!r}. The paper's: "
                              f"[0.15, 0.75, 0.1].")
        if getattr(head, "family", None) != "gaussian":
            raise ConfigError(f"model.prior: kind 'recvae_composite' mixes Gaussians and needs a gaussian head; got "
                              f"{type(head).__name__}. Set model.head.kind: gaussian.")
        self.latent_dim = latent_dim
        self.old = _Frozen(encoder, head)
        self._live = (encoder, head)  # a tuple, so not registered twice as submodules
        self.register_buffer("log_mix", torch.log(torch.tensor(w, dtype=torch.float32)))
        self.wide_scale = math.exp(0.5 * float(wide_logvar))
        self.refresh_after = str(refresh_after)

    def on_phase_end(self, name: str) -> None:
        """Copy the live encoder and head into ``q_old`` after phase ``refresh_after``."""
        if name == self.refresh_after:
            self.old.encoder.load_state_dict(self._live[0].state_dict())
            self.old.head.load_state_dict(self._live[1].state_dict())

    def forward(self, batch_size: int, cond: Optional[Tensor] = None, x: Optional[Tensor] = None) -> Distribution:
        if x is None:
            raise DataValidationError("prior 'recvae_composite': depends on the input (its middle component is "
                                      "q_old(z|x)); got x=None. It is called with the batch's encoder input.")
        q = self.old(x)
        mu, sd = q.loc, q.scale  # (B, D)
        zero, one = torch.zeros_like(mu), torch.ones_like(mu)
        loc = torch.stack([zero, mu, zero], dim=-1)  # (B, D, 3)
        scale = torch.stack([one, sd, one * self.wide_scale], dim=-1)
        mix = Categorical(logits=self.log_mix.expand(*mu.shape, 3), validate_args=False)
        return MixtureSameFamily(mix, Normal(loc, scale, validate_args=False), validate_args=False)
