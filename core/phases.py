"""Phase plans: which parameters the trainer updates at each step, with which optimizer.

A phase plan is data (``train.phases`` in a run config, DESIGN.md 11): a list of phases that
the trainer cycles through. Each phase names the submodules whose parameters its own
optimizer updates, how many optimizer steps (or epochs) one block of it lasts, an optional
learning rate, the submodules kept in eval mode while it runs (e.g. dropout off), and
whether to validate when a block ends. Two uses:

* RecVAE (Shenbin et al. 2020, section 3.5): alternate 3 encoder epochs (input dropout on)
  and 1 decoder epoch (encoder in eval mode: no dropout), each with its own Adam, and copy
  the encoder into the composite prior when an encoder block ends;
* a GAN discriminator step: ``[{name: disc, params: [terms.adversarial], steps: 1},
  {name: gen, params: [encoder, head, decoder], steps: 1}]`` (the adversarial
  reconstruction term's discriminator, then the VAE).

The phase of step ``t`` is a pure function of ``t`` (its position in the cycle), so resume
is exact and every DDP rank agrees without communicating. Without ``train.phases`` the plan
is one implicit phase over every trainable parameter: today's single optimizer.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from torch import nn

from .errors import ConfigError
from .registry import did_you_mean


@dataclass(frozen=True)
class PhaseConfig:
    """One phase of ``train.phases``.

    Attributes
    ----------
    name : str
        Unique; passed to ``on_phase_end(name)`` of every submodule that defines it and used
        as the key of this phase's optimizer state in checkpoints.
    params : list of str
        Submodule paths of the model (``encoder``, ``head``, ``decoder``, ``prior``,
        ``terms.adversarial``, ...) whose trainable parameters this phase updates.
    steps : int
        Optimizer steps per block of this phase. Give ``steps`` or ``epochs``.
    epochs : int
        Passes over the training split per block: ``epochs * (n_train // batch_size)`` steps.
    lr : float, optional
        This phase's learning rate (default ``train.lr``); ``train.lr_schedule`` and the
        warm-up scale it as they scale ``train.lr``.
    weight_decay : float, optional
        Default ``train.weight_decay``.
    eval_modules : list of str
        Submodules kept in eval mode during this phase (dropout off, e.g. RecVAE's encoder
        while the decoder trains).
    eval_after : bool
        Validate (and write ``last.pt``) when a block of this phase ends, besides
        ``train.eval_every`` (e.g. once per RecVAE round, after its decoder epoch).
    """

    name: str
    params: Tuple[str, ...]
    steps: int = 0
    epochs: int = 0
    lr: Optional[float] = None
    weight_decay: Optional[float] = None
    eval_modules: Tuple[str, ...] = ()
    eval_after: bool = False

    def validate(self, path: str = "train.phases[]") -> None:
        if not self.name:
            raise ConfigError(f"{path}.name: must be a non-empty name; got {self.name!r}.")
        if not self.params:
            raise ConfigError(f"{path}.params: must list the submodules this phase trains (e.g. [encoder, head]); "
                              f"got {list(self.params)!r}.")
        if (self.steps > 0) == (self.epochs > 0) or self.steps < 0 or self.epochs < 0:
            raise ConfigError(f"{path}: give exactly one of steps or epochs, a positive integer; got steps="
                              f"{self.steps}, epochs={self.epochs}.")
        if self.lr is not None and self.lr <= 0:
            raise ConfigError(f"{path}.lr: must be > 0; got {self.lr!r}.")
        if self.weight_decay is not None and self.weight_decay < 0:
            raise ConfigError(f"{path}.weight_decay: must be >= 0; got {self.weight_decay!r}.")


def validate_phases(phases: Sequence[PhaseConfig], path: str = "train.phases") -> None:
    """Check every phase and that the names are unique."""
    seen = set()
    for i, ph in enumerate(phases):
        ph.validate(f"{path}[{i}]")
        if ph.name in seen:
            raise ConfigError(f"{path}[{i}].name: phase names must be unique; {ph.name!r} appears twice. Rename one.")
        seen.add(ph.name)


class PhasePlan:
    """The phases of a run with their block lengths resolved to optimizer steps.

    Parameters
    ----------
    phases : sequence of PhaseConfig
        Empty: one implicit phase (named ``train``) over every parameter, forever.
    steps_per_epoch : int
        ``n_train // global_batch``, to resolve ``epochs``.
    """

    IMPLICIT = "train"

    def __init__(self, phases: Sequence[PhaseConfig], steps_per_epoch: int):
        self.phases = list(phases)
        self.phased = bool(self.phases)
        self.lengths = [p.steps or p.epochs * steps_per_epoch for p in self.phases]
        self._ends = [sum(self.lengths[:i + 1]) for i in range(len(self.lengths))]  # cumulative block ends
        self.cycle = self._ends[-1] if self._ends else 1

    @property
    def names(self) -> List[str]:
        return [p.name for p in self.phases] if self.phased else [self.IMPLICIT]

    def index(self, step: int) -> int:
        """Index of the phase that optimizer step ``step`` (0-based) belongs to."""
        if not self.phased:
            return 0
        return bisect.bisect_right(self._ends, step % self.cycle)

    def ends_block(self, step: int) -> bool:
        """Whether step ``step`` is the last one of a block of its phase."""
        return self.phased and (step % self.cycle) + 1 in self._ends

    def describe(self) -> str:
        return ", ".join(f"{p.name} {n} steps" for p, n in zip(self.phases, self.lengths))


def select_parameters(model: nn.Module, prefixes: Sequence[str], where: str) -> List[nn.Parameter]:
    """The trainable parameters under the submodule paths ``prefixes``, in ``named_parameters``
    order (each once).

    Raises
    ------
    ConfigError
        When a path matches no trainable parameter (a typo, or a frozen module).
    """
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    chosen, seen = [], set()
    for prefix in prefixes:
        hits = [p for n, p in named if n == prefix or n.startswith(prefix + ".")]
        if not hits:
            tops = sorted({n.split(".")[0] for n, _ in named})
            raise ConfigError(f"{where}: {prefix!r} names no trainable parameters of this model.{did_you_mean(prefix, tops)}"
                              f" Submodules with parameters: {', '.join(tops)} (nested ones with dots, e.g. "
                              f"terms.adversarial).")
        for p in hits:
            if id(p) not in seen:
                seen.add(id(p))
                chosen.append(p)
    return chosen


def resolve_submodules(model: nn.Module, names: Sequence[str], where: str) -> List[nn.Module]:
    """``model.get_submodule(name)`` for each name, with a config error naming the key."""
    out = []
    for name in names:
        try:
            out.append(model.get_submodule(name))
        except AttributeError:
            tops = [n for n, _ in model.named_children()]
            raise ConfigError(f"{where}: the model has no submodule {name!r}.{did_you_mean(name, tops)} Its "
                              f"submodules: {', '.join(tops)}.") from None
    return out
