"""Typed containers passed between vaekit components, and the shape convention.

Shape convention (one rule for every component, tested in tests/core/test_vae.py, test_heads.py and test_objectives.py):

* Batch first. Per-example quantities are ``(B,)``.
* Importance / Monte-Carlo samples add a *leading* ``S``: ``z`` is ``(B, D)`` for a single
  sample and ``(S, B, D)`` for ``S > 1``; ``recon_nll`` likewise ``(B,)`` or ``(S, B)``.
* Posteriors and priors carry no ``Independent`` wrapper: Gaussian latents have
  ``batch_shape == (B, D)``; categorical latents ``batch_shape == (B, G)`` with
  ``event_shape == ()`` over ``C`` categories (relaxed samples are ``(B, G, C)``, flattened
  to ``(B, G*C)`` for the decoder). A flow (posterior or prior) is a joint density over the
  units: a ``TransformedDistribution`` with ``batch_shape == (B,)``, ``event_shape == (D,)``.
  :func:`vaekit.core.distributions.log_prob_per_example` gives ``(..., B)`` for all three.
* KL is returned per latent unit, ``(B, D)`` or ``(B, G)``; only the objective reduces it
  (free bits needs the per-unit values). A Monte-Carlo KL (no closed form) is ``(B, 1)``.
* ``recon_nll`` is summed over data dimensions (masked for sequences), in nats.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable, Dict, Optional

import torch
from torch import Tensor
from torch.distributions import Distribution


@dataclass
class Batch:
    """One minibatch.

    Attributes
    ----------
    x : Tensor
        Data, ``(B, ...)``: float ``(B, F)`` vectors, float ``(B, C, H, W)`` images or
        long ``(B, T)`` token ids (with ``pad_id`` after the end).
    cond : Tensor, optional
        Condition for a cVAE: float ``(B, cond_dim)`` or long ``(B,)`` class ids.
    mask : Tensor, optional
        Bool ``(B, T)``, True on real tokens (sequences only).
    y : Tensor, optional
        Labels or properties kept for evaluation and plots. Never fed to the encoder or
        decoder; a ``property`` term (:mod:`vaekit.core.property_head`) learns to predict float
        ``y`` ``(B, y_dim)`` from ``z``.
    index : Tensor, optional
        Long ``(B,)`` positions of the examples in their split.
    inputs : object, optional
        What the encoder reads when it is not ``x`` (e.g. a PyTorch Geometric ``Batch`` of
        ``B`` molecular graphs for a graph encoder, while the decoder reconstructs the SMILES
        tokens in ``x``). Anything with ``.to(device)``; sliced with ``inputs[sl]`` (a list
        of items is re-batched with ``type(inputs).from_data_list``).
    """

    x: Tensor
    cond: Optional[Tensor] = None
    mask: Optional[Tensor] = None
    y: Optional[Tensor] = None
    index: Optional[Tensor] = None
    inputs: Any = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def encoder_input(self) -> Any:
        """``inputs`` when set, else ``x``: what the model's encoder reads."""
        return self.x if self.inputs is None else self.inputs

    def to(self, device: torch.device | str, non_blocking: bool = False) -> "Batch":
        """Return a copy with every tensor (and ``inputs``) moved to ``device``."""
        return Batch(**{f.name: (v.to(device, non_blocking=non_blocking) if hasattr(v, "to") else v)
                        for f in fields(self) for v in [getattr(self, f.name)]})

    def pin_memory(self) -> "Batch":
        """Page-locked copy (called by ``DataLoader(pin_memory=True)`` for fast GPU transfer)."""
        return Batch(**{f.name: (v.pin_memory() if hasattr(v, "pin_memory") else v)
                        for f in fields(self) for v in [getattr(self, f.name)]})

    def slice(self, sl: slice) -> "Batch":
        """Rows ``sl`` of every field (used to split a batch into micro-batches)."""
        return Batch(**{f.name: _rows(getattr(self, f.name), sl) for f in fields(self)})


def _rows(v: Any, sl: slice) -> Any:
    if v is None or isinstance(v, Tensor):
        return None if v is None else v[sl]
    part = v[sl]
    # A PyG Batch sliced gives a list of graphs: batch them again.
    if isinstance(part, list) and hasattr(type(v), "from_data_list"):
        return type(v).from_data_list(part)
    return part


