"""Run directories: train, evaluate and generate from one folder that reproduces the run.

A run directory holds ``config.yaml`` (fully resolved), ``data_info.json``,
``versions.json``, ``checkpoints/{last,best}.pt`` (code-free, ``weights_only``-loadable),
``metrics.jsonl``, ``diagnostics.json`` and, after evaluation, ``eval.json``; ``.lock`` is the
lock file of its one writer (:mod:`vaekit.pipelines.runlock`). Every file is replaced
atomically (a reader or a crash never sees half of one).
"""
from __future__ import annotations

import contextlib
import json
import platform
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch
import yaml

from vaekit.core.checkpoint import atomic_path, load_checkpoint
from vaekit.core.diagnostics import diagnose, summary_line
from vaekit.core.distributed import DistEnv, barrier, cleanup, init_distributed, resolve_device
from vaekit.core.errors import CheckpointError, ConfigError
from vaekit.core.estimator import resolve_train
from vaekit.core.objectives import build_objective
from vaekit.core.seed import seed_everything
from vaekit.core.trainer import fit
from vaekit.core.types import DataInfo
from vaekit.core.yamlio import load_yaml
from vaekit.domains import EvalContext, get_domain

from .config import RunConfig, config_from_dict, dump_config
from .runlock import remove_if_unused, run_lock
from .tracking import Trackers, open_trackers

# Keys that may change when a run is resumed (they do not change what is being trained; the
# training length, train.max_steps or fit.epochs, may grow).
_RESUMABLE_CHANGES = ("train.max_steps", "fit.epochs", "train.progress", "train.num_workers", "train.device",
                      "train.eval_batch_size", "eval.", "tracking.")


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def default_run_dir(cfg: RunConfig) -> Path:
    """``runs/<domain>-<name>``: deterministic, so re-running a command resumes it."""
    return Path("runs") / f"{cfg.domain}-{cfg.name}"


