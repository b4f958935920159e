"""Train and evaluate every packaged toy config; print one Markdown table.

usage: python benchmarks/toy_configs.py [--out-dir runs/bench-toy] [--configs toy:default ...]

The toy data have a known structure (clusters in a 2-D latent space; a token grammar), so the
table checks the core end to end: training time, test NLL (importance-weighted), rate, active
units, mutual information, isotropy, whether the latent recovers the clusters (5-NN accuracy,
beside the same classifier on the raw inputs) and the quality of prior samples.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from vaekit.domains import get_domain
from vaekit.pipelines import evaluate_run, load_config, train_run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out-dir", default="runs/bench-toy")
    ap.add_argument("--configs", nargs="*", default=[f"toy:{c}" for c in get_domain("toy").config_names()])
    a = ap.parse_args()
    rows = []
    for spec in a.configs:
        cfg = load_config(spec, ["train.progress=false"])
        run_dir = Path(a.out_dir) / spec.replace(":", "-")
        t0 = time.time()
        train_run(cfg, run_dir, resume="never", log=lambda m: None)
        t_train = time.time() - t0
        r = evaluate_run(run_dir)
        sample = r.get("sample_valid", r.get("sample_nn_ratio"))
        sample_key = "valid" if "sample_valid" in r else "nn-ratio"
        recon = next(f"{k.removeprefix('recon_')} {r[k]:.3f}" for k in
                     ("recon_mse", "recon_bit_acc", "recon_token_acc") if k in r)
        rows.append(f"| {spec} | {t_train:.1f} | {r['nll_iw']:.3f} (k={r['iw_samples']}) | {r['kl']:.3f} | {r['active_units']}/{r['n_units']} "
                    f"| {r['mutual_info']:.3f} | {r['isotropy']:.3f} | {r['knn_acc']:.3f} / {r['knn_acc/raw_input']:.3f} "
                    f"| {recon} | {sample_key} {sample:.3f} |")
    print("| config | train s | test NLL (IW, k samples) | KL | active units | MI | isotropy "
          "| 5-NN acc latent / raw | reconstruction | samples |")
    print("|" + " --- |" * 10)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
