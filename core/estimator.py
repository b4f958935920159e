"""The one estimator template behind vaekit's Python facades (``VAEDetector``,
``MultVAERecommender``, ...).

It follows scikit-learn's constructor-as-schema contract (``__init__`` stores its arguments
unchanged; ``get_params``/``clone`` work; everything else happens in ``fit``) and the shape of
PyOD's ``BaseDeepLearningDetector`` (the training sequence written once, the model supplied by
configuration):

* every facade is backed by a **packaged run config** (a domain's ``configs/NAME.yaml``, the
  same file ``vaekit train domain:NAME`` trains), which holds the defaults, once;
* each constructor argument maps onto one or more dotted keys of that config
  (:attr:`ConfigEstimator.config_keys`); an argument left at :data:`FROM_CONFIG` keeps the
  YAML's value;
* ``fit`` = the resolved config + a :class:`~vaekit.core.types.DataBundle` ->
  :func:`fit_vae`: the training length in epochs resolved to steps for the data at hand
  (:func:`resolve_train`), the device, a seeded initialisation on a forked RNG,
  :func:`~vaekit.core.vae.build_vae`, the objective, and the one trainer
  (:func:`vaekit.core.trainer.fit`).

The core knows no domain: a facade passes the config mapping (it knows which packaged YAML)
and builds the bundle from its user's arrays.
"""
from __future__ import annotations

import copy
import functools
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, ClassVar, Dict, Literal, Mapping, Optional, Tuple, Union

import torch

from .config import from_dict, set_key, to_dict
from .errors import ConfigError
from .rules import check_number
from .types import DataBundle


class _FromConfig:
    """The default of a facade argument: "the packaged config's value". One instance,
    kept by ``copy``/``deepcopy``/pickle, so scikit-learn's ``clone`` sees it unchanged."""

    _instance: Optional["_FromConfig"] = None

    def __new__(cls) -> "_FromConfig":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "FROM_CONFIG"

    def __reduce__(self):
        return (_FromConfig, ())

    def __copy__(self) -> "_FromConfig":
        return self

    def __deepcopy__(self, memo) -> "_FromConfig":
        return self


#: Default of every config-backed facade argument: use the packaged YAML's value.
FROM_CONFIG = _FromConfig()


@dataclass(frozen=True)
class FitConfig:
    """The ``fit`` section of a run config: the training length in passes over the data.

    A Python facade is fitted on data of any size, so its length is given in epochs and
    resolved to ``train.max_steps`` for the training split at hand (:func:`resolve_train`);
    ``vaekit train`` resolves it the same way, so a packaged config and its facade train the
    same model on the same data. With ``fit.epochs`` set, ``train.max_steps`` is not read
    (``vaekit train ... --set train.max_steps=N`` turns ``fit.epochs`` off: the step count
    asked for wins).

    Attributes
    ----------
    epochs : int, optional
        Passes over the training split; ``None``: ``train.max_steps`` as written.
    epoch_steps : {"batches", "rows"}
        How an epoch counts steps: ``batches``, the trainer's epoch of ``n // batch`` full
        batches (its last partial batch dropped), ``max_steps = epochs * max(1, n // batch)``;
        ``rows``, ``epochs * n`` rows seen, ``max_steps = ceil(epochs * n / batch)``.
    min_steps : int
        Lower bound on ``max_steps`` (so a tiny table still gets a trained model).
    eval_each_epoch : bool
        Set ``train.eval_every`` and ``train.log_every`` to one epoch (model selection by
        epoch, as Liang et al. 2018 do).
    """

    epochs: Optional[int] = None
    epoch_steps: Literal["batches", "rows"] = "batches"
    min_steps: int = 0
    eval_each_epoch: bool = False

    def validate(self, path: str = "fit") -> None:
        if self.epochs is not None:
            check_number(f"{path}.epochs", self.epochs, ge=1, integer=True, example=10,
                         fix=f"Set {path}.epochs to a positive number of passes (e.g. --set {path}.epochs=10), or "
                             f"null to train train.max_steps steps.")
        if self.epoch_steps not in ("batches", "rows"):
            raise ConfigError(f"{path}.epoch_steps: must be 'batches' or 'rows'; got {self.epoch_steps!r}.")
        check_number(f"{path}.min_steps", self.min_steps, ge=0, integer=True, example=0)


