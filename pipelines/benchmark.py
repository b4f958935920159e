"""``vaekit benchmark SPEC.yaml``: a protocol, vaekit configs and baselines -> one table.

A spec names the runs to train and evaluate under one shared protocol, the result keys to
tabulate, and the baselines the domain already runs side by side on the same split (PyOD
detectors, EASE, popularity, copying the input...), so each benchmark table of
``benchmarks/RESULTS.md`` comes from one command::

    name: toy-configs
    protocol:                       # --set overrides applied to every run
      set: [train.progress=false]
    seeds: [0, 1]                   # train.seed of each repetition (default [0])
    iw_samples: 100                 # optional: importance samples of the NLL
    runs:
      - {label: VAE, config: toy:default}
      - {label: beta=4, config: toy:default, set: [objective.beta=4]}
    metrics: [nll_iw, rate, active_units, knn_acc]
    baselines:                      # rows read from a run's result: key = prefix + metric's suffix
      - {label: kNN on raw input, from: VAE, keys: {knn_acc: knn_acc/raw_input}}
      - {label: EASE, from: VAE, prefix: baseline/ease_}   # rank/ndcg@100 -> baseline/ease_ndcg@100
    references:                     # published numbers, printed beside ours (never computed)
      - {label: VAE (Burda et al. 2016), source: "Table 1", values: {nll_iw: 86.76}}

Where the field's protocol is not "train a config, evaluate it" (ADBench's data sets x PyOD
detectors, RecSys splits with EASE tuned on validation users), a domain *declares* it (a
:class:`~vaekit.domains.protocols.Protocol` in ``<domain>/protocol.py``: how to load the data
sets of a seed, the models by name, the fit/score adapter, metrics, options) and the runs name
its models::

    name: adbench
    suite: anomaly:adbench          # <domain>:<protocol>; `vaekit benchmark --list-suites` lists them
    options: {datasets: [cardio, thyroid]}
    seeds: [1, 2, 3]
    runs:
      - {label: vaekit, model: vaekit}
      - {label: vaekit-notrim, model: vaekit, params: {trim: 0}, ranked: false}   # an ablation
      - {label: IForest, model: IForest}
    metrics: [auc_roc, auc_pr]
    layout: wide                    # one data set x model table per metric (default: long)

This module alone runs the loops (runs x seeds, and in a protocol every data set of the seed),
captures failures, trains the models that are vaekit runs, caches finished units and tabulates.
A protocol gives one record per data set; the table then has a row per (data set, model) and,
with several sets, the mean over each group of sets (the protocol's groups, or ``groups:``).
Cells are the mean over seeds (``mean ± std`` with several); failed runs (a record with an
``error``: the exception of a model that failed to fit or score) are listed and left out of the
means, while a mistake in the spec (a :class:`~vaekit.core.errors.ConfigError`) stops the
benchmark. Runs live in ``OUT/runs/<label>/seed<k>``: an interrupted benchmark resumes,
finished runs are only re-read (a protocol unit's ``records.json`` only when it was made with the
same model, params and options). Paths under the data root (``--data-root``, ``VAEKIT_DATA_ROOT``;
:mod:`vaekit.domains.data_root`) are resolved in options and are part of what is compared.
Writes ``OUT/table.md``, ``OUT/table.csv`` and ``OUT/benchmark.json``.
"""
from __future__ import annotations

import dataclasses
import csv
import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple


from vaekit.core.checkpoint import atomic_path
from vaekit.core.config import from_dict
from vaekit.core.errors import ConfigError
from vaekit.core.yamlio import load_yaml

from .config import load_config
from .runlock import LOCK_NAME, run_lock
from .runs import _err, evaluate_run, jsonable, train_run


@dataclass(frozen=True)
class RunSpec:
    """One run of a benchmark: a table label and either a vaekit config with its own overrides
    (``config``, ``set``) or, in a suite, one of the suite's models with its arguments
    (``model``, ``params``). ``ranked: false`` marks an ablation: the group tables rank it
    among the other models without letting it change their ranks."""

    label: str
    config: str = ""
    set: List[str] = field(default_factory=list)
    model: str = ""
    params: Dict[str, Any] = field(default_factory=dict)
    ranked: bool = True


@dataclass(frozen=True)
class BaselineSpec:
    """A row read from the result of run ``from_``: ``keys`` maps metric -> key, else ``prefix``."""

    label: str
    from_: str
    prefix: str = ""
    keys: Dict[str, str] = field(default_factory=dict)

    def key(self, metric: str) -> str:
        if metric in self.keys:
            return self.keys[metric]
        return self.prefix + metric.split("/", 1)[-1] if self.prefix else ""


@dataclass(frozen=True)
class ReferenceSpec:
    """A published row: ``values`` by metric (and ``dataset`` in a multi-set suite), its ``source``."""

    label: str
    values: Dict[str, float]
    source: str = ""
    dataset: str = ""


@dataclass(frozen=True)
class Protocol:
    set: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class BenchmarkSpec:
    """A whole spec (see the module docstring)."""

    name: str
    runs: List[RunSpec]
    metrics: List[str]
    protocol: Protocol = field(default_factory=Protocol)
    seeds: List[int] = field(default_factory=lambda: [0])
    iw_samples: Optional[int] = None
    split: Optional[str] = None
    baselines: List[BaselineSpec] = field(default_factory=list)
    references: List[ReferenceSpec] = field(default_factory=list)
    suite: str = ""
    options: Dict[str, Any] = field(default_factory=dict)
    groups: Dict[str, List[str]] = field(default_factory=dict)
    layout: str = "long"

    def validate(self, path: str = "benchmark") -> None:
        if not self.runs:
            raise ConfigError(f"{path}.runs: list at least one run ({{label: ..., config: domain:name}}).")
        labels = [r.label for r in self.runs]
        dup = sorted({x for x in labels if labels.count(x) > 1})
        if dup:
            raise ConfigError(f"{path}.runs: labels must be unique; repeated: {dup}. Give each run its own label.")
        slugs = [_slug(x) for x in labels]
        clash = sorted({x for x, sl in zip(labels, slugs) if slugs.count(sl) > 1})
        if clash:
            raise ConfigError(f"{path}.runs: labels {clash} map to the same run folder name "
                              f"({_slug(clash[0])!r}: only letters, digits and _.=- are kept); make them differ there.")
        for i, r in enumerate(self.runs):
            if self.suite and (r.config or r.set or not r.model):
                raise ConfigError(f"{path}.runs[{i}] ({r.label!r}): a suite's runs name `model` (and `params`), "
                                  f"not config/set; got config={r.config!r}, model={r.model!r}.")
            if not self.suite and (r.model or r.params or not r.config):
                raise ConfigError(f"{path}.runs[{i}] ({r.label!r}): give `config: domain:name` (model/params "
                                  f"belong to a `suite:` spec); got config={r.config!r}, model={r.model!r}.")
        if self.options and not self.suite:
            raise ConfigError(f"{path}.options: options are a suite's; add `suite: domain:name` or remove them.")
        if not self.metrics:
            raise ConfigError(f"{path}.metrics: name at least one result key (e.g. nll_iw, rank/ndcg@100).")
        if not self.seeds:
            raise ConfigError(f"{path}.seeds: list at least one seed, e.g. [0].")
        if self.layout not in ("long", "wide"):
            raise ConfigError(f"{path}.layout: 'long' (a row per data set and model) or 'wide' (a data set x "
                              f"model table per metric); got {self.layout!r}.")
        for i, b in enumerate(self.baselines):
            if b.from_ not in labels:
                raise ConfigError(f"{path}.baselines[{i}].from: {b.from_!r} is not a run label; valid: {labels}.")
            if not b.prefix and not b.keys:
                raise ConfigError(f"{path}.baselines[{i}]: give `prefix` or `keys` to say which result keys it reads.")
        for i, ref in enumerate(self.references):
            extra = sorted(set(ref.values) - set(self.metrics))
            if extra:
                raise ConfigError(f"{path}.references[{i}].values: {extra} are not among the metrics "
                                  f"{self.metrics}; tabulate them or remove them.")


