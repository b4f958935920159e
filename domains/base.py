"""The domain contract: how a domain plugs its data, metrics and outputs into vaekit.

A domain is registered by name and imported lazily (its heavy dependencies load only when
it is used). Pipelines talk to every domain through this interface only.
"""
from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Type

import torch

from vaekit.core.errors import MissingDependencyError
from vaekit.core.types import Batch, DataBundle, DataInfo
from vaekit.core.vae import VAE, ModelConfig, build_vae


@dataclass
class EvalContext:
    """What a metric may use. Build it once per evaluation; metrics read from it.

    Attributes
    ----------
    model : VAE
        In eval mode, on ``device``.
    data : DataBundle
    split : str
        The evaluated split (``"val"`` or ``"test"``).
    device : torch.device
    seed : int
    batch_size : int
    n_samples : int
        How many examples sample-based metrics generate.
    options : object, optional
        The domain's ``EvalOptions`` (from the run config's ``eval.options``).
    extra : dict
        Cache shared between metrics (e.g. embeddings computed once).
    """

    model: VAE
    data: DataBundle
    split: str = "test"
    device: torch.device = torch.device("cpu")
    seed: int = 0
    batch_size: int = 512
    n_samples: int = 1000
    options: Any = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def dataset(self):
        return getattr(self.data, self.split)

    def batches(self, split: Optional[str] = None) -> Iterator[Batch]:
        """Batches of a split in order, on ``device``."""
        ds = getattr(self.data, split or self.split)
        for i in range(0, len(ds), self.batch_size):
            yield self.data.collate([ds[j] for j in range(i, min(len(ds), i + self.batch_size))]).to(self.device)

    def options_as(self, cls: type) -> Any:
        """``options`` when it is a ``cls``, else ``cls()``: a domain's ``EvalOptions`` with its
        defaults when the run config has no (or another domain's) ``eval.options``."""
        return self.options if isinstance(self.options, cls) else cls()

    def cached(self, key: str, fn: Callable[[], Any]) -> Any:
        """Compute ``fn()`` once per context under ``key``."""
        if key not in self.extra:
            self.extra[key] = fn()
        return self.extra[key]

    @torch.no_grad()
    def embeddings(self, split: Optional[str] = None) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Deterministic embeddings ``(N, z_dim)`` and labels ``y`` (if any) of a split."""
        def run():
            zs, ys = [], []
            for b in self.batches(split):
                zs.append(self.model.embed(b.encoder_input, b.cond, b.mask).float().cpu())
                if b.y is not None:
                    ys.append(b.y.cpu())
            return torch.cat(zs), (torch.cat(ys) if ys else None)

        return self.cached(f"embeddings/{split or self.split}", run)


class Metric(ABC):
    """A domain metric.

    Attributes
    ----------
    name : str
        The metric's name (its keys usually start with it; keys must be unique across a
        domain's metrics, which ``vaekit.pipelines.checks.check_domain`` checks).
    higher_is_better : bool or dict
        One direction for every key, or ``{key: bool}`` when keys differ.
    needs : tuple of str
        What it uses: any of ``"model"``, ``"data"``, ``"samples"``.
    """

    name: str = ""
    higher_is_better: bool | Dict[str, bool] = True
    needs: Tuple[str, ...] = ("model", "data")

    def direction(self, key: str) -> str:
        """``"higher"`` or ``"lower"`` (is better) for one returned key."""
        hib = self.higher_is_better
        if isinstance(hib, dict):
            if key not in hib:
                raise KeyError(f"metric {self.name!r} declares no direction for key {key!r}")
            hib = hib[key]
        return "higher" if hib else "lower"

    @abstractmethod
    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        """Return ``{key: value}``; keys usually start with ``name`` and are unique across the domain's metrics."""


@dataclass(frozen=True)
class NoEvalOptions:
    """``eval.options`` of a domain whose metrics take no options (the section must be empty)."""


