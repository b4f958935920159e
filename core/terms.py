"""Auxiliary model terms: one registry, one interface, configured as a list (DESIGN.md 11).

A term adds per-example losses beside the ELBO's reconstruction and KL (attribute control,
perceptual and adversarial reconstruction terms, a property head...). Each is configured as an
entry of ``model.terms``::

    model:
      terms:
        - {kind: control, params: {temperature: 0.5}}
        - {kind: perceptual, params: {steps: 2000}}

and implements :class:`Term`:

* ``Config``: the dataclass its ``params`` are read into, strictly (unknown keys and wrong types
  are config errors naming ``model.terms[i].params.KEY``);
* ``check(cfg, info, model_cfg, where)``: whether the data and the rest of the model can use it;
* ``build(cfg, parts, where)``: the module, from the built encoder / head / decoder;
* ``terms(vae, batch, out) -> {name: (B,) tensor}``, merged into ``VAEOutput.extra`` and weighed
  by ``objective.weights`` (the model holds no weights; DESIGN.md 1.2);
* ``prepare(data, resources, ...)``: optional work before training (e.g. pre-training a frozen
  feature network); ``resources`` is what the domain supplies for this kind
  (``Domain.term_resources``).

:class:`~vaekit.core.vae.VAE` keeps the built terms in ``vae.terms`` (an ``nn.ModuleDict`` keyed
by kind) and evaluates them in list order after the ELBO terms. Saved configs from before this
registry (``model.control``, ``model.recon_losses``, ``model.property_head``) are migrated by
:func:`migrate_model_dict` when read, and their checkpoints' state-dict keys by
:func:`migrate_state_dict`.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Dict, List, Mapping, Optional

from torch import Tensor, nn

from .errors import ConfigError
from .registry import Registry

TERMS: Registry["Term"] = Registry("model term")

# Constructor arguments of encoders that vaekit wires from the data (the VAE's encoder and any
# encoder a term builds, e.g. a discriminator); shared with :data:`vaekit.core.vae.WIRED`.
SEQ_WIRED = ("vocab_size", "pad_id", "bos_id", "eos_id", "unk_id", "max_len")
ENCODER_WIRED = ("in_dim", "in_shape", "cond_dim") + SEQ_WIRED


@dataclass(frozen=True)
class TermParts:
    """What a term is built from: the data, the model section and the built components.

    Attributes
    ----------
    info : DataInfo
    model : ModelConfig
    encoder, head, decoder : nn.Module
    seq : dict
        The sequence ids wired into encoders (empty for non-sequence data).
    use_cond : bool
        Whether the model is conditional.
    """

    info: Any
    model: Any
    encoder: nn.Module
    head: nn.Module
    decoder: nn.Module
    seq: Dict[str, Any]
    use_cond: bool


class Term(nn.Module):
    """Base class of an auxiliary model term (register subclasses in :data:`TERMS`).

    Attributes
    ----------
    Config : type
        Dataclass of the entry's ``params``.
    """

    Config: ClassVar[type]

    @classmethod
    def check(cls, cfg: Any, info: Any, model_cfg: Any, where: str) -> None:
        """Raise :class:`ConfigError` (naming ``where``) if the data or model cannot use the term."""

    @classmethod
    def build(cls, cfg: Any, parts: TermParts, where: str) -> "Term":
        raise NotImplementedError

    def terms(self, vae: nn.Module, batch: Any, out: Any) -> Dict[str, Tensor]:
        """Per-example terms ``{name: (B,)}`` for ``batch``; ``out`` is the VAE's output so far
        (``z``, ``px``... of :class:`~vaekit.core.types.VAEOutput`)."""
        raise NotImplementedError

    def prepare(self, data: Any, resources: Mapping[str, Any], *, resumed: bool, device: Any = "cpu",
                seed: int = 0, log: Optional[Callable[[str], None]] = None) -> None:
        """Work before training, e.g. fitting a frozen network on ``data`` (a
        :class:`~vaekit.core.types.DataBundle`). ``resumed``: a checkpoint will restore the
        term's state. Default: nothing."""


def term_config(entry: Any, where: str) -> Any:
    """The parsed ``params`` dataclass of one ``model.terms`` entry (a ``ComponentConfig``)."""
    from .config import from_dict

    cls = TERMS.get(entry.kind, f"{where}.kind")
    return from_dict(cls.Config, entry.params or {}, f"{where}.params")


def validate_terms(entries, path: str = "model.terms") -> None:
    """Check every entry's kind and params, and that no kind appears twice (their
    ``VAEOutput.extra`` names would collide)."""
    seen: Dict[str, int] = {}
    for i, entry in enumerate(entries):
        where = f"{path}[{i}]"
        term_config(entry, where)
        if entry.kind in seen:
            raise ConfigError(f"{where}.kind: the term {entry.kind!r} is already {path}[{seen[entry.kind]}]; got it "
                              f"twice. Merge the two entries' params.")
        seen[entry.kind] = i


