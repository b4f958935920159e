"""Normalizing flows on the latent: invertible maps with tractable log-determinants.

Every flow maps ``z (..., B, D) -> (z', log_det (..., B))`` where ``log_det`` is
``log |det dz'/dz|``. Used in two places:

* a flow posterior (:class:`~vaekit.core.heads.FlowHead`): ``z_0 ~ N(mu(x), sigma(x)^2)``
  pushed through ``T`` flows, ``log q(z_T|x) = log N(z_0) - sum_t log_det_t``
  (Rezende & Mohamed 2015; Kingma et al. 2016 for IAF);
* a flow prior (:class:`~vaekit.core.priors.AutoregressivePrior`, the AF prior of the
  Variational Lossy Autoencoder, Chen et al. 2017), whose density is one parallel pass of the
  autoregressive map ``z -> eps``.

Both are ``TransformedDistribution`` s over a :class:`FlowTransform` (flows are transforms, as
in Pyro), so sampling and densities go through :mod:`vaekit.core.distributions` like any other
family. Flow kinds are registered in :data:`FLOWS`. KL terms with a flow on either side have no
closed form; the heads return the Monte-Carlo estimate ``log q(z|x) - log p(z)`` and mark it
``kl_is_analytic=False``.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import constraints
from torch.distributions.transforms import Transform

from .errors import ConfigError
from .nn import activation as activation_module
from .registry import Registry


# ----------------------------------------------------------------------------- MADE
class MaskedLinear(nn.Linear):
    """``nn.Linear`` whose weight is multiplied by a fixed 0/1 ``mask (out, in)``."""

    def __init__(self, in_features: int, out_features: int, mask: Tensor):
        super().__init__(in_features, out_features)
        self.register_buffer("mask", mask.to(self.weight.dtype), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """Masked autoencoder for distribution estimation (Germain et al. 2015).

    Output ``i`` (for each of ``n_params`` parameter sets) depends only on the inputs that
    come before ``i`` in ``order``, and on an unmasked ``context``.

    Parameters
    ----------
    dim : int
        ``D``, the number of autoregressive variables.
    hidden_dims : sequence of int
    n_params : int
        Parameter sets per variable (2 for an affine step: shift and log-scale).
    context_dim : int
        Width of a context vector (e.g. encoder features) added to the first hidden layer.
    order : Tensor, optional
        A permutation of ``0..D-1``: position of each variable in the autoregressive order
        (default: the natural order).
    activation : str

    Shapes
    ------
    ``forward(z (..., D), context (..., context_dim)) -> (..., n_params, D)``.
    """

    def __init__(self, dim: int, hidden_dims: Sequence[int] = (256,), n_params: int = 2, context_dim: int = 0,
                 order: Optional[Tensor] = None, activation: str = "elu"):
        super().__init__()
        if dim < 1:
            raise ConfigError(f"MADE: dim must be >= 1 latent units; got {dim!r}.")
        if not hidden_dims:
            raise ConfigError("MADE: hidden_dims needs at least one hidden layer; got an empty list.")
        self.dim, self.n_params = dim, n_params
        order = torch.arange(dim) if order is None else torch.as_tensor(order)
        if sorted(order.tolist()) != list(range(dim)):
            raise ConfigError(f"MADE: order must be a permutation of 0..{dim - 1}; got {order.tolist()}.")
        self.register_buffer("order", order.clone(), persistent=False)
        # Degrees (Germain et al. 2015, eq. 13): input i has degree order[i] + 1 in 1..D; a hidden
        # unit of degree k sees inputs of degree <= k; output i sees hidden units of degree
        # < degree(i). Hidden degrees cycle through 1..D-1 (0 when D = 1: context only).
        deg_in = order + 1
        degrees = [deg_in]
        for h in hidden_dims:
            degrees.append(torch.arange(h) % max(1, dim - 1) + min(1, dim - 1))
        layers: List[nn.Module] = []
        for d_prev, d_next in zip(degrees[:-1], degrees[1:]):
            layers.append(MaskedLinear(len(d_prev), len(d_next), (d_next[:, None] >= d_prev[None, :]).float()))
        self.hidden = nn.ModuleList(layers)
        self.act = activation_module(activation)
        out_mask = (deg_in[:, None] > degrees[-1][None, :]).float().repeat(n_params, 1)
        self.out = MaskedLinear(hidden_dims[-1], n_params * dim, out_mask)
        self.context = nn.Linear(context_dim, hidden_dims[0]) if context_dim > 0 else None
        # Start every flow at (near) the identity: zero output weights, zero biases.
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, z: Tensor, context: Optional[Tensor] = None) -> Tensor:
        h = self.hidden[0](z)
        if self.context is not None:
            if context is None:
                raise ConfigError("MADE: this flow was built with a context (context_dim > 0); got context=None.")
            h = h + self.context(context)
        h = self.act(h)
        for layer in self.hidden[1:]:
            h = self.act(layer(h))
        return self.out(h).reshape(*h.shape[:-1], self.n_params, self.dim)  # context may broadcast z


# ----------------------------------------------------------------------------- flows
class Flow(nn.Module):
    """Base class: ``forward(z, context=None) -> (z', log|det dz'/dz|)``."""

    def forward(self, z: Tensor, context: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        raise NotImplementedError

    def inverse(self, y: Tensor, context: Optional[Tensor] = None) -> Tensor:
        """``z`` with ``forward(z)[0] == y``; flows without a closed-form inverse raise."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form inverse.")