def resolve_train(train, fit: FitConfig, n_train: int):
    """``train`` (a :class:`~vaekit.core.trainer.TrainConfig`) for ``n_train`` training
    examples: when ``fit.epochs`` is set, ``max_steps`` (and with ``eval_each_epoch``
    ``eval_every``/``log_every``) from the epochs, counted with the batch the trainer will use
    (``min(batch_size, n_train)``).

    Returns ``train`` itself when ``fit.epochs`` is null (a config without a ``fit`` section
    trains exactly as written).
    """
    if fit.epochs is None:
        return train
    n = int(n_train)
    if n < 1:
        raise ConfigError("fit.epochs: the training split is empty (0 examples), so an epoch has no steps; "
                          "give at least one training row.")
    batch = min(int(train.batch_size), n)
    per_epoch = max(1, n // batch)  # the trainer's epoch: full batches only
    steps = math.ceil(fit.epochs * n / batch) if fit.epoch_steps == "rows" else fit.epochs * per_epoch
    changes: Dict[str, Any] = {"max_steps": max(int(fit.min_steps), int(steps))}
    if fit.eval_each_epoch:
        changes.update(eval_every=per_epoch, log_every=per_epoch)
    return replace(train, **changes)


@dataclass(frozen=True)
class FitSections:
    """The sections of a run config that ``fit`` reads, checked against the core schemas."""

    model: Any
    objective: Any
    train: Any
    fit: FitConfig


def fit_sections(cfg: Mapping[str, Any]) -> FitSections:
    """Check the ``model``, ``objective``, ``train`` and ``fit`` sections of the run-config
    mapping ``cfg`` (errors name the dotted key)."""
    from .objectives import ObjectiveConfig
    from .trainer import TrainConfig
    from .vae import ModelConfig

    return FitSections(model=from_dict(ModelConfig, cfg.get("model") or {}, "model"),
                       objective=from_dict(ObjectiveConfig, cfg.get("objective") or {}, "objective"),
                       train=from_dict(TrainConfig, cfg.get("train") or {}, "train"),
                       fit=from_dict(FitConfig, cfg.get("fit") or {}, "fit"))


def fit_vae(cfg: Mapping[str, Any], data: DataBundle,
            val_metrics: Optional[Callable[[Any], Dict[str, float]]] = None, where: str = "objective"):
    """Train the VAE of run config ``cfg`` on ``data`` with the one trainer; the training
    sequence of every facade.

    Without validation data (``data.val`` empty or ``val_metrics`` not given) the last step
    is kept (``restore_best`` off, ``monitor: neg_elbo``); with it the config's monitor picks
    the best evaluation.

    Parameters
    ----------
    cfg : mapping
        A run config (at least ``model``; ``objective``, ``train``, ``fit`` default).
    data : DataBundle
    val_metrics : callable, optional
        ``model -> {name: float}``, passed to the trainer (e.g. validation NDCG@100).
    where : str
        Names the objective in its error messages.

    Returns
    -------
    model : VAE
        In eval mode, on the config's device.
    train : TrainConfig
        The resolved train section (``max_steps`` for this data).
    """
    from .distributed import resolve_device
    from .objectives import build_objective
    from .trainer import fit
    from .vae import build_vae

    s = fit_sections(cfg)
    train = resolve_train(s.train, s.fit, len(data.train))
    has_val = val_metrics is not None and data.val is not None and len(data.val) > 0
    device = resolve_device(train.device)
    # One process: a table smaller than a batch trains full-batch.
    changes: Dict[str, Any] = {"device": str(device), "batch_size": min(train.batch_size, len(data.train))}
    if not has_val:
        changes.update(restore_best=False, monitor="neg_elbo", monitor_mode="min")
    train = replace(train, **changes)
    objective = build_objective(s.objective, where=where)
    # Seeded initialisation; the trainer reseeds torch's global generator every step. Both
    # happen on a forked generator state, so the caller's random stream is untouched.
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(int(train.seed))
        model = build_vae(s.model, data.info).to(device)
        # Auxiliary terms prepare as under `vaekit train` (e.g. the perceptual term trains its
        # frozen feature network first); no domain supplies resources here.
        for term in model.terms.values():
            term.prepare(data, {}, resumed=False, device=device, seed=int(train.seed))
        fit(model, objective, data, train, val_metrics=val_metrics if has_val else None)
    return model.eval(), train


@functools.lru_cache(maxsize=None)
def _read_packaged(path: str) -> Dict[str, Any]:
    from .config import load_yaml

    return load_yaml(path)


def packaged(path: Union[str, Path]) -> Dict[str, Any]:
    """The packaged YAML at ``path`` as a fresh mapping (read once per process: a facade
    looks its defaults up on every :meth:`ConfigEstimator.param` call)."""
    return copy.deepcopy(_read_packaged(str(path)))


def get_key(cfg: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """The value of dotted ``key`` in the nested mapping ``cfg``, list entries by position
    (``train.phases.0.epochs``), as :func:`~vaekit.core.config.set_key` writes them;
    ``default`` when absent."""
    node: Any = cfg
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return default
    return node


def _plain(value: Any) -> Any:
    """Tuples (e.g. ``hidden_dims=(64,)``) as lists and numpy scalars as Python numbers, as
    YAML would hold them."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


#: The arguments every facade shares (scikit-learn's and PyOD's names) -> their config keys.
TRAIN_KEYS: Dict[str, str] = {
    "epochs": "fit.epochs",
    "batch_size": "train.batch_size",
    "lr": "train.lr",
    "weight_decay": "train.weight_decay",
    "device": "train.device",
    "random_state": "train.seed",
    "verbose": "train.progress",
}


class ConfigEstimator:
    """Mixin of the facades: constructor arguments -> a packaged run config.

    A subclass sets :attr:`config_keys` and implements :meth:`packaged_config`; its
    ``__init__`` stores every argument unchanged (scikit-learn's rule), with
    :data:`FROM_CONFIG` as the default of the config-backed ones. Arguments that map onto the
    config in another way than one value to fixed keys (a schedule built from two arguments,
    a rule) are added by overriding :meth:`config_overrides`.
    """

    #: argument name -> the dotted config key, or tuple of keys, it sets.
    config_keys: ClassVar[Mapping[str, Union[str, Tuple[str, ...]]]] = {}

    def packaged_config(self) -> Dict[str, Any]:
        """The packaged run config this facade is backed by, as a fresh mapping."""
        raise NotImplementedError

    def param(self, name: str) -> Any:
        """Argument ``name``'s effective value: the one given, or the packaged config's
        (read at the first key of :attr:`config_keys`; a key the YAML leaves out has the
        schema's default, e.g. :class:`~vaekit.core.trainer.TrainConfig`'s)."""
        value = getattr(self, name)
        if value is not FROM_CONFIG:
            return value
        keys = self.config_keys[name]
        key = keys if isinstance(keys, str) else keys[0]
        missing = object()
        cfg = self.packaged_config()
        value = get_key(cfg, key, missing)
        if value is missing and key.split(".")[0] in ("model", "objective", "train", "fit"):
            value = get_key(to_dict(fit_sections(cfg)), key, missing)  # the schema's default
        if value is missing:
            raise ConfigError(f"{type(self).__name__}({name}=...): the packaged config has no {key}, so this "
                              f"argument has no default; pass it.")
        return value

    def config_overrides(self) -> Dict[str, Any]:
        """Dotted key -> value for every argument not left at :data:`FROM_CONFIG`
        (``verbose`` as a bool)."""
        out: Dict[str, Any] = {}
        for name, keys in self.config_keys.items():
            value = getattr(self, name)
            if value is FROM_CONFIG:
                continue
            if name == "verbose":  # scikit-learn's verbosity level; the trainer's progress bar is on/off
                value = bool(value)
            for key in (keys,) if isinstance(keys, str) else keys:
                out[key] = _plain(value)
        return out

    def run_config(self) -> Dict[str, Any]:
        """The packaged config with this estimator's arguments applied: the run config
        ``vaekit train`` would train for the same model (a plain mapping)."""
        cfg = copy.deepcopy(self.packaged_config())
        for key, value in self.config_overrides().items():
            set_key(cfg, key, value)
        return cfg


def documented_defaults(estimator: ConfigEstimator) -> Dict[str, Tuple[Any, Any]]:
    """The config-backed arguments whose documented default differs from the packaged one:
    ``{name: (documented, effective)}`` (empty when the docstring is right).

    A facade's numpydoc ``Parameters`` entry documents its default as YAML in the first
    line of its description, ``Default ``VALUE``.`` (``Defaults ``A, B``.`` for an entry
    naming two arguments), so the docstring cannot drift from the YAML unnoticed (the check
    scikit-learn's ``check_docstring_parameters`` does for signatures).
    """
    import inspect
    import re

    import yaml

    doc = inspect.cleandoc(type(estimator).__doc__ or "")
    out: Dict[str, Tuple[Any, Any]] = {}
    for names, text in re.findall(r"^(\w[\w, ]*) : [^\n]*\n    Defaults? ``([^`]*)``", doc, re.M):
        values = yaml.safe_load(f"[{text}]")
        for name, documented in zip([n.strip() for n in names.split(",")], values):
            if name not in estimator.config_keys:
                continue
            effective = _plain(estimator.param(name))
            if documented != effective:
                out[name] = (documented, effective)
    return out