@dataclass
class DataInfo:
    """What a model needs to know about the data to wire its dimensions.

    Attributes
    ----------
    kind : str
        ``"vector"``, ``"image"`` or ``"sequence"``.
    shape : tuple of int
        Per-example shape of ``x``: ``(F,)``, ``(C, H, W)`` or ``(T,)`` (max length).
    vocab_size : int, optional
        Token vocabulary size (sequences).
    pad_id, bos_id, eos_id, unk_id : int, optional
        Special token ids (sequences).
    cond_dim : int
        Width of a float condition, or 0 for none.
    y_dim : int
        Width of float property targets in ``Batch.y`` (for a property head), or 0 when ``y``
        holds class labels or nothing.
    n_cond_classes : int
        Number of classes of a categorical condition (``cond`` is long ``(B,)``), or 0.
    likelihood : str
        The default likelihood kind for this data (e.g. ``"bernoulli"``).
    n_train : int
        Number of training examples.
    extra : dict
        Domain-specific information (vocabulary, column names, scaler...). Must be
        JSON/YAML-serialisable: it is written to the run directory.
    """

    kind: str
    shape: tuple
    vocab_size: Optional[int] = None
    pad_id: Optional[int] = None
    bos_id: Optional[int] = None
    eos_id: Optional[int] = None
    unk_id: Optional[int] = None
    cond_dim: int = 0
    y_dim: int = 0
    n_cond_classes: int = 0
    likelihood: str = "gaussian"
    n_train: int = 0
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def x_dim(self) -> int:
        """Number of scalar data dimensions per example (product of ``shape``)."""
        n = 1
        for s in self.shape:
            n *= int(s)
        return n

    @property
    def has_cond(self) -> bool:
        return self.cond_dim > 0 or self.n_cond_classes > 0

    def to_dict(self) -> dict:
        return {f.name: (list(v) if isinstance(v, tuple) else v)
                for f in fields(self) for v in [getattr(self, f.name)]}

    @classmethod
    def from_dict(cls, d: dict) -> "DataInfo":
        d = dict(d)
        d["shape"] = tuple(d["shape"])
        return cls(**d)


@dataclass
class DataBundle:
    """Splits, data information and the collate function of one data set.

    ``train``, ``val`` and ``test`` are map-style datasets (``__len__``, ``__getitem__``)
    whose items ``collate`` turns into a :class:`Batch`.
    """

    train: Any
    val: Any
    test: Any
    info: DataInfo
    collate: Callable[[list], Batch]


@dataclass
class LatentSample:
    """What a latent head returns.

    Attributes
    ----------
    z : Tensor
        ``(B, D)`` or ``(S, B, D)``; categorical latents are flattened to ``D = G*C``.
    posterior : Distribution
        ``q(z|x)`` with ``batch_shape (B, D)`` (Gaussian) or ``(B, G)`` (categorical).
    kl : Tensor
        KL per latent unit ``(B, D)`` / ``(B, G)``, or a Monte-Carlo ``(B, 1)``.
    kl_is_analytic : bool
        Whether ``kl`` is a closed form (free bits needs it).
    log_q, log_p : Tensor, optional
        ``log q(z|x)`` and ``log p(z)`` of the samples, ``(B,)`` or ``(S, B)`` (for importance
        weights, e.g. the IWAE objective); ``None`` where the sample has no density (relaxed
        Gumbel-softmax samples).
    """

    z: Tensor
    posterior: Distribution
    kl: Tensor
    kl_is_analytic: bool
    log_q: Optional[Tensor] = None
    log_p: Optional[Tensor] = None


@dataclass
class VAEOutput:
    """Terms of one forward pass; the objective weighs them.

    Attributes
    ----------
    recon_nll : Tensor
        ``(B,)`` or ``(S, B)``: ``-log p(x|z)`` summed over data dimensions, nats.
    kl : Tensor
        ``(B, U)`` per latent unit (see :class:`LatentSample`).
    kl_is_analytic : bool
    z : Tensor
    posterior : Distribution
    px : Distribution
        The decoder's distribution over ``x``.
    n_tokens : Tensor, optional
        ``(B,)`` number of scored tokens (sequences), for per-token reports.
    extra : dict
        Additional auxiliary terms (e.g. a property-head loss), each ``(B,)``.
    log_q, log_p : Tensor, optional
        See :class:`LatentSample`.
    """

    recon_nll: Tensor
    kl: Tensor
    kl_is_analytic: bool
    z: Tensor
    posterior: Distribution
    px: Distribution
    n_tokens: Optional[Tensor] = None
    extra: Dict[str, Tensor] = field(default_factory=dict)
    log_q: Optional[Tensor] = None
    log_p: Optional[Tensor] = None

    def log_weights(self, beta: float = 1.0) -> Tensor:
        """Importance log-weights ``log p(x|z) + beta (log p(z) - log q(z|x))``, ``(S, B)``.

        ``beta = 1`` gives ``log p(x, z) / q(z|x)`` (Burda et al. 2016); ``beta < 1`` is the
        warm-up of the KL part. Raises ``ValueError`` where the head gives no densities.
        """
        if self.log_q is None or self.log_p is None:
            raise ValueError("log_weights: this latent head returns no sample densities (e.g. relaxed "
                             "Gumbel-softmax samples); importance weights need a Gaussian or flow head.")
        lw = -self.recon_nll + beta * (self.log_p - self.log_q)
        return lw if lw.dim() == 2 else lw[None]


@dataclass
class LossOutput:
    """The scalar to minimise and the raw terms to log (floats, nats per example)."""

    loss: Tensor
    terms: Dict[str, float]


__all__ = ["Batch", "DataInfo", "DataBundle", "LatentSample", "VAEOutput", "LossOutput", "replace"]
