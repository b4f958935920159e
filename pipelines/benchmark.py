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

Cells are the mean over seeds (``mean ± std`` with several). Runs live in
``OUT/runs/<label>/seed<k>``: an interrupted benchmark resumes, finished runs are only
re-read. Writes ``OUT/table.md``, ``OUT/table.csv`` and ``OUT/benchmark.json``.
"""
from __future__ import annotations

import csv
import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import yaml

from vaekit.core.checkpoint import atomic_path
from vaekit.core.config import from_dict
from vaekit.core.errors import ConfigError

from .config import load_config
from .runs import _err, evaluate_run, jsonable, train_run


@dataclass(frozen=True)
class RunSpec:
    """One vaekit run of a benchmark: a table label, a config and its own overrides."""

    label: str
    config: str
    set: List[str] = field(default_factory=list)


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

    def validate(self, path: str = "benchmark") -> None:
        if not self.runs:
            raise ConfigError(f"{path}.runs: list at least one run ({{label: ..., config: domain:name}}).")
        labels = [r.label for r in self.runs]
        dup = sorted({x for x in labels if labels.count(x) > 1})
        if dup:
            raise ConfigError(f"{path}.runs: labels must be unique; repeated: {dup}. Give each run its own label.")
        if not self.metrics:
            raise ConfigError(f"{path}.metrics: name at least one result key (e.g. nll_iw, rank/ndcg@100).")
        if not self.seeds:
            raise ConfigError(f"{path}.seeds: list at least one seed, e.g. [0].")
        for i, b in enumerate(self.baselines):
            if b.from_ not in labels:
                raise ConfigError(f"{path}.baselines[{i}].from: {b.from_!r} is not a run label; valid: {labels}.")
            if not b.prefix and not b.keys:
                raise ConfigError(f"{path}.baselines[{i}]: give `prefix` or `keys` to say which result keys it reads.")


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


def run_benchmark(spec: BenchmarkSpec, out_dir: str | Path, *, fresh: bool = False,
                  log: Callable[[str], None] = _err) -> Dict[str, Any]:
    """Train and evaluate every run of ``spec`` for every seed; tabulate the metrics.

    Returns
    -------
    dict
        ``rows`` (label, kind ``vaekit``/``baseline``, per-metric lists over seeds, train seconds),
        ``table`` (Markdown) and the paths written.
    """
    out = Path(out_dir)
    results: Dict[str, List[Dict[str, Any]]] = {}
    seconds: Dict[str, List[float]] = {}
    n = len(spec.runs) * len(spec.seeds)
    i = 0
    for r in spec.runs:
        results[r.label], seconds[r.label] = [], []
        for seed in spec.seeds:
            i += 1
            run_dir = out / "runs" / _slug(r.label) / f"seed{seed}"
            sets = list(spec.protocol.set) + list(r.set) + [f"train.seed={seed}"]
            log(f"vaekit benchmark [{i}/{n}] {r.label} (seed {seed}): {r.config} -> {run_dir}")
            t0 = time.time()
            summary = train_run(load_config(r.config, sets), run_dir, resume="never" if fresh else "auto", log=log)
            seconds[r.label].append(summary.get("elapsed_s") or time.time() - t0)
            results[r.label].append(evaluate_run(run_dir, split=spec.split, iw_samples=spec.iw_samples,
                                                 report=False))
    rows = [{"label": r.label, "kind": "vaekit", "config": r.config,
             "values": {m: [res.get(m) for res in results[r.label]] for m in spec.metrics},
             "train_s": seconds[r.label]} for r in spec.runs]
    for b in spec.baselines:
        rows.append({"label": b.label, "kind": "baseline", "config": f"(in {b.from_}'s evaluation)",
                     "values": {m: [res.get(b.key(m)) for res in results[b.from_]] for m in spec.metrics},
                     "train_s": []})
    missing = [m for m in spec.metrics if all(v is None for row in rows if row["kind"] == "vaekit"
                                              for v in row["values"][m])]
    if missing:
        raise ConfigError(f"benchmark.metrics: no run's result has {missing}; the keys are those of "
                          f"`vaekit evaluate RUN --json` (e.g. nll_iw, kl, active_units, rank/ndcg@100).")
    header = ["model"] + list(spec.metrics) + ["train s"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        t = _cell(row["train_s"]) if row["train_s"] else ""
        lines.append("| " + " | ".join([row["label"]] + [_cell(row["values"][m]) for m in spec.metrics] + [t]) + " |")
    md = "\n".join(lines) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "table.md") as tmp:
        tmp.write_text(f"{spec.name}: seeds {spec.seeds}\n\n" + md)
    with atomic_path(out / "table.csv") as tmp:
        with open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["model", "kind", "seed"] + list(spec.metrics))
            for row in rows:
                for k, seed in enumerate(spec.seeds):
                    w.writerow([row["label"], row["kind"], seed] + [row["values"][m][k] for m in spec.metrics])
    summary = {"name": spec.name, "seeds": spec.seeds, "rows": rows, "table": md}
    with atomic_path(out / "benchmark.json") as tmp:
        tmp.write_text(json.dumps(jsonable(summary), indent=1))
    return summary


def benchmark_from_file(path: str | Path, out_dir: Optional[str | Path] = None, *, fresh: bool = False,
                        log: Callable[[str], None] = _err) -> Dict[str, Any]:
    """:func:`run_benchmark` of a spec file; ``out_dir`` defaults to ``runs/benchmark-<name>``."""
    spec = load_spec(path)
    return run_benchmark(spec, out_dir or Path("runs") / f"benchmark-{_slug(spec.name)}", fresh=fresh, log=log)


__all__: Sequence[str] = ("BenchmarkSpec", "load_spec", "run_benchmark", "benchmark_from_file")
