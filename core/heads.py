"""Latent heads: encoder features -> posterior ``q(z|x)``, a sample, and KL per latent unit.

``head(h, prior, n_samples=1) -> LatentSample``. ``prior`` is the prior *distribution* for
this batch (already built from the condition, if any); an unconditional
:class:`~vaekit.core.priors.Prior` module is accepted too and is called for the batch.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import Categorical, Distribution, Normal, RelaxedOneHotCategorical, kl_divergence

from .errors import ConfigError
from .registry import Registry
from .types import LatentSample

HEADS: Registry["LatentHead"] = Registry("latent head")


class LatentHead(nn.Module):
    """Base class.

    Attributes
    ----------
    family : str
        Prior family it pairs with (``"gaussian"`` / ``"categorical"``).
    z_dim : int
        Width of ``z`` as the decoder sees it.
    n_units : int
        Number of latent units that KL is reported for (``D`` or ``G``).
    """

    family: str = "gaussian"
    z_dim: int
    n_units: int

    def posterior(self, h: Tensor) -> Distribution:
        raise NotImplementedError

    def mode(self, h: Tensor) -> Tensor:
        """Deterministic embedding ``(B, z_dim)``."""
        raise NotImplementedError

    def unit_moments(self, posterior: Distribution) -> Tuple[Tensor, Tensor]:
        """Posterior mean and variance per unit, ``(B, U, E)`` each (``E`` = 1 or ``C``)."""
        raise NotImplementedError

    def importance_sample(self, posterior: Distribution, prior: Distribution, prior_module, k: int
                          ) -> Tuple[Tensor, Tensor, Tensor]:
        """``k`` samples for importance weighting: ``z (k, B, z_dim)``, ``log q (k, B)``, ``log p (k, B)``."""
        raise NotImplementedError


def _resolve_prior(prior, prior_module, batch_size: int):
    """``(distribution, module)``: a Prior module passed as ``prior`` is evaluated for the batch."""
    if isinstance(prior, nn.Module):
        return prior(batch_size), prior
    return prior, prior_module


def _kl(posterior: Distribution, prior: Distribution, z: Tensor, log_q_z: Tensor, prior_module
        ) -> Tuple[Tensor, bool]:
    """Analytic KL per unit when torch knows the pair, else a Monte-Carlo ``(B, 1)``."""
    try:
        return kl_divergence(posterior, prior), True
    except NotImplementedError:
        # Single-sample estimate log q(z|x) - log p(z), averaged over the samples drawn.
        log_p = prior_module.log_prob(prior, z)
        mc = log_q_z - log_p
        if mc.dim() == 2:  # (S, B)
            mc = mc.mean(0)
        return mc[:, None], False


@HEADS.register("gaussian")
class GaussianHead(LatentHead):
    """Diagonal Gaussian posterior with the reparameterisation trick (Kingma & Welling 2014).

    Parameters
    ----------
    in_dim : int
        Encoder feature width (wired).
    latent_dim : int
    min_logvar, max_logvar : float
        Clamp of the log-variance, which keeps ``exp`` finite in low precision.
    """

    family = "gaussian"

    def __init__(self, in_dim: int, latent_dim: int, min_logvar: float = -12.0, max_logvar: float = 8.0):
        super().__init__()
        if latent_dim <= 0:
            raise ConfigError(f"latent_dim: must be a positive integer; got {latent_dim!r}. Set model.latent_dim.")
        self.z_dim = self.n_units = self.latent_dim = latent_dim
        self.proj = nn.Linear(in_dim, 2 * latent_dim)
        self.min_logvar, self.max_logvar = min_logvar, max_logvar

    def posterior(self, h: Tensor) -> Normal:
        mu, logvar = self.proj(h).float().chunk(2, dim=-1)
        logvar = logvar.clamp(self.min_logvar, self.max_logvar)
        return Normal(mu, torch.exp(0.5 * logvar), validate_args=False)

    def forward(self, h: Tensor, prior: Distribution, n_samples: int = 1, prior_module=None) -> LatentSample:
        prior, prior_module = _resolve_prior(prior, prior_module, h.shape[0])
        q = self.posterior(h)
        z = q.rsample() if n_samples == 1 else q.rsample((n_samples,))
        log_q = q.log_prob(z).sum(-1)
        kl, analytic = _kl(q, prior, z, log_q, prior_module)
        return LatentSample(z=z, posterior=q, kl=kl, kl_is_analytic=analytic)

    def mode(self, h: Tensor) -> Tensor:
        return self.posterior(h).loc

    def unit_moments(self, posterior: Distribution) -> Tuple[Tensor, Tensor]:
        return posterior.loc[..., None], posterior.scale.pow(2)[..., None]

    def importance_sample(self, posterior, prior, prior_module, k):
        z = posterior.rsample((k,))
        return z, posterior.log_prob(z).sum(-1), prior_module.log_prob(prior, z)


@HEADS.register("gumbel_softmax")
class GumbelSoftmaxHead(LatentHead):
    """Categorical latents trained with the Gumbel-softmax / Concrete relaxation
    (Jang et al. 2017; Maddison et al. 2017).

    ``G`` groups of ``C`` categories. The decoder sees relaxed one-hot vectors flattened to
    ``(B, G*C)``; with ``hard=True`` it sees exact one-hots and gradients flow through the
    soft sample (straight-through). The KL is computed between the *categorical*
    distributions (posterior vs uniform prior), not on the relaxation, so it is exact.

    Parameters
    ----------
    in_dim : int
        Encoder feature width (wired).
    n_groups, n_categories : int
    temperature : float
        Relaxation temperature when the objective supplies no schedule.
    hard : bool
        Straight-through one-hot samples.
    """

    family = "categorical"

    def __init__(self, in_dim: int, n_groups: int, n_categories: int, temperature: float = 1.0, hard: bool = False):
        super().__init__()
        if n_groups <= 0 or n_categories < 2:
            raise ConfigError(f"n_groups: gumbel_softmax needs n_groups >= 1 and n_categories >= 2; got "
                              f"n_groups={n_groups}, n_categories={n_categories}.")
        if temperature <= 0:
            raise ConfigError(f"temperature: must be > 0; got {temperature!r}.")
        self.n_groups, self.n_categories = n_groups, n_categories
        self.n_units = n_groups
        self.z_dim = n_groups * n_categories
        self.temperature, self.hard = float(temperature), bool(hard)
        self.proj = nn.Linear(in_dim, self.z_dim)

    def _logits(self, h: Tensor) -> Tensor:
        return self.proj(h).float().reshape(h.shape[0], self.n_groups, self.n_categories)

    def posterior(self, h: Tensor) -> Categorical:
        return Categorical(logits=self._logits(h), validate_args=False)

    def forward(self, h: Tensor, prior: Distribution, n_samples: int = 1, prior_module=None,
                temperature: Optional[float] = None) -> LatentSample:
        prior, prior_module = _resolve_prior(prior, prior_module, h.shape[0])
        q = self.posterior(h)
        tau = self.temperature if temperature is None else float(temperature)
        relaxed = RelaxedOneHotCategorical(torch.tensor(tau, device=h.device), logits=q.logits, validate_args=False)
        y = relaxed.rsample() if n_samples == 1 else relaxed.rsample((n_samples,))
        if self.hard:
            hard = F.one_hot(y.argmax(-1), self.n_categories).to(y.dtype)
            y = hard - y.detach() + y  # straight-through: forward one-hot, backward soft
        z = y.reshape(*y.shape[:-2], self.z_dim)
        kl = kl_divergence(q, prior)  # (B, G), exact on the categoricals
        return LatentSample(z=z, posterior=q, kl=kl, kl_is_analytic=True)

    def mode(self, h: Tensor) -> Tensor:
        """One-hot of the most probable category per group, ``(B, G*C)``."""
        logits = self._logits(h)
        return F.one_hot(logits.argmax(-1), self.n_categories).to(logits.dtype).reshape(h.shape[0], self.z_dim)

    def unit_moments(self, posterior: Distribution) -> Tuple[Tensor, Tensor]:
        p = posterior.probs
        return p, p * (1 - p)

    def importance_sample(self, posterior, prior, prior_module, k):
        # Exact discrete samples: the importance-weighted bound is then that of the
        # discrete-latent model, which is what the decoder is evaluated on with hard codes.
        idx = posterior.sample((k,))  # (k, B, G)
        z = F.one_hot(idx, self.n_categories).to(posterior.logits.dtype).reshape(k, idx.shape[1], self.z_dim)
        return z, posterior.log_prob(idx).sum(-1), prior.log_prob(idx).sum(-1)