def build_terms(entries, parts: TermParts, path: str = "model.terms") -> nn.ModuleDict:
    """Check and build every entry in list order (which is also the order parameters are
    initialised and terms evaluated in, so the RNG stream follows the list)."""
    out = nn.ModuleDict()
    for i, entry in enumerate(entries):
        where = f"{path}[{i}]"
        cfg = term_config(entry, where)
        cls = TERMS.get(entry.kind)
        cls.check(cfg, parts.info, parts.model, where)
        out[entry.kind] = cls.build(cfg, parts, where)
    return out


# ----------------------------------------------------------------------------- legacy configs
# Before the registry each term was its own model key. The order here is the order the old VAE
# built and evaluated them in, so a migrated config consumes the RNG as it used to.
_LEGACY_KEYS = ("property_head", "control", "recon_losses")
_LEGACY_KIND = {"property_head": "property", "control": "control"}
_RECON_KINDS = ("perceptual", "adversarial")


def _merge(base: Dict[str, Any], new: Mapping[str, Any]) -> Dict[str, Any]:
    """``base`` updated by ``new``, recursively for mappings."""
    out = dict(base)
    for k, v in new.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else v
    return out


def _legacy_entries(key: str, value: Any, where: str) -> List[tuple]:
    """``[(kind, params or None)]`` for one legacy key (``None``: remove that term)."""
    if key == "recon_losses":
        if value is None:
            return [(k, None) for k in _RECON_KINDS]
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}.recon_losses: expected a mapping with perceptual and/or adversarial; got "
                              f"{value!r}. Write it as model.terms entries instead.")
        unknown = sorted(set(value) - set(_RECON_KINDS))
        if unknown:
            raise ConfigError(f"{where}.recon_losses.{unknown[0]}: unknown key. Valid keys here: perceptual, "
                              f"adversarial (now model.terms kinds).")
        # A saved config writes every field: ``perceptual: null`` means no perceptual term.
        return [(k, value[k]) for k in _RECON_KINDS if k in value]
    if value is not None and not isinstance(value, Mapping):
        raise ConfigError(f"{where}.{key}: expected a mapping; got {value!r}. Write it as a model.terms entry "
                          f"{{kind: {_LEGACY_KIND[key]}, params: {{...}}}}.")
    return [(_LEGACY_KIND[key], value)]


def migrate_model_dict(data: Mapping[str, Any], path: str = "model") -> Dict[str, Any]:
    """Rewrite the legacy keys ``control``, ``recon_losses`` and ``property_head`` of a model
    section into ``terms`` entries.

    A legacy mapping whose kind is already in ``terms`` is merged into that entry's params (so a
    ``--set model.control.temperature=1`` still reaches the control term); ``null`` removes the
    term. Called by :func:`vaekit.core.config.from_dict` whenever a model section is read, so
    packaged configs, ``--set`` overrides and run directories saved before the registry load.
    """
    if not isinstance(data, Mapping) or not any(k in data for k in _LEGACY_KEYS):
        return data  # type: ignore[return-value]
    out = {k: v for k, v in data.items() if k not in _LEGACY_KEYS}
    terms = out.get("terms") or []
    if not isinstance(terms, list):
        raise ConfigError(f"{path}.terms: expected a list of {{kind, params}} entries; got {terms!r}.")
    terms = [copy.deepcopy(dict(t)) if isinstance(t, Mapping) else t for t in terms]
    for key in _LEGACY_KEYS:
        if key not in data:
            continue
        for kind, params in _legacy_entries(key, data[key], path):
            at = next((i for i, t in enumerate(terms) if isinstance(t, Mapping) and t.get("kind") == kind), None)
            if params is None:
                if at is not None:
                    terms.pop(at)
            elif at is None:
                terms.append({"kind": kind, "params": copy.deepcopy(dict(params))})
            else:
                terms[at]["params"] = _merge(terms[at].get("params") or {}, params)
    out["terms"] = terms
    return out


# Checkpoint keys of the legacy modules -> their term's module in ``VAE.terms``.
_LEGACY_STATE = (("property_head.", "terms.property."), ("control.", "terms.control."),
                 ("recon_losses.features_trained", "terms.perceptual.features_trained"),
                 ("recon_losses.features.", "terms.perceptual.features."),
                 ("recon_losses.discriminator.", "terms.adversarial.discriminator."),
                 ("recon_losses.critic.", "terms.adversarial.critic."))


def migrate_state_dict(state: Dict[str, Any], prefix: str, kinds) -> None:
    """Rename, in place, the state-dict keys a pre-registry VAE saved for its terms.

    ``kinds`` are the terms the loading model has. The legacy ``recon_losses.features_trained``
    flag was saved even without a perceptual term; it is dropped then. Any other key is renamed
    whatever the model has, so a mismatch still fails the strict load by name.
    """
    for key in [k for k in state if k.startswith(prefix)]:
        rest = key[len(prefix):]
        for old, new in _LEGACY_STATE:
            if rest.startswith(old):
                value = state.pop(key)
                if old.endswith("features_trained") and "perceptual" not in kinds:
                    break
                state[prefix + new + rest[len(old):]] = value
                break


__all__ = ["TERMS", "Term", "TermParts", "ENCODER_WIRED", "SEQ_WIRED", "term_config", "validate_terms",
           "build_terms", "migrate_model_dict", "migrate_state_dict"]
