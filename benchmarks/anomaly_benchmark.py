"""Anomaly-detection benchmark: vaekit's VAEDetector beside PyOD's detectors under the ADBench
unsupervised protocol (see ``vaekit.domains.anomaly.benchmark``) on the ADBench classical sets
in ``../shared/data/anomaly/adbench``.

usage (from the repository root):

    python benchmarks/anomaly_benchmark.py                       # 9 medical + 10 other sets, 3 seeds
    python benchmarks/anomaly_benchmark.py --datasets cardio,thyroid --detectors vaekit,IForest
    python benchmarks/anomaly_benchmark.py --vaekit "trim=0" --label vaekit-notrim   # an ablation

Prints one table per data set group (per-set seed means, then the mean over the group's sets,
AUC-ROC / AUC-PR in percent, fit seconds) and writes every run to ``--out`` (CSV).
"""
from __future__ import annotations

import argparse
import ast
import os
import platform
import time
from pathlib import Path

import numpy as np

ROOT = Path("../shared/data/anomaly/adbench")


def parse_kwargs(text: str) -> dict:
    """``"trim=0, score='iwae'"`` -> ``{"trim": 0, "score": "iwae"}`` (literals only)."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, _, val = part.partition("=")
        out[key.strip()] = ast.literal_eval(val.strip())
    return out


def main() -> None:
    from vaekit.domains.anomaly.benchmark import SEEDS, load_adbench, pyod_baselines, run_protocol, summarize
    from vaekit.domains.anomaly.data import MEDICAL, OTHER
    from vaekit.domains.anomaly.detector import VAEDetector

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=str(ROOT))
    ap.add_argument("--datasets", default="", help="comma-separated names (default: all 19)")
    ap.add_argument("--detectors", default="", help="comma-separated; 'vaekit' plus PyOD names (default: all)")
    ap.add_argument("--vaekit", default="", help="VAEDetector arguments, ';'-separated, e.g. \"trim=0;epochs=20\"")
    ap.add_argument("--label", default="vaekit", help="table name of the vaekit detector")
    ap.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    ap.add_argument("--out", default="runs/anomaly-benchmark.csv")
    args = ap.parse_args()
    if Path(args.out).is_dir() or not args.out.endswith(".csv"):
        ap.error(f"--out: the per-run table is written as a .csv file; got {args.out!r} (e.g. --out runs/anomaly.csv)")

    names = [n for n in args.datasets.split(",") if n] or list(MEDICAL) + list(OTHER)
    wanted = [d for d in args.detectors.split(",") if d] or ["vaekit"] + list(pyod_baselines())
    kwargs = parse_kwargs(args.vaekit)
    detectors = {}
    if "vaekit" in wanted:
        detectors[args.label] = lambda s: VAEDetector(random_state=s, **kwargs)
    detectors.update(pyod_baselines([d for d in wanted if d != "vaekit"]))
    seeds = [int(s) for s in args.seeds.split(",")]

    t0 = time.time()
    data = load_adbench(args.root, names)
    rows = run_protocol(data, detectors, seeds=seeds, log=print)
    per, groups = summarize(rows, {"medical": [n for n in names if n in MEDICAL],
                                   "other": [n for n in names if n in OTHER], "all": names})
    import pandas as pd

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out, index=False)
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores; torch threads "
          f"{__import__('torch').get_num_threads()}; seeds {seeds}; {time.time() - t0:.0f} s in all; "
          f"VAEDetector({args.vaekit}); runs in {args.out}")
    for gname, names_g in (("medical", MEDICAL), ("other", OTHER)):
        sub = per[per.index.get_level_values("dataset").isin(names_g)]
        if not len(sub):
            continue
        print(f"\n## {gname}: AUC-ROC / AUC-PR (%), mean of {len(seeds)} seeds")
        roc = sub["auc_roc"].unstack("detector")
        pr = sub["auc_pr"].unstack("detector")
        table = roc.round(1).astype(str) + " / " + pr.round(1).astype(str)
        print(table.to_markdown() if hasattr(table, "to_markdown") and _has_tabulate() else table.to_string())
    for gname, g in groups.items():
        print(f"\n## mean over {gname} sets")
        print(g.round(2).to_string())
    errors = [r for r in rows if r["error"]]
    for r in errors:
        print(f"ERROR {r['dataset']} seed {r['seed']} {r['detector']}: {r['error']}")
    if not np.isfinite([r["auc_roc"] for r in rows]).all():
        print(f"{len(errors)} runs failed (NaN rows above).")


def _has_tabulate() -> bool:
    import importlib.util

    return importlib.util.find_spec("tabulate") is not None


if __name__ == "__main__":
    main()