def load_spec(path: str | Path) -> BenchmarkSpec:
    """Read and validate a benchmark spec file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: benchmark spec not found. Pass a YAML file (see benchmarks/specs/).")
    raw = load_yaml(path) or {}  # duplicate keys refused
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a benchmark spec is a mapping with name, runs, metrics; got {type(raw).__name__}.")
    for b in raw.get("baselines") or []:
        if isinstance(b, dict) and "from" in b:
            b["from_"] = b.pop("from")  # `from` is a Python keyword
    return from_dict(BenchmarkSpec, raw, "benchmark")


def resolve_suite(spec: BenchmarkSpec):
    """The spec's :class:`~vaekit.domains.protocols.Protocol` and its options (defaults filled
    in, paths under the data root resolved), checked against the protocol's models, their
    parameters and the option names; ``(None, {})`` without a ``suite``."""
    if not spec.suite:
        return None, {}
    from vaekit.domains import get_domain
    from vaekit.domains.data_root import resolve_data_value

    dom_name, _, name = spec.suite.partition(":")
    protocols = get_domain(dom_name).benchmark_protocols() if name else {}
    if name not in protocols:
        raise ConfigError(f"benchmark.suite: {spec.suite!r} is not a suite; write <domain>:<suite>, e.g. "
                          f"{', '.join(list_suites()) or 'anomaly:adbench'}.")
    protocol = protocols[name]
    unknown = sorted(set(spec.options) - set(protocol.options))
    if unknown:
        raise ConfigError(f"benchmark.options: {unknown} are not options of {spec.suite}; valid: "
                          f"{', '.join(protocol.options) or 'none'}.")
    for i, r in enumerate(spec.runs):
        if r.model not in protocol.models:
            raise ConfigError(f"benchmark.runs[{i}].model: {r.model!r} is not a model of {spec.suite}; "
                              f"valid: {', '.join(protocol.models)}.")
        allowed = _allowed_params(protocol.models[r.model])
        extra = sorted(set(r.params) - set(allowed)) if allowed is not None else []
        if extra:
            raise ConfigError(f"benchmark.runs[{i}].params: {extra} are not parameters of a `{r.model}` row of "
                              f"{spec.suite}; valid: {', '.join(allowed) or 'none'}.")
    return protocol, resolve_data_value({**protocol.options, **spec.options})


def _allowed_params(model) -> Optional[Tuple[str, ...]]:
    """The row parameters ``model`` takes (``None``: any): a trained run's ``run``/``config``/``set``
    beside the model's own."""
    if model.params is None:
        return None
    return (("run", "config", "set") if model.run is not None else ()) + tuple(model.params)


def list_suites() -> List[str]:
    """Every ``<domain>:<protocol>`` of the installed domains."""
    return list(_all_protocols())


def _all_protocols() -> Dict[str, Any]:
    from vaekit.domains import domain_names, get_domain

    out = {}
    for d in domain_names():
        try:
            out.update({f"{d}:{n}": p for n, p in get_domain(d).benchmark_protocols().items()})
        except ImportError:  # a domain whose optional dependency is missing offers none
            continue
    return out


def describe_suites() -> str:
    """``vaekit benchmark --list-suites``: each declared protocol, its models, options and metrics."""
    lines = []
    for key, p in _all_protocols().items():
        lines += [f"{key}: {p.doc}", f"  models: {', '.join(p.models)}",
                  "  options: " + (", ".join(f"{k}={v}" for k, v in p.options.items()) or "none"),
                  f"  metrics: {', '.join(p.metrics)}"]
    return "\n".join(lines)