class Domain(ABC):
    """Base class of a domain.

    Subclasses set ``name``, ``DataConfig`` (a frozen dataclass: the ``data`` section of a
    run config), optionally ``EvalOptions`` (a frozen dataclass: ``eval.options``, read by
    the metrics as ``EvalContext.options``). What the domain needs installed is declared in
    its entry (``domain.yaml``: ``requires``, the modules, and ``pip``, its extra).
    """

    name: str = ""
    DataConfig: Type = object
    EvalOptions: Type = NoEvalOptions
    cond_example: str = "--cond NAME=VALUE"
    #: Generation draws x ~ p(x|z) (True) or takes its mean / greedy decoding (False).
    sample_x: bool = False

    def check_requirements(self) -> None:
        """Raise :class:`MissingDependencyError` with the pip line if a module the domain's
        entry ``requires`` is missing."""
        from .entries import domain_entries

        entry = domain_entries().get(self.name)
        for mod in entry.requires if entry is not None else ():
            try:
                importlib.import_module(mod)
            except ImportError as exc:
                raise MissingDependencyError(
                    f"domain {self.name!r} needs the module {mod!r}, which is not installed. "
                    f"Install it with: pip install 'vaekit[{self.name}]'") from exc

    @abstractmethod
    def load_data(self, cfg: Any, seed: int) -> DataBundle:
        """Load (or generate) the data described by ``cfg`` and split it with ``seed``."""

    def build_model(self, cfg: ModelConfig, info: DataInfo) -> VAE:
        """Build the model (default: :func:`~vaekit.core.vae.build_vae`)."""
        return build_vae(cfg, info)

    def metrics(self) -> List[Metric]:
        """The domain's metrics, computed by ``vaekit evaluate``."""
        return []

    def validation_metrics(self, data: DataBundle) -> Optional[Callable[[VAE], Dict[str, float]]]:
        """Extra quantities computed on ``data.val`` at every validation during training.

        Returns ``None`` (the default: the trainer's validation loss only) or a function of
        the model (in eval mode, without gradients) returning ``{key: value}``; ``train.monitor``
        may name a key (with ``train.monitor_mode``) to select the best checkpoint by it.
        """
        return None

    @abstractmethod
    def decode(self, x: torch.Tensor, info: DataInfo) -> List[Any]:
        """Model-space outputs ``(N, ...)`` -> domain objects (strings, lists, rows)."""

    @abstractmethod
    def save_samples(self, samples: List[Any], path: Path, info: DataInfo) -> Path:
        """Write decoded samples to ``path`` in the domain's usual file format."""

    def generate_from_inputs(self, model: VAE, info: DataInfo, input_path: Path, n: int, out: Path,
                             seed: int = 0, cond: Sequence[str] = ()) -> Path:
        """``vaekit generate RUN --input FILE [--cond ...]``: outputs computed from given inputs
        rather than sampled from the prior (e.g. top-``n`` recommendations for user histories,
        sentences restyled into ``--cond style=L``). Domains that support it override this; the
        default refuses."""
        from vaekit.core.errors import ConfigError

        raise ConfigError(f"--input: domain {self.name!r} generates from the prior only; omit --input.")

    def term_resources(self, kind: str, info: DataInfo) -> Dict[str, Any]:
        """What the domain supplies to the auxiliary model term ``kind`` (an entry of
        ``model.terms``) before training; the term's ``prepare`` reads it. The ``perceptual``
        term takes ``{"features": net}``, a trained feature network called as
        ``net(x, None, None) -> (B, F)`` (e.g. ChemNet would be a molecules domain's own).
        Default: nothing, so vaekit trains what a term needs on the training split."""
        return {}

    def benchmark_protocols(self) -> Dict[str, Any]:
        """The domain's declared benchmark protocols by name (``suite: <domain>:<name>`` in a
        ``vaekit benchmark`` spec): the ``PROTOCOLS`` mapping of the ``protocol`` module beside the
        domain's module (:class:`vaekit.domains.protocols.Protocol` values); none without one."""
        package = type(self).__module__.rpartition(".")[0]
        try:
            module = importlib.import_module(f"{package}.protocol")
        except ModuleNotFoundError as exc:
            if exc.name != f"{package}.protocol":
                raise  # the protocol module exists but needs something missing
            return {}
        return dict(getattr(module, "PROTOCOLS", {}))

    def report_sections(self, ctx: EvalContext, result: Dict[str, Any]) -> List[Any]:
        """The domain's own view in the run report (``report.html``): a list of
        :class:`vaekit.domains.report_parts.Section` (e.g. molecule grids, ROC curves,
        transfer examples). ``ctx`` is the evaluation's context (its ``extra`` cache holds what
        the metrics computed), ``result`` the flat result of ``vaekit evaluate``. Default: none."""
        return []

    def parse_cond(self, spec: Sequence[str], info: DataInfo) -> Optional[torch.Tensor]:
        """Turn CLI ``--cond`` strings into a condition tensor (domains with conditions override)."""
        from vaekit.core.errors import DataValidationError

        if spec:
            raise DataValidationError(f"--cond: domain {self.name!r} takes no condition; got {list(spec)}.")
        return None

    def parse_class_cond(self, spec: Sequence[str], info: DataInfo, key: str) -> Optional[torch.Tensor]:
        """``["<key>=K"]`` -> the class id ``K`` of a class-conditional model (shared by the
        domains whose condition is an integer label); no class condition falls back to
        :meth:`parse_cond`'s refusal."""
        from vaekit.core.errors import DataValidationError, fmt_error

        if not spec:
            return None
        if not info.n_cond_classes:
            return Domain.parse_cond(self, spec, info)
        k_max = info.n_cond_classes
        if len(spec) != 1 or not spec[0].startswith(f"{key}="):
            raise DataValidationError(fmt_error("--cond", f"{key}=K with K in [0, {k_max})", list(spec),
                                                f"Pass e.g. --cond {key}=0."))
        try:
            k = int(spec[0].split("=", 1)[1])
        except ValueError:
            raise DataValidationError(fmt_error("--cond", f"an integer {key}", spec[0],
                                                f"Pass e.g. {key}=0.")) from None
        if not 0 <= k < k_max:
            raise DataValidationError(fmt_error("--cond", f"{key} in [0, {k_max})", k, "Pick an existing class."))
        return torch.tensor(k)

    @classmethod
    def configs_dir(cls) -> Path:
        """Folder of the domain's packaged ``configs/*.yaml``."""
        return Path(importlib.import_module(cls.__module__).__file__).parent / "configs"

    def config_names(self) -> List[str]:
        d = self.configs_dir()
        return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []
