"""The training loop: AMP, gradient clipping and accumulation, DDP, atomic checkpoints,
exact resume, early stopping, progress bar and ``metrics.jsonl`` (nanoGPT-shaped).

Data order and randomness are functions of ``(seed, step, slot)`` only (see
:mod:`vaekit.core.seed`): global batch ``t`` is a fixed slice of epoch ``t // batches_per_epoch``'s
seeded permutation, split into ``world_size * grad_accum`` equal micro-batches ("slots"), and
torch is reseeded before each slot. Hence resume == uninterrupted run (bitwise on CPU fp32),
and ``W`` ranks x ``A`` accumulation steps compute the same update for every ``W * A``. This
replaces ``DistributedSampler``, whose shuffling depends on the world size.

A phase plan (``train.phases``, :mod:`vaekit.core.phases`) gives each phase its own optimizer
over named submodules; the phase of step ``t`` is a function of ``t`` alone, each phase's
optimizer state is checkpointed, so a phased run resumes exactly too. ``fit`` is setup
(:class:`_Run`), resume, the steps, evaluation and checkpoints, and :func:`_finish`.
"""
from __future__ import annotations

import contextlib
import json
import math
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Literal, Optional, Tuple

import torch
from torch import nn

from .checkpoint import atomic_path, load_checkpoint, save_checkpoint
from .distributed import DistEnv, all_reduce_sum, barrier, check_device_name
from .errors import CheckpointError, ConfigError, TrainingError
from .phases import PhaseConfig, PhasePlan, resolve_submodules, select_parameters, validate_phases
from .registry import did_you_mean
from .rules import check_number
from .seed import derive_seed
from .types import Batch, DataBundle

_EVAL_TAG = 0x5EED_E7A1  # separates evaluation seeds from training seeds


@dataclass(frozen=True)
class TrainConfig:
    """The train section of a run config.

    Attributes
    ----------
    max_steps : int
        Optimizer steps.
    batch_size : int
        *Global* batch size (all ranks and accumulation steps together); it must be divisible
        by ``world_size * grad_accum``.
    grad_accum : int
        Micro-batches per optimizer step on each rank.
    lr, weight_decay : float
    optimizer : {"adam", "adamw"}
    lr_schedule : {"constant", "cosine"}
        After ``warmup_steps`` of linear warm-up.
    grad_clip : float
        Max global gradient norm (0 disables).
    precision : {"fp32", "bf16", "fp16"}
        Autocast dtype for the forward pass; the objective runs in fp32; fp16 uses a
        GradScaler. bf16 works on CPU and recent GPUs.
    compile : bool
        ``torch.compile`` the model.
    eval_every : int
        Steps between validation passes (0: only at the end).
    eval_batch_size : int
    log_every : int
        Steps between ``metrics.jsonl`` training records.
    checkpoint_every : int
        Steps between ``last.pt`` writes besides those at each evaluation (0: at evaluations only).
    early_stopping_patience : int
        Evaluations without improvement of ``monitor`` before stopping (0 disables).
    min_delta : float
        Improvement needed to reset the patience.
    monitor : str
        Validation quantity to select ``best.pt`` and stop early on: ``neg_elbo`` (the true
        negative ELBO, beta = 1; comparable across annealing), ``loss`` (the training
        objective), ``recon``, ``kl``, or a key of the extra validation metrics passed to
        :func:`fit` (a domain's, e.g. the recommendation domain's ``ndcg@100``, the model
        selection of Liang et al. 2018).
    monitor_mode : {"min", "max"}
        Whether lower or higher ``monitor`` is better.
    restore_best : bool
        Load the best weights into the model when training ends (from ``best.pt``, or,
        without a run directory, from a copy kept in memory at each new best).
    seed : int
    device : str
        ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
    num_workers : int
        DataLoader worker processes.
    length_buckets : int
        For variable-length sequences: sort each run of this many consecutive global batches
        of the epoch's permutation by length, then shuffle the batch order, so a batch pads
        to similar lengths (the bucketing of fairseq / torchtext's ``BucketIterator``; much
        less padding on CPU). 0 or 1: off. Needs a dataset with ``lengths``.
    progress : bool
        Show a progress bar (rank 0 only).
    phases : list of PhaseConfig
        A phase plan (:mod:`vaekit.core.phases`): each phase has its own optimizer over the
        parameters of the submodules it names and lasts ``steps`` (or ``epochs``) per block;
        the trainer cycles through them (RecVAE's alternating encoder / decoder passes, a
        discriminator step). Empty (the default): one optimizer over every parameter.
    divergence_factor : float or None
        Stop a run whose loss explodes while still finite (a too large ``lr`` can take the
        loss from 20 to 1e11 nats and keep it there). A step's training loss ``L`` is
        *exploded* when ``L > m + divergence_factor * max(|m|, 1)``, where ``m`` is the median
        of the last 50 non-exploded step losses of the same phase (``max(|m|, 1)`` keeps the
        bar meaningful for losses near zero or negative, e.g. a Gaussian likelihood with a
        learned scale). Exploded losses do not enter the window, so a diverging run cannot
        raise its own reference; the run stops, with the advice given for a non-finite loss,
        at the third exploded step in a row, so a single outlier batch is tolerated. The
        first step is judged by nothing (no history) and the large losses of the first steps
        only raise the bar, so an untrained model's loss is never mistaken for divergence;
        the window starts empty again on resume. With DDP the ranks judge their mean loss,
        so they stop together. Default 100; ``null`` turns the check off.
    """

    max_steps: int = 1000
    batch_size: int = 128
    grad_accum: int = 1
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: Literal["adam", "adamw"] = "adam"
    lr_schedule: Literal["constant", "cosine"] = "constant"
    warmup_steps: int = 0
    grad_clip: float = 0.0
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    compile: bool = False
    eval_every: int = 200
    eval_batch_size: int = 512
    log_every: int = 50
    checkpoint_every: int = 0
    early_stopping_patience: int = 0
    min_delta: float = 0.0
    monitor: str = "neg_elbo"
    monitor_mode: Literal["min", "max"] = "min"
    restore_best: bool = True
    seed: int = 0
    device: str = "auto"
    num_workers: int = 0
    length_buckets: int = 0
    progress: bool = True
    phases: Tuple[PhaseConfig, ...] = ()
    divergence_factor: Optional[float] = 100.0

    def validate(self, path: str = "train") -> None:
        for name in ("max_steps", "batch_size", "grad_accum", "eval_batch_size", "log_every"):
            check_number(f"{path}.{name}", getattr(self, name), ge=1, integer=True, example=getattr(TrainConfig, name))
        for name in ("eval_every", "checkpoint_every", "early_stopping_patience", "warmup_steps", "num_workers",
                     "length_buckets"):
            check_number(f"{path}.{name}", getattr(self, name), ge=0, integer=True, example=0)
        check_number(f"{path}.lr", self.lr, gt=0, example=1e-3)
        check_number(f"{path}.weight_decay", self.weight_decay, ge=0, example=0.0,
                     fix=f"Set {path}.weight_decay to 0 (off) or a small positive value, e.g. "
                         f"--set {path}.weight_decay=0.01; a negative decay pushes the weights to grow.")
        check_number(f"{path}.grad_clip", self.grad_clip, ge=0, example=1.0,
                     fix=f"Set {path}.grad_clip to 0 (no clipping) or a positive max norm, e.g. "
                         f"--set {path}.grad_clip=1.0.")
        check_number(f"{path}.min_delta", self.min_delta, ge=0, example=0.0)
        if self.divergence_factor is not None:
            check_number(f"{path}.divergence_factor", self.divergence_factor, gt=0, example=100,
                         fix=f"Set {path}.divergence_factor to a positive factor, e.g. --set "
                             f"{path}.divergence_factor=100, or null to turn the divergence check off.")
        if not self.monitor:
            raise ConfigError(f"{path}.monitor: must name a validation quantity (e.g. neg_elbo); got "
                              f"{self.monitor!r}.")
        check_device_name(self.device, f"{path}.device")
        validate_phases(self.phases, f"{path}.phases")


@dataclass
class TrainState:
    """Progress of a run; saved in every checkpoint."""

    step: int = 0
    best_metric: float = math.inf  # of the monitored quantity, negated when monitor_mode is "max"
    best_step: int = -1
    evals_since_best: int = 0
    stopped_early: bool = False
    last_val: Dict[str, float] = field(default_factory=dict)
    elapsed_s: float = 0.0


# ---------------------------------------------------------------------------- data order
class _StepBatches(torch.utils.data.Sampler):
    """Yields this rank's micro-batch index lists for steps ``start .. max_steps - 1``."""

    def __init__(self, n: int, global_batch: int, seed: int, start: int, max_steps: int, rank: int,
                 world: int, accum: int, lengths: Optional[torch.Tensor] = None, buckets: int = 0):
        self.n, self.g, self.seed = n, global_batch, seed
        self.start, self.max_steps = start, max_steps
        self.rank, self.world, self.accum = rank, world, accum
        self.per_epoch = n // global_batch
        self.micro = global_batch // (world * accum)
        self.lengths, self.buckets = lengths, buckets
        self._perm_epoch, self._perm = -1, None

    def _epoch_order(self, epoch: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(derive_seed(self.seed, epoch))
        perm = torch.randperm(self.n, generator=g)
        if self.lengths is None or self.buckets <= 1:
            return perm
        used = perm[: self.per_epoch * self.g]
        chunk = self.buckets * self.g
        parts = [c[torch.argsort(self.lengths[c], stable=True)] for c in used.split(chunk)]
        batches = torch.cat(parts).reshape(self.per_epoch, self.g)
        return batches[torch.randperm(self.per_epoch, generator=g)].reshape(-1)

    def global_batch(self, step: int) -> torch.Tensor:
        epoch, k = divmod(step, self.per_epoch)
        if epoch != self._perm_epoch:
            self._perm, self._perm_epoch = self._epoch_order(epoch), epoch
        return self._perm[k * self.g:(k + 1) * self.g]

    def __iter__(self) -> Iterator[List[int]]:
        for step in range(self.start, self.max_steps):
            gb = self.global_batch(step)
            for a in range(self.accum):
                slot = self.rank * self.accum + a
                yield gb[slot * self.micro:(slot + 1) * self.micro].tolist()

    def __len__(self) -> int:
        return (self.max_steps - self.start) * self.accum


def _effective_batch(n: int, cfg: TrainConfig, world: int, log: Callable[[str], None]) -> int:
    slots = world * cfg.grad_accum
    if cfg.batch_size % slots:
        raise ConfigError(f"train.batch_size: the global batch must be divisible by world_size x grad_accum = "
                          f"{world} x {cfg.grad_accum} = {slots}; got {cfg.batch_size}. Use a multiple of {slots}.")
    if n < slots:
        raise ConfigError(f"train: the training split has {n} examples, fewer than world_size x grad_accum = "
                          f"{slots} micro-batches. Use fewer processes or less accumulation.")
    if n >= cfg.batch_size:
        return cfg.batch_size
    g = (n // slots) * slots
    log(f"train.batch_size {cfg.batch_size} exceeds the {n} training examples; using a global batch of {g}.")
    return g


# ---------------------------------------------------------------------------- helpers
def _sigterm_as_interrupt() -> Callable[[], None]:
    """Treat SIGTERM like Ctrl-C while training, so ``last.pt`` is saved before the process ends.

    Schedulers stop jobs with SIGTERM (SLURM before a time limit or preemption, Kubernetes,
    ``kill``), and background jobs of a non-interactive shell ignore SIGINT. Returns the
    function that restores the previous handler. Only the main thread can set handlers.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    return lambda: signal.signal(signal.SIGTERM, previous)


def _lr_at(step: int, cfg: TrainConfig, base: Optional[float] = None) -> float:
    """The learning rate at ``step``: ``base`` (default ``cfg.lr``; a phase's own lr) after the
    warm-up and schedule of ``cfg``."""
    lr = cfg.lr if base is None else base
    if cfg.warmup_steps and step < cfg.warmup_steps:
        return lr * (step + 1) / cfg.warmup_steps
    if cfg.lr_schedule == "cosine":
        t = (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps)
        return lr * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))
    return lr


def _autocast(device: torch.device, precision: str):
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def _advice(precision: str) -> str:
    """What to try when the loss blows up (non-finite or diverged)."""
    tips = ["lower train.lr", "set train.grad_clip (e.g. 1.0)"]
    if precision == "fp16":
        tips.append("use train.precision bf16 or fp32 (fp16 overflows easily)")
    tips += ["check the data for extreme values",
             "for a Gaussian likelihood raise model.likelihood.params.min_scale"]
    return "Try: " + "; ".join(tips)


def _shown_terms(terms: Dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in terms.items() if isinstance(v, (int, float)))


def _nonfinite_error(step: int, terms: Dict[str, float], lr: float, precision: str) -> TrainingError:
    return TrainingError(f"step {step}: the loss is not finite ({_shown_terms(terms)}; lr={lr:.3g}). "
                         f"{_advice(precision)}.")


class _DivergenceGuard:
    """The divergence rule of :class:`TrainConfig` (``divergence_factor``): a step loss above
    ``median + factor * max(|median|, 1)`` of the last :attr:`WINDOW` accepted losses of its
    phase is exploded; :attr:`PATIENCE` exploded steps in a row stop the run."""

    WINDOW = 50  # recent losses whose median is the reference: long enough to ignore batch noise
    PATIENCE = 3  # consecutive exploded steps: one outlier batch is not a divergence

    def __init__(self, factor: Optional[float]):
        self.factor = factor
        self.history: Dict[int, List[float]] = {}
        self.strikes: Dict[int, int] = {}

    def check(self, phase: int, loss: float) -> Optional[Tuple[float, int]]:
        """Record ``loss`` of a step of ``phase``; returns ``(median, n)`` of the reference
        window when the run has diverged, else ``None``."""
        if self.factor is None:
            return None
        hist = self.history.setdefault(phase, [])
        if hist:
            med = statistics.median(hist)
            if loss > med + self.factor * max(abs(med), 1.0):
                self.strikes[phase] = self.strikes.get(phase, 0) + 1
                if self.strikes[phase] >= self.PATIENCE:
                    return med, len(hist)
                return None
        self.strikes[phase] = 0
        hist.append(loss)
        if len(hist) > self.WINDOW:
            del hist[0]
        return None


def _diverged_error(step: int, terms: Dict[str, float], lr: float, precision: str, median: float, n: int,
                    factor: float, patience: int) -> TrainingError:
    return TrainingError(
        f"step {step}: the loss diverged ({_shown_terms(terms)}; lr={lr:.3g}): for {patience} steps in a row it "
        f"exceeded the median {median:.4g} of the previous {n} step losses by more than train.divergence_factor "
        f"= {factor:g} x max(|median|, 1). {_advice(precision)}; or set train.divergence_factor: null to turn "
        f"this check off.")


class _JsonlLog:
    """Append-only metrics log written by rank 0; truncated to the resumed step on resume."""

    def __init__(self, path: Optional[Path], enabled: bool, on_record: Optional[Callable] = None):
        self.path = path if enabled else None
        self.on_record = on_record if enabled else None

    def truncate_after(self, step: int) -> None:
        if self.path is None or not self.path.exists():
            return
        keep = []
        for line in self.path.read_text().splitlines():
            try:
                if json.loads(line).get("step", 0) <= step:
                    keep.append(line)
            except json.JSONDecodeError:
                continue  # a line cut by a crash
        # Atomically: a crash during the rewrite must not lose the records of the steps kept.
        with atomic_path(self.path) as tmp:
            tmp.write_text("".join(k + "\n" for k in keep))

    def write(self, record: Dict[str, Any]) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as f:
                f.write(json.dumps(record) + "\n")
        if self.on_record is not None:
            self.on_record(record)


def _unwrap(model: nn.Module) -> nn.Module:
    model = getattr(model, "_orig_mod", model)  # torch.compile
    return getattr(model, "module", model)  # DDP


# ---------------------------------------------------------------------------- evaluation
@torch.no_grad()
def evaluate_loss(model: nn.Module, objective, dataset, collate, cfg: TrainConfig, step: int,
                  env: Optional[DistEnv] = None) -> Dict[str, float]:
    """Validation terms averaged over the whole split, exact across ranks.

    Batches are assigned to ranks round-robin and each batch is seeded by its index, so the
    result does not depend on the number of processes. Returns per-example means of
    ``loss``, ``recon``, ``kl``, ``neg_elbo`` and (sequences) ``recon_per_token``.
    """
    env = env or DistEnv()
    module = _unwrap(model)
    was = module.training
    module.eval()
    n = len(dataset)
    kw = objective.model_kwargs(step)
    sums = torch.zeros(5, dtype=torch.float64)
    n_batches = math.ceil(n / cfg.eval_batch_size)
    for bi in range(env.rank, n_batches, env.world_size):
        idx = range(bi * cfg.eval_batch_size, min(n, (bi + 1) * cfg.eval_batch_size))
        batch = collate([dataset[i] for i in idx]).to(env.device)
        torch.manual_seed(derive_seed(cfg.seed, _EVAL_TAG, bi))
        with _autocast(env.device, cfg.precision):
            out = module(batch, **kw)
        lo = objective(out, step, batch=batch)
        b = len(batch)
        tok = float(out.n_tokens.sum()) if out.n_tokens is not None else 0.0
        sums += torch.tensor([lo.terms["loss"] * b, lo.terms["recon"] * b, lo.terms["kl"] * b, b, tok],
                             dtype=torch.float64)
    all_reduce_sum(sums, env)
    module.train(was)
    loss, recon, kl, cnt, tok = sums.tolist()
    cnt = max(cnt, 1.0)
    res = dict(loss=loss / cnt, recon=recon / cnt, kl=kl / cnt, neg_elbo=(recon + kl) / cnt)
    if tok > 0:
        res["recon_per_token"] = recon / tok
    return res


# ---------------------------------------------------------------------------- fit
def fit(model: nn.Module, objective, data: DataBundle, cfg: TrainConfig, *, run_dir: Optional[str | Path] = None,
        resume: Literal["auto", "never", "must"] = "auto", env: Optional[DistEnv] = None,
        extra_state: Optional[Dict[str, Any]] = None, log: Optional[Callable[[str], None]] = None,
        val_metrics: Optional[Callable[[nn.Module], Dict[str, float]]] = None,
        on_record: Optional[Callable[[Dict[str, Any]], None]] = None) -> TrainState:
    """Train ``model`` with ``objective`` on ``data.train``; validate on ``data.val``.

    With ``cfg.phases`` the steps cycle through a phase plan (:mod:`vaekit.core.phases`): step
    ``t`` updates the parameters of phase ``plan.index(t)`` with that phase's optimizer, and
    when a block of a phase ends, ``on_phase_end(name)`` is called on every submodule of
    ``model`` that defines it (RecVAE refreshes its composite prior there).

    Parameters
    ----------
    model : nn.Module
        A :class:`~vaekit.core.vae.VAE` (already on ``env.device``).
    objective : ELBO
    data : DataBundle
    cfg : TrainConfig
    run_dir : path, optional
        Where ``checkpoints/{last,best}.pt`` and ``metrics.jsonl`` go (rank 0 writes).
    resume : {"auto", "never", "must"}
        ``auto`` continues from ``checkpoints/last.pt`` if present.
    env : DistEnv, optional
        From :func:`~vaekit.core.distributed.init_distributed` (single process if omitted).
    extra_state : dict, optional
        Plain values stored in every checkpoint (e.g. the resolved config).
    log : callable, optional
        Receives human-readable messages (rank 0).
    val_metrics : callable, optional
        ``val_metrics(model) -> {name: float}``: extra validation metrics (see ``monitor``).
    on_record : callable, optional
        Receives every ``metrics.jsonl`` record (rank 0) as it is written, e.g. to forward
        it to an experiment tracker (TensorBoard, MLflow: :mod:`vaekit.pipelines.tracking`).

    Returns
    -------
    TrainState
    """
    run = _Run(model, objective, data, cfg, run_dir, env, extra_state, log, on_record)
    run.resume(resume)
    run.wrap()
    if run.state.step >= cfg.max_steps or run.state.stopped_early:
        run.say(f"nothing to do: the run already finished at step {run.state.step}")
    else:
        run.train(val_metrics)
    return _finish(model, run.state, run.ckpt_dir, cfg, run.env, run.best_in_memory)


def _optimizer(cfg: TrainConfig, params: List[nn.Parameter], lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """Adam(W) over ``params``; biases and norm gains (1-d) get no weight decay."""
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    opt_cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return opt_cls(groups, lr=lr)


class _Run:
    """The state of one :func:`fit` call and its steps: setup (here), :meth:`resume`,
    :meth:`wrap`, :meth:`train` (each :meth:`_step`, then :meth:`_after_step`: log, evaluate,
    checkpoint)."""

    def __init__(self, model: nn.Module, objective, data: DataBundle, cfg: TrainConfig,
                 run_dir: Optional[str | Path], env: Optional[DistEnv], extra_state: Optional[Dict[str, Any]],
                 log: Optional[Callable[[str], None]], on_record: Optional[Callable[[Dict[str, Any]], None]]):
        self.env = env = env or DistEnv(device=next(model.parameters()).device)
        self.say = (log or (lambda m: None)) if env.is_main else (lambda m: None)
        cfg.validate()
        self.model, self.objective, self.data, self.cfg = model, objective, data, cfg
        self.device = env.device
        model.to(self.device)
        self.n_train = len(data.train)
        if self.n_train == 0:
            raise ConfigError("train: the training split is empty; got 0 examples. Check the data section.")
        self.global_batch = _effective_batch(self.n_train, cfg, env.world_size, self.say)
        self.ckpt_dir = Path(run_dir) / "checkpoints" if run_dir is not None else None
        self.last_path = self.ckpt_dir / "last.pt" if self.ckpt_dir else None
        self.jlog = _JsonlLog(Path(run_dir) / "metrics.jsonl" if run_dir is not None else None, env.is_main,
                              on_record)
        self.extra_state = extra_state or {}
        self.plan = PhasePlan(cfg.phases, self.n_train // self.global_batch)
        self._build_optimizers()
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=cfg.precision == "fp16")
        self.state = TrainState()
        self.fwd_model: nn.Module = model
        self.t0 = time.time()
        self.best_in_memory: Optional[Dict[str, torch.Tensor]] = None  # restore_best without a run dir
        self.divergence = _DivergenceGuard(cfg.divergence_factor)

    # ------------------------------------------------------------------ setup
    def _build_optimizers(self) -> None:
        """One optimizer per phase (one over every trainable parameter without phases), the
        parameters each clips, its base lr, and the submodules it keeps in eval mode."""
        cfg, model = self.cfg, self.model
        if not self.plan.phased:
            params = [p for _, p in model.named_parameters() if p.requires_grad]
            self.optimizers = [_optimizer(cfg, params, cfg.lr, cfg.weight_decay)]
            self.clip_params = [list(model.parameters())]
            self.base_lr, self.eval_modules = [cfg.lr], [[]]
            return
        self.optimizers, self.clip_params, self.base_lr, self.eval_modules = [], [], [], []
        for i, ph in enumerate(self.plan.phases):
            params = select_parameters(model, ph.params, f"train.phases[{i}].params")
            lr = cfg.lr if ph.lr is None else ph.lr
            wd = cfg.weight_decay if ph.weight_decay is None else ph.weight_decay
            self.optimizers.append(_optimizer(cfg, params, lr, wd))
            self.clip_params.append(params)
            self.base_lr.append(lr)
            self.eval_modules.append(resolve_submodules(model, ph.eval_modules, f"train.phases[{i}].eval_modules"))
        covered = {id(p) for ps in self.clip_params for p in ps}
        idle = [n for n, p in model.named_parameters() if p.requires_grad and id(p) not in covered]
        self.say(f"phases: {self.plan.describe()} (a cycle of {self.plan.cycle} steps)"
                 + (f"; {len(idle)} parameter tensors are in no phase and stay fixed (e.g. {idle[0]})" if idle else ""))

    def _optimizer_state(self) -> Dict[str, Any]:
        if not self.plan.phased:  # the format of checkpoints written before phases existed
            return {"optimizer": self.optimizers[0].state_dict()}
        return {"optimizers": {n: o.state_dict() for n, o in zip(self.plan.names, self.optimizers)}}

    def _load_optimizers(self, ck: Dict[str, Any]) -> None:
        where = self.last_path
        fix = "Resume with the config it was written with, or use a new run directory or resume='never'."
        if not self.plan.phased:
            if "optimizer" not in ck:
                raise CheckpointError(f"{where}: written by a run with train.phases ({', '.join(ck.get('optimizers', {}))})"
                                      f" but this config has none. {fix}")
            saved = {self.plan.IMPLICIT: ck["optimizer"]}
        else:
            saved = ck.get("optimizers")
            if saved is None:
                raise CheckpointError(f"{where}: written by a run without train.phases (one optimizer) but this "
                                      f"config has phases {', '.join(self.plan.names)}. {fix}")
            if list(saved) != self.plan.names:
                raise CheckpointError(f"{where}: written with phases {', '.join(saved)} but this config has "
                                      f"{', '.join(self.plan.names)}. {fix}")
        for name, opt in zip(self.plan.names, self.optimizers):
            try:
                opt.load_state_dict(saved[name])
            except ValueError as exc:
                raise CheckpointError(f"{where}: the optimizer state of phase {name!r} does not fit its parameters "
                                      f"({exc}). {fix}") from exc

    def resume(self, resume: str) -> None:
        """Load ``last.pt`` (model, optimizers, scaler, progress) when ``resume`` asks for it."""
        last_path = self.last_path
        if resume == "must" and (last_path is None or not last_path.exists()):
            raise CheckpointError(f"{last_path}: resume='must' but there is no checkpoint to resume from.")
        if resume == "never" or last_path is None or not last_path.exists():
            return
        ck = load_checkpoint(last_path, map_location=self.device)
        try:
            self.model.load_state_dict(ck["model"])
        except RuntimeError as exc:
            raise CheckpointError(f"{last_path}: the checkpoint does not fit this model ({exc}). The config changed "
                                  f"since it was written: use a new run directory or resume='never'.") from exc
        self._load_optimizers(ck)
        if ck.get("scaler"):
            self.scaler.load_state_dict(ck["scaler"])
        self.state = TrainState(**ck["train_state"])
        self.jlog.truncate_after(self.state.step)
        self.say(f"resumed from {last_path} at step {self.state.step}")

    def wrap(self) -> None:
        """The module the steps call: DDP across ranks, ``torch.compile`` if asked."""
        if self.env.enabled:
            from torch.nn.parallel import DistributedDataParallel as DDP

            d = self.device
            self.fwd_model = DDP(self.model, device_ids=[d.index] if d.type == "cuda" else None)
        if self.cfg.compile:
            self.fwd_model = torch.compile(self.fwd_model)

    def checkpoint(self, name: str) -> None:
        if self.ckpt_dir is None or not self.env.is_main:
            return
        save_checkpoint(self.ckpt_dir / name, {
            "model": _unwrap(self.model).state_dict(), **self._optimizer_state(),
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
            "train_state": asdict(self.state), **self.extra_state,
        })

    def _tick(self) -> None:
        """Add the time since the last tick to ``state.elapsed_s``."""
        self.state.elapsed_s += time.time() - self.t0
        self.t0 = time.time()

    # ------------------------------------------------------------------ the loop
    def _loader(self) -> torch.utils.data.DataLoader:
        cfg, data, env = self.cfg, self.data, self.env
        lengths = None
        if cfg.length_buckets > 1:
            if not hasattr(data.train, "lengths"):
                raise ConfigError(f"train.length_buckets: needs a training set with per-example lengths (token "
                                  f"sequences); {type(data.train).__name__} has none. Set train.length_buckets: 0.")
            lengths = torch.as_tensor(list(data.train.lengths), dtype=torch.long)
        sampler = _StepBatches(self.n_train, self.global_batch, cfg.seed, self.state.step, cfg.max_steps, env.rank,
                               env.world_size, cfg.grad_accum, lengths, cfg.length_buckets)
        return torch.utils.data.DataLoader(data.train, batch_sampler=sampler, collate_fn=data.collate,
                                           num_workers=cfg.num_workers, pin_memory=self.device.type == "cuda")

    def _progress_bar(self):
        if not (self.cfg.progress and self.env.is_main):
            return None
        import sys

        from tqdm.auto import tqdm

        # In a log file (not a terminal) redraw rarely instead of flooding it.
        tty = sys.stderr.isatty()
        return tqdm(total=self.cfg.max_steps, initial=self.state.step, desc="train", unit="step", dynamic_ncols=True,
                    mininterval=0.1 if tty else 30.0)

    def train(self, val_metrics: Optional[Callable[[nn.Module], Dict[str, float]]]) -> None:
        """Steps ``state.step .. max_steps - 1`` (or until early stopping); Ctrl-C / SIGTERM
        saves ``last.pt`` first."""
        cfg, state = self.cfg, self.state
        it = iter(self._loader())
        bar = self._progress_bar()
        window: Dict[str, float] = {}
        window_n = 0
        self.t0 = time.time()
        restore_sigterm = _sigterm_as_interrupt()
        try:
            while state.step < cfg.max_steps:
                k = self.plan.index(state.step)
                step_terms, lr = self._step(it, k)
                for key, v in step_terms.items():
                    window[key] = window.get(key, 0.0) + v
                window_n += 1
                if bar is not None:
                    bar.update(1)
                    if state.step % 10 == 0 or state.step == cfg.max_steps:
                        bar.set_postfix(loss=f"{step_terms['loss']:.3f}", kl=f"{step_terms['kl']:.3f}",
                                        beta=f"{step_terms['beta']:.3g}")
                if state.step % cfg.log_every == 0 or state.step == cfg.max_steps:
                    phase = {"phase": self.plan.phases[k].name} if self.plan.phased else {}
                    rec = {key: v / window_n for key, v in window.items()}
                    self.jlog.write({"step": state.step, "split": "train", "lr": lr, **phase, **rec})
                    window, window_n = {}, 0
                if self._after_step(k, val_metrics):
                    break
        except KeyboardInterrupt:
            # Keep what was done: a later `vaekit train` with the same run dir resumes from here.
            state.elapsed_s += time.time() - self.t0
            self.checkpoint("last.pt")
            self.say(f"interrupted at step {state.step}; saved {self.last_path} - run the same command again to resume")
            raise
        finally:
            restore_sigterm()
            if bar is not None:
                bar.close()
        if self.data.val is None or len(self.data.val) == 0:
            state.elapsed_s += time.time() - self.t0
            state.best_step = state.step
            self.checkpoint("best.pt")
            self.checkpoint("last.pt")

    def _set_modes(self, k: int) -> None:
        """Train mode, except the submodules phase ``k`` keeps in eval mode (evaluation in
        between switches everything to eval and back, so this runs every step)."""
        self.model.train()
        for m in self.eval_modules[k]:
            m.eval()

    def _step(self, it: Iterator[Batch], k: int) -> Tuple[Dict[str, float], float]:
        """One optimizer step of phase ``k`` over ``grad_accum`` micro-batches; returns the
        step's mean terms and its lr."""
        cfg, env, device, objective = self.cfg, self.env, self.device, self.objective
        step = self.state.step
        optimizer = self.optimizers[k]
        lr = _lr_at(step, cfg, self.base_lr[k])
        for g in optimizer.param_groups:
            g["lr"] = lr
        self._set_modes(k)
        kw = objective.model_kwargs(step)
        step_terms: Dict[str, float] = {}
        for a in range(cfg.grad_accum):
            batch: Batch = next(it).to(device, non_blocking=True)
            torch.manual_seed(derive_seed(cfg.seed, step, env.rank * cfg.grad_accum + a))
            sync = (not env.enabled) or a == cfg.grad_accum - 1
            ctx = contextlib.nullcontext() if sync else self.fwd_model.no_sync()
            with ctx:
                with _autocast(device, cfg.precision):
                    out = self.fwd_model(batch, **kw)
                lo = objective(out, step, batch=batch)  # fp32 terms (the objective casts)
                if not math.isfinite(lo.terms["loss"]):
                    raise _nonfinite_error(step, lo.terms, lr, cfg.precision)
                self.scaler.scale(lo.loss / cfg.grad_accum).backward()
            for key, v in lo.terms.items():
                step_terms[key] = step_terms.get(key, 0.0) + v / cfg.grad_accum
        self._check_divergence(k, step, step_terms, lr)
        if cfg.grad_clip > 0:
            self.scaler.unscale_(optimizer)
            gnorm = torch.nn.utils.clip_grad_norm_(self.clip_params[k], cfg.grad_clip)
            step_terms["grad_norm"] = float(gnorm)
        self.scaler.step(optimizer)
        self.scaler.update()
        # Every gradient, not only this phase's: the other phases' parameters got gradients
        # too, which must not leak into their next step.
        self.model.zero_grad(set_to_none=True)
        self.state.step += 1
        if self.plan.ends_block(step):
            name = self.plan.phases[k].name
            for m in self.model.modules():
                hook = getattr(m, "on_phase_end", None)
                if callable(hook):
                    hook(name)
        return step_terms, lr

    def _check_divergence(self, k: int, step: int, terms: Dict[str, float], lr: float) -> None:
        """Stop (before the update) when the step's loss has diverged; with DDP every rank
        judges the mean over ranks, so all stop at the same step instead of one waiting for
        the others in a collective."""
        if self.cfg.divergence_factor is None:
            return
        loss = terms["loss"]
        if self.env.enabled:
            t = torch.tensor([loss], dtype=torch.float64, device=self.device)
            loss = float(all_reduce_sum(t, self.env)) / self.env.world_size
        hit = self.divergence.check(k, loss)
        if hit is not None:
            raise _diverged_error(step, dict(terms, loss=loss), lr, self.cfg.precision, *hit,
                                  self.cfg.divergence_factor, _DivergenceGuard.PATIENCE)

    def _after_step(self, k: int, val_metrics) -> bool:
        """Validate, update the best checkpoint and the patience, write ``last.pt`` when due;
        returns whether to stop early."""
        cfg, state, data = self.cfg, self.state, self.data
        block_end = self.plan.phased and self.plan.phases[k].eval_after and self.plan.ends_block(state.step - 1)
        is_eval = (cfg.eval_every and state.step % cfg.eval_every == 0) or state.step == cfg.max_steps or block_end
        if is_eval and data.val is not None and len(data.val) > 0:
            self._validate(val_metrics)
            self._tick()
            self.checkpoint("last.pt")
            return state.stopped_early
        if cfg.checkpoint_every and state.step % cfg.checkpoint_every == 0:
            self._tick()
            self.checkpoint("last.pt")
        return False

    def _validate(self, val_metrics) -> None:
        cfg, state = self.cfg, self.state
        val = evaluate_loss(self.model, self.objective, self.data.val, self.data.collate, cfg, state.step, self.env)
        if val_metrics is not None:
            val.update(_run_val_metrics(val_metrics, self.model))
        state.last_val = val
        self.jlog.write({"step": state.step, "split": "val", **val})
        if cfg.monitor not in val:
            raise ConfigError(f"train.monitor: {cfg.monitor!r} is not a validation quantity of this run; "
                              f"available: {', '.join(sorted(val))}.{did_you_mean(cfg.monitor, list(val))}")
        metric = val[cfg.monitor] if cfg.monitor_mode == "min" else -val[cfg.monitor]
        if metric < state.best_metric - cfg.min_delta:
            state.best_metric, state.best_step, state.evals_since_best = metric, state.step, 0
            self.checkpoint("best.pt")
            if self.ckpt_dir is None and cfg.restore_best:
                self.best_in_memory = {k: v.detach().clone() for k, v in _unwrap(self.model).state_dict().items()}
        else:
            state.evals_since_best += 1
        if cfg.early_stopping_patience and state.evals_since_best >= cfg.early_stopping_patience:
            state.stopped_early = True
            best = state.best_metric if cfg.monitor_mode == "min" else -state.best_metric
            self.say(f"early stopping at step {state.step}: val {cfg.monitor} has not improved for "
                     f"{state.evals_since_best} evaluations (best {best:.4f} at step {state.best_step})")

def _run_val_metrics(val_metrics: Callable[[nn.Module], Dict[str, float]], model: nn.Module) -> Dict[str, float]:
    """Extra validation metrics of the unwrapped model in eval mode, without gradients. Every
    rank computes them on the whole validation split (they must be deterministic), so the
    ranks agree on the best step without communicating."""
    module = _unwrap(model)
    was = module.training
    module.eval()
    try:
        with torch.no_grad():
            return {k: float(v) for k, v in val_metrics(module).items()}
    finally:
        module.train(was)


def _finish(model, state: TrainState, ckpt_dir: Optional[Path], cfg: TrainConfig, env: DistEnv,
            best_in_memory: Optional[Dict[str, torch.Tensor]] = None) -> TrainState:
    barrier(env)  # rank 0 may still be writing best.pt
    device = env.device
    if cfg.restore_best and ckpt_dir is not None and (ckpt_dir / "best.pt").exists():
        best = load_checkpoint(ckpt_dir / "best.pt", map_location=device)
        _unwrap(model).load_state_dict(best["model"])
    elif cfg.restore_best and best_in_memory is not None:
        _unwrap(model).load_state_dict(best_in_memory)
    return state
