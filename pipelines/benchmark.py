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
detectors, RecSys splits with EASE tuned on validation users), a domain supplies it as a
*suite* (:class:`~vaekit.domains.base.BenchmarkSuite`) and the runs name its models::

    name: adbench
    suite: anomaly:adbench          # <domain>:<suite>; `vaekit benchmark --list-suites`
    options: {datasets: [cardio, thyroid]}
    seeds: [1, 2, 3]
    runs:
      - {label: vaekit, model: vaekit}
      - {label: vaekit-notrim, model: vaekit, params: {trim: 0}}
      - {label: IForest, model: IForest}
    metrics: [auc_roc, auc_pr]
    layout: wide                    # one data set x model table per metric (default: long)

A suite reports one record per data set; the table then has a row per (data set, model) and,
with several sets, the mean over each group of sets (the suite's groups, or ``groups:``).
Cells are the mean over seeds (``mean ± std`` with several); failed runs (a record with an
``error``) are listed and left out of the means. Runs live in ``OUT/runs/<label>/seed<k>``:
an interrupted benchmark resumes, finished runs are only re-read. Writes ``OUT/table.md``,
``OUT/table.csv`` and ``OUT/benchmark.json``.
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
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import yaml

from vaekit.core.checkpoint import atomic_path
from vaekit.core.config import from_dict
from vaekit.core.errors import ConfigError

from .config import load_config
from .runs import _err, evaluate_run, jsonable, train_run


@dataclass(frozen=True)
class RunSpec:
    """One run of a benchmark: a table label and either a vaekit config with its own overrides
    (``config``, ``set``) or, in a suite, one of the suite's models with its arguments
    (``model``, ``params``)."""

    label: str
    config: str = ""
    set: List[str] = field(default_factory=list)
    model: str = ""
    params: Dict[str, Any] = field(default_factory=dict)


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
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a benchmark spec is a mapping with name, runs, metrics; got {type(raw).__name__}.")
    for b in raw.get("baselines") or []:
        if isinstance(b, dict) and "from" in b:
            b["from_"] = b.pop("from")  # `from` is a Python keyword
    return from_dict(BenchmarkSpec, raw, "benchmark")


def resolve_suite(spec: BenchmarkSpec):
    """The spec's :class:`~vaekit.domains.base.BenchmarkSuite` and its options (defaults filled
    in), checked against the suite's models and option names; ``(None, {})`` without a suite."""
    if not spec.suite:
        return None, {}
    from vaekit.domains import get_domain

    dom_name, _, name = spec.suite.partition(":")
    suites = get_domain(dom_name).benchmark_suites() if name else {}
    if name not in suites:
        raise ConfigError(f"benchmark.suite: {spec.suite!r} is not a suite; write <domain>:<suite>, e.g. "
                          f"{', '.join(list_suites()) or 'anomaly:adbench'}.")
    suite = suites[name]
    unknown = sorted(set(spec.options) - set(suite.options))
    if unknown:
        raise ConfigError(f"benchmark.options: {unknown} are not options of {spec.suite}; valid: "
                          f"{', '.join(suite.options) or 'none'}.")
    for i, r in enumerate(spec.runs):
        if r.model not in suite.models:
            raise ConfigError(f"benchmark.runs[{i}].model: {r.model!r} is not a model of {spec.suite}; "
                              f"valid: {', '.join(suite.models)}.")
    return suite, {**suite.options, **spec.options}


def list_suites() -> List[str]:
    """Every ``<domain>:<suite>`` of the installed domains."""
    from vaekit.domains import domain_names, get_domain

    out = []
    for d in domain_names():
        try:
            out += [f"{d}:{n}" for n in get_domain(d).benchmark_suites()]
        except ImportError:  # a domain whose optional dependency is missing offers none
            continue
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_") or "run"


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


def _run_unit(spec: BenchmarkSpec, suite, options: Dict[str, Any], r: RunSpec, seed: int, run_dir: Path,
              fresh: bool, log: Callable[[str], None]) -> Tuple[List[Dict[str, Any]], float]:
    """One run x seed -> ``(records, seconds)``; a record per data set (one, without a suite)."""
    t0 = time.time()
    if suite is None:
        sets = list(spec.protocol.set) + list(r.set) + [f"train.seed={seed}"]
        summary = train_run(load_config(r.config, sets), run_dir, resume="never" if fresh else "auto", log=log)
        seconds = summary.get("elapsed_s") or time.time() - t0
        return [evaluate_run(run_dir, split=spec.split, iw_samples=spec.iw_samples, report=False)], seconds
    done = run_dir / "records.json"
    if fresh and run_dir.is_dir():  # --fresh: whatever the protocol trained there starts over
        import shutil

        shutil.rmtree(run_dir)
    if done.is_file():
        saved = json.loads(done.read_text())
        same = jsonable({"model": r.model, "params": r.params, "options": options})
        if {k: saved.get(k) for k in same} == same:
            return saved["records"], saved["seconds"]
        log(f"vaekit benchmark: {done} was made with other options or params; running the unit again.")
    run_dir.mkdir(parents=True, exist_ok=True)
    records = suite.run(r.model, dict(r.params), seed, options, _suite_context(run_dir, log))
    seconds = time.time() - t0
    with atomic_path(done) as tmp:  # the unit is done only once its records are on disk
        tmp.write_text(json.dumps(jsonable({"model": r.model, "params": r.params, "seed": seed,
                                            "options": options, "records": records, "seconds": seconds})))
    return records, seconds


def _suite_context(run_dir: Path, log: Callable[[str], None]):
    """The pipeline functions a domain's suite may call (domains cannot import the pipelines)."""
    from vaekit.domains.base import SuiteContext

    from .runs import load_run

    def train(config: str, overrides: Sequence[str], where: Path):
        return train_run(load_config(config, list(overrides)), where, log=log)

    return SuiteContext(log=log, work_dir=run_dir, train=train, load_run=lambda d: load_run(d, device="auto"))


def _group_table(title: str, rows: List[Dict[str, Any]], metrics: Sequence[str], datasets: Sequence[str]) -> str:
    """Per model, the mean over ``datasets`` of its per-set seed means (sets without a value are
    counted in the ``sets`` column, so a missing one is visible)."""
    labels = list(dict.fromkeys(row["label"] for row in rows))
    lines = [f"### {title}", "", "| model | " + " | ".join(metrics) + " | sets |", "|" + " --- |" * (len(metrics) + 2)]
    for lab in labels:
        per = {row["dataset"]: row for row in rows if row["label"] == lab and row["dataset"] in datasets}
        cells, counts = [], []
        for m in metrics:
            means = [x for x in (_mean(per[d]["values"][m]) for d in per) if x is not None]
            cells.append(f"{sum(means) / len(means):.4g}" if means else "-")
            counts.append(len(means))
        lines.append(f"| {lab} | " + " | ".join(cells) + f" | {max(counts)}/{len(datasets)} |")
    return "\n".join(lines) + "\n"


def _tables(spec: BenchmarkSpec, rows: List[Dict[str, Any]], datasets: List[Optional[str]],
            groups: Dict[str, List[str]]) -> str:
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
        parts.append(_group_table(f"mean over {g} sets ({len(names)})", rows, spec.metrics, names))
    return "\n".join(parts)


def run_benchmark(spec: BenchmarkSpec, out_dir: str | Path, *, fresh: bool = False,
                  log: Callable[[str], None] = _err) -> Dict[str, Any]:
    """Train and evaluate (or, in a suite, run) every run of ``spec`` for every seed; tabulate.

    Returns
    -------
    dict
        ``rows`` (label, kind ``run``/``baseline``/``reference``, dataset, per-metric lists
        over seeds, train seconds), ``groups``, ``failed`` (the records with an error),
        ``table`` (Markdown) and the paths written.
    """
    suite, options = resolve_suite(spec)
    out = Path(out_dir)
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
            records, sec = _run_unit(spec, suite, options, r, seed, run_dir, fresh, log)
            results[r.label].append(records)
            seconds[r.label].append(sec)
            for rec in records:
                if rec.get("error"):
                    failed.append({"label": r.label, "seed": seed, "dataset": rec.get("dataset"), "error": rec["error"]})
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
                         "train_s": seconds[r.label] if suite is None else []})
        for b in spec.baselines:
            rows.append({"label": b.label, "kind": "baseline", "dataset": d, "config": f"(in {b.from_}'s evaluation)",
                         "values": values(b.from_, d, b.key), "train_s": []})
        for ref in spec.references:
            if (ref.dataset or None) == d:
                rows.append({"label": ref.label, "kind": "reference", "dataset": d, "config": ref.source,
                             "values": {m: [ref.values.get(m)] for m in spec.metrics}, "train_s": []})
    if None not in datasets:  # a multi-set suite: references without a data set go last
        for ref in spec.references:
            if not ref.dataset:
                rows.append({"label": ref.label, "kind": "reference", "dataset": None, "config": ref.source,
                             "values": {m: [ref.values.get(m)] for m in spec.metrics}, "train_s": []})
    missing = [m for m in spec.metrics if all(v is None for row in rows if row["kind"] == "run"
                                              for v in row["values"][m])]
    if missing:
        raise ConfigError(f"benchmark.metrics: no run's result has {missing}; the keys are those of "
                          f"`vaekit evaluate RUN --json` (e.g. nll_iw, kl, active_units, rank/ndcg@100)"
                          + (f" or of the suite's records ({', '.join(sorted(results[spec.runs[0].label][0][0]))})"
                             if suite is not None and results[spec.runs[0].label][0] else "") + ".")
    named = [d for d in datasets if d is not None]
    groups = {}
    if len(named) > 1:
        groups = dict(spec.groups) or (suite.groups(named) if suite is not None and suite.groups else {"all": named})
    md = _tables(spec, rows, datasets, groups)
    if failed:
        md += "\nFailed runs (left out of the means):\n\n" + "\n".join(
            f"- {f['label']} seed {f['seed']}" + (f" on {f['dataset']}" if f["dataset"] else "") + f": {f['error']}"
            for f in failed) + "\n"
        log(f"vaekit benchmark: {len(failed)} run(s) failed; listed under the table (left out of the means).")
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "table.md") as tmp:
        tmp.write_text(f"{spec.name}: seeds {spec.seeds}" + (f"; suite {spec.suite} {options}" if suite else "")
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
            over[key.strip()] = yaml.safe_load(val)
        spec = from_dict(BenchmarkSpec, {**_as_dict(spec), "options": over,
                                         "seeds": list(seeds) if seeds else spec.seeds,
                                         "protocol": {"set": list(spec.protocol.set) + list(overrides)},
                                         "iw_samples": iw_samples or spec.iw_samples}, "benchmark")
    return run_benchmark(spec, out_dir or Path("runs") / f"benchmark-{_slug(spec.name)}", fresh=fresh, log=log)


def _as_dict(spec: BenchmarkSpec) -> Dict[str, Any]:
    return {f.name: getattr(spec, f.name) if f.name not in ("runs", "baselines", "references", "protocol")
            else dataclasses.asdict(spec)[f.name] for f in dataclasses.fields(spec)}


__all__: Sequence[str] = ("BenchmarkSpec", "load_spec", "run_benchmark", "benchmark_from_file", "list_suites")