def jsonable(obj: Any) -> Any:
    """Strict-JSON copy of ``obj``: non-finite floats become null (e.g. the condition number
    of a singular covariance), tensors become lists."""
    import math

    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _write_text(path: Path, text: str) -> None:
    """Write ``path`` atomically: a reader (or a crash) never sees half of it."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _write_json(path: Path, obj: Any) -> None:
    _write_text(path, json.dumps(jsonable(obj), indent=2, allow_nan=False) + "\n")


def _flatten(d: Dict[str, Any], prefix: str = "") -> Dict[str, Any]:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and k != "params" and not key.startswith("data"):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _config_changes(old: Dict[str, Any], new: Dict[str, Any]) -> List[str]:
    a, b = _flatten(old), _flatten(new)
    return [f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k) and not any(k.startswith(p) for p in _RESUMABLE_CHANGES)]


def _versions() -> Dict[str, str]:
    import numpy

    v = {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__,
         "platform": platform.platform()}
    try:
        from importlib.metadata import version

        v["vaekit"] = version("vaekit")
    except Exception:  # pragma: no cover - not installed as a distribution
        v["vaekit"] = "unknown"
    return v


def _prepare_run_dir(cfg: RunConfig, run_dir: Path, resume: str, env: DistEnv) -> None:
    if not env.is_main:
        return
    cfg_file = run_dir / "config.yaml"
    new = yaml.safe_load(dump_config(cfg))
    if cfg_file.exists():
        if resume == "never":
            for name in ("checkpoints", "metrics.jsonl", "diagnostics.json", "eval.json", "report.html",
                         "report.json", "tensorboard", "mlflow_run.txt"):
                p = run_dir / name
                if p.is_symlink():  # remove the link itself, never what it points to
                    p.unlink()
                elif p.is_dir():
                    shutil.rmtree(p)
                elif p.exists():
                    p.unlink()
        else:
            saved = load_yaml(cfg_file) or {}
            try:
                # Re-resolve the saved config with today's schema, so an option added since the
                # run was started (absent there, at its default here) is not a change.
                saved = yaml.safe_load(dump_config(config_from_dict(saved)))
            except ConfigError:
                pass  # an option since removed or renamed: compare as written
            changes = _config_changes(saved, new)
            if changes and (run_dir / "checkpoints" / "last.pt").exists():
                raise ConfigError(
                    f"{run_dir}: this run directory holds a run with a different config ({'; '.join(changes[:5])}). "
                    f"Resuming it would mix two runs. Use --run-dir NEW_DIR, or --fresh to overwrite it.")
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_text(run_dir / "config.yaml", dump_config(cfg))
    _write_json(run_dir / "versions.json", _versions())


def train_run(cfg: RunConfig, run_dir: Optional[str | Path] = None, resume: str = "auto",
              log: Callable[[str], None] = _err) -> Dict[str, Any]:
    """Train ``cfg`` into ``run_dir`` (resuming it if it holds the same run).

    Works under ``torchrun``: every rank trains its shard; rank 0 writes the run directory
    and holds its lock (:mod:`vaekit.pipelines.runlock`: a second writer stops at once with
    :class:`~vaekit.pipelines.runlock.RunDirBusyError`). A run directory this call created is
    removed again when the setup (data, model, trackers) fails before training starts.
    Returns a summary with the run directory, the final train state and the diagnostics on
    the validation split.
    """
    env = init_distributed(cfg.train.device)
    try:
        run_dir = Path(run_dir) if run_dir is not None else default_run_dir(cfg)
        domain = get_domain(cfg.domain)
        domain.check_requirements()
        with run_lock(run_dir) if env.is_main else contextlib.nullcontext(run_dir):
            return _train_locked(cfg, domain, run_dir, resume, env, log)
    finally:
        cleanup(env)


def _train_locked(cfg: RunConfig, domain, run_dir: Path, resume: str, env: DistEnv,
                  log: Callable[[str], None]) -> Dict[str, Any]:
    """:func:`train_run` once this process holds the run directory."""
    try:
        _prepare_run_dir(cfg, run_dir, resume, env)
        barrier(env)
        seed_everything(cfg.train.seed)
        data = domain.load_data(cfg.data_config, cfg.train.seed)
        if env.is_main:
            _write_json(run_dir / "data_info.json", data.info.to_dict())
        torch.manual_seed(cfg.train.seed)
        model = domain.build_model(cfg.model, data.info).to(env.device)
        objective = build_objective(cfg.objective)
        _prepare_terms(model, domain, data, cfg, run_dir, env, log)
        resolved = yaml.safe_load(dump_config(cfg))
        trackers = open_trackers(cfg.tracking, run_dir, resolved, log) if env.is_main else []
    except BaseException:
        # Nothing was trained: a folder this command made holds only its config, so it goes
        # (a folder that existed before, or one with checkpoints, is left as it is).
        if env.is_main:
            remove_if_unused(run_dir)
        raise
    if env.is_main:
        n_params = sum(p.numel() for p in model.parameters())
        log(f"vaekit: training {cfg.domain}:{cfg.name} ({n_params:,} parameters, {len(data.train):,} train "
            f"examples) on {env.device}" + (f" x {env.world_size} processes" if env.enabled else "")
            + f" -> {run_dir}")
    with Trackers(trackers) as tracked:
        # fit.epochs (the Python facades' training length) resolved to steps for this data
        state = fit(model, objective, data, resolve_train(cfg.train, cfg.fit, len(data.train)), run_dir=run_dir,
                    resume="auto" if resume == "never" else resume, env=env, extra_state={"config": resolved},
                    log=log, val_metrics=domain.validation_metrics(data),
                    on_record=tracked.log if trackers else None)
    summary: Dict[str, Any] = {"run_dir": str(run_dir), "step": state.step, "best_step": state.best_step,
                               "val": state.last_val, "elapsed_s": state.elapsed_s}
    if env.is_main:
        split = "val" if data.val is not None and len(data.val) else "train"
        ctx = EvalContext(model.eval(), data, split, env.device, cfg.train.seed, cfg.eval.batch_size)
        diag = diagnose(model, _Reiterable(ctx, split), device=env.device, mi_examples=cfg.eval.mi_examples,
                        seed=cfg.train.seed, warn=False)
        _write_json(run_dir / "diagnostics.json", {"split": split, **diag})
        summary["diagnostics"] = diag
        log(f"vaekit: done at step {state.step} (best {cfg.train.monitor} at step {state.best_step}); {split}: "
            + summary_line(diag))
        for w in diag["warnings"]:
            log(f"vaekit: warning: {w}")
        for note in diag["notes"]:
            log(f"vaekit: note: {note}")
    return summary


def _prepare_terms(model, domain, data, cfg: RunConfig, run_dir: Path, env: DistEnv,
                   log: Callable[[str], None]) -> None:
    """Let every auxiliary model term prepare before training (e.g. the perceptual term trains
    its feature network on a fresh run), with what the domain supplies for its kind."""
    resumed = (run_dir / "checkpoints" / "last.pt").exists()
    for kind, term in model.terms.items():
        term.prepare(data, domain.term_resources(kind, data.info), resumed=resumed, device=env.device,
                     seed=cfg.train.seed, log=log if env.is_main else None)


class _Reiterable:
    """Batches of one split that can be iterated more than once (diagnostics need two passes)."""

    def __init__(self, ctx: EvalContext, split: Optional[str] = None):
        self.ctx, self.split = ctx, split

    def __iter__(self):
        return self.ctx.batches(self.split)


def load_run(run_dir: str | Path, device: str = "auto", which: str = "best"):
    """Rebuild a trained model from its run directory.

    Returns
    -------
    (RunConfig, Domain, VAE, DataInfo, dict)
        The last item is the checkpoint's ``train_state``.
    """
    run_dir = Path(run_dir)
    cfg_file = run_dir / "config.yaml"
    if not cfg_file.is_file():
        raise CheckpointError(f"{run_dir}: not a vaekit run directory (no config.yaml). Pass the folder that "
                              f"`vaekit train` wrote (default runs/<domain>-<name>).")
    cfg = config_from_dict(load_yaml(cfg_file))
    info_file = run_dir / "data_info.json"
    if not info_file.is_file():
        raise CheckpointError(f"{run_dir}: data_info.json is missing; the run did not get past loading its data.")
    info = DataInfo.from_dict(json.loads(info_file.read_text()))
    domain = get_domain(cfg.domain)
    domain.check_requirements()
    dev = resolve_device(device)
    torch.manual_seed(cfg.train.seed)
    model = domain.build_model(cfg.model, info).to(dev)
    ck_path = run_dir / "checkpoints" / f"{which}.pt"
    if not ck_path.exists() and which == "best":
        ck_path = run_dir / "checkpoints" / "last.pt"
    ck = load_checkpoint(ck_path, map_location=dev)
    try:
        model.load_state_dict(ck["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"{ck_path}: does not fit the model built from {cfg_file} ({exc}).") from exc
    model.eval()
    return cfg, domain, model, info, ck.get("train_state", {})


def writing_run(run_dir: str | Path):
    """The lock of an existing run directory that a command is about to write results into
    (``eval.json``, the report); no lock (and no ``.lock`` file) for a folder that is not a
    run, which :func:`load_run` then rejects."""
    run_dir = Path(run_dir)
    return run_lock(run_dir) if (run_dir / "config.yaml").is_file() else contextlib.nullcontext(run_dir)


def evaluation(run_dir: str | Path, split: Optional[str] = None, device: str = "auto",
               iw_samples: Optional[int] = None, *, mlflow_uri: Optional[str] = None,
               tracking_from_config: bool = False):
    """Evaluate a trained run and keep what the report needs.

    Holds the run directory's lock (a run being trained or evaluated by another process is
    refused). MLflow logs where the user says (``mlflow_uri``, else ``MLFLOW_TRACKING_URI``),
    not where the run directory's ``config.yaml`` says, unless ``tracking_from_config``: the
    command itself just wrote that config from the user's (sweep, study, demo, benchmark).

    Returns
    -------
    (dict, EvalContext, Domain)
        The flat result (see :func:`evaluate_run`), the context the metrics filled (its
        ``extra`` cache holds their outputs) and the run's domain.
    """
    with writing_run(run_dir):
        return _evaluation(Path(run_dir), split, device, iw_samples, mlflow_uri, tracking_from_config)


def _evaluation(run_dir: Path, split: Optional[str], device: str, iw_samples: Optional[int],
                mlflow_uri: Optional[str], tracking_from_config: bool):
    cfg, domain, model, info, tstate = load_run(run_dir, device)
    split = split or cfg.eval.split
    # Trackers first: a tracking URI MLflow refuses is reported before minutes of evaluation.
    trackers = open_trackers(cfg.tracking, run_dir, yaml.safe_load(dump_config(cfg)), _err, mlflow_uri=mlflow_uri,
                             from_saved_config=not tracking_from_config)
    with Trackers(trackers) as tracked:
        data = domain.load_data(cfg.data_config, cfg.train.seed)
        if data.info.to_dict() != info.to_dict():
            raise CheckpointError(f"{run_dir}: the data loaded now differs from the data the model was trained on "
                                  f"(data_info.json). Evaluate with the same data files, or retrain.")
        dev = next(model.parameters()).device
        ctx = EvalContext(model, data, split, dev, cfg.train.seed, cfg.eval.batch_size, cfg.eval.n_samples,
                          options=cfg.eval_options)
        if getattr(data, split) is None or len(getattr(data, split)) == 0:
            raise ConfigError(f"eval.split: the {split!r} split of this data is empty; choose another split.")
        k = cfg.eval.iw_samples if iw_samples is None else iw_samples
        res: Dict[str, Any] = {"domain": cfg.domain, "name": cfg.name, "split": split, "step": tstate.get("step")}
        res.update(diagnose(model, _Reiterable(ctx), device=dev, iw_samples=k, mi_examples=cfg.eval.mi_examples,
                            seed=cfg.train.seed, warn=False))
        directions = {}
        for metric in domain.metrics():
            torch.manual_seed(cfg.train.seed)
            vals = metric.compute(ctx)
            res.update(vals)
            directions.update({k2: metric.direction(k2) for k2 in vals})
        res["metric_directions"] = directions
        _write_json(Path(run_dir) / "eval.json", res)
        tracked.log_final(res, int(res.get("step") or 0))
    torch.manual_seed(cfg.train.seed)  # the report's own sampling is reproducible too
    return res, ctx, domain


def evaluate_run(run_dir: str | Path, split: Optional[str] = None, device: str = "auto",
                 iw_samples: Optional[int] = None, report: bool = True, *, mlflow_uri: Optional[str] = None,
                 tracking_from_config: bool = False) -> Dict[str, Any]:
    """Diagnostics and domain metrics of a trained run on ``split``; writes ``eval.json`` and,
    with ``report``, the self-contained ``report.html`` (:mod:`vaekit.pipelines.report`).

    Returns one flat mapping: the diagnostics (``kl``, ``rate``, ``distortion``, ``elbo``,
    ``active_units``, ``kl_per_dim``, ``isotropy``, ``mutual_info``, ``nll_iw``...) and the
    domain's metrics, plus ``split``, ``step``, ``domain`` and (with ``report``) ``report``.
    ``mlflow_uri``, ``tracking_from_config``: see :func:`evaluation`.
    """
    with writing_run(run_dir):  # one lock across the evaluation and its report
        res, ctx, domain = evaluation(run_dir, split, device, iw_samples, mlflow_uri=mlflow_uri,
                                      tracking_from_config=tracking_from_config)
        if report:
            from .report import write_run_report

            res["report"] = str(write_run_report(run_dir, res, ctx, domain))
    return res


def generate_run(run_dir: str | Path, n: int, out: str | Path, cond: Sequence[str] = (), seed: int = 0,
                 sample_x: Optional[bool] = None, device: str = "auto", batch_size: int = 1024,
                 input_path: Optional[str | Path] = None) -> Path:
    """Sample ``n`` examples from a trained run and write them with the domain's format.

    ``sample_x``: draw ``x ~ p(x|z)`` (True) or take its mean / greedy decoding (False);
    None uses the domain's convention (``Domain.sample_x``). With ``input_path`` the domain
    computes outputs for those inputs instead (:meth:`Domain.generate_from_inputs`, e.g.
    ``n`` recommendations per user history).
    """
    if n < 1:
        raise ConfigError(f"-n: the number of samples must be >= 1; got {n}.")
    cfg, domain, model, info, _ = load_run(run_dir, device)
    if input_path is not None:
        if not Path(input_path).exists():
            raise ConfigError(f"--input: {input_path} does not exist.")
        return domain.generate_from_inputs(model, info, Path(input_path), n, Path(out), seed, cond=list(cond))
    dev = next(model.parameters()).device
    c = domain.parse_cond(list(cond), info)
    if model.conditional and c is None:
        raise ConfigError(f"--cond: {run_dir} holds a conditional model; pass the condition, e.g. "
                          f"{domain.cond_example}.")
    g = torch.Generator(device=dev).manual_seed(seed)
    sample_x = domain.sample_x if sample_x is None else sample_x
    outs: List[Any] = []
    for i in range(0, n, batch_size):
        m = min(batch_size, n - i)
        ci = None if c is None else c.to(dev)
        outs.extend(domain.decode(model.sample(m, cond=ci, generator=g, sample_x=sample_x), info))
    return domain.save_samples(outs, Path(out), info)

