"""``check_domain``: the domain contract, checked the same way for every domain.

scikit-learn's ``check_estimator`` is the model: one function a domain's tests call, that
exercises what vaekit's pipelines rely on and fails with a message naming the domain, the rule
and what came back. It checks, on the domain's packaged config shrunk by its entry's ``smoke``
overrides (nothing is trained):

1. the declaration: ``domain.yaml`` matches the ``Domain`` (name), ``DataConfig`` and
   ``EvalOptions`` are frozen dataclasses, every ``needs_data`` and the demo's ``default``
   config exist;
2. every packaged config loads and validates (``vaekit config domain:name``);
3. the bundle: ``train``/``val``/``test`` are sized datasets, ``collate`` gives a
   :class:`~vaekit.core.types.Batch` whose ``x``, ``y``, ``cond``, ``mask`` lead with ``B``,
   :class:`~vaekit.core.types.DataInfo` survives ``to_dict``/``from_dict``;
4. the model: ``recon_nll`` is ``(B,)``, ``kl`` leads with ``B``, ``embed`` is ``(B, z_dim)``;
5. the metrics: every metric has a ``name``; every returned key declares a direction, no two
   metrics return the same key (one would overwrite the other in ``eval.json``), and every value
   is a finite number, NaN or ``None``;
6. decode -> save: ``decode`` gives one object per generated row and ``save_samples`` writes a
   non-empty file (``sample_file`` of the call, in the domain's format);
7. ``--cond``: a malformed condition is a :class:`~vaekit.core.errors.DataValidationError`
   that names ``--cond``; a conditional model sampled without one is refused.

Domains sit below the pipelines, so the checker lives here (it loads configs) and the tests of
each domain call it (``tests/domains/test_contract.py`` runs it on every discovered domain):
``check_domain("recsys", tmp_path)``.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import torch

from vaekit.core.errors import ConfigError, DataValidationError
from vaekit.core.types import Batch, DataInfo
from vaekit.domains import Domain, EvalContext, domain_entries, get_domain

from .config import load_config


class DomainContractError(AssertionError):
    """A domain breaks the contract; the message names the domain, the rule and the value."""


def _fail(domain: str, rule: str, got: Any) -> None:
    raise DomainContractError(f"domain {domain!r}: {rule}; got {got!r}.")


def _frozen_dataclass(cls: Any) -> bool:
    return dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen


def check_declaration(name: str) -> Domain:
    """Rule 1: the entry, the ``Domain`` object and its config classes agree."""
    entry = domain_entries()[name]
    domain = get_domain(name)
    if domain.name != entry.name:
        _fail(name, "Domain.name must equal the entry's name", domain.name)
    for attr in ("DataConfig", "EvalOptions"):
        if not _frozen_dataclass(getattr(domain, attr)):
            _fail(name, f"Domain.{attr} must be a frozen dataclass (a config section)", getattr(domain, attr))
    configs = set(domain.config_names())
    missing = sorted(set(entry.needs_data) - configs)
    if missing:
        _fail(name, "every needs_data entry of domain.yaml must name a packaged config", missing)
    if entry.demo is not None and "default" not in configs:
        _fail(name, "a domain in the demo needs a packaged configs/default.yaml", sorted(configs))
    return domain


def check_configs(name: str) -> List[str]:
    """Rule 2: every packaged config loads and validates; returns their ``domain:name``."""
    specs = [f"{name}:{c}" for c in get_domain(name).config_names()]
    for spec in specs:
        try:
            cfg = load_config(spec)
        except ConfigError as exc:
            raise DomainContractError(f"domain {name!r}: packaged config {spec} does not validate: {exc}") from exc
        if cfg.domain != name:
            _fail(name, f"{spec} must declare `domain: {name}`", cfg.domain)
    return specs


def _leads_with(t: Optional[torch.Tensor], b: int) -> bool:
    return t is None or (t.dim() >= 1 and t.shape[0] == b)


def check_bundle(name: str, data, n: int = 4) -> Batch:
    """Rule 3 on a loaded :class:`~vaekit.core.types.DataBundle`; returns a batch of ``n``."""
    for split in ("train", "val", "test"):
        ds = getattr(data, split)
        if ds is not None and not hasattr(ds, "__len__"):
            _fail(name, f"DataBundle.{split} must be a sized dataset", type(ds).__name__)
    if data.train is None or len(data.train) < n:
        _fail(name, f"the training split must hold at least {n} examples under the smoke overrides",
              None if data.train is None else len(data.train))
    if not isinstance(data.info, DataInfo):
        _fail(name, "DataBundle.info must be a DataInfo", type(data.info).__name__)
    if DataInfo.from_dict(data.info.to_dict()).to_dict() != data.info.to_dict():
        _fail(name, "DataInfo must survive to_dict/from_dict (it is saved as data_info.json)", data.info.to_dict())
    batch = data.collate([data.train[i] for i in range(n)])
    if not isinstance(batch, Batch):
        _fail(name, "collate must return a Batch", type(batch).__name__)
    if len(batch) != n:
        _fail(name, f"a batch of {n} examples must have len {n}", len(batch))
    for field_name in ("x", "y", "cond", "mask"):
        t = getattr(batch, field_name)
        if isinstance(t, torch.Tensor) and not _leads_with(t, n):
            _fail(name, f"Batch.{field_name} must lead with the batch size {n}", tuple(t.shape))
    if data.info.kind in ("vector", "image") and tuple(batch.x.shape[1:]) != tuple(data.info.shape):
        _fail(name, f"Batch.x must be (B, *DataInfo.shape) = (B, {tuple(data.info.shape)})", tuple(batch.x.shape))
    return batch


def check_model(name: str, model, batch: Batch) -> None:
    """Rule 4: the per-example shape convention (``core/types.py``) on one forward pass."""
    b = len(batch)
    with torch.no_grad():
        out = model(batch)
        z = model.embed(batch.encoder_input, batch.cond, batch.mask)
    if tuple(out.recon_nll.shape) != (b,):
        _fail(name, f"recon_nll must be (B,) = ({b},)", tuple(out.recon_nll.shape))
    if not _leads_with(out.kl, b):
        _fail(name, f"kl must be (B, units) with B = {b}", tuple(out.kl.shape))
    if z.dim() != 2 or z.shape[0] != b:
        _fail(name, f"embed must be (B, z_dim) with B = {b}", tuple(z.shape))
    if not torch.isfinite(out.recon_nll).all():
        _fail(name, "recon_nll of an untrained model must be finite", out.recon_nll.tolist())


def check_metrics(name: str, domain: Domain, ctx: EvalContext) -> Dict[str, Any]:
    """Rule 5: keys are unique across metrics and have a direction; values are numbers."""
    res: Dict[str, Any] = {}
    for metric in domain.metrics():
        if not metric.name:
            _fail(name, "every Metric declares a name", type(metric).__name__)
        torch.manual_seed(ctx.seed)
        vals = metric.compute(ctx)
        for key, v in vals.items():
            if key in res:  # res.update would silently overwrite the other metric's value
                _fail(name, f"metric {metric.name!r} returns a key another metric already returned", key)
            try:
                direction = metric.direction(key)
            except KeyError:
                _fail(name, f"metric {metric.name!r} must declare a direction (higher_is_better) for every key", key)
            if direction not in ("higher", "lower"):
                _fail(name, f"metric {metric.name!r}: direction must be 'higher' or 'lower'", direction)
            if not (v is None or isinstance(v, (int, float))):
                _fail(name, f"metric value {key!r} must be a number or None", type(v).__name__)
            if isinstance(v, float) and math.isinf(v):
                _fail(name, f"metric value {key!r} must not be infinite", v)
        res.update(vals)
    return res


def check_samples(name: str, domain: Domain, model, info: DataInfo, path: Path, n: int = 3,
                  cond: Optional[torch.Tensor] = None) -> Path:
    """Rule 6: sample -> ``decode`` -> ``save_samples``."""
    g = torch.Generator().manual_seed(0)
    x = model.sample(n, cond=cond, generator=g, sample_x=domain.sample_x)
    objs = domain.decode(x, info)
    if len(objs) != n:
        _fail(name, f"decode of {n} generated rows must return {n} objects", len(objs))
    out = Path(domain.save_samples(objs, Path(path), info))
    if not out.is_file() or out.stat().st_size == 0:
        _fail(name, "save_samples must write a non-empty file and return its path", str(out))
    return out


def check_cond(name: str, domain: Domain, model, info: DataInfo) -> Optional[torch.Tensor]:
    """Rule 7: ``--cond`` errors are clear; returns a valid condition for a conditional model."""
    try:
        domain.parse_cond(["this-is-not=a-condition", "nor=this"], info)
    except DataValidationError as exc:
        if "--cond" not in str(exc):
            _fail(name, "a malformed --cond must raise an error that names --cond", str(exc))
    else:
        _fail(name, "a malformed --cond must raise DataValidationError", "no error")
    if not model.conditional:
        return None
    try:
        model.sample(2)
    except DataValidationError:
        pass
    else:
        _fail(name, "sampling a conditional model without cond must raise DataValidationError", "no error")
    return torch.zeros(2, dtype=torch.long) if info.n_cond_classes else torch.zeros(2, info.cond_dim)


def check_domain(name: str, tmp_path: str | Path, *, config: str = "default", sample_file: Optional[str] = None,
                 overrides: Sequence[str] = ()) -> Dict[str, Any]:
    """Run every contract check on domain ``name``.

    Parameters
    ----------
    name : str
        A discovered domain.
    tmp_path : path
        Scratch folder (samples are written there).
    config : str
        The packaged config whose data and model are checked (default ``default``).
    sample_file : str, optional
        File name, in the domain's usual format, that generated samples are saved to
        (default: the entry's ``sample_file``).
    overrides : sequence of str
        ``--set`` overrides after the entry's ``smoke`` ones.

    Returns
    -------
    dict
        The metric values computed (for the caller's own assertions).

    Raises
    ------
    DomainContractError
        Naming the domain, the rule and the value that broke it.
    """
    entry = domain_entries()[name]
    domain = check_declaration(name)
    check_configs(name)
    cfg = load_config(f"{name}:{config}", list(entry.smoke) + ["eval.n_samples=8", *overrides])
    domain.check_requirements()
    data = domain.load_data(cfg.data_config, cfg.train.seed)
    batch = check_bundle(name, data)
    torch.manual_seed(cfg.train.seed)
    model = domain.build_model(cfg.model, data.info).eval()
    check_model(name, model, batch)
    cond = check_cond(name, domain, model, data.info)
    check_samples(name, domain, model, data.info, Path(tmp_path) / (sample_file or entry.sample_file), n=2 if cond is not None else 3,
                  cond=cond)
    split = cfg.eval.split if getattr(data, cfg.eval.split) is not None else "train"
    ctx = EvalContext(model, data, split, torch.device("cpu"), cfg.train.seed, cfg.eval.batch_size,
                      cfg.eval.n_samples, options=cfg.eval_options)
    return check_metrics(name, domain, ctx)


__all__ = ["check_domain", "check_declaration", "check_configs", "check_bundle", "check_model", "check_metrics",
           "check_samples", "check_cond", "DomainContractError"]
