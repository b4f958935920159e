"""Operations on latent distributions, registered per family (``functools.singledispatch``).

Posteriors and priors are plain ``torch.distributions`` objects (``Normal``, ``Categorical``,
and ``TransformedDistribution`` over a :class:`~vaekit.core.flows.FlowTransform` for flows, as
in Pyro), so callers never branch on classes: they call these functions, and a new family
registers its rule here once.

* :func:`rsample`: a (reparameterised where possible) sample, seedable with a
  ``torch.Generator`` (torch's own ``rsample`` takes none). The rules reproduce vaekit's
  earlier per-class code draw for draw, so seeded results are unchanged.
* :func:`rsample_and_log_prob`: a sample and its density in one pass (a flow's density of its
  own sample needs no inversion).
* :func:`location`: a deterministic summary per example: the mean where it is the natural
  code (Gaussian ``loc``, categorical ``probs``), the pushed-forward base mean for a flow.
* :func:`log_prob_per_example`: ``log p(z)`` summed over the latent units, ``(..., B)``.
* :func:`cat`: the distribution of the examples of several batches together.
* :func:`needs_inversion`: whether ``log_prob`` of an arbitrary ``z`` inverts a flow
  (``D`` sequential passes per step), so callers can limit how often they ask.
"""
from __future__ import annotations

from functools import singledispatch
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch.distributions import (Bernoulli, Categorical, Distribution, Independent, Laplace, Normal,
                                 TransformedDistribution)

Shape = Sequence[int]


@singledispatch
def rsample(dist: Distribution, sample_shape: Shape = (), generator: Optional[torch.Generator] = None) -> Tensor:
    """A sample of shape ``sample_shape + batch_shape + event_shape`` (class ids for a
    categorical), differentiable where the family allows; seeded with ``generator``.

    Raises
    ------
    NotImplementedError
        With a ``generator`` for a family that registered no seeded rule (register one with
        ``@rsample.register``).
    """
    if generator is not None:
        raise NotImplementedError(f"rsample: no seeded sampling rule for {type(dist).__name__}; register one with "
                                  f"@vaekit.core.distributions.rsample.register.")
    return dist.rsample(sample_shape) if dist.has_rsample else dist.sample(sample_shape)


@rsample.register
def _(dist: Normal, sample_shape: Shape = (), generator: Optional[torch.Generator] = None) -> Tensor:
    # loc + scale * eps (Kingma & Welling 2014); eps from torch.randn, the draw vaekit always made.
    loc = dist.loc
    eps = torch.randn(torch.Size(sample_shape) + loc.shape, generator=generator, device=loc.device, dtype=loc.dtype)
    return loc + dist.scale * eps


@rsample.register
def _(dist: Laplace, sample_shape: Shape = (), generator: Optional[torch.Generator] = None) -> Tensor:
    # loc - scale * sign(u) * log(1 - |u|), u ~ U(eps - 1, 1): inverse-CDF sampling, as torch's
    # own Laplace.rsample, with u drawn from ``generator``.
    loc = dist.loc
    eps = torch.finfo(loc.dtype).eps
    u = torch.rand(torch.Size(sample_shape) + loc.shape, generator=generator, device=loc.device, dtype=loc.dtype)
    u = u * (2 - eps) + (eps - 1)
    return loc - dist.scale * u.sign() * torch.log1p(-u.abs())


@rsample.register
def _(dist: Categorical, sample_shape: Shape = (), generator: Optional[torch.Generator] = None) -> Tensor:
    p = dist.probs.reshape(-1, dist.probs.shape[-1])
    n = int(torch.Size(sample_shape).numel())
    if not sample_shape:  # one draw per row, as torch.multinomial(p, 1) has always drawn it
        return torch.multinomial(p, 1, generator=generator).reshape(dist.batch_shape)
    idx = torch.multinomial(p, n, replacement=True, generator=generator)  # (rows, n)
    return idx.T.reshape(torch.Size(sample_shape) + dist.batch_shape)


@rsample.register
def _(dist: Bernoulli, sample_shape: Shape = (), generator: Optional[torch.Generator] = None) -> Tensor:
    # Not reparameterisable: a plain seeded draw (used for data-space samples x ~ p(x|z)).
    probs = dist.probs.expand(torch.Size(sample_shape) + dist.probs.shape)
    return torch.bernoulli(probs, generator=generator)


@rsample.register
def _(dist: Independent, sample_shape: Shape = (), generator: Optional[torch.Generator] = None) -> Tensor:
    return rsample(dist.base_dist, sample_shape, generator)


@rsample.register
def _(dist: TransformedDistribution, sample_shape: Shape = (), generator: Optional[torch.Generator] = None) -> Tensor:
    x = rsample(dist.base_dist, sample_shape, generator)
    for t in dist.transforms:
        x = t(x)
    return x


