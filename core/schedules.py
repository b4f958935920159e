"""Schedules: pure functions of the optimizer step.

A schedule never keeps a counter, so a resumed run, a DDP rank and an evaluation all see the
same value for the same step (unlike a counter kept inside the model, which a resume resets).

Config form: a number (constant) or a mapping ``{kind: linear, start: 0, end: 1, steps: 5000}``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Union

from .errors import ConfigError
from .registry import Registry

SCHEDULES: Registry["Schedule"] = Registry("schedule")


class Schedule:
    """Base class: ``schedule(step) -> float``."""

    def __call__(self, step: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


@SCHEDULES.register("constant")
@dataclass(frozen=True)
class Constant(Schedule):
    """Always ``value``."""

    value: float

    def __call__(self, step: int) -> float:
        return float(self.value)


def _check_steps(name: str, steps: int) -> None:
    if int(steps) <= 0:
        raise ConfigError(f"{name}: must be a positive number of optimizer steps; got {steps!r}.")


@SCHEDULES.register("linear")
@dataclass(frozen=True)
class Linear(Schedule):
    """KL annealing (Bowman et al. 2016): hold ``start`` for ``delay`` steps, then move
    linearly to ``end`` over ``steps`` steps and hold it."""

    steps: int
    start: float = 0.0
    end: float = 1.0
    delay: int = 0

    def __post_init__(self):
        _check_steps("steps", self.steps)

    def __call__(self, step: int) -> float:
        t = min(max(step - self.delay, 0) / self.steps, 1.0)
        return float(self.start + (self.end - self.start) * t)


@SCHEDULES.register("cyclical")
@dataclass(frozen=True)
class Cyclical(Schedule):
    """Cyclical annealing (Fu et al. 2019, "Cyclical Annealing Schedule").

    Each cycle of ``period`` steps ramps linearly from ``start`` to ``end`` during the first
    ``ratio * period`` steps and holds ``end`` for the rest. After ``n_cycles`` cycles (if
    given) the value stays at ``end``.
    """

    period: int
    start: float = 0.0
    end: float = 1.0
    ratio: float = 0.5
    n_cycles: Optional[int] = None

    def __post_init__(self):
        _check_steps("period", self.period)
        if not 0.0 < self.ratio <= 1.0:
            raise ConfigError(f"ratio: must be in (0, 1]; got {self.ratio!r}.")

    def __call__(self, step: int) -> float:
        if self.n_cycles is not None and step >= self.n_cycles * self.period:
            return float(self.end)
        tau = (step % self.period) / self.period
        t = min(tau / self.ratio, 1.0)
        return float(self.start + (self.end - self.start) * t)


@SCHEDULES.register("exponential")
@dataclass(frozen=True)
class Exponential(Schedule):
    """``max(end, start * exp(-rate * step))``: the Gumbel-softmax temperature annealing of
    Jang et al. 2017 (they use ``rate`` ~ 1e-5 per step and ``end`` = 0.5)."""

    rate: float
    start: float = 1.0
    end: float = 0.5

    def __call__(self, step: int) -> float:
        return float(max(self.end, self.start * math.exp(-self.rate * step)))


def build_schedule(spec: Union[float, int, Mapping[str, Any], Schedule, None], where: str) -> Optional[Schedule]:
    """Turn a config value (number, mapping or Schedule) into a :class:`Schedule`."""
    if spec is None:
        return None
    if isinstance(spec, Schedule):
        return spec
    if isinstance(spec, bool):
        raise ConfigError(f"{where}: expected a number or a schedule mapping; got {spec!r}.")
    if isinstance(spec, (int, float)):
        return Constant(float(spec))
    if isinstance(spec, Mapping):
        params = dict(spec)
        kind = params.pop("kind", None)
        if kind is None:
            raise ConfigError(f"{where}: a schedule mapping needs 'kind' (one of "
                              f"{', '.join(SCHEDULES.names())}); got {dict(spec)!r}.")
        # Schedules take their params inline ({kind, start, end, ...}); report them as such.
        try:
            return SCHEDULES.build(kind, params, where=where)
        except ConfigError as exc:
            raise ConfigError(str(exc).replace(f"{where}.params", where)) from None
    raise ConfigError(f"{where}: expected a number or a schedule mapping; got {spec!r}.")
