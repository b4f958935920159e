"""Density benchmark: test NLL (nats) on statically binarised MNIST, beside the published numbers.

usage: python benchmarks/mnist_density.py [--configs images:mnist_vae images:mnist_iwae ...]
           [--out-dir runs] [--iw-samples 5000] [--set KEY=VALUE ...] [--eval-only]

Protocol (../shared/data/README.md): train on the 50,000 training images, early-stop on the
10,000 validation images, report the test -log p(x) by importance sampling with k samples
(Burda et al. 2016 used k = 5000). Each config trains into OUT_DIR/<domain>-<name> (an
existing run there is resumed, so a finished run is only evaluated).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from vaekit.pipelines import evaluate_run, load_config, load_run, train_run

# Published test NLLs on statically binarised MNIST (nats).
PUBLISHED = {
    "mnist_vae": ("VAE", 88.7, "reported in the issue; Burda et al. 2016 style 1-layer model"),
    "mnist_iwae": ("IWAE k=50", 87.1, "Burda et al. 2016 protocol"),
    "mnist_iaf": ("IAF", 79.9, "Kingma et al. 2016, ResNet VAE"),
    "mnist_vlae": ("VLAE", 79.03, "Chen et al. 2017"),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", nargs="*", default=[f"images:{k}" for k in PUBLISHED])
    ap.add_argument("--out-dir", default="runs")
    ap.add_argument("--iw-samples", type=int, default=5000)
    ap.add_argument("--set", dest="overrides", nargs="*", default=[])
    ap.add_argument("--eval-only", action="store_true", help="evaluate existing runs, train nothing")
    a = ap.parse_args()
    rows = []
    for spec in a.configs:
        cfg = load_config(spec, list(a.overrides) + ["train.progress=false"])
        run_dir = Path(a.out_dir) / f"{cfg.domain}-{cfg.name}"
        t0 = time.time()
        if not a.eval_only:
            train_run(cfg, run_dir, resume="auto")
        t_train = time.time() - t0
        t0 = time.time()
        r = evaluate_run(run_dir, split="test", iw_samples=a.iw_samples)
        t_eval = time.time() - t0
        _, _, model, _, state = load_run(run_dir, "cpu")
        n_params = sum(p.numel() for p in model.parameters())
        peer = PUBLISHED.get(cfg.name, ("-", float("nan"), ""))
        elapsed = state.get("elapsed_s") or t_train
        rows.append(f"| {spec} | {r['nll_iw']:.2f} (k={r['iw_samples']}) | {-r['elbo']:.2f} | {r['kl']:.2f} "
                    f"| {r['active_units']}/{r['n_units']} | {n_params:,} | {state.get('step')} "
                    f"(best {state.get('best_step')}) | {elapsed / 60:.0f} min | {t_eval / 60:.1f} min "
                    f"| {peer[0]} {peer[1]} |")
        (run_dir / "density_benchmark.json").write_text(json.dumps({"nll_iw": r["nll_iw"], "k": r["iw_samples"],
                                                                    "neg_elbo": -r["elbo"], "kl": r["kl"]}))
    print("| config | test NLL (IW) | test -ELBO | KL | active units | parameters | steps | train time "
          "| eval time | published |")
    print("|" + " --- |" * 10)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
