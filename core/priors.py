"""Priors ``p(z)`` (or ``p(z|c)`` for a cVAE): ``prior(batch_size, cond=None) -> Distribution``.

Gaussian priors have ``batch_shape (B, D)``; categorical priors ``(B, G)`` over ``C``
categories (DESIGN.md section 3). ``family`` tells :func:`vaekit.core.vae.build_vae` which
latent heads a prior fits.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor, nn
import torch.nn.functional as F
from torch.distributions import Categorical, Distribution, Normal, TransformedDistribution

from .distributions import log_prob_per_example
from .errors import ConfigError, DataValidationError
from .flows import AutoregressiveAffine, FlowTransform, invert_flows
from .nn import MLP
from .registry import Registry

PRIORS: Registry["Prior"] = Registry("prior")


class Prior(nn.Module):
    """Base class. ``family`` is ``"gaussian"`` or ``"categorical"``.

    A prior with ``needs_input = True`` depends on the example (an empirical-Bayes prior such
    as RecVAE's composite prior, Shenbin et al. 2020): the VAE calls it as
    ``prior(batch_size, cond, x=batch.encoder_input)`` and refuses to sample it without data.
    """

    family: str = "gaussian"
    conditional: bool = False
    needs_input: bool = False

    def log_prob(self, dist: Distribution, z: Tensor) -> Tensor:
        """``log p(z)`` summed over latent units: ``(..., B, D) -> (..., B)``."""
        return log_prob_per_example(dist, z)

    def code(self, sample: Tensor) -> Tensor:
        """A draw of this prior's distribution as the decoder's latent code ``(n, z_dim)``."""
        return sample


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

    def code(self, sample: Tensor) -> Tensor:
        """Class ids ``(n, G)`` -> flattened one-hot codes ``(n, G*C)``."""
        return F.one_hot(sample, self.n_categories).float().reshape(sample.shape[0], -1)


@PRIORS.register("autoregressive_flow")
class AutoregressivePrior(Prior):
    """Autoregressive-flow prior, the "AF prior" of the Variational Lossy Autoencoder
    (Chen et al. 2017, section 3.2).

    ``eps = g(z)`` is a stack of affine autoregressive (MAF) steps with alternating variable
    order; ``log p(z) = log N(eps; 0, I) + log |det dg/dz|``. Evaluating the density (what
    training needs) is one parallel pass per step; sampling inverts the steps, ``D``
    sequential passes each. Chen et al. show an AF prior is equivalent to an IAF posterior in
    the bound it gives, and that it is cheaper to train; it lets the prior fit the aggregate
    posterior, lowering the KL the ELBO pays for a given amount of stored information.

    Parameters
    ----------
    latent_dim : int
        Wired.
    n_flows : int
        Number of autoregressive steps.
    hidden_dims : sequence of int
        MADE hidden widths per step.
    activation : str
    """

    def __init__(self, latent_dim: int, n_flows: int = 2, hidden_dims: Sequence[int] = (256, 256),
                 activation: str = "elu"):
        super().__init__()
        if n_flows < 1:
            raise ConfigError(f"n_flows: an autoregressive_flow prior needs >= 1 step; got {n_flows!r}.")
        self.latent_dim = latent_dim
        self.steps = nn.ModuleList(AutoregressiveAffine(latent_dim, hidden_dims, 0, reverse=bool(t % 2),
                                                        gated=False, activation=activation)
                                   for t in range(n_flows))
        self.register_buffer("_zero", torch.zeros(()), persistent=False)

    def forward(self, batch_size: int, cond: Optional[Tensor] = None) -> TransformedDistribution:
        """``N(0, I)`` pushed through ``g^{-1}``: ``batch_shape (B,)``, ``event_shape (D,)``;
        ``log_prob`` is one parallel pass of ``g`` (``log N(g(z)) + log|det dg/dz|``)."""
        loc = self._zero.expand(batch_size, self.latent_dim)
        base = Normal(loc, torch.ones_like(loc), validate_args=False)
        return TransformedDistribution(base, [FlowTransform(self.steps).inv], validate_args=False)

    def density(self, z: Tensor) -> Tensor:
        """``log p(z)`` for ``z (..., B, D)``, ``(..., B)``."""
        return self(z.shape[-2]).log_prob(z)

    def from_noise(self, eps: Tensor) -> Tensor:
        """``z = g^{-1}(eps)`` (sequential in the latent units)."""
        return invert_flows(self.steps, eps)