def _slug(text: str) -> str:
    """A run's folder name: one path component ('.' and '..' become 'run')."""
    s = re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_")
    return s if s.strip(".") else "run"


def _cell(values: List[float]) -> str:
    vals = [v for v in values if isinstance(v, (int, float)) and not math.isnan(float(v))]
    if not vals:
        return "-"
    m = sum(vals) / len(vals)
    if len(vals) == 1:
        return f"{m:.4g}"
    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1))
    return f"{m:.4g} ± {sd:.2g}"


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(float(v))


def _mean(values: Sequence[Any]) -> Optional[float]:
    vals = [float(v) for v in values if _is_num(v)]
    return sum(vals) / len(vals) if vals else None


def _run_unit(spec: BenchmarkSpec, protocol, options: Dict[str, Any], r: RunSpec, seed: int, run_dir: Path,
              fresh: bool, load: Callable[[int], Dict[Optional[str], Any]],
              log: Callable[[str], None]) -> Tuple[List[Dict[str, Any]], float]:
    """One run x seed -> ``(records, seconds)``; a record per data set (one, without a protocol).

    Holds the unit's run directory from training to its records (a second benchmark writing the
    same unit stops at once)."""
    with run_lock(run_dir):
        return _run_unit_locked(spec, protocol, options, r, seed, run_dir, fresh, load, log)


def _run_unit_locked(spec: BenchmarkSpec, protocol, options: Dict[str, Any], r: RunSpec, seed: int, run_dir: Path,
                     fresh: bool, load: Callable[[int], Dict[Optional[str], Any]],
                     log: Callable[[str], None]) -> Tuple[List[Dict[str, Any]], float]:
    t0 = time.time()
    if protocol is None:
        sets = list(spec.protocol.set) + list(r.set) + [f"train.seed={seed}"]
        summary = train_run(load_config(r.config, sets), run_dir, resume="never" if fresh else "auto", log=log)
        seconds = summary.get("elapsed_s") or time.time() - t0
        return [evaluate_run(run_dir, split=spec.split, iw_samples=spec.iw_samples, report=False,
                             tracking_from_config=True)], seconds
    done = run_dir / "records.json"
    if fresh:  # --fresh: whatever the protocol trained there starts over (the lock file stays: we hold it)
        import shutil

        for p in run_dir.iterdir():
            if p.name == LOCK_NAME:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()  # a file, or a link (never what it points to)
    if done.is_file():
        saved = json.loads(done.read_text())
        same = jsonable({"model": r.model, "params": r.params, "options": options})
        if {k: saved.get(k) for k in same} == same:
            return saved["records"], saved["seconds"]
        log(f"vaekit benchmark: {done} was made with other options or params; running the unit again.")
    records = _protocol_records(spec, protocol, options, r, seed, run_dir, load, log)
    seconds = time.time() - t0
    with atomic_path(done) as tmp:  # the unit is done only once its records are on disk
        tmp.write_text(json.dumps(jsonable({"model": r.model, "params": r.params, "seed": seed,
                                            "options": options, "records": records, "seconds": seconds})))
    return records, seconds


