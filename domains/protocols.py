"""Benchmark protocols as declarations: what a domain tells ``vaekit benchmark``.

A domain declares its protocols in ``<domain>/protocol.py`` as ``PROTOCOLS = {name: Protocol(...)}``
(found by :meth:`vaekit.domains.base.Domain.benchmark_protocols`; a spec names one as
``suite: <domain>:<name>``). As in Cornac's ``Experiment(eval_method, models, metrics)``, a
protocol only *declares*:

* ``load(seed, options)``: the data sets of one split seed, ``{name: data}`` (the name ``None``
  for a single-set protocol), ``data`` being whatever its models and ``evaluate`` take;
* ``models``: name -> :class:`Model`, a factory of an estimator (a vaekit facade, a PyOD
  detector, EASE, copying the input, released outputs...) from the row's ``params``;
* ``evaluate(estimator, unit)``: the protocol kind's small fit/score adapter: fit on the
  unit's training part, score its test part, return the record ``{metric: value, ...}``;
* ``metrics``, ``options`` (with defaults) and ``groups`` (data-set groups whose means are tabulated).

Everything that loops -- over data sets, models and seeds --, failure capture, the cache of
finished units, group means and tables belongs to :mod:`vaekit.pipelines.benchmark` alone.
A model that needs a trained vaekit *run* (a packaged config trained into the unit's folder,
or an existing run folder) declares :class:`TrainedRun`; the pipeline trains or loads it and
hands the loaded run to the factory as :attr:`Unit.run`, so domains never call the pipelines.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple


@dataclass(frozen=True)
class TrainedRun:
    """A model that is a trained vaekit run.

    A row's ``params`` give ``run`` (an existing run folder, loaded) or ``config`` (a packaged
    config or YAML path) with ``set`` overrides, trained with ``train.seed=<seed>`` into
    ``<unit folder>/model`` (resumed when interrupted) and then loaded.

    Attributes
    ----------
    config : str
        The config trained when ``params`` name neither ``run`` nor ``config``; ``""``: the
        row must name one (training the model is too long to be a default).
    example : str
        A row that names a run, for the error message when one is missing.
    """

    config: str = ""
    example: str = ""


@dataclass(frozen=True)
class Model:
    """One model of a protocol: ``make(unit) -> estimator`` with the protocol's fit/score
    interface; ``params`` lists the row parameters it takes (``None``: any, e.g. a PyOD
    detector's constructor arguments) and ``run`` says it needs a trained vaekit run."""

    make: Callable[["Unit"], Any]
    params: Optional[Tuple[str, ...]] = None
    run: Optional[TrainedRun] = None
    doc: str = ""


@dataclass
class Unit:
    """What a model factory and ``evaluate`` see of one (model, seed, data set) unit.

    Attributes
    ----------
    model : str
        The model's name in the protocol.
    params : dict
        The spec row's ``params`` (for a :class:`TrainedRun`, without ``run``/``config``/``set``).
    seed : int
        The split seed (also the models' ``random_state``).
    options : dict
        The protocol's options, defaults filled in and data-root paths resolved.
    dataset : str or None
        The data set's name (``None`` in a single-set protocol).
    data : Any
        What ``load`` returned for this data set.
    work_dir : Path
        The unit's own folder (``OUT/runs/<label>/seed<k>``), for files it writes (samples).
    run : tuple, optional
        A :class:`TrainedRun` model's loaded run ``(RunConfig, Domain, VAE, DataInfo, state)``.
    run_dir : Path, optional
        That run's folder.
    """

    model: str
    params: Dict[str, Any]
    seed: int
    options: Dict[str, Any]
    dataset: Optional[str]
    data: Any
    work_dir: Path
    run: Optional[Tuple[Any, ...]] = None
    run_dir: Optional[Path] = None


@dataclass(frozen=True)
class Protocol:
    """A benchmark protocol (see the module docstring).

    Attributes
    ----------
    doc : str
        One line for ``vaekit benchmark --list-suites`` and error messages.
    load : callable
        ``load(seed, options) -> {dataset name or None: data}``, in table order.
    models : dict of str -> Model
        The values a spec's ``runs[].model`` may take.
    evaluate : callable
        ``evaluate(estimator, unit) -> {metric: value, ...}``: fit and score one unit.
    metrics : tuple of str
        The keys every record has (a failed unit gets NaN for each of them).
    options : dict
        Option name -> default (a :class:`~vaekit.domains.data_root.UnderDataRoot` for paths
        under the data root); a spec's ``options`` may set these, no others.
    groups : callable, optional
        ``groups(datasets) -> {group: [datasets]}`` (default: one group "all" with several sets).
    describe : callable, optional
        ``describe(record) -> str``: the progress line of a finished unit.
    ranked : dict of str -> {"max", "min"}
        Metrics whose mean rank among the models the group tables show, with the better
        direction (ADBench ranks detectors by AUC-ROC; default none).
    """

    doc: str
    load: Callable[[int, Mapping[str, Any]], Dict[Optional[str], Any]]
    models: Dict[str, Model]
    evaluate: Callable[[Any, Unit], Dict[str, Any]]
    metrics: Tuple[str, ...]
    options: Dict[str, Any] = field(default_factory=dict)
    groups: Optional[Callable[[Sequence[str]], Dict[str, List[str]]]] = None
    describe: Optional[Callable[[Dict[str, Any]], str]] = None
    ranked: Dict[str, str] = field(default_factory=dict)


__all__ = ["Model", "Protocol", "TrainedRun", "Unit"]
