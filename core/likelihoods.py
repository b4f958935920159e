"""Decoder likelihoods: decoder outputs -> ``torch.distributions`` over ``x``, and ``-log p(x|z)``.

Every likelihood reduces ``log_prob`` to one number per example, summed over data dimensions
(and masked for sequences), in nats (DESIGN.md section 3).
"""
from __future__ import annotations

import math
from typing import Literal, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import Bernoulli, Categorical, Distribution, Normal, constraints

from .errors import ConfigError, DataValidationError
from .registry import Registry

LIKELIHOODS: Registry["Likelihood"] = Registry("likelihood")


class Likelihood(nn.Module):
    """Base class.

    Attributes
    ----------
    params_per_dim : int
        Decoder outputs needed per data dimension (e.g. 2 for a Gaussian whose scale the
        decoder predicts).
    """

    params_per_dim: int = 1

    def distribution(self, params: Tensor) -> Distribution:
        """``params`` ``(N, params_per_dim * x_dim)`` or ``(N, ..., V)`` -> distribution over x."""
        raise NotImplementedError

    def nll(self, px: Distribution, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """``-log p(x|z)`` summed over data dims, ``(N,)``.

        Parameters
        ----------
        px : Distribution
            ``batch_shape (N, ...)``.
        x : Tensor
            ``(N, ...)`` matching ``px``.
        mask : Tensor, optional
            ``(N, T)`` bool; positions with False do not count.
        """
        lp = px.log_prob(x)
        if mask is not None:
            lp = lp * mask.to(lp.dtype)
        return -lp.reshape(lp.shape[0], -1).sum(1) if lp.dim() > 1 else -lp

    def mean(self, px: Distribution) -> Tensor:
        return px.mean

    def check_data(self, x: Tensor, where: str = "x") -> None:
        """Raise :class:`DataValidationError` if ``x`` lies outside the support."""


@LIKELIHOODS.register("bernoulli")
class BernoulliLikelihood(Likelihood):
    """Bernoulli with logits, for binary data (or grey levels in [0, 1], the usual practice)."""

    def distribution(self, params: Tensor) -> Distribution:
        return Bernoulli(logits=params, validate_args=False)

    def check_data(self, x: Tensor, where: str = "x") -> None:
        if x.numel() and (float(x.min()) < 0 or float(x.max()) > 1):
            raise DataValidationError(
                f"{where}: the bernoulli likelihood needs values in [0, 1]; got range "
                f"[{float(x.min()):.3g}, {float(x.max()):.3g}]. Scale the data to [0, 1] or use "
                f"likelihood kind 'gaussian'.")


@LIKELIHOODS.register("gaussian")
class GaussianLikelihood(Likelihood):
    """Diagonal Gaussian.

    Parameters
    ----------
    scale : float
        The fixed standard deviation, or the initial one when learned.
    learn_scale : {"none", "shared", "per_dim", "output"}
        ``none``: fixed ``scale``; ``shared``: one learned scale; ``per_dim``: one learned
        scale per data dimension; ``output``: the decoder predicts a scale per example and
        dimension (heteroscedastic).
    min_scale : float
        Lower bound on the scale, which keeps the likelihood from diverging on a
        data dimension that the decoder fits exactly.
    x_dim : int
        Number of data dimensions (wired by vaekit).
    """

    def __init__(self, scale: float = 1.0, learn_scale: Literal["none", "shared", "per_dim", "output"] = "none",
                 min_scale: float = 1e-3, x_dim: int = 1):
        super().__init__()
        if scale <= 0:
            raise ConfigError(f"scale: must be > 0; got {scale!r}.")
        if learn_scale not in ("none", "shared", "per_dim", "output"):
            raise ConfigError(f"learn_scale: must be none, shared, per_dim or output; "
                              f"got {learn_scale!r}.")
        self.learn_scale, self.min_scale = learn_scale, float(min_scale)
        self.params_per_dim = 2 if learn_scale == "output" else 1
        init = math.log(math.expm1(max(scale - min_scale, 1e-6)))  # inverse softplus
        if learn_scale == "shared":
            self.raw_scale = nn.Parameter(torch.tensor(init))
        elif learn_scale == "per_dim":
            self.raw_scale = nn.Parameter(torch.full((x_dim,), init))
        else:
            self.register_buffer("raw_scale", torch.tensor(init), persistent=False)

    def distribution(self, params: Tensor) -> Distribution:
        if self.learn_scale == "output":
            loc, raw = params.chunk(2, dim=1)
            scale = F.softplus(raw) + self.min_scale
        else:
            loc = params
            raw = self.raw_scale
            if raw.dim() == 1 and loc.dim() > 2:
                raw = raw.reshape(loc.shape[1:])
            scale = (F.softplus(raw) + self.min_scale).expand_as(loc)
        return Normal(loc, scale, validate_args=False)


class _MultinomialLogits(Distribution):
    """Multinomial over ``K`` outcomes with a per-row number of trials.

    ``log_prob(x) = log(N!) - sum_k log(x_k!) + sum_k x_k log softmax(logits)_k``. The
    combinatorial part is constant in the parameters; Mult-VAE (Liang et al. 2018) drops it
    from its loss, we keep it so the number is a true log-likelihood.
    """

    arg_constraints = {"logits": constraints.real_vector}
    has_rsample = False

    def __init__(self, logits: Tensor):
        self.logits = logits
        super().__init__(batch_shape=logits.shape[:-1], event_shape=logits.shape[-1:], validate_args=False)

    @property
    def probs(self) -> Tensor:
        return self.logits.softmax(-1)

    @property
    def mean(self) -> Tensor:
        """Normalised item probabilities (mean per trial)."""
        return self.probs

    def log_prob(self, value: Tensor) -> Tensor:
        value = value.to(self.logits.dtype)
        n = value.sum(-1)
        log_coef = torch.lgamma(n + 1) - torch.lgamma(value + 1).sum(-1)
        return log_coef + (value * self.logits.log_softmax(-1)).sum(-1)

    def sample(self, sample_shape=torch.Size(), total_count: int = 1,
               generator: Optional[torch.Generator] = None) -> Tensor:
        """Counts from ``total_count`` draws per row (``sample_shape`` is not supported)."""
        probs = self.probs.reshape(-1, self.logits.shape[-1])
        idx = torch.multinomial(probs, total_count, replacement=True, generator=generator)
        out = torch.zeros_like(probs).scatter_add_(1, idx, torch.ones_like(idx, dtype=probs.dtype))
        return out.reshape(self.logits.shape)


@LIKELIHOODS.register("multinomial")
class MultinomialLikelihood(Likelihood):
    """Multinomial over the data dimensions (count vectors: clicks, bag of words)."""

    def distribution(self, params: Tensor) -> Distribution:
        return _MultinomialLogits(params.reshape(params.shape[0], -1))

    def nll(self, px: Distribution, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        return -px.log_prob(x.reshape(x.shape[0], -1))

    def check_data(self, x: Tensor, where: str = "x") -> None:
        if x.numel() and float(x.min()) < 0:
            raise DataValidationError(f"{where}: the multinomial likelihood needs non-negative counts; "
                                      f"got minimum {float(x.min()):.3g}.")


@LIKELIHOODS.register("categorical")
class CategoricalLikelihood(Likelihood):
    """Categorical per position, for token sequences (logits ``(N, T, V)``); masked sums."""

    def distribution(self, params: Tensor) -> Distribution:
        return Categorical(logits=params, validate_args=False)

    def mean(self, px: Distribution) -> Tensor:
        return px.probs.argmax(-1)