def _protocol_records(spec: BenchmarkSpec, protocol, options: Dict[str, Any], r: RunSpec, seed: int,
                      run_dir: Path, load: Callable[[int], Dict[Optional[str], Any]],
                      log: Callable[[str], None]) -> List[Dict[str, Any]]:
    """One model and seed on every data set of the protocol: a record each.

    A model that fails to build, fit or score on a set gives a record with its ``error`` and NaN
    metrics (the other sets and models go on); a :class:`ConfigError` (the spec asks for
    something impossible) is raised.
    """
    from vaekit.domains.protocols import Unit

    model = protocol.models[r.model]
    params = dict(r.params)
    trained = _trained_run(spec, model, r, params, seed, run_dir, log) if model.run is not None else (None, None)
    records = []
    for dataset, data in load(seed).items():
        unit = Unit(model=r.model, params=params, seed=seed, options=dict(options), dataset=dataset, data=data,
                    work_dir=run_dir, run=trained[0], run_dir=trained[1])
        where = f"{spec.suite}" + (f" {dataset}" if dataset is not None else "") + f" seed {seed} {r.model}"
        try:
            rec = {"dataset": dataset, **protocol.evaluate(model.make(unit), unit)}
        except ConfigError:
            raise
        except Exception as exc:  # a model failing must not lose the other results
            rec = {"dataset": dataset, **{m: float("nan") for m in protocol.metrics},
                   "error": f"{type(exc).__name__}: {exc}"}
        records.append(rec)
        log(f"{where}: " + (rec.get("error") or (protocol.describe(rec) if protocol.describe else "done")))
    return records


def _trained_run(spec: BenchmarkSpec, model, r: RunSpec, params: Dict[str, Any], seed: int, run_dir: Path,
                 log: Callable[[str], None]) -> Tuple[Tuple[Any, ...], Path]:
    """A :class:`~vaekit.domains.protocols.TrainedRun` model's run, loaded: ``params.run`` as it is,
    else ``params.config`` (or the declared default) with ``params.set`` and ``train.seed=<seed>``
    trained (or resumed) into ``<unit>/model``. Pops those keys from ``params``."""
    from .runs import load_run

    existing, config, sets = params.pop("run", None), params.pop("config", None), params.pop("set", None) or []
    config = config or model.run.config
    if existing:
        where = Path(existing)
    elif config:
        where = run_dir / "model"
        train_run(load_config(config, list(sets) + [f"train.seed={seed}"]), where, log=log)
    else:
        i = spec.runs.index(r)
        raise ConfigError(f"benchmark.runs[{i}].params.run: a `{r.model}` row names its run folder, e.g. "
                          f"{model.run.example or '{params: {run: RUN_DIR}}'}, or a config to train (params.config).")
    return load_run(where, device="auto"), where


def _mean_ranks(rows: List[Dict[str, Any]], metric: str, better: str, datasets: Sequence[str],
                unranked: Sequence[str] = ()) -> Dict[str, float]:
    """Per model, its rank on ``metric`` among the models of each data set (1 = best; ties share
    the mean of their ranks), averaged over ``datasets``: ADBench's headline statistic (Han et
    al. 2022, "average rank"). A model without a value on a set is ranked among the others'
    values there only when it has one, so its mean covers fewer sets (the ``sets`` column).
    A model in ``unranked`` (an ablation) is ranked among the others, and is left out of
    their ranks."""
    ranks: Dict[str, List[float]] = {}
    for d in datasets:
        scored = [(row["label"], _mean(row["values"][metric])) for row in rows if row["dataset"] == d]
        scored = [(lab, v) for lab, v in scored if v is not None and not math.isnan(v)]
        for lab, v in scored:
            pool = [w for other, w in scored if other == lab or other not in unranked]
            ahead = sum(1 for w in pool if (w > v if better == "max" else w < v))
            ties = sum(1 for w in pool if w == v)  # itself included
            # the tied models span ranks ahead+1 .. ahead+ties; each takes their mean
            ranks.setdefault(lab, []).append(ahead + (ties + 1) / 2)
    return {lab: sum(r) / len(r) for lab, r in ranks.items()}


