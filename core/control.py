"""Attribute control for a class-conditional VAE: make the condition *steer* what is generated.

A cVAE decoder given ``(z, c)`` may ignore ``c`` when ``z`` already says everything about the
example (the attribute is entangled in ``z``). :class:`AttributeController` adds the terms of
Hu et al. 2017, "Toward Controlled Generation of Text" (sec. 3.2), which make changing ``c``
change the attribute of the output while ``z`` keeps the rest:

* ``disc_loss``: an attribute discriminator (any encoder that reads soft tokens, by default
  Kim 2014's CNN, plus a linear layer) learns the attribute from *real* examples;
* ``style_loss``: the decoder generates from ``(z, c')`` with a *different* attribute ``c'``
  by relaxed (Gumbel-softmax, or straight-through) decoding, and the frozen discriminator
  must recognise ``c'`` in it; its gradient flows through the soft tokens into the decoder;
* ``z_recon``: the (frozen) encoder must map the generated output back to ``z`` (the
  independence constraint: ``c'`` may not overwrite the content ``z`` carries);
* optionally ``adv_loss`` + ``adv_entropy``: an adversary predicts the attribute from ``z``
  and the encoder is trained to make its prediction uniform (the entropy objective of John
  et al. 2019, "Disentangled Representation Learning for Non-Parallel Text Style Transfer"),
  which removes the attribute from ``z`` so that the decoder must take it from ``c``.

It is the ``control`` entry of ``model.terms`` (:mod:`vaekit.core.terms`). Every term is
``(B,)`` and goes to ``VAEOutput.extra``; the objective weighs them
(``objective.weights``), the model holds no weights or schedules (DESIGN.md 1.2). "Frozen"
means the term's gradient does not reach that module's parameters
(:func:`torch.func.functional_call` with detached parameters), so the discriminator is
trained on real data only and the generator cannot fool it by changing it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Dict, Literal, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import ComponentConfig
from .decoders import DECODERS
from .encoders import ENCODERS
from .errors import ConfigError
from .nn import MLP, frozen_call as _frozen
from .terms import ENCODER_WIRED, TERMS, Term, TermParts


@dataclass(frozen=True)
class ControlConfig:
    """Params of the ``control`` term: attribute control of a class-conditional VAE (Hu et al. 2017).

    Attributes
    ----------
    discriminator : ComponentConfig
        The attribute discriminator's feature extractor: an encoder kind that reads soft
        tokens (``cnn`` or ``gru``) and its params; a linear layer to the classes follows.
    temperature : float
        Relaxation temperature of the generated tokens.
    hard : bool
        Straight-through one-hot tokens (forward exact, backward soft).
    gumbel : bool
        Gumbel-softmax noise (True) or a tempered softmax of the decoder's logits.
    target : {"other", "random"}
        The attribute ``c'`` generated from: a class different from the input's (transfer),
        or any class.
    z_recon : bool
        Include the independence term ``z_recon``.
    latent_adversary : list of int, optional
        Hidden widths of an adversary predicting the attribute from ``z`` (``[]``: linear);
        ``null``: no adversary.
    detach_z : bool
        Generate from ``z`` detached, so the generation terms (``style_loss``, ``z_recon``)
        train the decoder and the condition embedding but not the encoder, as in Hu et al.
        2017 (their encoder is trained by the VAE loss only); ``false`` lets them reach the
        encoder too.
    """

    discriminator: ComponentConfig = field(default_factory=lambda: ComponentConfig("cnn"))
    temperature: float = 0.5
    hard: bool = False
    gumbel: bool = True
    target: Literal["other", "random"] = "other"
    z_recon: bool = True
    latent_adversary: Optional[Sequence[int]] = None
    detach_z: bool = True

    def validate(self, path: str = "model.terms[i].params") -> None:
        if self.temperature <= 0:
            raise ConfigError(f"{path}.temperature: must be > 0; got {self.temperature!r}. Use e.g. 0.5.")
        if self.target not in ("other", "random"):
            raise ConfigError(f"{path}.target: must be 'other' or 'random'; got {self.target!r}.")
        d = self.discriminator
        ENCODERS.check(d.kind, d.params, where=f"{path}.discriminator", wired=ENCODER_WIRED)


@TERMS.register("control")
class AttributeController(Term):
    """The discriminator (and optional latent adversary) of attribute control.

    Parameters
    ----------
    discriminator : Encoder
        Reads token ids ``(B, T)`` and soft tokens ``(B, T, V)`` (``out_dim`` features).
    n_classes : int
        Attribute classes (the condition's ``n_cond_classes``).
    latent_dim : int
        Width of ``z`` (for the adversary).
    cfg : ControlConfig
    """

    Config = ControlConfig

    def __init__(self, discriminator: nn.Module, n_classes: int, latent_dim: int, cfg: ControlConfig):
        super().__init__()
        if n_classes < 2:
            raise ConfigError(f"model.terms: the control term (attribute control) needs a categorical condition "
                              f"with >= 2 classes; "
                              f"got {n_classes}. Use data with class labels as the condition.")
        self.cfg = cfg
        self.n_classes = int(n_classes)
        self.discriminator = discriminator
        self.classify = nn.Linear(discriminator.out_dim, n_classes)
        self.adversary = None
        if cfg.latent_adversary is not None:
            self.adversary = MLP(latent_dim, list(cfg.latent_adversary), out_dim=n_classes) \
                if cfg.latent_adversary else nn.Linear(latent_dim, n_classes)

    @classmethod
    def check(cls, cfg: ControlConfig, info, model_cfg, where: str) -> None:
        cond = model_cfg.condition
        if not (info.has_cond and cond.use and info.n_cond_classes >= 2):
            raise ConfigError(f"{where}: attribute control needs a class condition (data with >= 2 labels and "
                              f"model.condition.use: true); got n_cond_classes={info.n_cond_classes}, "
                              f"condition.use={cond.use}. Remove this term or use labelled data.")
        dec = model_cfg.decoder.kind
        if not cond.into_decoder or not hasattr(DECODERS.get(dec), "relaxed_generate"):
            raise ConfigError(f"{where}: needs a decoder that takes the condition and decodes relaxed tokens "
                              f"(kind 'gru' or 'lstm' with model.condition.into_decoder: true); got {dec!r}, "
                              f"into_decoder={cond.into_decoder}.")
        if cfg.z_recon and not getattr(ENCODERS.get(model_cfg.encoder.kind), "accepts_soft_tokens", False):
            raise ConfigError(f"{where}.params.z_recon: the encoder must read soft tokens (kind 'gru', 'lstm' or "
                              f"'cnn'); got {model_cfg.encoder.kind!r}. Set z_recon: false or change "
                              f"model.encoder.kind.")
        if not getattr(ENCODERS.get(cfg.discriminator.kind), "accepts_soft_tokens", False):
            raise ConfigError(f"{where}.params.discriminator.kind: the discriminator must read soft tokens ('cnn' "
                              f"or 'gru'); got {cfg.discriminator.kind!r}.")

    @classmethod
    def build(cls, cfg: ControlConfig, parts: TermParts, where: str) -> "AttributeController":
        info, d = parts.info, cfg.discriminator
        disc = ENCODERS.build(d.kind, d.params, where=f"{where}.params.discriminator",
                              wired=dict(in_dim=info.x_dim, in_shape=info.shape, cond_dim=0, **parts.seq))
        return cls(disc, info.n_cond_classes, parts.head.z_dim, cfg)

    def logits(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Attribute logits ``(B, n_classes)`` of token ids or soft tokens ``x``."""
        return self.classify(self.discriminator(x, None, mask))

    def _frozen_logits(self, x: Tensor, mask: Optional[Tensor]) -> Tensor:
        return _frozen(self.classify, _frozen(self.discriminator, x, None, mask))

    def target_classes(self, c: Tensor) -> Tensor:
        """``c'`` per example ``(B,)``: another class (``target: other``) or any class."""
        k = self.n_classes
        if self.cfg.target == "random":
            return torch.randint(0, k, c.shape, device=c.device)
        return (c + torch.randint(1, k, c.shape, device=c.device)) % k

    def terms(self, vae, batch, out) -> Dict[str, Tensor]:
        """The control terms of a batch with class conditions (none without), each ``(B,)`` nats.

        Parameters
        ----------
        vae : VAE
            The model (its condition embedder, decoder, encoder and head are used).
        batch : Batch
            Long token ids ``x (B, T)``, class ids ``cond (B,)``; the mask (or the decoder's
            default) is also the length of the generated sentences (``c'`` keeps the
            source's length, as a transfer does).
        out : VAEOutput
            Its posterior sample ``z`` ``(B, D)`` (the first, for ``S > 1`` samples).
        """
        if batch.cond is None:
            return {}
        x, mask, c = batch.x, vae._mask(batch), batch.cond
        z = out.z if out.z.dim() == 2 else out.z[0]
        return self._terms(vae, x, mask, c, z)

    def _terms(self, vae, x: Tensor, mask: Tensor, c: Tensor, z: Tensor) -> Dict[str, Tensor]:
        out: Dict[str, Tensor] = {}
        # The discriminator learns from real data only (no generator parameter is involved).
        out["disc_loss"] = F.cross_entropy(self.logits(x, mask).float(), c, reduction="none")
        c2 = self.target_classes(c)
        e2 = vae.cond_embedder(c2)
        z_gen = z.detach() if self.cfg.detach_z else z
        soft = vae.decoder.relaxed_generate(z_gen, vae._dec_cond(e2), steps=x.shape[1], temperature=self.cfg.temperature,
                                            hard=self.cfg.hard, gumbel=self.cfg.gumbel)
        out["style_loss"] = F.cross_entropy(self._frozen_logits(soft, mask).float(), c2, reduction="none")
        if self.cfg.z_recon:
            h = _frozen(vae.encoder, soft, e2 if vae.cond_into_encoder else None, mask)
            z_hat = _frozen(vae.head, h, method="mode")
            out["z_recon"] = (z_hat.float() - z.detach().float()).pow(2).sum(-1)
        if self.adversary is not None:
            out["adv_loss"] = F.cross_entropy(self.adversary(z.detach()).float(), c, reduction="none")
            logp = F.log_softmax(_frozen(self.adversary, z).float(), dim=-1)
            # KL(prediction || uniform) = log K - H >= 0: zero when z says nothing about c.
            out["adv_entropy"] = math.log(self.n_classes) + (logp.exp() * logp).sum(-1)
        return out


__all__ = ["ControlConfig", "AttributeController"]
