"""Neural reconstruction losses beside the pointwise likelihood: perceptual and adversarial.

The pointwise ``recon_nll`` scores every pixel (feature, ...) independently. Two terms that
score a reconstruction as a whole can be added (Strano et al. 2026, "How Neural Losses Shape
VAE Latents", study what they do to the latent; ``vaekit study losses`` measures it):

* ``perceptual``: feature matching ``|phi(x_hat) - phi(x)|^2`` through a frozen feature network
  ``phi`` (Dosovitskiy & Brox 2016; Larsen et al. 2016), with ``x_hat`` the decoder's mean.
  Pretrained ImageNet networks are out of reach offline, so vaekit trains ``phi`` itself on
  the training split before the VAE (:meth:`ReconstructionLosses.fit_features`): a classifier
  of the data's labels, or, without labels, the encoder of an autoencoder. A domain can
  supply its own network instead (``Domain.feature_network``).
* ``adv_disc`` / ``adv_gen``: a discriminator ``D`` trained alongside to tell data from
  reconstructions (hinge loss, Lim & Ye 2017 / Miyato et al. 2018, or the non-saturating loss of
  Goodfellow et al. 2014), and the generator term that rewards reconstructions ``D`` takes for
  data. ``D`` learns from ``x_hat`` detached; ``adv_gen`` reaches ``D`` through detached
  parameters only, so one optimizer trains both sides without either helping the other cheat.

Each term is ``(B,)`` in ``VAEOutput.extra``; ``objective.weights`` weighs them (e.g.
``{perceptual: 1.0, adv_gen: 0.05}``). They need continuous inputs (vectors or images).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Literal, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import ComponentConfig
from .errors import ConfigError, DataValidationError
from .nn import MLP, frozen_call


@dataclass(frozen=True)
class PerceptualConfig:
    """``model.recon_losses.perceptual``.

    Attributes
    ----------
    features : ComponentConfig, optional
        The feature network: an encoder kind and its params; its output features are
        compared. Default: ``conv`` for images, ``mlp`` for vectors.
    train : {"classifier", "autoencoder"}
        How vaekit trains it before the VAE: to classify the data's labels ``y``, or as the
        encoder of an autoencoder (no labels needed).
    steps, batch_size : int
        Training of the feature network.
    lr : float
    normalize : bool
        Compare unit-normalised feature vectors (so the term's scale does not depend on the
        feature network's).
    """

    features: Optional[ComponentConfig] = None
    train: Literal["classifier", "autoencoder"] = "classifier"
    steps: int = 2000
    batch_size: int = 128
    lr: float = 1e-3
    normalize: bool = True


@dataclass(frozen=True)
class AdversarialConfig:
    """``model.recon_losses.adversarial``.

    Attributes
    ----------
    discriminator : ComponentConfig, optional
        Encoder kind and params of the discriminator's feature extractor (a linear layer to one
        logit follows). Default: ``conv`` for images, ``mlp`` for vectors.
    loss : {"hinge", "non_saturating"}
    """

    discriminator: Optional[ComponentConfig] = None
    loss: Literal["hinge", "non_saturating"] = "hinge"


@dataclass(frozen=True)
class ReconLossConfig:
    """``model.recon_losses``: neural reconstruction terms beside the likelihood."""

    perceptual: Optional[PerceptualConfig] = None
    adversarial: Optional[AdversarialConfig] = None

    def validate(self, path: str = "model.recon_losses") -> None:
        if self.perceptual is None and self.adversarial is None:
            raise ConfigError(f"{path}: set perceptual and/or adversarial; got neither. Remove {path} for the "
                              f"likelihood alone.")
        p = self.perceptual
        if p is not None:
            if p.train not in ("classifier", "autoencoder"):
                raise ConfigError(f"{path}.perceptual.train: classifier or autoencoder; got {p.train!r}.")
            if p.steps < 1 or p.batch_size < 1 or p.lr <= 0:
                raise ConfigError(f"{path}.perceptual: steps, batch_size and lr must be positive; got steps={p.steps}, "
                                  f"batch_size={p.batch_size}, lr={p.lr}.")
        if self.adversarial is not None and self.adversarial.loss not in ("hinge", "non_saturating"):
            raise ConfigError(f"{path}.adversarial.loss: hinge or non_saturating; got {self.adversarial.loss!r}.")


class ReconstructionLosses(nn.Module):
    """The feature network and discriminator of :class:`ReconLossConfig`, and their terms.

    Parameters
    ----------
    cfg : ReconLossConfig
    features : Encoder, optional
        The perceptual feature network (trained by :meth:`fit_features` unless supplied
        trained, ``features_trained=True``).
    discriminator : Encoder, optional
    features_trained : bool
    """

    def __init__(self, cfg: ReconLossConfig, features: Optional[nn.Module] = None,
                 discriminator: Optional[nn.Module] = None, features_trained: bool = False):
        super().__init__()
        self.cfg = cfg
        self.features = features
        self.discriminator = discriminator
        self.critic = nn.Linear(discriminator.out_dim, 1) if discriminator is not None else None
        # In the state dict, so a resumed run neither retrains nor loses the trained network.
        self.register_buffer("features_trained", torch.tensor(bool(features_trained)))
        if features is not None and features_trained:
            features.requires_grad_(False)

    @property
    def needs_fitting(self) -> bool:
        return self.features is not None and not bool(self.features_trained)

    def _critic(self, x: Tensor, frozen: bool = False) -> Tensor:
        if frozen:
            return frozen_call(self.critic, frozen_call(self.discriminator, x, None, None))[:, 0]
        return self.critic(self.discriminator(x, None, None))[:, 0]

    def terms(self, x: Tensor, x_hat: Tensor) -> Dict[str, Tensor]:
        """The terms for data ``x`` and reconstructions ``x_hat`` (same shape), each ``(B,)``."""
        out: Dict[str, Tensor] = {}
        if self.features is not None:
            if self.needs_fitting:
                raise ConfigError("model.recon_losses.perceptual: the feature network is untrained; train the run "
                                  "with `vaekit train` (it fits the features first) or call fit_features(data).")
            with torch.no_grad():
                f_real = self.features(x, None, None).float()
            f_fake = frozen_call(self.features, x_hat, None, None).float()
            if self.cfg.perceptual.normalize:
                f_real, f_fake = F.normalize(f_real, dim=-1), F.normalize(f_fake, dim=-1)
            out["perceptual"] = (f_fake - f_real).pow(2).sum(-1)
        if self.discriminator is not None:
            d_real = self._critic(x).float()
            d_fake = self._critic(x_hat.detach()).float()
            g_fake = self._critic(x_hat, frozen=True).float()
            if self.cfg.adversarial.loss == "hinge":
                out["adv_disc"] = F.relu(1 - d_real) + F.relu(1 + d_fake)
                out["adv_gen"] = -g_fake
            else:
                out["adv_disc"] = F.softplus(-d_real) + F.softplus(d_fake)
                out["adv_gen"] = F.softplus(-g_fake)
        return out

    def fit_features(self, batches: Callable[[], Any], n_classes: int, x_dim: int, *, device="cpu", seed: int = 0,
                     log: Optional[Callable[[str], None]] = None) -> Dict[str, float]:
        """Train the perceptual feature network, then freeze it.

        Parameters
        ----------
        batches : callable
            Returns an endless iterator of training :class:`~vaekit.core.types.Batch` es.
        n_classes : int
            Classes of ``Batch.y`` (classifier training; 0 when there are no labels).
        x_dim : int
            Data width (the autoencoder's output).

        Returns
        -------
        dict
            ``{"feature_loss": final loss, "feature_acc": training accuracy (classifier)}``.
        """
        p = self.cfg.perceptual
        net = self.features
        if p.train == "classifier" and n_classes < 2:
            raise ConfigError("model.recon_losses.perceptual.train: 'classifier' needs class labels y in the "
                              f"training data; got n_classes={n_classes}. Set train: autoencoder.")
        torch.manual_seed(seed)
        head = (nn.Linear(net.out_dim, n_classes) if p.train == "classifier"
                else MLP(net.out_dim, [256], out_dim=x_dim, activation="relu")).to(device)
        opt = torch.optim.Adam(list(net.parameters()) + list(head.parameters()), lr=p.lr)
        it = batches()
        loss_ema, correct, seen = None, 0, 0
        net.train()
        for step in range(p.steps):
            b = next(it).to(device)
            h = head(net(b.x, None, None))
            if p.train == "classifier":
                if b.y is None:
                    raise DataValidationError("model.recon_losses.perceptual: a training batch has no labels y; "
                                              "set train: autoencoder.")
                y = b.y.long().reshape(-1)
                loss = F.cross_entropy(h.float(), y)
                if step >= p.steps - 50:
                    correct += int((h.argmax(-1) == y).sum())
                    seen += len(y)
            else:
                # Denoising (Vincent et al. 2008) would need a noise model per data type; a
                # plain autoencoder through the feature bottleneck suffices for features.
                loss = F.mse_loss(h.float(), b.x.reshape(len(b), -1).float())
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_ema = loss.item() if loss_ema is None else 0.98 * loss_ema + 0.02 * loss.item()
        net.requires_grad_(False)
        net.eval()
        self.features_trained.fill_(True)
        res = {"feature_loss": loss_ema}
        if seen:
            res["feature_acc"] = correct / seen
        if log is not None:
            log(f"vaekit: trained the perceptual feature network ({p.train}, {p.steps} steps): "
                + ", ".join(f"{k} {v:.4f}" for k, v in res.items()))
        return res

    def train(self, mode: bool = True):
        super().train(mode)
        if self.features is not None and bool(self.features_trained):
            self.features.eval()  # a frozen network keeps its dropout/batch-norm behaviour fixed
        return self


def reconstruction_mean(decoder, px, x: Tensor) -> Tensor:
    """The decoder's mean reconstruction, shaped like ``x`` (the first ``B`` rows when ``px``
    covers several samples)."""
    mean = decoder.likelihood.mean(px)
    b = x.shape[0]
    return mean[:b].reshape(x.shape).to(x.dtype) if mean.dim() else mean


__all__ = ["PerceptualConfig", "AdversarialConfig", "ReconLossConfig", "ReconstructionLosses",
           "reconstruction_mean"]
