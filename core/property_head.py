"""A property-prediction head on the latent, trained jointly with the VAE.

Gomez-Bombarelli et al. 2018 ("Automatic chemical design using a data-driven continuous
representation of molecules", sec. 2) train a small MLP that predicts properties from ``z``
together with the autoencoder; the latent space then orders molecules by the property, and
gradient ascent on the head's prediction moves ``z`` towards better molecules. Nothing here
is chemical: any domain whose ``Batch.y`` carries float targets ``(B, y_dim)`` can use it.
It is the ``property`` entry of ``model.terms`` (:mod:`vaekit.core.terms`); its loss is
``property_loss`` in ``VAEOutput.extra``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence, Tuple

import torch
from torch import Tensor

from .errors import ConfigError, DataValidationError
from .nn import MLP
from .terms import TERMS, Term, TermParts


@dataclass(frozen=True)
class PropertyHeadConfig:
    """Params of the ``property`` term: predict ``Batch.y`` from ``z``.

    Attributes
    ----------
    hidden_dims : list of int
    weight : float
        Weight of the squared error in the loss (nats per example are summed with it).
    activation : str
    dropout : float
    """

    hidden_dims: Tuple[int, ...] = (64, 64)
    weight: float = 1.0
    activation: str = "relu"
    dropout: float = 0.0

    def validate(self, path: str = "model.terms[i].params") -> None:
        if self.weight < 0:
            raise ConfigError(f"{path}.weight: must be >= 0; got {self.weight!r}.")
        if any(h <= 0 for h in self.hidden_dims):
            raise ConfigError(f"{path}.hidden_dims: widths must be positive; got {list(self.hidden_dims)}.")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"{path}.dropout: must be in [0, 1); got {self.dropout!r}.")


@TERMS.register("property")
class PropertyHead(Term):
    """MLP ``z (..., D) -> properties (..., P)``.

    Parameters
    ----------
    latent_dim : int
    n_targets : int
    hidden_dims : sequence of int
    weight : float
    activation : str
    dropout : float
    """

    Config = PropertyHeadConfig

    def __init__(self, latent_dim: int, n_targets: int, hidden_dims: Sequence[int] = (64, 64), weight: float = 1.0,
                 activation: str = "relu", dropout: float = 0.0):
        super().__init__()
        if n_targets <= 0:
            raise ConfigError("model.terms: the property term needs float property targets; the data has none "
                              "(DataInfo.y_dim = 0). Configure properties in the data section, or remove the "
                              "property term.")
        self.n_targets, self.weight = int(n_targets), float(weight)
        self.net = MLP(latent_dim, list(hidden_dims), n_targets, activation=activation, dropout=dropout)

    @classmethod
    def build(cls, cfg: PropertyHeadConfig, parts: TermParts, where: str) -> "PropertyHead":
        return cls(parts.head.z_dim, parts.info.y_dim, cfg.hidden_dims, cfg.weight, cfg.activation, cfg.dropout)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)

    def terms(self, vae, batch, out) -> dict:
        """``property_loss`` ``(B,)`` where the batch has targets (none without)."""
        return {} if batch.y is None else {"property_loss": self.loss(out.z, batch.y)}

    def loss(self, z: Tensor, y: Tensor) -> Tensor:
        """Weighted squared error per example, ``(B,)``; NaN targets (unknown) are ignored.

        ``z`` is ``(B, D)`` or ``(S, B, D)`` (the error is averaged over the ``S`` samples).
        """
        if y.dim() != 2 or y.shape[-1] != self.n_targets or not y.is_floating_point():
            raise DataValidationError(f"Batch.y: the property head needs float targets (B, {self.n_targets}); "
                                      f"got {tuple(y.shape)} {y.dtype}.")
        pred = self(z).float()
        known = ~torch.isnan(y)
        err = torch.where(known, pred - torch.nan_to_num(y.float()), torch.zeros_like(pred)).pow(2).sum(-1)
        if z.dim() == 3:  # (S, B) -> (B,)
            err = err.mean(0)
        return self.weight * err


__all__ = ["PropertyHead", "PropertyHeadConfig"]
