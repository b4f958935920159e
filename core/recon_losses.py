"""Neural reconstruction losses beside the pointwise likelihood: perceptual and adversarial.

The pointwise ``recon_nll`` scores every pixel (feature, ...) independently. Two terms that
score a reconstruction as a whole can be added (Strano et al. 2026, "How Neural Losses Shape
VAE Latents", study what they do to the latent; ``vaekit study losses`` measures it):

* ``perceptual``: feature matching ``|phi(x_hat) - phi(x)|^2`` through a frozen feature network
  ``phi`` (Dosovitskiy & Brox 2016; Larsen et al. 2016), with ``x_hat`` the decoder's mean.
  Pretrained ImageNet networks are out of reach offline, so vaekit trains ``phi`` itself on
  the training split before the VAE (:meth:`PerceptualTerm.fit_features`, run by the term's
  ``prepare``): a classifier of the data's labels, or, without labels, the encoder of an
  autoencoder. A domain can supply its own network instead (``features`` in
  ``Domain.term_resources("perceptual", info)``).
* ``adv_disc`` / ``adv_gen``: a discriminator ``D`` trained alongside to tell data from
  reconstructions (hinge loss, Lim & Ye 2017 / Miyato et al. 2018, or the non-saturating loss of
  Goodfellow et al. 2014), and the generator term that rewards reconstructions ``D`` takes for
  data. ``D`` learns from ``x_hat`` detached; ``adv_gen`` reaches ``D`` through detached
  parameters only, so one optimizer trains both sides without either helping the other cheat.

They are the ``perceptual`` and ``adversarial`` entries of ``model.terms``
(:mod:`vaekit.core.terms`). Each term is ``(B,)`` in ``VAEOutput.extra``; ``objective.weights``
weighs them (e.g. ``{perceptual: 1.0, adv_gen: 0.05}``). They need continuous inputs (vectors or
images).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Literal, Mapping, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import ComponentConfig
from .encoders import ENCODERS
from .errors import ConfigError, DataValidationError
from .nn import MLP, frozen_call
from .terms import ENCODER_WIRED, TERMS, Term, TermParts


@dataclass(frozen=True)
class PerceptualConfig:
    """Params of the ``perceptual`` term.

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

    def validate(self, path: str = "model.terms[i].params") -> None:
        if self.train not in ("classifier", "autoencoder"):
            raise ConfigError(f"{path}.train: classifier or autoencoder; got {self.train!r}.")
        if self.steps < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ConfigError(f"{path}: steps, batch_size and lr must be positive; got steps={self.steps}, "
                              f"batch_size={self.batch_size}, lr={self.lr}.")
        _check_encoder(self.features, f"{path}.features")


@dataclass(frozen=True)
class AdversarialConfig:
    """Params of the ``adversarial`` term.

    Attributes
    ----------
    discriminator : ComponentConfig, optional
        Encoder kind and params of the discriminator's feature extractor (a linear layer to one
        logit follows). Default: ``conv`` for images, ``mlp`` for vectors.
    loss : {"hinge", "non_saturating"}
    """

    discriminator: Optional[ComponentConfig] = None
    loss: Literal["hinge", "non_saturating"] = "hinge"

    def validate(self, path: str = "model.terms[i].params") -> None:
        if self.loss not in ("hinge", "non_saturating"):
            raise ConfigError(f"{path}.loss: hinge or non_saturating; got {self.loss!r}.")
        _check_encoder(self.discriminator, f"{path}.discriminator")


def _check_encoder(comp: Optional[ComponentConfig], where: str) -> None:
    if comp is not None:
        ENCODERS.check(comp.kind, comp.params, where=where, wired=ENCODER_WIRED)


class _ContinuousTerm(Term):
    """A term that compares whole reconstructions: continuous data only; its network is an
    encoder (``conv`` for images, ``mlp`` for vectors unless configured)."""

    @classmethod
    def check(cls, cfg, info, model_cfg, where: str) -> None:
        if info.kind == "sequence":
            raise ConfigError(f"{where}: perceptual and adversarial terms compare continuous reconstructions "
                              f"(vectors or images); got token sequences. Remove this term.")

    @staticmethod
    def _network(comp: Optional[ComponentConfig], info, where: str) -> nn.Module:
        comp = comp or ComponentConfig("conv" if info.kind == "image" else "mlp")
        return ENCODERS.build(comp.kind, comp.params, where=where,
                              wired=dict(in_dim=info.x_dim, in_shape=info.shape, cond_dim=0))


