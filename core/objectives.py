"""Objectives: weigh the terms a :class:`~vaekit.core.vae.VAE` computes into one loss.

The model computes terms, the objective weighs them, the trainer owns time: every weight
that changes during training is a :mod:`~vaekit.core.schedules` function of the step.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Union

import torch
from torch import Tensor

from .distributions import location
from .errors import ConfigError
from .registry import did_you_mean
from .rules import check_number
from .schedules import Schedule, build_schedule
from .types import Batch, LossOutput, VAEOutput

ScheduleSpec = Union[float, Dict[str, Any]]
OBJECTIVE_KINDS = ("elbo", "iwae")
BETA_SCALES = ("none", "input_sum")


@dataclass(frozen=True)
class CapacityConfig:
    """Capacity objective of Burgess et al. 2018: ``gamma * |KL - C(step)|``.

    ``target`` is ``C`` in nats: a number or a schedule (typically linear from 0 up).
    """

    target: ScheduleSpec
    gamma: float = 100.0


@dataclass(frozen=True)
class ObjectiveConfig:
    """The objective section of a run config.

    Attributes
    ----------
    kind : str
        ``elbo`` (the evidence lower bound, with ``n_samples`` Monte-Carlo samples) or
        ``iwae``: the importance-weighted bound of Burda et al. 2016 with ``k = n_samples``
        samples, ``log (1/k) sum_i p(x, z_i) / q(z_i|x)``, which tightens as ``k`` grows and
        equals the single-sample ELBO at ``k = 1``.
    beta : float or schedule
        KL weight (Higgins et al. 2017); a schedule gives KL annealing, e.g.
        ``{kind: linear, start: 0, end: 1, steps: 10000}`` (Bowman et al. 2016) or
        ``{kind: cyclical, period: 5000, ratio: 0.5}`` (Fu et al. 2019).
    free_bits : float
        Nats per latent unit below which the KL is not penalised (Kingma et al. 2016).
    capacity : CapacityConfig, optional
        Replace ``beta * KL`` by ``gamma * |KL - C|`` (Burgess et al. 2018).
    temperature : float or schedule, optional
        Gumbel-softmax temperature (only for categorical latent heads).
    n_samples : int
        Posterior samples per example for the Monte-Carlo reconstruction term.
    trim : float
        Fraction of each batch left out of the loss: the examples with the largest negative
        ELBO (a trimmed ELBO, for training on contaminated data; see :class:`ELBO`).
    weights : dict
        Weight (a number or a schedule) of each auxiliary term the model returns in
        ``VAEOutput.extra``, by name (e.g. ``{style_loss: {kind: linear, start: 0, end: 1,
        steps: 2000}}`` for an attribute controller); unnamed terms weigh 1.
    beta_scale : {"none", "input_sum"}
        Per-example factor of beta: ``input_sum`` weighs example ``u``'s KL by ``beta * |x_u|``
        with ``|x_u| = sum_i x_ui`` (the user's number of clicks), RecVAE's rescaled KL
        (Shenbin et al. 2020, section 3.4: ``beta = gamma |x_u|``, ``gamma`` = 0.005), so users
        with long histories are pulled harder towards the prior.
    """

    kind: str = "elbo"
    beta: ScheduleSpec = 1.0
    free_bits: float = 0.0
    capacity: Optional[CapacityConfig] = None
    temperature: Optional[ScheduleSpec] = None
    n_samples: int = 1
    trim: float = 0.0
    weights: Dict[str, ScheduleSpec] = field(default_factory=dict)
    beta_scale: str = "none"

    def validate(self, path: str = "objective") -> None:
        build_objective(self, path)


def _check_schedule_values(sched: Optional[Schedule], where: str, example: float, **bounds: float) -> None:
    """Range-check the values a schedule takes (a constant's ``value``, a ramp's ``start`` and
    ``end``: schedules move between those, so checking them checks every step)."""
    if sched is None:
        return
    for name in ("value", "start", "end"):
        if hasattr(sched, name):
            key = where if name == "value" else f"{where}.{name}"
            check_number(key, getattr(sched, name), example=example, **bounds)


def _active_units_in_batch(out: VAEOutput, threshold: float = 0.01) -> int:
    """Units whose posterior mean varies across the batch (Burda et al. 2016 criterion,
    estimated on one batch; :mod:`~vaekit.core.diagnostics` computes it on a whole split)."""
    q = out.posterior
    if q.batch_shape[0] < 2:
        return 0
    var = location(q).detach().float().var(0)  # (U,), or (U, C) for categorical units
    var = var.reshape(var.shape[0], -1).sum(-1)  # a unit's variance summed over its categories
    return int((var > threshold).sum())


class ELBO:
    """Negative evidence lower bound with beta, free bits or capacity.

    ``loss = mean_b recon_nll + beta(step) * KLterm`` where ``KLterm`` is
    ``mean_b sum_k kl[:, k]``, or with free bits ``sum_k max(free_bits, mean_b kl[:, k])``.
    With a capacity, ``loss = mean_b recon_nll + gamma * |mean_b sum_k kl - C(step)|`` (a
    penalty, never a clamp, so the KL keeps its gradient).

    With ``trim > 0`` the means run over the ``B - floor(trim * B)`` examples of the batch
    with the smallest negative ELBO only: the trimmed-loss estimator (Rousseeuw's least
    trimmed squares; Shen & Sanghavi 2019, "Learning with Bad Training Data via Iterative
    Trimmed Loss Minimization"), so that a minority of outliers in the training data (e.g.
    anomalies in an unlabelled table) cannot pull the model towards them. The logged
    ``recon``, ``kl`` and ``elbo`` stay the whole batch's, so validation numbers remain the
    true ELBO.

    Parameters
    ----------
    beta : float or Schedule
    free_bits : float
    capacity : CapacityConfig, optional
    temperature : float or Schedule, optional
    n_samples : int
    trim : float
        In ``[0, 0.5)``.
    kind : str
        ``elbo`` or ``iwae`` (see :class:`ObjectiveConfig`). With ``iwae`` the loss is
        ``-mean_b log (1/k) sum_i exp(log p(x|z_i) + beta (log p(z_i) - log q(z_i|x)))``: beta
        < 1 (a warm-up schedule) down-weights the prior/posterior ratio; free bits, capacity and
        trimming are ELBO-only.
    weights : dict, optional
        ``{name: float or Schedule}`` weights of the auxiliary terms in ``VAEOutput.extra``
        (default 1 each). A name the model never returns is an error at the first step, so a
        typo cannot silently leave a term at weight 1.
    """

    def __init__(self, beta: Union[float, Schedule] = 1.0, free_bits: float = 0.0,
                 capacity: Optional[CapacityConfig] = None, temperature: Union[None, float, Schedule] = None,
                 n_samples: int = 1, trim: float = 0.0, weights: Optional[Dict[str, Any]] = None,
                 where: str = "objective", kind: str = "elbo", beta_scale: str = "none"):
        if kind not in OBJECTIVE_KINDS:
            raise ConfigError(f"{where}.kind: unknown objective {kind!r}.{did_you_mean(kind, OBJECTIVE_KINDS)} "
                              f"Valid: {', '.join(OBJECTIVE_KINDS)}.")
        if kind == "iwae" and (free_bits > 0 or capacity is not None or trim > 0):
            used = [n for n, on in (("free_bits", free_bits > 0), ("capacity", capacity is not None),
                                    ("trim", trim > 0)) if on]
            raise ConfigError(f"{where}.kind: the iwae bound takes no {', '.join(used)} (they act on the ELBO's "
                              f"KL term); got kind: iwae with {used[0]} set. Remove {used[0]} or use kind: elbo.")
        self.kind = kind
        if beta_scale not in BETA_SCALES:
            raise ConfigError(f"{where}.beta_scale: unknown scale {beta_scale!r}.{did_you_mean(beta_scale, BETA_SCALES)} "
                              f"Valid: {', '.join(BETA_SCALES)}.")
        if beta_scale != "none" and (kind == "iwae" or free_bits > 0 or capacity is not None):
            other = "kind: iwae" if kind == "iwae" else "free_bits" if free_bits > 0 else "capacity"
            raise ConfigError(f"{where}.beta_scale: a per-example KL weight applies to the plain ELBO's beta * KL; "
                              f"got beta_scale: {beta_scale} with {other}. Remove one of them.")
        self.beta_scale = beta_scale
        self.beta = build_schedule(beta, f"{where}.beta")
        # A negative beta rewards the KL (the rate grows without bound while the loss falls).
        _check_schedule_values(self.beta, f"{where}.beta", ge=0, example=1.0)
        if free_bits < 0:
            raise ConfigError(f"{where}.free_bits: must be >= 0 nats per unit; got {free_bits!r}.")
        if free_bits > 0 and capacity is not None:
            raise ConfigError(f"{where}: free_bits and capacity are two ways to control the rate; got both "
                              f"(free_bits={free_bits}, capacity={capacity}). Keep one.")
        if n_samples < 1:
            raise ConfigError(f"{where}.n_samples: must be >= 1; got {n_samples!r}.")
        self.free_bits = float(free_bits)
        self.capacity = capacity
        self.capacity_target = build_schedule(capacity.target, f"{where}.capacity.target") if capacity else None
        if capacity is not None:
            check_number(f"{where}.capacity.gamma", capacity.gamma, ge=0, example=100.0)
            _check_schedule_values(self.capacity_target, f"{where}.capacity.target", ge=0, example=25.0)
        self.temperature = build_schedule(temperature, f"{where}.temperature")
        # The Gumbel-softmax divides the logits by the temperature.
        _check_schedule_values(self.temperature, f"{where}.temperature", gt=0, example=1.0)
        self.n_samples = int(n_samples)
        if not 0.0 <= trim < 0.5:
            raise ConfigError(f"{where}.trim: the fraction of each batch left out must lie in [0, 0.5) (a "
                              f"minority of outliers); got {trim!r}. Use e.g. the expected contamination, 0.1.")
        self.trim = float(trim)
        self.where = where
        self.weights = {str(k): build_schedule(v, f"{where}.weights.{k}") for k, v in (weights or {}).items()}

    def model_kwargs(self, step: int) -> Dict[str, Any]:
        """Extra arguments for ``model(batch, ...)`` at ``step`` (e.g. the temperature)."""
        kw: Dict[str, Any] = {"n_samples": self.n_samples}
        if self.temperature is not None:
            kw["temperature"] = self.temperature(step)
        return kw

    def __call__(self, out: VAEOutput, step: int, batch: Optional[Batch] = None) -> LossOutput:
        """The loss of ``out`` at ``step``; ``batch`` (the model's input) is needed by
        ``beta_scale: input_sum`` only."""
        recon = out.recon_nll.float()  # (B,) or (S, B)
        kl = out.kl.float()  # (B, U)
        recon_mean = recon.mean()  # mean over samples and batch
        kl_total = kl.sum(1).mean()
        beta = self.beta(step)
        terms: Dict[str, float] = {}
        # The loss's terms: the whole batch, or its trimmed part.
        recon_l, kl_l = recon, kl
        n_trim = int(self.trim * kl.shape[0])
        if n_trim > 0:
            neg_elbo = recon.detach().reshape(-1, kl.shape[0]).mean(0) + kl.detach().sum(1)
            keep = neg_elbo.topk(kl.shape[0] - n_trim, largest=False).indices
            recon_l, kl_l = recon[..., keep], kl[keep]
            terms["trimmed"] = float(n_trim)
        recon_loss, kl_loss = recon_l.mean(), kl_l.sum(1).mean()
        if self.beta_scale == "input_sum":
            scale = self._input_sums(batch)
            kl_loss = ((scale[keep] if n_trim > 0 else scale) * kl_l.sum(1)).mean()
        if self.kind == "iwae":
            try:
                log_w = out.log_weights(beta)  # (k, B)
            except ValueError as exc:
                raise ConfigError(f"{self.where}.kind: iwae needs sample densities; {exc}") from None
            bound = torch.logsumexp(log_w.float(), 0) - math.log(log_w.shape[0])  # (B,)
            loss = -bound.mean()
            terms["iwae_bound"] = float(bound.detach().mean())
        elif self.capacity is not None:
            c = self.capacity_target(step)
            loss = recon_loss + self.capacity.gamma * (kl_loss - c).abs()
            terms["capacity"] = c
        elif self.free_bits > 0:
            if not out.kl_is_analytic:
                raise ConfigError("objective.free_bits: free bits needs the KL per latent unit in closed form, "
                                  "but this model's KL is a Monte-Carlo estimate (e.g. a flow). Set "
                                  "free_bits: 0 or use a Gaussian/categorical posterior and prior.")
            kl_term = torch.clamp(kl_l.mean(0), min=self.free_bits).sum()
            loss = recon_loss + beta * kl_term
            terms["kl_term"] = float(kl_term.detach())
        else:
            loss = recon_loss + beta * kl_loss
        unknown = sorted(set(self.weights) - set(out.extra))
        if unknown:
            raise ConfigError(f"{self.where}.weights: the model returns no term named {unknown[0]!r}; its auxiliary "
                              f"terms are {sorted(out.extra) or 'none'}.{did_you_mean(unknown[0], list(out.extra))} "
                              f"Remove or rename the entry.")
        for name, t in out.extra.items():
            w = self.weights[name](step) if name in self.weights else 1.0
            value = t.float().mean()
            loss = loss + w * value  # also at w = 0, so every parameter gets a gradient (DDP needs that)
            terms[name] = float(value.detach())
            if name in self.weights:
                terms[f"w/{name}"] = w
        rd = float(recon_mean.detach())
        kd = float(kl_total.detach())
        terms.update(loss=float(loss.detach()), recon=rd, kl=kd, elbo=-(rd + kd), beta=beta,
                     active_units=_active_units_in_batch(out))
        if out.n_tokens is not None:
            terms["n_tokens"] = float(out.n_tokens.float().mean())
        return LossOutput(loss=loss, terms=terms)

    def _input_sums(self, batch: Optional[Batch]) -> Tensor:
        """``|x_u|`` per example, ``(B,)``."""
        if batch is None:
            raise ConfigError(f"{self.where}.beta_scale: input_sum weighs each example's KL by the sum of its input, "
                              f"so the objective needs the batch; got none. Call objective(out, step, batch=batch).")
        return batch.x.reshape(batch.x.shape[0], -1).float().sum(1)


def build_objective(cfg: ObjectiveConfig, where: str = "objective") -> ELBO:
    """Build the objective from its config section."""
    return ELBO(cfg.beta, cfg.free_bits, cfg.capacity, cfg.temperature, cfg.n_samples, cfg.trim, cfg.weights,
                where=where, kind=cfg.kind, beta_scale=cfg.beta_scale)


@torch.no_grad()
def iwae_nll(model, batch: Batch, k: int = 100, chunk: int = 0) -> Tensor:
    """Importance-weighted estimate of ``-log p(x)`` per example, ``(B,)`` nats (Burda et al. 2016).

    ``log p(x) >= log (1/k) sum_i p(x, z_i) / q(z_i|x)``, which tightens as ``k`` grows and
    equals the ELBO at ``k = 1``.

    Parameters
    ----------
    model : VAE
    batch : Batch
    k : int
        Number of importance samples.
    chunk : int
        Samples per forward pass (0: all at once); bounds memory for large ``k``.
    """
    if k < 1:
        raise ConfigError(f"iwae_nll: k must be >= 1 importance samples; got {k!r}.")
    chunk = k if chunk <= 0 else min(chunk, k)
    parts = []
    done = 0
    while done < k:
        n = min(chunk, k - done)
        parts.append(model.log_importance_weights(batch, n).float())
        done += n
    log_w = torch.cat(parts, 0)  # (k, B)
    return -(torch.logsumexp(log_w, 0) - math.log(k))