def _group_table(title: str, rows: List[Dict[str, Any]], metrics: Sequence[str], datasets: Sequence[str],
                 ranked: Optional[Mapping[str, str]] = None, unranked: Sequence[str] = ()) -> str:
    """Per model, the mean over ``datasets`` of its per-set seed means (sets without a value are
    counted in the ``sets`` column, so a missing one is visible), and for each metric of
    ``ranked`` (metric -> ``"max"`` or ``"min"``, the better direction) its mean rank."""
    ranked = {m: b for m, b in (ranked or {}).items() if m in metrics}
    labels = list(dict.fromkeys(row["label"] for row in rows))
    ranks = {m: _mean_ranks(rows, m, b, datasets, unranked) for m, b in ranked.items()}
    head = list(metrics) + [f"rank {m}" for m in ranked]
    lines = [f"### {title}", "", "| model | " + " | ".join(head) + " | sets |", "|" + " --- |" * (len(head) + 2)]
    for lab in labels:
        per = {row["dataset"]: row for row in rows if row["label"] == lab and row["dataset"] in datasets}
        cells, counts = [], []
        for m in metrics:
            means = [x for x in (_mean(per[d]["values"][m]) for d in per) if x is not None]
            cells.append(f"{sum(means) / len(means):.4g}" if means else "-")
            counts.append(len(means))
        cells += [f"{ranks[m][lab]:.2f}" if lab in ranks[m] else "-" for m in ranked]
        lines.append(f"| {lab} | " + " | ".join(cells) + f" | {max(counts)}/{len(datasets)} |")
    return "\n".join(lines) + "\n"


def _tables(spec: BenchmarkSpec, rows: List[Dict[str, Any]], datasets: List[Optional[str]],
            groups: Dict[str, List[str]], ranked: Optional[Mapping[str, str]] = None) -> str:
    """The Markdown of ``table.md``: the main table (long or wide), then the group means."""
    multi = any(d is not None for d in datasets)
    timed = any(row["train_s"] for row in rows)
    parts = []
    if spec.layout == "wide" and multi:
        labels = list(dict.fromkeys(row["label"] for row in rows))
        by = {(row["dataset"], row["label"]): row for row in rows}
        for m in spec.metrics:
            lines = [f"### {m}", "", "| dataset | " + " | ".join(labels) + " |", "|" + " --- |" * (len(labels) + 1)]
            for d in datasets + ([None] if any(row["dataset"] is None for row in rows) else []):
                lines.append(f"| {d or '(no data set)'} | " + " | ".join(
                    _cell(by[(d, lab)]["values"][m]) if (d, lab) in by else "-" for lab in labels) + " |")
            parts.append("\n".join(lines) + "\n")
    else:
        header = (["dataset"] if multi else []) + ["model"] + list(spec.metrics) + (["train s"] if timed else [])
        lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        for row in rows:
            cells = ([row["dataset"] or ""] if multi else []) + [row["label"]]
            cells += [_cell(row["values"][m]) for m in spec.metrics]
            if timed:
                cells.append(_cell(row["train_s"]) if row["train_s"] else "")
            lines.append("| " + " | ".join(cells) + " |")
        parts.append("\n".join(lines) + "\n")
    for g, names in groups.items():
        parts.append(_group_table(f"mean over {g} sets ({len(names)})", rows, spec.metrics, names, ranked,
                                  [r.label for r in spec.runs if not r.ranked]))
    return "\n".join(parts)


