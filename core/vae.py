"""The one ``VAE``: encoder + latent head + prior + decoder (+ condition embedder).

beta-VAE, cVAE and Gumbel-softmax VAEs are configurations of this class (DESIGN.md 1.1);
:func:`build_vae` wires a :class:`ModelConfig` to the data's dimensions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

import torch
from torch import Tensor, nn
from torch.distributions import Distribution

from .config import ComponentConfig
from . import control, pixelcnn, property_head, recon_losses  # noqa: F401  (register terms, 'pixelcnn')
from .decoders import DECODERS, Decoder
from .encoders import ENCODERS, Encoder
from .errors import ConfigError, DataValidationError
from .heads import HEADS, LatentHead
from .likelihoods import LIKELIHOODS
from .nn import ConditionEmbedder
from .distributions import rsample
from .priors import PRIORS, Prior
from .rules import check_number
from .terms import (ENCODER_WIRED, SEQ_WIRED, Term, TermParts, build_terms, migrate_model_dict,
                    migrate_state_dict, validate_terms)
from .types import Batch, DataInfo, VAEOutput


@dataclass(frozen=True)
class ConditionConfig:
    """How a cVAE uses its condition (Sohn et al. 2015).

    Attributes
    ----------
    use : bool
        Build a conditional model when the data has a condition.
    embed_dim : int
        Width of the embedded condition.
    into_encoder, into_decoder : bool
        Where the embedded condition is concatenated.
    """

    use: bool = True
    embed_dim: int = 16
    into_encoder: bool = True
    into_decoder: bool = True

    def validate(self, path: str = "model.condition") -> None:
        check_number(f"{path}.embed_dim", self.embed_dim, ge=1, integer=True, example=16)


@dataclass(frozen=True)
class ModelConfig:
    """The model section of a run config.

    ``prior`` defaults to the head's family (``standard_normal`` or
    ``uniform_categorical``); use ``conditional_gaussian`` for a learned ``p(z|c)``.
    ``likelihood`` defaults to the data's (``DataInfo.likelihood``). ``terms`` lists the
    auxiliary model terms (:mod:`vaekit.core.terms`: ``control``, ``perceptual``,
    ``adversarial``, ``property``), each ``{kind, params}``, evaluated in list order.
    """

    latent_dim: int = 16
    encoder: ComponentConfig = field(default_factory=lambda: ComponentConfig("mlp"))
    head: ComponentConfig = field(default_factory=lambda: ComponentConfig("gaussian"))
    decoder: ComponentConfig = field(default_factory=lambda: ComponentConfig("mlp"))
    prior: Optional[ComponentConfig] = None
    likelihood: Optional[ComponentConfig] = None
    condition: ConditionConfig = field(default_factory=ConditionConfig)
    terms: Tuple[ComponentConfig, ...] = ()

    @staticmethod
    def migrate_dict(data: Mapping[str, Any], path: str = "model") -> Dict[str, Any]:
        """Pre-registry keys (``control``, ``recon_losses``, ``property_head``) -> ``terms``."""
        return migrate_model_dict(data, path or "model")

    def validate(self, path: str = "model") -> None:
        check_number(f"{path}.latent_dim", self.latent_dim, ge=1, integer=True, example=16)
        # Names, and the values of the shared vocabulary (registry.check_param_values), are checked
        # now, before any data is loaded; the other values when the model is built.
        for role, reg in _ROLES.items():
            comp = getattr(self, role)
            if comp is not None:
                reg.check(comp.kind, comp.params, where=f"{path}.{role}", wired=WIRED[role])
        validate_terms(self.terms, f"{path}.terms")


# Constructor arguments that build_vae derives from the data and the rest of the model, per
# component role; users cannot set them (DESIGN.md 1.3: constructors are schemas).
_SEQ = SEQ_WIRED
WIRED = {
    "encoder": ENCODER_WIRED,
    "head": ("in_dim", "latent_dim"),
    "prior": ("latent_dim", "cond_dim", "n_groups", "n_categories", "encoder", "head"),
    "likelihood": ("x_dim",),
    "decoder": ("latent_dim", "out_shape", "likelihood", "cond_dim") + _SEQ,
}
_ROLES = {"encoder": ENCODERS, "head": HEADS, "prior": PRIORS, "likelihood": LIKELIHOODS, "decoder": DECODERS}


class VAE(nn.Module):
    """A variational autoencoder assembled from components.

    Parameters
    ----------
    encoder : Encoder
    head : LatentHead
    decoder : Decoder
    prior : Prior
    cond_embedder : ConditionEmbedder, optional
        Present for a conditional VAE.
    cond_into_encoder, cond_into_decoder : bool
    terms : mapping of str to Term, optional
        Auxiliary model terms by kind (:mod:`vaekit.core.terms`), evaluated in order; their
        ``(B,)`` outputs (``property_loss``, ``disc_loss``, ``perceptual``...) go to
        ``VAEOutput.extra``.
    """

    def __init__(self, encoder: Encoder, head: LatentHead, decoder: Decoder, prior: Prior,
                 cond_embedder: Optional[ConditionEmbedder] = None, cond_into_encoder: bool = True,
                 cond_into_decoder: bool = True, terms: Optional[Mapping[str, Term]] = None):
        super().__init__()
        if head.family != prior.family:
            raise ConfigError(f"model.prior: a {head.family} latent head needs a {head.family} prior; got a "
                              f"{prior.family} prior ({type(prior).__name__}).")
        if prior.conditional and cond_embedder is None:
            raise ConfigError("model.prior: a conditional prior needs a conditional model (data with a condition).")
        self.encoder, self.head, self.decoder, self.prior = encoder, head, decoder, prior
        self.cond_embedder = cond_embedder
        self.cond_into_encoder, self.cond_into_decoder = cond_into_encoder, cond_into_decoder
        self.terms = nn.ModuleDict(terms or {})
        # Checkpoints written before the term registry name the terms' modules differently.
        self.register_load_state_dict_pre_hook(_migrate_state)

    def term(self, kind: str) -> Optional[Term]:
        """The auxiliary term of ``kind`` (e.g. ``"property"``), or ``None`` if the model has none."""
        return self.terms[kind] if kind in self.terms else None

    # ------------------------------------------------------------------ conditions
    @property
    def conditional(self) -> bool:
        return self.cond_embedder is not None

    def _cond_help(self) -> str:
        e = self.cond_embedder
        return (f"long class ids of shape (n,) in [0, {e.n_classes})" if e.n_classes
                else f"a float tensor of shape (n, {e.cond_dim})")

    def _embed_cond(self, cond: Optional[Tensor], n: int, where: str) -> Optional[Tensor]:
        if self.cond_embedder is None:
            if cond is not None:
                raise DataValidationError(f"{where}: this model is not conditional; got a cond tensor. "
                                          f"Call it without cond, or train a cVAE on data with a condition.")
            return None
        if cond is None:
            raise DataValidationError(f"{where}: this is a conditional VAE and needs cond: {self._cond_help()}; "
                                      f"got None.")
        if cond.dim() == 0 or cond.shape[0] != n:
            got = "a scalar" if cond.dim() == 0 else f"{cond.shape[0]} rows"
            raise DataValidationError(f"{where}: cond has {got} but there are {n} examples; "
                                      f"pass {self._cond_help()} with n={n}.")
        return self.cond_embedder(cond)

    def _enc_cond(self, cond: Optional[Tensor], n: int, where: str) -> Optional[Tensor]:
        """The embedded condition for the encoder; ``None`` (and not needed) when the encoder
        does not read it (``condition.into_encoder: false``)."""
        if self.cond_embedder is not None and not self.cond_into_encoder:
            return None
        return self._embed_cond(cond, n, where)

    def _mask(self, batch: Batch) -> Optional[Tensor]:
        """The batch's mask, or the decoder's default (``x != pad_id`` for sequences), so
        padding never counts in ``recon_nll`` even when the caller passes no mask."""
        return batch.mask if batch.mask is not None else self.decoder.default_mask(batch.x)

    def _check_head_kwargs(self, kwargs: dict) -> None:
        import inspect

        if not kwargs:
            return
        accepted = inspect.signature(self.head.forward).parameters
        for k in kwargs:
            if k not in accepted:
                raise ConfigError(f"objective.{k}: the {type(self.head).__name__} takes no {k}; got {kwargs[k]!r}. "
                                  f"Remove objective.{k}" + (" (only gumbel_softmax heads have a temperature)."
                                                             if k == "temperature" else "."))

    # ------------------------------------------------------------------ core pieces
    def _features(self, x: Tensor, c: Optional[Tensor], mask: Optional[Tensor]) -> Tensor:
        return self.encoder(x, c if self.cond_into_encoder else None, mask)

    def _dec_cond(self, c: Optional[Tensor]) -> Optional[Tensor]:
        return c if self.cond_into_decoder else None

    def encode(self, x: Tensor, cond: Optional[Tensor] = None, mask: Optional[Tensor] = None) -> Distribution:
        """The posterior ``q(z|x[, c])`` (``batch_shape (B, D)`` or ``(B, G)``).

        ``x`` is what the encoder reads: ``Batch.encoder_input`` (usually the data tensor;
        a graph batch for a graph encoder). The same holds for :meth:`embed` and :meth:`reconstruct`.
        """
        c = self._enc_cond(cond, _n_examples(x), "encode")
        return self.head.posterior(self._features(x, c, mask))

    def embed(self, x: Tensor, cond: Optional[Tensor] = None, mask: Optional[Tensor] = None) -> Tensor:
        """Deterministic embedding (posterior mean / mode), ``(B, z_dim)``.

        Dropout is switched off while embedding, so the same input always gives the same
        embedding, whatever mode the model is in.
        """
        with _eval_mode(self):
            c = self._enc_cond(cond, _n_examples(x), "embed")
            return self.head.mode(self._features(x, c, mask))

    def decode(self, z: Tensor, cond: Optional[Tensor] = None, x: Optional[Tensor] = None) -> Distribution:
        """``p(x|z[, c])``; ``x`` is for teacher forcing of autoregressive decoders."""
        c = self._embed_cond(cond, z.shape[0], "decode")
        return self.decoder(z, self._dec_cond(c), x)

    def forward(self, batch: Batch, n_samples: int = 1, **head_kwargs) -> VAEOutput:
        """Compute the ELBO terms for ``batch``.

        Parameters
        ----------
        batch : Batch
        n_samples : int
            Posterior samples ``S``; with ``S > 1`` ``z`` is ``(S, B, D)`` and ``recon_nll``
            is ``(S, B)``.
        **head_kwargs
            Passed to the latent head (e.g. ``temperature`` of a Gumbel-softmax head).
        """
        x, mask = batch.x, self._mask(batch)
        b = x.shape[0]
        self._check_head_kwargs(head_kwargs)
        c = self._embed_cond(batch.cond, b, "forward")
        h = self._features(batch.encoder_input, c, mask)
        prior = self._prior(b, c, batch)
        ls = self.head(h, prior, n_samples=n_samples, prior_module=self.prior, **head_kwargs)
        recon_nll, px = self._recon(ls.z, c, x, mask, n_samples)
        n_tokens = mask.sum(1) if mask is not None else None
        out = VAEOutput(recon_nll=recon_nll, kl=ls.kl, kl_is_analytic=ls.kl_is_analytic, z=ls.z,
                        posterior=ls.posterior, px=px, n_tokens=n_tokens, extra={}, log_q=ls.log_q,
                        log_p=ls.log_p)
        for term in self.terms.values():
            out.extra.update(term.terms(self, batch, out))
        return out

    def _prior(self, b: int, c: Optional[Tensor], batch: Batch) -> Distribution:
        """The prior for ``batch``; an input-dependent prior (``needs_input``, e.g. RecVAE's
        composite prior, Shenbin et al. 2020) also reads ``batch.encoder_input``."""
        if getattr(self.prior, "needs_input", False):
            return self.prior(b, c, x=batch.encoder_input)
        return self.prior(b, c)

    def _recon(self, z: Tensor, c: Optional[Tensor], x: Tensor, mask: Optional[Tensor], s: int):
        """Decode ``z`` ((B, D) or (S, B, D)) against ``x``; returns ``recon_nll`` and ``px``."""
        if s == 1 and z.dim() == 2:
            px = self.decoder(z, self._dec_cond(c), x)
            return self.decoder.likelihood.nll(px, x, mask), px
        b = x.shape[0]
        zf = z.reshape(s * b, z.shape[-1])
        rep = lambda t: None if t is None else t.repeat(s, *([1] * (t.dim() - 1)))  # noqa: E731
        xf = rep(x)
        px = self.decoder(zf, self._dec_cond(rep(c)), xf)
        return self.decoder.likelihood.nll(px, xf, rep(mask)).reshape(s, b), px

    def log_importance_weights(self, batch: Batch, k: int) -> Tensor:
        """``log p(x, z_i) - log q(z_i|x)`` for ``k`` posterior samples, ``(k, B)``."""
        x, mask = batch.x, self._mask(batch)
        b = x.shape[0]
        c = self._embed_cond(batch.cond, b, "log_importance_weights")
        q = self.head.posterior(self._features(batch.encoder_input, c, mask))
        prior = self._prior(b, c, batch)
        z, log_q, log_p = self.head.importance_sample(q, prior, self.prior, k)
        recon_nll, _ = self._recon(z, c, x, mask, k)
        return -recon_nll + log_p - log_q

    # ------------------------------------------------------------------ generation
    @torch.no_grad()
    def sample_prior(self, n: int, cond: Optional[Tensor] = None, generator: Optional[torch.Generator] = None) -> Tensor:
        """``n`` latent codes from the prior, ``(n, z_dim)``; seedable with ``generator``.

        Raises
        ------
        ConfigError
            When the prior depends on the input (``needs_input``): it has no codes without
            an ``x``; decode given codes with :meth:`generate` or inputs with :meth:`reconstruct`.
        """
        if getattr(self.prior, "needs_input", False):
            raise ConfigError(f"sample: the prior {type(self.prior).__name__} depends on the input x "
                              f"(needs_input), so there is no p(z) to sample from without data; got a request "
                              f"for {n} samples. Use generate(z) with codes of your own or reconstruct(x).")
        c = self._embed_cond(cond, n, "sample")
        return self.prior.code(rsample(self.prior(n, c), generator=generator))

    @torch.no_grad()
    def sample(self, n: int, cond: Optional[Tensor] = None, generator: Optional[torch.Generator] = None,
               sample_x: bool = False, **gen_kwargs) -> Tensor:
        """Generate ``n`` examples in data space.

        Parameters
        ----------
        n : int
        cond : Tensor, optional
            Required for a cVAE: ``(n, cond_dim)`` floats or ``(n,)`` class ids; a single
            condition ``(cond_dim,)`` (or a scalar class id) is repeated ``n`` times.
        generator : torch.Generator, optional
            Makes the samples reproducible.
        sample_x : bool
            Sample ``x ~ p(x|z)`` instead of taking its mean / greedy decoding.
        """
        if cond is not None and self.cond_embedder is not None:
            e = self.cond_embedder
            one_float = e.n_classes == 0 and cond.dim() == 1 and cond.shape[0] == e.cond_dim
            if cond.dim() == 0 or one_float:  # one condition for all n samples
                cond = cond.reshape(1, -1).expand(n, -1) if cond.dim() else cond.reshape(1).expand(n)
        z = self.sample_prior(n, cond, generator)
        return self.generate(z, cond, generator=generator, sample_x=sample_x, **gen_kwargs)

    @torch.no_grad()
    def generate(self, z: Tensor, cond: Optional[Tensor] = None, generator: Optional[torch.Generator] = None,
                 sample_x: bool = False, **gen_kwargs) -> Tensor:
        """Data-space outputs for latent codes ``z`` ``(n, z_dim)``, dropout off.

        ``sample_x`` draws ``x ~ p(x|z)`` (seedable with ``generator``); otherwise the mean /
        greedy decoding. ``cond`` as in :meth:`sample` (``(n, ...)`` rows).
        """
        with _eval_mode(self):
            c = self._embed_cond(cond, z.shape[0], "generate")
            return self.decoder.generate(z, self._dec_cond(c), generator=generator, sample=sample_x, **gen_kwargs)

    @torch.no_grad()
    def reconstruct(self, x: Tensor, cond: Optional[Tensor] = None, mask: Optional[Tensor] = None, **gen_kwargs) -> Tensor:
        """Decode the deterministic embedding of ``x`` back to data space (dropout off)."""
        return self.generate(self.embed(x, cond, mask), cond, **gen_kwargs)


def _migrate_state(vae: VAE, state_dict: dict, prefix: str, *args) -> None:
    """``load_state_dict`` pre-hook: rename the keys of a pre-registry checkpoint."""
    migrate_state_dict(state_dict, prefix, set(vae.terms))


def _n_examples(x: Any) -> int:
    """Number of examples in an encoder input: rows of a tensor, graphs of a PyG batch."""
    n = getattr(x, "num_graphs", None)
    return int(n) if n is not None else int(x.shape[0])


class _eval_mode:
    """Context manager: put a module in eval mode, restore its previous mode afterwards."""

    def __init__(self, module: nn.Module):
        self.module = module
        self.modes = [(m, m.training) for m in module.modules()]

    def __enter__(self):
        self.module.eval()

    def __exit__(self, *exc):
        for m, mode in self.modes:
            m.training = mode


def build_vae(cfg: ModelConfig, info: DataInfo) -> VAE:
    """Build a :class:`VAE` from a :class:`ModelConfig` and the data's :class:`DataInfo`.

    Dimensions that follow from the data (input width, vocabulary, condition width...) are
    wired here; users configure only what is a real choice. Incompatible choices (a
    categorical head with a Gaussian prior, a GRU decoder on vectors) raise
    :class:`ConfigError` naming the config path.
    """
    cond_embedder = None
    use_cond = info.has_cond and cfg.condition.use
    if use_cond:
        cond_embedder = ConditionEmbedder(info.cond_dim if not info.n_cond_classes else 0,
                                          info.n_cond_classes, cfg.condition.embed_dim)
    e_dim = cfg.condition.embed_dim if use_cond else 0
    seq = dict(vocab_size=info.vocab_size, pad_id=info.pad_id, bos_id=info.bos_id, eos_id=info.eos_id,
               unk_id=info.unk_id, max_len=info.shape[0] if info.kind == "sequence" else None)
    seq = {k: v for k, v in seq.items() if v is not None}

    encoder = ENCODERS.build(cfg.encoder.kind, cfg.encoder.params, where="model.encoder", wired=dict(
        in_dim=info.x_dim, in_shape=info.shape, cond_dim=e_dim if cfg.condition.into_encoder else 0, **seq))
    head = HEADS.build(cfg.head.kind, cfg.head.params, where="model.head",
                       wired=dict(in_dim=encoder.out_dim, latent_dim=cfg.latent_dim))
    prior_cfg = cfg.prior or ComponentConfig("standard_normal" if head.family == "gaussian" else "uniform_categorical")
    # ``encoder`` / ``head`` are the live modules: a prior whose constructor names them (an
    # input-dependent prior such as RecVAE's, which evaluates an old copy of the posterior)
    # receives them; Registry.build passes only the arguments a constructor declares.
    prior = PRIORS.build(prior_cfg.kind, prior_cfg.params, where="model.prior", wired=dict(
        latent_dim=head.z_dim, cond_dim=e_dim, n_groups=getattr(head, "n_groups", None),
        n_categories=getattr(head, "n_categories", None), encoder=encoder, head=head))
    lik_cfg = cfg.likelihood or ComponentConfig(info.likelihood)
    likelihood = LIKELIHOODS.build(lik_cfg.kind, lik_cfg.params, where="model.likelihood",
                                   wired=dict(x_dim=info.x_dim))
    if info.kind == "sequence" and lik_cfg.kind != "categorical":
        raise ConfigError(f"model.likelihood.kind: token sequences need 'categorical'; got {lik_cfg.kind!r}.")
    dec_cls = DECODERS.get(cfg.decoder.kind, "model.decoder.kind")
    if info.kind not in getattr(dec_cls, "data_kinds", ("vector", "image")):
        fits = [n for n in DECODERS.names() if info.kind in getattr(DECODERS.get(n), "data_kinds", ())]
        raise ConfigError(f"model.decoder.kind: {cfg.decoder.kind!r} models {' or '.join(dec_cls.data_kinds)} data but "
                          f"the data is {info.kind} {tuple(info.shape)}. Use one of: {', '.join(fits)}.")
    decoder = DECODERS.build(cfg.decoder.kind, cfg.decoder.params, where="model.decoder", wired=dict(
        latent_dim=head.z_dim, out_shape=info.shape, likelihood=likelihood,
        cond_dim=e_dim if cfg.condition.into_decoder else 0, **seq))
    terms = build_terms(cfg.terms, TermParts(info, cfg, encoder, head, decoder, seq, use_cond))
    return VAE(encoder, head, decoder, prior, cond_embedder, cfg.condition.into_encoder, cfg.condition.into_decoder,
               terms=terms)