class AutoregressiveAffine(Flow):
    """One affine autoregressive step ``z'_i = z_i * a_i(z_<i) + b_i(z_<i)`` (one MADE pass).

    ``gated=True`` is the numerically stable IAF update of Kingma et al. 2016 (section 4):
    ``sigma = sigmoid(s + gate_bias)``, ``z' = sigma * z + (1 - sigma) * m``, so the step is an
    LSTM-like interpolation whose scale stays in (0, 1). ``gated=False`` uses
    ``a = exp(s)`` with ``s`` softly bounded to ``(-5, 5)`` (a MAF step, Papamakarios et al.
    2017), which an AF prior needs: its scale must be free to shrink and grow.

    ``forward`` is parallel; ``inverse`` takes ``D`` sequential MADE passes.

    Parameters
    ----------
    dim : int
    hidden_dims : sequence of int
    context_dim : int
    reverse : bool
        Use the reversed variable order (alternate it between stacked steps so that every
        variable can depend on every other, Kingma et al. 2016).
    gated : bool
    gate_bias : float
    activation : str
    """

    def __init__(self, dim: int, hidden_dims: Sequence[int] = (256,), context_dim: int = 0, reverse: bool = False,
                 gated: bool = True, gate_bias: float = 1.0, activation: str = "elu"):
        super().__init__()
        order = torch.arange(dim).flip(0) if reverse else torch.arange(dim)
        self.made = MADE(dim, hidden_dims, 2, context_dim, order, activation)
        self.gated, self.gate_bias = bool(gated), float(gate_bias)

    def _scale_shift(self, z: Tensor, context: Optional[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        m, s = self.made(z, context).unbind(-2)
        if self.gated:
            log_a = F.logsigmoid(s + self.gate_bias)
            a = log_a.exp()
            return a, (1 - a) * m, log_a
        log_a = 5.0 * torch.tanh(s / 5.0)
        return log_a.exp(), m, log_a

    def forward(self, z: Tensor, context: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        a, b, log_a = self._scale_shift(z, context)
        return z * a + b, log_a.sum(-1)

    def inverse(self, y: Tensor, context: Optional[Tensor] = None) -> Tensor:
        # Fill z in autoregressive order: the parameters of variable i depend on z_<i only,
        # which are exact once the earlier positions are filled. ``y`` may broadcast against
        # the context (e.g. one z scored under many examples' posteriors).
        a, b, _ = self._scale_shift(torch.zeros_like(y), context)
        shape = torch.broadcast_shapes(y.shape, a.shape)
        y = y.expand(shape)
        z = y.new_zeros(shape)
        eye = torch.eye(y.shape[-1], dtype=torch.bool, device=y.device)
        for pos, i in enumerate(self.made.order.argsort().tolist()):
            if pos:
                a, b, _ = self._scale_shift(z, context)
            z = torch.where(eye[i], (y - b) / a, z)
        return z


class PlanarFlow(Flow):
    """``f(z) = z + u_hat * tanh(w.z + b)`` (Rezende & Mohamed 2015, eq. 10).

    ``u_hat = u + (softplus(w.u) - 1 - w.u) w / |w|^2`` guarantees ``w.u_hat >= -1``, hence
    invertibility (their appendix A.1). With ``context_dim > 0`` the parameters are amortised:
    a linear map of the context gives ``u, w, b`` per example.
    """

    def __init__(self, dim: int, context_dim: int = 0):
        super().__init__()
        self.dim = dim
        n = 2 * dim + 1
        self.params = nn.Linear(context_dim, n) if context_dim > 0 else None
        self.theta = nn.Parameter(torch.randn(n) * 0.01) if context_dim == 0 else None

    def _uwb(self, z: Tensor, context: Optional[Tensor]):
        p = self.theta.expand(*z.shape[:-1], -1) if self.params is None else self.params(context).expand(
            *z.shape[:-1], -1)
        u, w, b = p[..., :self.dim], p[..., self.dim:2 * self.dim], p[..., -1]
        wu = (w * u).sum(-1, keepdim=True)
        u_hat = u + (F.softplus(wu) - 1 - wu) * w / (w.pow(2).sum(-1, keepdim=True) + 1e-8)
        return u_hat, w, b

    def forward(self, z: Tensor, context: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        u, w, b = self._uwb(z, context)
        lin = (w * z).sum(-1) + b
        t = torch.tanh(lin)
        psi = (1 - t.pow(2))[..., None] * w
        log_det = torch.log((1 + (psi * u).sum(-1)).abs() + 1e-8)
        return z + u * t[..., None], log_det


class RadialFlow(Flow):
    """``f(z) = z + beta_hat h(alpha, r) (z - z0)``, ``h = 1/(alpha + r)``, ``r = |z - z0|``
    (Rezende & Mohamed 2015, eq. 14); ``alpha = softplus(.)`` and
    ``beta_hat = -alpha + softplus(beta)`` keep it invertible (appendix A.2).
    """

    def __init__(self, dim: int, context_dim: int = 0):
        super().__init__()
        self.dim = dim
        n = dim + 2
        self.params = nn.Linear(context_dim, n) if context_dim > 0 else None
        self.theta = nn.Parameter(torch.randn(n) * 0.01) if context_dim == 0 else None

    def forward(self, z: Tensor, context: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        p = self.theta.expand(*z.shape[:-1], -1) if self.params is None else self.params(context).expand(
            *z.shape[:-1], -1)
        z0, alpha, beta = p[..., :self.dim], F.softplus(p[..., self.dim]), p[..., self.dim + 1]
        beta = -alpha + F.softplus(beta)
        diff = z - z0
        r = diff.norm(dim=-1)
        h = 1.0 / (alpha + r)
        bh = beta * h
        # det = (1 + beta h)^(D-1) (1 + beta h + beta h'(r) r), h'(r) = -1/(alpha + r)^2
        log_det = (self.dim - 1) * torch.log1p(bh) + torch.log1p(bh - beta * h.pow(2) * r)
        return z + bh[..., None] * diff, log_det


FLOWS: Registry[nn.ModuleList] = Registry("flow")


@FLOWS.register("iaf")
def _iaf(dim: int, n_flows: int, hidden_dims: Sequence[int], context_dim: int) -> nn.ModuleList:
    return nn.ModuleList(AutoregressiveAffine(dim, hidden_dims, context_dim, reverse=bool(t % 2), gated=True)
                         for t in range(n_flows))


@FLOWS.register("planar")
def _planar(dim: int, n_flows: int, hidden_dims: Sequence[int], context_dim: int) -> nn.ModuleList:
    return nn.ModuleList(PlanarFlow(dim, context_dim) for _ in range(n_flows))


@FLOWS.register("radial")
def _radial(dim: int, n_flows: int, hidden_dims: Sequence[int], context_dim: int) -> nn.ModuleList:
    return nn.ModuleList(RadialFlow(dim, context_dim) for _ in range(n_flows))


def build_flows(kind: str, dim: int, n_flows: int, hidden_dims: Sequence[int], context_dim: int,
                where: str = "flows") -> nn.ModuleList:
    """A stack of ``n_flows`` flows of one registered ``kind`` (:data:`FLOWS`: ``iaf``,
    ``planar``, ``radial``); ``hidden_dims`` is for the MADE steps of ``iaf``."""
    builder = FLOWS.get(kind, f"{where}.flow")
    if n_flows < 1:
        raise ConfigError(f"{where}.n_flows: must be >= 1; got {n_flows!r}.")
    return builder(dim, n_flows, hidden_dims, context_dim)


def apply_flows(flows: nn.ModuleList, z: Tensor, context: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
    """Push ``z`` through ``flows``; returns ``z_T`` and ``sum_t log_det_t`` ``(...,)``."""
    total = z.new_zeros(z.shape[:-1])
    for f in flows:
        z, ld = f(z, context)
        total = total + ld
    return z, total


def invert_flows(flows: nn.ModuleList, y: Tensor, context: Optional[Tensor] = None) -> Tensor:
    """Inverse of :func:`apply_flows` (raises ``NotImplementedError`` for planar/radial)."""
    for f in reversed(flows):
        y = f.inverse(y, context)
    return y


class FlowTransform(Transform):
    """A stack of flows as a :class:`torch.distributions.transforms.Transform` (as Pyro's flows
    are), so a flow posterior or prior is a ``TransformedDistribution`` (Rezende & Mohamed 2015).

    ``x (..., B, D) -> y``, ``event_dim`` 1. The forward pass computes ``y`` and
    ``log |det dy/dx|`` together (:func:`apply_flows`); the log-determinant of the pair last
    computed is kept, so ``TransformedDistribution.log_prob`` right after a forward pass (a
    sample's density, or an AF prior's ``z -> eps`` map) costs no second pass. The inverse is
    :func:`invert_flows` (IAF / MAF only; planar and radial raise ``NotImplementedError``).

    Parameters
    ----------
    flows : nn.ModuleList
        :class:`Flow` modules, applied in order.
    context : Tensor, optional
        ``(B, C)`` per-example context (amortised flows), or ``None``.
    """

    domain = constraints.independent(constraints.real, 1)
    codomain = constraints.independent(constraints.real, 1)
    bijective = True

    def __init__(self, flows: nn.ModuleList, context: Optional[Tensor] = None):
        super().__init__(cache_size=0)
        self.flows, self.context = flows, context
        self._last: Optional[Tuple[Tensor, Tensor, Tensor]] = None

    def _call(self, x: Tensor) -> Tensor:
        y, log_det = apply_flows(self.flows, x, self.context)
        self._last = (x, y, log_det)
        return y

    def _inverse(self, y: Tensor) -> Tensor:
        return invert_flows(self.flows, y, self.context)

    def log_abs_det_jacobian(self, x: Tensor, y: Tensor) -> Tensor:
        last = self._last
        if last is not None and last[0] is x and last[1] is y:
            return last[2]
        return apply_flows(self.flows, x, self.context)[1]

    def cat(self, others: Sequence["FlowTransform"], limit: int) -> "FlowTransform":
        """This stack with the contexts of ``self`` and ``others`` concatenated (first
        ``limit`` rows): the transform of the examples of several batches together."""
        ctx = None if self.context is None else torch.cat([self.context] + [o.context for o in others])[:limit]
        return FlowTransform(self.flows, ctx)