def run_benchmark(spec: BenchmarkSpec, out_dir: str | Path, *, fresh: bool = False,
                  log: Callable[[str], None] = _err) -> Dict[str, Any]:
    """Train and evaluate (or, with a protocol, fit and score on its data sets) every run of
    ``spec`` for every seed; tabulate.

    Returns
    -------
    dict
        ``rows`` (label, kind ``run``/``baseline``/``reference``, dataset, per-metric lists
        over seeds, train seconds), ``groups``, ``failed`` (the records with an error),
        ``table`` (Markdown) and the paths written.
    """
    protocol, options = resolve_suite(spec)
    out = Path(out_dir)
    loaded: Dict[int, Dict[Optional[str], Any]] = {}  # seed -> the protocol's data sets, loaded once

    def load(seed: int) -> Dict[Optional[str], Any]:
        if seed not in loaded:
            loaded[seed] = protocol.load(seed, options)
        return loaded[seed]

    results: Dict[str, List[List[Dict[str, Any]]]] = {}  # label -> per seed -> records
    seconds: Dict[str, List[float]] = {}
    failed: List[Dict[str, Any]] = []
    n = len(spec.runs) * len(spec.seeds)
    i = 0
    for r in spec.runs:
        results[r.label], seconds[r.label] = [], []
        for seed in spec.seeds:
            i += 1
            run_dir = out / "runs" / _slug(r.label) / f"seed{seed}"
            what = r.config or f"{spec.suite} {r.model}"
            log(f"vaekit benchmark [{i}/{n}] {r.label} (seed {seed}): {what} -> {run_dir}")
            records, sec = _run_unit(spec, protocol, options, r, seed, run_dir, fresh, load, log)
            results[r.label].append(records)
            seconds[r.label].append(sec)
            for rec in records:
                if rec.get("error"):
                    failed.append({"label": r.label, "seed": seed, "dataset": rec.get("dataset"),
                                   "error": rec["error"]})
    datasets = list(dict.fromkeys(rec.get("dataset") for per_seed in results.values() for recs in per_seed
                                  for rec in recs))

    def values(label: str, dataset: Optional[str], key_of: Callable[[str], str]) -> Dict[str, List[Any]]:
        return {m: [next((rec.get(key_of(m)) for rec in recs if rec.get("dataset") == dataset), None)
                    for recs in results[label]] for m in spec.metrics}

    rows: List[Dict[str, Any]] = []
    for d in datasets:
        for r in spec.runs:
            rows.append({"label": r.label, "kind": "run", "dataset": d, "config": r.config or r.model,
                         "values": values(r.label, d, lambda m: m),
                         "train_s": seconds[r.label] if protocol is None else []})
        for b in spec.baselines:
            rows.append({"label": b.label, "kind": "baseline", "dataset": d, "config": f"(in {b.from_}'s evaluation)",
                         "values": values(b.from_, d, b.key), "train_s": []})
        for ref in spec.references:
            if (ref.dataset or None) == d:
                rows.append({"label": ref.label, "kind": "reference", "dataset": d, "config": ref.source,
                             "values": {m: [ref.values.get(m)] for m in spec.metrics}, "train_s": []})
    if None not in datasets:  # a multi-set protocol: references without a data set go last
        for ref in spec.references:
            if not ref.dataset:
                rows.append({"label": ref.label, "kind": "reference", "dataset": None, "config": ref.source,
                             "values": {m: [ref.values.get(m)] for m in spec.metrics}, "train_s": []})
    missing = [m for m in spec.metrics if all(v is None for row in rows if row["kind"] == "run"
                                              for v in row["values"][m])]
    if missing:
        raise ConfigError(f"benchmark.metrics: no run's result has {missing}; the keys are those of "
                          f"`vaekit evaluate RUN --json` (e.g. nll_iw, kl, active_units, rank/ndcg@100)"
                          + (f" or of the protocol's records ({', '.join(sorted(results[spec.runs[0].label][0][0]))})"
                             if protocol is not None and results[spec.runs[0].label][0] else "") + ".")
    named = [d for d in datasets if d is not None]
    groups = {}
    if len(named) > 1:
        declared = protocol.groups(named) if protocol is not None and protocol.groups else {"all": named}
        groups = dict(spec.groups) or declared
    md = _tables(spec, rows, datasets, groups, protocol.ranked if protocol is not None else None)
    if failed:
        md += "\nFailed runs (left out of the means):\n\n" + "\n".join(
            f"- {f['label']} seed {f['seed']}" + (f" on {f['dataset']}" if f["dataset"] else "") + f": {f['error']}"
            for f in failed) + "\n"
        log(f"vaekit benchmark: {len(failed)} run(s) failed; listed under the table (left out of the means).")
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "table.md") as tmp:
        tmp.write_text(f"{spec.name}: seeds {spec.seeds}" + (f"; suite {spec.suite} {options}" if protocol else "")
                       + "\n\n" + md)
    with atomic_path(out / "table.csv") as tmp:
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["model", "kind", "dataset", "seed"] + list(spec.metrics))
            for row in rows:
                seeds = spec.seeds if row["kind"] != "reference" else [""]
                for k, seed in enumerate(seeds):
                    w.writerow([row["label"], row["kind"], row["dataset"] or "", seed]
                               + [row["values"][m][k] for m in spec.metrics])
    summary = {"name": spec.name, "seeds": spec.seeds, "suite": spec.suite, "options": options, "rows": rows,
               "groups": groups, "failed": failed, "table": md}
    with atomic_path(out / "benchmark.json") as tmp:
        tmp.write_text(json.dumps(jsonable(summary), indent=1))
    return summary


