"""The ``vaekit`` command line.

Stable contract (scripts rely on it):

* ``vaekit train CONFIG [--set k=v ...] [--run-dir DIR]``
* ``vaekit evaluate RUN_DIR [--json] [--mlflow-uri URI]``: ``--json`` prints one JSON object on stdout
* ``vaekit generate RUN_DIR -n N --out FILE [--cond k=v ...]``
* ``vaekit config CONFIG [--set k=v ...]``: the resolved config as YAML
* ``vaekit list [configs|domains]``: ``list configs`` prints one ``domain:name`` a line
* ``vaekit sweep CONFIG --set KEY=V1,V2,... [--out-dir DIR]``: one run per value, table + plots
* ``vaekit study losses CONFIG [--set ...]``: pointwise vs perceptual vs adversarial terms
* ``vaekit demo [--domain D ...] [--out-dir DIR]``: every domain's embedded default, one summary
  table on stdout and ``DIR/report.html``; re-running resumes
* ``vaekit benchmark SPEC.yaml [--out-dir DIR] [--only LABEL ...]``: one table
  (``DIR/table.md``, ``table.csv``, ``benchmark.json``)
* ``vaekit runs [ROOT] [--json]``: past runs with their key metrics, newest first

CONFIG is a YAML path or a packaged ``domain:name``. Config and data errors exit with status 2
and one line on stderr (``--debug`` shows the traceback); a training failure exits 1. A run
directory has one writer at a time: ``train``, ``evaluate`` (and ``sweep``, ``study``, ``demo``,
``benchmark``, run by run) on a run directory another process is writing stop at once with
status 2 and one line naming that process (:mod:`vaekit.pipelines.runlock`).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from vaekit.core.errors import (CheckpointError, ConfigError, DataValidationError, MissingDependencyError,
                                TrainingError, VaekitError)


def _parser() -> argparse.ArgumentParser:
    from vaekit.domains.entries import domain_entries

    entries = domain_entries()
    p = argparse.ArgumentParser(prog="vaekit", description="Variational autoencoders with one diagnostic view of "
                                "every model, for: " + "; ".join(f"{n} ({e.summary})" for n, e in entries.items()))
    p.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_set(sp):
        sp.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override a config value by dotted path, e.g. --set model.latent_dim=16 train.max_steps=500")

    t = sub.add_parser("train", help="train a model from a config")
    t.add_argument("config", metavar="CONFIG", help="YAML path or packaged domain:name (see `vaekit list configs`)")
    add_set(t)
    t.add_argument("--run-dir", help="output folder (default runs/<domain>-<name>; an existing run there is resumed)")
    t.add_argument("--fresh", action="store_true", help="discard a previous run in the run directory")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    e = sub.add_parser("evaluate", help="diagnostics and domain metrics of a trained run")
    e.add_argument("run_dir", metavar="RUN_DIR")
    e.add_argument("--split", choices=["val", "test"], help="split to evaluate (default: the config's eval.split)")
    e.add_argument("--iw-samples", type=int, help="importance samples for the NLL (default: eval.iw_samples)")
    e.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    e.add_argument("--device", default="auto")
    e.add_argument("--no-report", action="store_true", help="do not write RUN_DIR/report.html")
    e.add_argument("--mlflow-uri", default=None, metavar="URI",
                   help="log the evaluation to this MLflow tracking URI (default: $MLFLOW_TRACKING_URI; the "
                        "tracking.mlflow_uri a run directory's config.yaml names is never used)")

    g = sub.add_parser("generate", help="sample from a trained run")
    g.add_argument("run_dir", metavar="RUN_DIR")
    g.add_argument("-n", type=int, default=100, help="number of samples (with --input: outputs per input, "
                   "e.g. items recommended per user; text: one rewrite per input line, -n is not used)")
    g.add_argument("--input", default=None, metavar="FILE",
                   help="generate from these inputs instead of the prior (recsys: user histories -> top-n; "
                        "text: one sentence a line -> restyled into --cond style=L)")
    g.add_argument("--out", required=True, help="output file (format by the domain and suffix)")
    g.add_argument("--cond", action="extend", nargs="+", default=[], metavar="NAME=VALUE",
                   help="condition of a conditional model")
    g.add_argument("--seed", type=int, default=0)
    dec = g.add_mutually_exclusive_group()
    dec.add_argument("--sample", dest="sample", action="store_true", default=None,
                     help="sample x ~ p(x|z) (default for domains that sample, e.g. molecules as in MOSES)")
    dec.add_argument("--greedy", dest="sample", action="store_false",
                     help="take the mean / greedy decoding of p(x|z) (default for the others)")
    g.add_argument("--device", default="auto")

    c = sub.add_parser("config", help="print the fully resolved config")
    c.add_argument("config", metavar="CONFIG")
    add_set(c)

    sw = sub.add_parser("sweep", help="train and evaluate one run per value of KEY=V1,V2,... (rate-distortion "
                        "curves: --set objective.beta=0.1,0.3,1,3)")
    sw.add_argument("config", metavar="CONFIG")
    add_set(sw)
    sw.add_argument("--out-dir", help="output folder (default runs/sweep-<domain>-<name>)")
    sw.add_argument("--iw-samples", type=int, help="importance samples of each run's NLL (default: eval.iw_samples)")
    sw.add_argument("--fresh", action="store_true", help="retrain runs that already exist")
    sw.add_argument("--no-progress", action="store_true", help="no progress bars")

    st = sub.add_parser("study", help="studies of what the latent stores (losses: pointwise vs perceptual vs "
                        "adversarial reconstruction terms)")
    st.add_argument("study", choices=["losses"])
    st.add_argument("config", metavar="CONFIG")
    add_set(st)
    st.add_argument("--out-dir", help="output folder (default runs/study-losses-<domain>-<name>)")
    st.add_argument("--variants", nargs="+", default=None, metavar="V",
                    help="subset of: pointwise perceptual adversarial perceptual+adversarial")
    st.add_argument("--perceptual-weight", type=float, default=100.0)
    st.add_argument("--adversarial-weight", type=float, default=5.0)
    st.add_argument("--feature-steps", type=int, default=2000, help="training steps of the feature network")
    st.add_argument("--iw-samples", type=int, help="importance samples of each run's NLL")
    st.add_argument("--fresh", action="store_true", help="retrain runs that already exist")
    st.add_argument("--no-progress", action="store_true", help="no progress bars")

    dm = sub.add_parser("demo", help="train + evaluate every domain's embedded default; one summary table and "
                        "report.html (re-running resumes)")
    dm.add_argument("--domain", nargs="+", default=None, metavar="D",
                    help="only these domains (" + " ".join(n for n, e in entries.items() if e.demo) + ")")
    dm.add_argument("--out-dir", default="runs/demo", help="output folder (default runs/demo)")
    dm.add_argument("--fresh", action="store_true", help="retrain domains already done")
    dm.add_argument("--no-progress", action="store_true", help="no progress bars")

    bm = sub.add_parser("benchmark", help="train + evaluate the runs of a benchmark spec (YAML) -> one table "
                        "(Markdown + CSV) with the baselines beside")
    bm.add_argument("spec", metavar="SPEC.yaml", nargs="?")
    bm.add_argument("--list-suites", action="store_true",
                    help="list the declared protocols (suite: <domain>:<name>) with their models, options, metrics")
    bm.add_argument("--out-dir", help="output folder (default runs/benchmark-<name>)")
    bm.add_argument("--fresh", action="store_true", help="retrain runs that already exist")
    bm.add_argument("--option", dest="options", nargs="+", default=[], metavar="KEY=VALUE",
                    help="a suite option over the spec's (value read as YAML), e.g. datasets=[cardio,thyroid]")
    bm.add_argument("--seeds", default=None, help="comma-separated seeds replacing the spec's, e.g. 1,2")
    bm.add_argument("--set", dest="overrides", nargs="+", default=[], metavar="KEY=VALUE",
                    help="config overrides appended to the spec's protocol (every run), e.g. train.max_steps=5000")
    bm.add_argument("--iw-samples", type=int, default=None, help="importance samples of each run's NLL")
    bm.add_argument("--only", nargs="+", default=[], metavar="LABEL",
                    help="only the runs with these labels (and the baselines read from them)")

    rn = sub.add_parser("runs", help="past runs under a folder with their key metrics (newest first)")
    rn.add_argument("root", nargs="?", default="runs", help="folder to search (default runs)")
    rn.add_argument("--json", action="store_true", help="one JSON list on stdout")

    ls = sub.add_parser("list", help="list domains and packaged configs")
    ls.add_argument("what", nargs="?", choices=["configs", "domains"], default=None)
    for sp in (t, e, g, c, sw, st, dm, bm):  # the commands that read data
        sp.add_argument("--data-root", default=None, metavar="DIR",
                        help="folder of the shared data that `data_root:` paths of configs and benchmark "
                             "protocols name (default: $VAEKIT_DATA_ROOT, else ../shared/data)")
    return p


def _cmd_train(a) -> int:
    from .config import load_config
    from .runs import train_run

    overrides = list(a.overrides) + (["train.progress=false"] if a.no_progress else [])
    cfg = load_config(a.config, overrides)
    train_run(cfg, a.run_dir, resume="never" if a.fresh else "auto")
    return 0


def _cmd_demo(a) -> int:
    from .demo import run_demo

    res = run_demo(a.domain, a.out_dir, fresh=a.fresh, progress=not a.no_progress)
    print(res["table"], end="")
    print(f"report: {res['report']}")
    return 0


def _cmd_benchmark(a) -> int:
    from .benchmark import benchmark_from_file, describe_suites

    if a.list_suites:
        print(describe_suites())
        return 0
    if not a.spec:
        raise ConfigError("benchmark: pass a spec file (see benchmarks/specs/), or --list-suites to list the "
                          "declared protocols.")
    seeds = None
    if a.seeds:
        try:
            seeds = [int(x) for x in a.seeds.split(",") if x.strip()]
        except ValueError:
            raise ConfigError(f"--seeds: comma-separated integers, e.g. 1,2; got {a.seeds!r}.") from None
    res = benchmark_from_file(a.spec, a.out_dir, fresh=a.fresh, options=a.options, seeds=seeds,
                              overrides=a.overrides, iw_samples=a.iw_samples, only=a.only)
    print(res["table"], end="")
    return 0


def _cmd_runs(a) -> int:
    from .history import find_runs, format_runs

    if not Path(a.root).is_dir():
        raise ConfigError(f"vaekit runs: {a.root} is not a folder; pass the folder your runs are in (default runs).")
    rows = find_runs(a.root)
    print(json.dumps(rows) if a.json else format_runs(rows), end="\n" if a.json else "")
    return 0


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v[:8]) + (", ..." if len(v) > 8 else "") + "]"
    return str(v)


def _cmd_evaluate(a) -> int:
    from vaekit.core.diagnostics import summary_line

    from .runs import evaluate_run, jsonable

    res = evaluate_run(a.run_dir, a.split, a.device, a.iw_samples, report=not a.no_report, mlflow_uri=a.mlflow_uri)
    if a.json:
        print(json.dumps(jsonable(res), allow_nan=False))
        return 0
    print(f"{res['domain']}:{res['name']} at step {res['step']} on {res['split']} ({res['n_examples']} examples)")
    print("  " + summary_line(res))
    skip = {"domain", "name", "split", "step", "spectrum", "metric_directions", "warnings", "notes",
            "active_unit_variance", "report"}
    width = max(len(k) for k in res)
    for k, v in res.items():
        if k not in skip:
            arrow = {"higher": " (higher is better)", "lower": " (lower is better)"}.get(
                res["metric_directions"].get(k, ""), "")
            print(f"  {k:<{width}}  {_fmt(v)}{arrow}")
    for w in res["warnings"]:
        print(f"warning: {w}")
    for note in res["notes"]:
        print(f"note: {note}")
    print(f"(written to {a.run_dir}/eval.json" + (f" and {res['report']})" if "report" in res else ")"))
    return 0


def _cmd_generate(a) -> int:
    from .runs import generate_run

    path = generate_run(a.run_dir, a.n, a.out, a.cond, a.seed, a.sample, a.device, input_path=a.input)
    what = f"outputs for the inputs of {a.input}" if a.input else f"{a.n} samples"
    print(f"wrote {what} to {path}", file=sys.stderr)
    return 0


def _cmd_config(a) -> int:
    from .config import dump_config, load_config

    print(dump_config(load_config(a.config, a.overrides)), end="")
    return 0


def _cmd_list(a) -> int:
    from vaekit.domains import domain_names, get_domain

    for name in domain_names():
        dom = get_domain(name)
        if a.what == "domains":
            print(name)
        elif a.what == "configs":
            for c in dom.config_names():
                print(f"{name}:{c}")
        else:
            print(f"{name}: {', '.join(f'{name}:{c}' for c in dom.config_names())}")
    return 0


def _cmd_sweep(a) -> int:
    from .studies import sweep

    overrides = list(a.overrides) + (["train.progress=false"] if a.no_progress else [])
    res = sweep(a.config, overrides, a.out_dir, resume="never" if a.fresh else "auto", iw_samples=a.iw_samples)
    print(res["table"], end="")
    print(f"(report: {res['report']})")
    return 0


def _cmd_study(a) -> int:
    from .studies import LOSS_VARIANTS, study_losses

    overrides = list(a.overrides) + (["train.progress=false"] if a.no_progress else [])
    res = study_losses(a.config, overrides, a.out_dir, variants=a.variants or LOSS_VARIANTS,
                       perceptual_weight=a.perceptual_weight, adversarial_weight=a.adversarial_weight,
                       feature_steps=a.feature_steps, resume="never" if a.fresh else "auto", iw_samples=a.iw_samples)
    print(res["table"], end="")
    print(f"(report: {res['report']})")
    return 0


_COMMANDS = {"train": _cmd_train, "sweep": _cmd_sweep, "study": _cmd_study, "evaluate": _cmd_evaluate, "generate": _cmd_generate, "config": _cmd_config,
             "demo": _cmd_demo, "benchmark": _cmd_benchmark, "runs": _cmd_runs, "list": _cmd_list}


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``vaekit`` console script; returns the exit status."""
    from vaekit.domains.data_root import using_data_root

    from .runlock import RunDirBusyError

    a = _parser().parse_args(argv)
    try:
        with using_data_root(getattr(a, "data_root", None)):
            return _COMMANDS[a.command](a)
    except (ConfigError, DataValidationError, CheckpointError, MissingDependencyError, RunDirBusyError) as exc:
        if a.debug:
            raise
        print(f"vaekit: error: {exc}", file=sys.stderr)
        return 2
    except TrainingError as exc:
        if a.debug:
            raise
        print(f"vaekit: training failed: {exc}", file=sys.stderr)
        return 1
    except VaekitError as exc:
        if a.debug:
            raise
        print(f"vaekit: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("vaekit: interrupted; run the same command again to resume.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
