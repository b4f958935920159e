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
from torch.distributions import Bernoulli, Categorical, Distribution, Laplace, Normal, constraints

from .distributions import rsample
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
    learn_scale : {"none", "shared", "per_dim", "output", "analytic"}
        ``none``: fixed ``scale``; ``shared``: one learned scale; ``per_dim``: one learned
        scale per data dimension; ``output``: the decoder predicts a scale per example and
        dimension (heteroscedastic); ``analytic``: per data dimension, the scale that
        maximises the batch's likelihood, i.e. its root-mean-square residual (the calibrated
        decoder of Rybkin et al. 2021, "Simple and Effective VAE Training with Calibrated
        Decoders", per dimension), with a running average kept for evaluation.
    min_scale : float
        Lower bound on the scale, which keeps the likelihood from diverging on a
        data dimension that the decoder fits exactly.
    x_dim : int
        Number of data dimensions (wired by vaekit).
    momentum : float
        ``analytic`` only: weight of each training batch in the running squared residual
        that evaluation uses (as in batch normalisation).
    scale_trim : float
        ``analytic`` only: fraction of each batch's rows, those with the largest
        standardised squared residual, left out of the scale estimate. With a trimmed
        objective (``objective.trim``) set it to the same fraction, so that the scale is
        fitted on the rows the loss keeps: otherwise the outliers the loss ignores inflate
        the scale, the reconstruction term weakens, and the latent stays unused.

    Notes
    -----
    A learned scale moves slowly under a small learning rate (a softplus parameter after a
    few hundred Adam steps at 1e-3 is still near its initial value), so the data's scaling,
    not the fit, decides how much each dimension's residual counts. ``analytic`` needs no
    steps to adapt. Its scale is computed from detached residuals: at the optimum the
    batch's NLL is stationary in the scale, so the gradient reaching the decoder mean is the
    same with or without the path through the scale (Rybkin et al. 2021, section 3).
    """

    #: The location-scale family, and the power ``p`` of the residual whose mean, to the power
    #: ``1 / p``, is the maximum-likelihood scale (``analytic``): 2 for the Gaussian (the RMS
    #: residual), 1 for the Laplace (the mean absolute residual).
    family = Normal
    residual_power = 2

    def __init__(self, scale: float = 1.0,
                 learn_scale: Literal["none", "shared", "per_dim", "output", "analytic"] = "none",
                 min_scale: float = 1e-3, x_dim: int = 1, momentum: float = 0.1, scale_trim: float = 0.0):
        super().__init__()
        if scale <= 0:
            raise ConfigError(f"scale: must be > 0; got {scale!r}.")
        if learn_scale not in ("none", "shared", "per_dim", "output", "analytic"):
            raise ConfigError(f"learn_scale: must be none, shared, per_dim, output or analytic; "
                              f"got {learn_scale!r}.")
        if not 0 < momentum <= 1:
            raise ConfigError(f"momentum: must lie in (0, 1]; got {momentum!r}.")
        if not 0 <= scale_trim < 0.5:
            raise ConfigError(f"scale_trim: the fraction of rows left out of the scale estimate must lie in "
                              f"[0, 0.5); got {scale_trim!r}.")
        self.learn_scale, self.min_scale, self.momentum = learn_scale, float(min_scale), float(momentum)
        self.scale_trim = float(scale_trim)
        self.params_per_dim = 2 if learn_scale == "output" else 1
        init = math.log(math.expm1(max(scale - min_scale, 1e-6)))  # inverse softplus
        if learn_scale == "shared":
            self.raw_scale = nn.Parameter(torch.tensor(init))
        elif learn_scale == "per_dim":
            self.raw_scale = nn.Parameter(torch.full((x_dim,), init))
        elif learn_scale == "analytic":
            # Persistent: the evaluation scale is part of the trained model (checkpoints).
            # (the running mean of |residual| ** residual_power; "sq" for the Gaussian's power 2)
            self.register_buffer("running_sq_residual", torch.full((x_dim,), float(scale) ** self.residual_power))
        else:
            self.register_buffer("raw_scale", torch.tensor(init), persistent=False)

    def distribution(self, params: Tensor) -> Distribution:
        if self.learn_scale == "output":
            loc, raw = params.chunk(2, dim=1)
            scale = F.softplus(raw) + self.min_scale
        elif self.learn_scale == "analytic":
            loc = params
            scale = self._analytic_scale(self.running_sq_residual, loc)
        else:
            loc = params
            raw = self.raw_scale
            if raw.dim() == 1 and loc.dim() > 2:
                raw = raw.reshape(loc.shape[1:])
            scale = (F.softplus(raw) + self.min_scale).expand_as(loc)
        return self.family(loc, scale, validate_args=False)

    def _analytic_scale(self, sq_residual: Tensor, loc: Tensor) -> Tensor:
        """Per-dimension scale ``max(mean_residual ** (1 / p), min_scale)`` broadcast to ``loc``."""
        scale = sq_residual.clamp_min(0).pow(1.0 / self.residual_power).clamp_min(self.min_scale).to(loc.dtype)
        return scale.reshape(loc.shape[1:]).expand_as(loc)

    def nll(self, px: Distribution, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        if self.learn_scale != "analytic" or not self.training:
            return super().nll(px, x, mask)
        # Training: the scale is this batch's RMS residual per data dimension (the maximiser
        # of the batch likelihood); evaluation uses the running average of these.
        loc = px.loc
        sq = (x.detach().float() - loc.detach().float()).abs() ** self.residual_power
        w = torch.ones_like(sq) if mask is None else \
            mask.to(sq.dtype).reshape(*mask.shape, *([1] * (sq.dim() - mask.dim()))).expand_as(sq).clone()
        n_trim = int(self.scale_trim * sq.shape[0])
        if n_trim > 0:
            # Leave out the rows with the largest residual in units of the current scale.
            floor = self.min_scale ** self.residual_power
            row = (sq * w / self.running_sq_residual.reshape(sq.shape[1:]).clamp_min(floor))
            worst = row.reshape(sq.shape[0], -1).sum(1).topk(n_trim).indices
            w[worst] = 0.0
        batch_sq = (sq * w).sum(0) / w.sum(0).clamp_min(1.0)
        with torch.no_grad():
            self.running_sq_residual.lerp_(batch_sq.reshape(-1), self.momentum)
        px = self.family(loc, self._analytic_scale(batch_sq.reshape(-1), loc), validate_args=False)
        return super().nll(px, x, mask)


@LIKELIHOODS.register("laplace")
class LaplaceLikelihood(GaussianLikelihood):
    """Diagonal Laplace: ``-log p(x_j|z) = |x_j - mu_j| / b_j + log(2 b_j)``.

    The same parameters as :class:`GaussianLikelihood` (``scale``, ``learn_scale``,
    ``min_scale``, ``momentum``, ``scale_trim``); ``learn_scale: analytic`` uses the Laplace's
    maximum-likelihood scale, the mean absolute residual per data dimension. Its NLL grows
    linearly, not quadratically, in a residual, so one dimension far off cannot outweigh the
    rest of a record (the L1 reconstruction error is the usual robust alternative to the
    squared one; e.g. Zhou & Paffenroth 2017, "Anomaly Detection with Robust Deep
    Autoencoders").
    """

    family = Laplace
    residual_power = 1


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


@rsample.register
def _(dist: _MultinomialLogits, sample_shape=(), generator: Optional[torch.Generator] = None) -> Tensor:
    # A click vector of one draw per row (sample_x of a recommender); seeded like every family.
    return dist.sample(sample_shape, generator=generator)


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