@singledispatch
def rsample_and_log_prob(dist: Distribution, sample_shape: Shape = (), generator: Optional[torch.Generator] = None
                         ) -> Tuple[Tensor, Tensor]:
    """A sample (as :func:`rsample`) and its :func:`log_prob_per_example`."""
    z = rsample(dist, sample_shape, generator)
    return z, log_prob_per_example(dist, z)


@rsample_and_log_prob.register
def _(dist: TransformedDistribution, sample_shape: Shape = (), generator: Optional[torch.Generator] = None
      ) -> Tuple[Tensor, Tensor]:
    # log q(z_T) = log q_0(z_0) - sum_t log|det dz_t/dz_{t-1}| (Rezende & Mohamed 2015, eq. 6),
    # from the forward pass: no inversion. The log-dets are summed before the subtraction, as
    # vaekit always has, so the numbers are bit-for-bit those of earlier releases.
    x = rsample(dist.base_dist, sample_shape, generator)
    log_base = dist.base_dist.log_prob(x)
    log_det = 0.0
    for t in dist.transforms:
        y = t(x)
        log_det = log_det + t.log_abs_det_jacobian(x, y)
        x = y
    return x, log_base - log_det


@singledispatch
def location(dist: Distribution) -> Tensor:
    """A deterministic summary per example, shaped like a sample: ``dist.mean`` by default."""
    return dist.mean


@location.register
def _(dist: Normal) -> Tensor:
    return dist.loc


@location.register
def _(dist: Laplace) -> Tensor:
    return dist.loc


@location.register
def _(dist: Categorical) -> Tensor:
    # The mean of the one-hot code, (..., C): what a categorical latent's decoder input averages to.
    return dist.probs


@location.register
def _(dist: Independent) -> Tensor:
    return location(dist.base_dist)


@location.register
def _(dist: TransformedDistribution) -> Tensor:
    # The base mean pushed through the transforms: the flow posterior's deterministic embedding
    # (not the flow's mean, which has no closed form).
    x = location(dist.base_dist)
    for t in dist.transforms:
        x = t(x)
    return x


def log_prob_per_example(dist: Distribution, z: Tensor) -> Tensor:
    """``log p(z)`` summed over the latent units, ``(..., B)``.

    Factorised latents have the units in ``batch_shape`` (``(B, D)`` / ``(B, G)``) and are
    summed; a joint density over them (a flow, ``batch_shape (B,)``) is already per example.
    """
    lp = dist.log_prob(z)
    extra = len(dist.batch_shape) - 1
    return lp.sum(dim=tuple(range(-extra, 0))) if extra > 0 else lp


def concat(dists: Sequence[Distribution], limit: int) -> Distribution:
    """The distribution of the examples of ``dists`` (one per batch, one family) together, the
    first ``limit`` examples; dispatched on the family of ``dists[0]`` (:func:`concat_rule`)."""
    return concat_rule(dists[0], dists, limit)


@singledispatch
def concat_rule(first: Distribution, dists: Sequence[Distribution], limit: int) -> Distribution:
    raise NotImplementedError(f"concat: no rule for {type(first).__name__}; register one with "
                              f"@vaekit.core.distributions.concat_rule.register.")


@concat_rule.register
def _(first: Normal, dists, limit: int) -> Distribution:
    return Normal(torch.cat([d.loc for d in dists])[:limit], torch.cat([d.scale for d in dists])[:limit],
                  validate_args=False)


@concat_rule.register
def _(first: Laplace, dists, limit: int) -> Distribution:
    return Laplace(torch.cat([d.loc for d in dists])[:limit], torch.cat([d.scale for d in dists])[:limit],
                   validate_args=False)


@concat_rule.register
def _(first: Categorical, dists, limit: int) -> Distribution:
    return Categorical(logits=torch.cat([d.logits for d in dists])[:limit], validate_args=False)


@concat_rule.register
def _(first: Independent, dists, limit: int) -> Distribution:
    return Independent(concat([d.base_dist for d in dists], limit), first.reinterpreted_batch_ndims,
                       validate_args=False)


@concat_rule.register
def _(first: TransformedDistribution, dists, limit: int) -> Distribution:
    # Per-example transforms (amortised flows) concatenate their contexts (FlowTransform.cat).
    transforms = [t.cat([d.transforms[i] for d in dists[1:]], limit) for i, t in enumerate(first.transforms)]
    return TransformedDistribution(concat([d.base_dist for d in dists], limit), transforms, validate_args=False)


@singledispatch
def needs_inversion(dist: Distribution) -> bool:
    """Whether ``log_prob`` of an arbitrary ``z`` inverts a transform (costly: a flow's
    inverse takes ``D`` sequential passes per step; planar/radial flows have none)."""
    return False


@needs_inversion.register
def _(dist: TransformedDistribution) -> bool:
    return True


__all__ = ["rsample", "rsample_and_log_prob", "location", "log_prob_per_example", "concat", "concat_rule",
           "needs_inversion"]