@TERMS.register("perceptual")
class PerceptualTerm(_ContinuousTerm):
    """Feature matching through a frozen feature network, ``perceptual`` ``(B,)``.

    Parameters
    ----------
    cfg : PerceptualConfig
    features : Encoder
        The feature network (trained by :meth:`fit_features` unless supplied trained,
        ``features_trained=True``).
    features_trained : bool
    """

    Config = PerceptualConfig

    def __init__(self, cfg: PerceptualConfig, features: nn.Module, features_trained: bool = False):
        super().__init__()
        self.cfg = cfg
        self.features = features
        # In the state dict, so a resumed run neither retrains nor loses the trained network.
        self.register_buffer("features_trained", torch.tensor(bool(features_trained)))
        if features_trained:
            features.requires_grad_(False)

    @classmethod
    def build(cls, cfg: PerceptualConfig, parts: TermParts, where: str) -> "PerceptualTerm":
        return cls(cfg, cls._network(cfg.features, parts.info, f"{where}.params.features"))

    @property
    def needs_fitting(self) -> bool:
        return not bool(self.features_trained)

    def terms(self, vae, batch, out) -> Dict[str, Tensor]:
        """``perceptual``: ``|phi(x_hat) - phi(x)|^2`` per example ``(B,)``."""
        if self.needs_fitting:
            raise ConfigError("model.terms: the perceptual feature network is untrained; train the run with "
                              "`vaekit train` (it fits the features first) or call fit_features(data).")
        x = batch.x
        x_hat = reconstruction_mean(vae.decoder, out.px, x)
        with torch.no_grad():
            f_real = self.features(x, None, None).float()
        f_fake = frozen_call(self.features, x_hat, None, None).float()
        if self.cfg.normalize:
            f_real, f_fake = F.normalize(f_real, dim=-1), F.normalize(f_fake, dim=-1)
        return {"perceptual": (f_fake - f_real).pow(2).sum(-1)}

    def prepare(self, data, resources: Mapping[str, Any], *, resumed: bool, device="cpu", seed: int = 0,
                log: Optional[Callable[[str], None]] = None) -> None:
        """Install the domain's own trained network (``resources["features"]``), or, on a fresh
        run, train one on ``data.train`` (a resumed run restores it from its checkpoint). Every
        rank trains the same network from the same seed; DDP then broadcasts rank 0's copy."""
        if not self.needs_fitting:
            return
        own = resources.get("features")
        if own is not None:
            self.features = own.to(device)
            self.features.requires_grad_(False)
            self.features_trained.fill_(True)
            if log is not None:
                log(f"vaekit: perceptual features from the domain's own network ({type(own).__name__})")
            return
        if resumed:
            # The checkpoint holds the trained features. Freeze them now, before the trainer
            # builds its optimizer, so its parameter groups match the ones the checkpoint saved.
            self.features.requires_grad_(False)
            return
        y = getattr(data.train, "y", None)
        n_classes = int(y.max()) + 1 if y is not None and y.dim() == 1 and not y.is_floating_point() else 0
        bs = self.cfg.batch_size

        def batches():
            g = torch.Generator().manual_seed(seed)
            n = len(data.train)
            while True:
                for idx in torch.randperm(n, generator=g).split(bs):
                    yield data.collate([data.train[int(i)] for i in idx])

        self.fit_features(batches, n_classes, data.info.x_dim, device=device, seed=seed, log=log)

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
        p = self.cfg
        net = self.features
        if p.train == "classifier" and n_classes < 2:
            raise ConfigError("model.terms: perceptual params.train 'classifier' needs class labels y in the "
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
                    raise DataValidationError("model.terms: perceptual: a training batch has no labels y; "
                                              "set params.train: autoencoder.")
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
        if bool(self.features_trained):
            self.features.eval()  # a frozen network keeps its dropout/batch-norm behaviour fixed
        return self


@TERMS.register("adversarial")
class AdversarialTerm(_ContinuousTerm):
    """A discriminator trained alongside the VAE and its generator term: ``adv_disc``,
    ``adv_gen`` ``(B,)``.

    Parameters
    ----------
    cfg : AdversarialConfig
    discriminator : Encoder
        Feature extractor; a linear ``critic`` to one logit follows.
    """

    Config = AdversarialConfig

    def __init__(self, cfg: AdversarialConfig, discriminator: nn.Module):
        super().__init__()
        self.cfg = cfg
        self.discriminator = discriminator
        self.critic = nn.Linear(discriminator.out_dim, 1)

    @classmethod
    def build(cls, cfg: AdversarialConfig, parts: TermParts, where: str) -> "AdversarialTerm":
        return cls(cfg, cls._network(cfg.discriminator, parts.info, f"{where}.params.discriminator"))

    def _critic(self, x: Tensor, frozen: bool = False) -> Tensor:
        if frozen:
            return frozen_call(self.critic, frozen_call(self.discriminator, x, None, None))[:, 0]
        return self.critic(self.discriminator(x, None, None))[:, 0]

    def terms(self, vae, batch, out) -> Dict[str, Tensor]:
        """``adv_disc`` (the discriminator's loss on data vs detached reconstructions) and
        ``adv_gen`` (the generator's, through the discriminator's detached parameters)."""
        x = batch.x
        x_hat = reconstruction_mean(vae.decoder, out.px, x)
        d_real = self._critic(x).float()
        d_fake = self._critic(x_hat.detach()).float()
        g_fake = self._critic(x_hat, frozen=True).float()
        if self.cfg.loss == "hinge":
            return {"adv_disc": F.relu(1 - d_real) + F.relu(1 + d_fake), "adv_gen": -g_fake}
        return {"adv_disc": F.softplus(-d_real) + F.softplus(d_fake), "adv_gen": F.softplus(-g_fake)}


def reconstruction_mean(decoder, px, x: Tensor) -> Tensor:
    """The decoder's mean reconstruction, shaped like ``x`` (the first ``B`` rows when ``px``
    covers several samples)."""
    mean = decoder.likelihood.mean(px)
    b = x.shape[0]
    return mean[:b].reshape(x.shape).to(x.dtype) if mean.dim() else mean


__all__ = ["PerceptualConfig", "AdversarialConfig", "PerceptualTerm", "AdversarialTerm", "reconstruction_mean"]
