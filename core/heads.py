"""Latent heads: encoder features -> posterior ``q(z|x)``, a sample, and KL per latent unit.

``head(h, prior, n_samples=1) -> LatentSample``. ``prior`` is the prior *distribution* for
this batch (already built from the condition, if any); an unconditional
:class:`~vaekit.core.priors.Prior` module is accepted too and is called for the batch.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import (Categorical, Distribution, Normal, RelaxedOneHotCategorical, TransformedDistribution,
                                 kl_divergence)

from .errors import ConfigError
from .distributions import location, log_prob_per_example, rsample, rsample_and_log_prob
from .flows import FlowTransform, build_flows
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


def _log_prior(prior: Distribution, prior_module, z: Tensor) -> Tensor:
    """``log p(z)`` summed over units, ``(..., B)``; a bare factorised distribution needs no module."""
    if prior_module is None:
        return log_prob_per_example(prior, z)
    return prior_module.log_prob(prior, z)


def _kl(posterior: Distribution, prior: Distribution, z: Tensor, log_q_z: Tensor, prior_module
        ) -> Tuple[Tensor, bool, Tensor]:
    """KL per unit and ``log p(z)`` (``(B,)`` or ``(S, B)``, for importance weights).

    The KL is analytic when torch knows the pair, else the Monte-Carlo ``(B, 1)``
    ``log q(z|x) - log p(z)`` averaged over the samples drawn.
    """
    log_p = _log_prior(prior, prior_module, z)
    try:
        return kl_divergence(posterior, prior), True, log_p
    except NotImplementedError:
        mc = log_q_z - log_p
        if mc.dim() == 2:  # (S, B)
            mc = mc.mean(0)
        return mc[:, None], False, log_p


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
        kl, analytic, log_p = _kl(q, prior, z, log_q, prior_module)
        return LatentSample(z=z, posterior=q, kl=kl, kl_is_analytic=analytic, log_q=log_q, log_p=log_p)

    def mode(self, h: Tensor) -> Tensor:
        return self.posterior(h).loc

    def unit_moments(self, posterior: Distribution) -> Tuple[Tensor, Tensor]:
        return posterior.loc[..., None], posterior.scale.pow(2)[..., None]

    def importance_sample(self, posterior, prior, prior_module, k):
        z = posterior.rsample((k,))
        return z, posterior.log_prob(z).sum(-1), _log_prior(prior, prior_module, z)


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


def flow_posterior(base: Normal, flows: nn.ModuleList, context: Optional[Tensor]) -> TransformedDistribution:
    """``q(z|x)``: a diagonal Gaussian ``base`` pushed through normalizing flows.

    ``z_0 ~ base``, ``z = f_T(...f_1(z_0; h)...; h)``; ``log q(z) = log base(z_0) - sum_t
    log|det df_t/dz|`` (Rezende & Mohamed 2015). A ``TransformedDistribution`` with
    ``batch_shape (B,)``, ``event_shape (D,)``: ``log_prob`` is summed over the units; of an
    arbitrary ``z`` it inverts the flows (IAF only: ``D`` sequential passes per step;
    planar/radial have no closed-form inverse), of its own samples it needs no inversion
    (:func:`~vaekit.core.distributions.rsample_and_log_prob`).
    """
    return TransformedDistribution(base, [FlowTransform(flows, context)], validate_args=False)


@HEADS.register("flow")
class FlowHead(GaussianHead):
    """Gaussian posterior refined by normalizing flows (Rezende & Mohamed 2015; IAF: Kingma
    et al. 2016). The KL is the Monte-Carlo ``log q(z|x) - log p(z)`` (``kl_is_analytic``
    False), so ``objective.free_bits`` is unavailable; diagnostics estimate the posterior
    moments by sampling.

    Parameters
    ----------
    in_dim, latent_dim : int
        Wired.
    flow : str
        ``iaf`` (inverse autoregressive flow, MADE steps with alternating order, context ``h``
        from the encoder), ``planar`` or ``radial`` (amortised from ``h`` when
        ``context_dim > 0``).
    n_flows : int
    hidden_dims : sequence of int
        MADE hidden widths (IAF only).
    context_dim : int
        Width of the context the encoder features are projected to (0: unamortised flows;
        IAF uses it as the extra MADE input ``h`` of Kingma et al. 2016).
    moment_samples : int
        Samples for the posterior moments the diagnostics use.
    """

    def __init__(self, in_dim: int, latent_dim: int, flow: str = "iaf", n_flows: int = 2,
                 hidden_dims: Sequence[int] = (256, 256), context_dim: int = 64, moment_samples: int = 32,
                 min_logvar: float = -12.0, max_logvar: float = 8.0):
        super().__init__(in_dim, latent_dim, min_logvar, max_logvar)
        if context_dim < 0:
            raise ConfigError(f"context_dim: must be >= 0; got {context_dim!r}.")
        self.context_proj = nn.Linear(in_dim, context_dim) if context_dim > 0 else None
        self.flows = build_flows(flow, latent_dim, n_flows, hidden_dims, context_dim, where="model.head.params")
        self.moment_samples = int(moment_samples)

    def posterior(self, h: Tensor) -> TransformedDistribution:
        ctx = None if self.context_proj is None else F.elu(self.context_proj(h)).float()
        return flow_posterior(super().posterior(h), self.flows, ctx)

    def forward(self, h: Tensor, prior: Distribution, n_samples: int = 1, prior_module=None) -> LatentSample:
        prior, prior_module = _resolve_prior(prior, prior_module, h.shape[0])
        q = self.posterior(h)
        z, log_q = rsample_and_log_prob(q, () if n_samples == 1 else (n_samples,))
        kl, analytic, log_p = _kl(q, prior, z, log_q, prior_module)
        return LatentSample(z=z, posterior=q, kl=kl, kl_is_analytic=analytic, log_q=log_q, log_p=log_p)

    def mode(self, h: Tensor) -> Tensor:
        """The base mean pushed through the flows, ``(B, D)``: the deterministic embedding."""
        return location(self.posterior(h))

    def unit_moments(self, posterior: Distribution) -> Tuple[Tensor, Tensor]:
        """Monte-Carlo mean and variance per unit from ``moment_samples`` draws (a flow's
        moments have no closed form)."""
        z = rsample(posterior, (self.moment_samples,))
        return z.mean(0)[..., None], z.var(0)[..., None]

    def importance_sample(self, posterior, prior, prior_module, k):
        z, log_q = rsample_and_log_prob(posterior, (k,))
        return z, log_q, _log_prior(prior, prior_module, z)