def benchmark_from_file(path: str | Path, out_dir: Optional[str | Path] = None, *, fresh: bool = False,
                        options: Sequence[str] = (), seeds: Optional[Sequence[int]] = None,
                        overrides: Sequence[str] = (), iw_samples: Optional[int] = None,
                        only: Sequence[str] = (), log: Callable[[str], None] = _err) -> Dict[str, Any]:
    """:func:`run_benchmark` of a spec file; ``out_dir`` defaults to ``runs/benchmark-<name>``.

    ``options`` are ``KEY=VALUE`` strings (values read as YAML) over the spec's suite options,
    ``seeds`` replaces its seeds, ``overrides`` (``--set``) are appended to its protocol and
    ``iw_samples`` replaces its NLL's importance samples and ``only`` keeps the runs with these
    labels (and the baselines read from them; references stay):
    ``--option datasets=[cardio,thyroid] --seeds 1``, ``--set train.max_steps=5000 --iw-samples 100``,
    ``--only "IAF (images:mnist_iaf)"``.
    """
    spec = load_spec(path)
    if only:
        labels = [r.label for r in spec.runs]
        unknown = [o for o in only if o not in labels]
        if unknown:
            raise ConfigError(f"--only: {path} has no run labelled {unknown[0]!r}; its labels: "
                              f"{', '.join(repr(x) for x in labels)}. Quote a label that has spaces.")
        spec = dataclasses.replace(spec, runs=[r for r in spec.runs if r.label in only],
                                   baselines=[b for b in spec.baselines if b.from_ in only])
    if overrides and spec.suite:
        raise ConfigError(f"--set: {spec.suite} runs its own protocol, not vaekit configs; use --option "
                          f"(its options: see the spec) instead of --set {' '.join(overrides)}.")
    if options or seeds or overrides or iw_samples:
        over = dict(spec.options)
        for item in options:
            key, eq, val = item.partition("=")
            if not eq or not key:
                raise ConfigError(f"--option: expected KEY=VALUE (e.g. datasets=[cardio,thyroid]); got {item!r}.")
            over[key.strip()] = load_yaml(val, f"--option {item}")
        spec = from_dict(BenchmarkSpec, {**_as_dict(spec), "options": over,
                                         "seeds": list(seeds) if seeds else spec.seeds,
                                         "protocol": {"set": list(spec.protocol.set) + list(overrides)},
                                         "iw_samples": iw_samples or spec.iw_samples}, "benchmark")
    return run_benchmark(spec, out_dir or Path("runs") / f"benchmark-{_slug(spec.name)}", fresh=fresh, log=log)


def _as_dict(spec: BenchmarkSpec) -> Dict[str, Any]:
    return {f.name: getattr(spec, f.name) if f.name not in ("runs", "baselines", "references", "protocol")
            else dataclasses.asdict(spec)[f.name] for f in dataclasses.fields(spec)}


__all__: Sequence[str] = ("BenchmarkSpec", "load_spec", "run_benchmark", "benchmark_from_file", "describe_suites",
                      "list_suites")
