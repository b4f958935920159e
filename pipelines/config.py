"""Run configs: the YAML a user writes, resolved strictly against the core and domain schemas.

A run config has the sections ``domain``, ``name``, ``data`` (the domain's ``DataConfig``),
``model`` (:class:`~vaekit.core.vae.ModelConfig`), ``objective``
(:class:`~vaekit.core.objectives.ObjectiveConfig`), ``train``
(:class:`~vaekit.core.trainer.TrainConfig`), ``fit`` (:class:`~vaekit.core.estimator.FitConfig`:
the training length in epochs, resolved to ``train.max_steps`` for the data; optional),
``eval`` (:class:`EvalConfig`) and ``tracking``
(:class:`~vaekit.pipelines.tracking.TrackingConfig`: TensorBoard, MLflow). ``CONFIG`` on
the command line is a YAML path or ``domain:name`` for a packaged config.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Sequence

import yaml

from vaekit.core.config import apply_overrides, from_dict, load_yaml, parse_override, to_dict
from vaekit.core.errors import ConfigError, fmt_error
from vaekit.core.estimator import FitConfig
from vaekit.core.objectives import ObjectiveConfig
from vaekit.core.registry import did_you_mean
from vaekit.core.trainer import TrainConfig
from vaekit.core.vae import ModelConfig
from vaekit.domains import domain_names, get_domain

from .tracking import TrackingConfig


@dataclass(frozen=True)
class EvalConfig:
    """The eval section.

    Attributes
    ----------
    split : {"val", "test"}
    batch_size : int
    iw_samples : int
        Importance samples for the NLL estimate (0 disables; IWAE used 5000 for final numbers).
    mi_examples : int
        Examples in the mutual-information estimate.
    n_samples : int
        Examples generated for sample-based metrics.
    options : dict
        The domain's metric options, checked against its ``EvalOptions`` (e.g. how many
        molecules the reconstruction protocol uses); see :attr:`RunConfig.eval_options`.
    """

    split: str = "test"
    batch_size: int = 512
    iw_samples: int = 100
    mi_examples: int = 1000
    n_samples: int = 1000
    options: Dict[str, Any] = field(default_factory=dict)

    def validate(self, path: str = "eval") -> None:
        if self.split not in ("val", "test"):
            raise ConfigError(f"{path}.split: must be 'val' or 'test'; got {self.split!r}.")
        for name in ("batch_size", "n_samples"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{path}.{name}: must be >= 1; got {getattr(self, name)!r}.")


#: Longest run name, in UTF-8 bytes: ``<domain>-<name>`` stays under the 255 bytes of a file name.
MAX_NAME_BYTES = 200


def check_run_name(name: Any, where: str = "name") -> None:
    """A run name is one folder name: it becomes ``runs/<domain>-<name>``, so a ``/``, ``\\``,
    ``..`` or NUL in it would write (and ``--fresh`` delete) outside ``runs/``.

    Raises
    ------
    ConfigError
        ``name`` is empty, ``.`` or ``..``, holds a path separator or NUL, or is too long.
    """
    bad = (not isinstance(name, str) or not name.strip() or name in (".", "..")
           or any(c in name for c in ("/", "\\", "\x00")) or len(name.encode("utf-8", "replace")) > MAX_NAME_BYTES)
    if bad:
        shown = name[:80] if isinstance(name, str) else name
        raise ConfigError(fmt_error(
            where, f"a run name must be one folder name (it names runs/<domain>-<name>): not empty, not '.' or "
                   f"'..', no '/', '\\' or NUL, at most {MAX_NAME_BYTES} bytes", shown,
            f"Set a plain name, e.g. name: my_run (--set {where}=my_run); to put the run elsewhere pass "
            f"--run-dir DIR."))


@dataclass(frozen=True)
class RunConfig:
    """A whole run. ``data`` stays a mapping here and is checked against the domain's
    ``DataConfig`` by :func:`resolve` (see :attr:`data_config`)."""

    domain: str
    name: str = "run"
    data: Dict[str, Any] = field(default_factory=dict)
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    fit: FitConfig = field(default_factory=FitConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)

    def validate(self) -> None:
        check_run_name(self.name)

    @property
    def data_config(self):
        """The ``data`` section as the domain's ``DataConfig``, with paths under the data root
        (``data_root:...``, and ``../shared/data/...`` of older run dirs) resolved by
        :func:`vaekit.domains.data_root.resolve_data_paths`."""
        from vaekit.domains.data_root import resolve_data_paths

        return from_dict(get_domain(self.domain).DataConfig, resolve_data_paths(self.data), "data")

    @property
    def eval_options(self):
        return from_dict(get_domain(self.domain).EvalOptions, self.eval.options, "eval.options")


def packaged_config_path(spec: str) -> Path:
    """``domain:name`` -> the packaged YAML file."""
    dom_name, _, name = spec.partition(":")
    dom = get_domain(dom_name)
    path = dom.configs_dir() / f"{name}.yaml"
    if not path.is_file():
        names = dom.config_names()
        raise ConfigError(f"{spec}: no packaged config {name!r} in domain {dom_name!r}.{did_you_mean(name, names)} "
                          f"Available: {', '.join(f'{dom_name}:{n}' for n in names)}.")
    return path


def resolve_spec(spec: str) -> Path:
    """A CONFIG argument (path or ``domain:name``) -> a YAML path."""
    p = Path(spec)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.is_file():
            raise ConfigError(f"{spec}: config file not found. Pass an existing YAML file or a packaged "
                              f"'domain:name' (see `vaekit list configs`).")
        return p
    if ":" in spec:
        return packaged_config_path(spec)
    raise ConfigError(f"{spec}: not a file and not a packaged 'domain:name'. Domains: {', '.join(domain_names())}; "
                      f"see `vaekit list configs`.")


def config_from_dict(data: Dict[str, Any]) -> RunConfig:
    """Validate a whole run config mapping (including its data section)."""
    if "domain" not in data:
        raise ConfigError(f"domain: missing; every run config names its domain (one of {', '.join(domain_names())}).")
    if not isinstance(data["domain"], str):
        raise ConfigError(f"domain: expected str; got {data['domain']!r}.")
    get_domain(data["domain"])  # unknown domain -> did-you-mean error
    cfg = from_dict(RunConfig, data)
    cfg.data_config  # strict check of the data section
    cfg.eval_options  # and of the domain's metric options
    return cfg


def load_config(spec: str, overrides: Sequence[str] = ()) -> RunConfig:
    """Load CONFIG (path or ``domain:name``), apply ``--set`` overrides, validate."""
    cfg = config_from_dict(load_yaml(resolve_spec(spec)))
    if not overrides:
        return cfg
    # Overrides apply to the fully resolved config, so `--set model.head.params.x=1` works on a
    # config that leaves `model.head` at its default.
    data = apply_overrides(yaml.safe_load(dump_config(cfg)), overrides)
    keys = {".".join(parse_override(o)[0]) for o in overrides}
    if "train.max_steps" in keys and not any(k == "fit" or k.startswith("fit.epochs") for k in keys):
        data["fit"]["epochs"] = None  # a step count asked for wins over the config's epochs
    return config_from_dict(data)


def dump_config(cfg: RunConfig) -> str:
    """The fully resolved config (every default filled in) as YAML."""
    d = to_dict(cfg)
    d["data"] = to_dict(cfg.data_config)
    d["eval"]["options"] = to_dict(cfg.eval_options)
    return yaml.safe_dump(d, sort_keys=False)
