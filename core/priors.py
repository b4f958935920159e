"""Priors ``p(z)`` (or ``p(z|c)`` for a cVAE): ``prior(batch_size, cond=None) -> Distribution``.

Gaussian priors have ``batch_shape (B, D)``; categorical priors ``(B, G)`` over ``C``
categories (DESIGN.md section 3). ``family`` tells :func:`vaekit.core.vae.build_vae` which
latent heads a prior fits.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor, nn
from torch.distributions import Categorical, Distribution, Normal

from .errors import ConfigError, DataValidationError
from .nn import MLP
from .registry import Registry

PRIORS: Registry["Prior"] = Registry("prior")


class Prior(nn.Module):
    """Base class. ``family`` is ``"gaussian"`` or ``"categorical"``."""

    family: str = "gaussian"
    conditional: bool = False

    def log_prob(self, dist: Distribution, z: Tensor) -> Tensor:
        """``log p(z)`` summed over latent units: ``(..., B, D) -> (..., B)``."""
        return dist.log_prob(z).sum(-1)


@PRIORS.register("standard_normal")
class StandardNormal(Prior):
    """``N(0, I)``."""

    def __init__(self, latent_dim: int):
        super().__init__()
        self.latent_dim = latent_dim
        self.register_buffer("_zero", torch.zeros(()), persistent=False)

    def forward(self, batch_size: int, cond: Optional[Tensor] = None) -> Distribution:
        loc = self._zero.expand(batch_size, self.latent_dim)
        return Normal(loc, torch.ones_like(loc), validate_args=False)


@PRIORS.register("conditional_gaussian")
class ConditionalGaussian(Prior):
    """``p(z|c) = N(mu(c), diag sigma(c)^2)`` from the embedded condition (Sohn et al. 2015).

    Parameters
    ----------
    latent_dim, cond_dim : int
        Wired (``cond_dim`` is the embedded condition width).
    hidden_dims : sequence of int
    """

    conditional = True

    def __init__(self, latent_dim: int, cond_dim: int, hidden_dims: Sequence[int] = (64,)):
        super().__init__()
        if cond_dim <= 0:
            raise ConfigError("kind 'conditional_gaussian' needs a conditional model; the data has "
                              "no condition. Use prior kind 'standard_normal' or configure a condition.")
        self.net = MLP(cond_dim, hidden_dims, out_dim=2 * latent_dim, activation="elu")

    def forward(self, batch_size: int, cond: Optional[Tensor] = None) -> Distribution:
        if cond is None:
            raise DataValidationError("prior 'conditional_gaussian': needs the condition; got cond=None. "
                                      "Pass cond= to sample() / forward().")
        mu, logvar = self.net(cond).chunk(2, dim=-1)
        return Normal(mu, torch.exp(0.5 * logvar.clamp(-10, 10)), validate_args=False)


@PRIORS.register("uniform_categorical")
class UniformCategorical(Prior):
    """Uniform over ``C`` categories for each of ``G`` groups (Gumbel-softmax latents)."""

    family = "categorical"

    def __init__(self, n_groups: int, n_categories: int):
        super().__init__()
        self.n_groups, self.n_categories = n_groups, n_categories
        self.register_buffer("_zero", torch.zeros(()), persistent=False)

    def forward(self, batch_size: int, cond: Optional[Tensor] = None) -> Distribution:
        logits = self._zero.expand(batch_size, self.n_groups, self.n_categories)
        return Categorical(logits=logits, validate_args=False)

    def log_prob(self, dist: Distribution, z: Tensor) -> Tensor:
        """``z`` one-hot ``(..., B, G*C)`` -> ``(..., B)``."""
        idx = z.reshape(*z.shape[:-1], self.n_groups, self.n_categories).argmax(-1)
        return dist.log_prob(idx).sum(-1)
