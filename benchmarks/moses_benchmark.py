"""MOSES benchmark: train a vaekit molecule VAE, sample 30,000 molecules, print the MOSES table
beside the published rows (MOSES README / Polykovskiy et al. 2020, Table 2, mean over 3 runs).

usage (from the repository root, with ../shared/data/molecules/moses present):

    # CPU, subset (what benchmarks/RESULTS.md records):
    python benchmarks/moses_benchmark.py --run-dir runs/moses-cpu --set data.max_molecules=200000 \\
        train.max_steps=20000 train.precision=fp32 ...
    # GPU, the full protocol (MOSES VAE recipe, 100 epochs of 1.58M molecules):
    python benchmarks/moses_benchmark.py --run-dir runs/moses-gpu --set train.device=cuda

Metrics follow MOSES: validity over all samples; the rest over valid ones; novelty against
the full MOSES training set (1,584,663 SMILES); FCD/SNN/Frag/Scaf against MOSES's
precomputed statistics of test and test_scaffolds (``test_stats.npz``,
``test_scaffolds_stats.npz``), so FCD/Test is comparable with the published numbers.
"""
from __future__ import annotations

import argparse
import gzip
import json
import platform
import time
from pathlib import Path

import torch

MOSES_DIR = Path("../shared/data/molecules/moses")

# Published rows (MOSES README, molecularsets/moses @ffbc4db; mean of 3 runs).
PUBLISHED = {
    "Train (reference)": {"valid": 1.0, "unique@10000": 1.0, "fcd/test": 0.008, "fcd/testsf": 0.4755,
                          "snn/test": 0.6419, "frag/test": 1.0, "scaf/test": 0.9907, "scaf/testsf": 0.0,
                          "intdiv1": 0.8567, "intdiv2": 0.8508, "filters": 1.0, "novelty": 1.0},
    "MOSES VAE": {"valid": 0.9767, "unique@10000": 0.9984, "fcd/test": 0.099, "fcd/testsf": 0.567,
                  "snn/test": 0.6257, "frag/test": 0.9994, "scaf/test": 0.9386, "scaf/testsf": 0.0588,
                  "intdiv1": 0.8558, "intdiv2": 0.8498, "filters": 0.997, "novelty": 0.6949},
    "MOSES CharRNN": {"valid": 0.9748, "unique@10000": 0.9994, "fcd/test": 0.0732, "fcd/testsf": 0.5204,
                      "snn/test": 0.6015, "frag/test": 0.9998, "scaf/test": 0.9242, "scaf/testsf": 0.1101,
                      "intdiv1": 0.8562, "intdiv2": 0.8503, "filters": 0.9943, "novelty": 0.8419},
    "JTN-VAE": {"valid": 1.0, "unique@10000": 0.9996, "fcd/test": 0.3954, "fcd/testsf": 0.9382,
                "snn/test": 0.5477, "frag/test": 0.9965, "scaf/test": 0.8964, "scaf/testsf": 0.1009,
                "intdiv1": 0.8551, "intdiv2": 0.8493, "filters": 0.976, "novelty": 0.9143},
}
COLUMNS = ["valid", "unique@10000", "fcd/test", "fcd/testsf", "snn/test", "frag/test", "scaf/test", "scaf/testsf",
           "intdiv1", "intdiv2", "filters", "novelty"]


def read_moses_smiles(path: Path) -> list:
    """The ``SMILES`` column of a MOSES ``*.csv.gz`` (as MOSES reads it: no re-canonicalisation)."""
    with gzip.open(path, "rt") as f:
        header = f.readline().rstrip("\n").split(",")
        col = header.index("SMILES")
        return [line.rstrip("\n").split(",")[col] for line in f]


def moses_train_set(cache_dir: Path, n_jobs: int):
    """The MOSES training set canonicalised with this RDKit, for novelty (minutes to build, so
    it is cached as one SMILES a line; the cache is rebuilt when the RDKit version changes)."""
    from rdkit import __version__ as rdkit_version

    from vaekit.domains.molecules.metrics import CanonicalSet, canonical_set

    cache = cache_dir / f"moses_train_canonical_rdkit{rdkit_version}.smi.gz"
    if cache.exists():
        with gzip.open(cache, "rt") as f:
            return CanonicalSet(line.rstrip("\n") for line in f)
    train = canonical_set(read_moses_smiles(MOSES_DIR / "train.csv.gz"), n_jobs=n_jobs)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.name + ".tmp")
    with gzip.open(tmp, "wt") as f:
        f.writelines(f"{s}\n" for s in sorted(train))
    tmp.replace(cache)
    return train


def main() -> None:
    from vaekit.domains.molecules.evaluation import generate_smiles
    from vaekit.domains.molecules.metrics import moses_metrics
    from vaekit.domains import EvalContext
    from vaekit.pipelines import load_config, load_run, train_run

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="molecules:moses")
    ap.add_argument("--set", dest="overrides", nargs="*", default=[])
    ap.add_argument("--run-dir", default="runs/moses")
    ap.add_argument("--n-samples", type=int, default=30000)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-train", action="store_true", help="score an already trained run")
    ap.add_argument("--cache-dir", default="runs/cache", help="where the canonical MOSES train set is cached")
    a = ap.parse_args()

    run_dir = Path(a.run_dir)
    t0 = time.time()
    if not a.skip_train:
        cfg = load_config(a.config, a.overrides)
        train_run(cfg, run_dir)
    t_train = time.time() - t0
    cfg, domain, model, info, tstate = load_run(run_dir)
    dev = next(model.parameters()).device

    t1 = time.time()
    ctx = EvalContext(model, data=_InfoOnly(info), split="test", device=dev, seed=a.seed, batch_size=1000)
    g = torch.Generator(device=dev).manual_seed(a.seed)
    gen = generate_smiles(ctx, a.n_samples, None, g)
    t_sample = time.time() - t1
    out = run_dir / f"samples_{a.n_samples}.smi"
    out.write_text("".join(f"{s}\n" for s in gen))

    t2 = time.time()
    train = moses_train_set(Path(a.cache_dir), a.n_jobs)
    res = moses_metrics(gen, train, n_jobs=a.n_jobs, device=str(dev),
                        test_stats=MOSES_DIR / "test_stats.npz",
                        test_scaffolds_stats=MOSES_DIR / "test_scaffolds_stats.npz")
    t_metrics = time.time() - t2
    res = {k: float(v) for k, v in res.items()}
    (run_dir / "moses_metrics.json").write_text(json.dumps(
        {"metrics": res, "n_samples": a.n_samples, "train_s": t_train, "train_state": tstate,
         "sample_s": t_sample, "metrics_s": t_metrics, "device": str(dev), "machine": platform.processor()},
        indent=2))

    train_min = float(tstate.get("elapsed_s", 0.0)) / 60
    print(f"MOSES table, {a.n_samples} samples from {run_dir} (step {tstate.get('step')}, training time "
          f"{train_min:.1f} min over all sessions of the run; sampling {t_sample:.0f} s; metrics {t_metrics:.0f} s)\n")
    print("| model | " + " | ".join(COLUMNS) + " |")
    print("|" + " --- |" * (len(COLUMNS) + 1))
    print("| **vaekit** | " + " | ".join(f"{res[c]:.4f}" if c in res else "-" for c in COLUMNS) + " |")
    for name, row in PUBLISHED.items():
        print(f"| {name} | " + " | ".join(f"{row[c]:.4f}" for c in COLUMNS) + " |")
    extra = {k: v for k, v in res.items() if k not in COLUMNS}
    print("\nother metrics: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(extra.items())))


class _InfoOnly:
    """Enough of a DataBundle for generate_smiles (it only needs ``info``)."""

    def __init__(self, info):
        self.info = info


if __name__ == "__main__":
    main()
