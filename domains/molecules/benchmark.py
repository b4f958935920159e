"""The MOSES benchmark as a ``vaekit benchmark`` suite (``suite: molecules:moses``).

Protocol (Polykovskiy et al. 2020; ``../shared/data/molecules/moses``): train a generator on
the MOSES train split, sample 30,000 SMILES (the decoder sampled at temperature 1, as MOSES
samples its models), and compute the MOSES metrics: validity over all samples; the rest over
valid ones; novelty against the full MOSES training set (1,584,663 SMILES); FCD / SNN / Frag /
Scaf against MOSES's precomputed statistics of test and test_scaffolds (``test_stats.npz``,
``test_scaffolds_stats.npz``), so FCD/Test is comparable with the published numbers.

Models of the suite:

* ``vaekit``: trains ``params.config`` (default ``molecules:moses``, the MOSES VAE recipe) with
  ``params.set`` overrides into the unit's folder (resumable), or scores an existing run
  (``params.run``), then samples and scores it;
* ``samples``: scores a file of SMILES (``params.path``, one a line; e.g. another tool's samples).
"""
from __future__ import annotations

import gzip
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Tuple

from vaekit.core.errors import ConfigError

if TYPE_CHECKING:
    from vaekit.domains.base import BenchmarkSuite, SuiteContext

MOSES_DIR = "../shared/data/molecules/moses"


def read_moses_smiles(path: Path) -> List[str]:
    """The ``SMILES`` column of a MOSES ``*.csv.gz`` (as MOSES reads it: no re-canonicalisation)."""
    with gzip.open(path, "rt") as f:
        header = f.readline().rstrip("\n").split(",")
        if "SMILES" not in header:
            raise ConfigError(f"{path}: no SMILES column in the header {header}; expected a MOSES split file.")
        col = header.index("SMILES")
        return [line.rstrip("\n").split(",")[col] for line in f]


def moses_train_set(train_path: Path, cache_dir: Path, n_jobs: int):
    """The training SMILES canonicalised with this RDKit, for novelty (minutes for MOSES's 1.58M,
    so cached as one SMILES a line; rebuilt when the file or the RDKit version changes)."""
    from rdkit import __version__ as rdkit_version

    from .metrics import CanonicalSet, canonical_set

    stat = train_path.stat()
    cache = cache_dir / f"{train_path.name}.{stat.st_size}.canonical_rdkit{rdkit_version}.smi.gz"
    if cache.exists():
        with gzip.open(cache, "rt") as f:
            return CanonicalSet(line.rstrip("\n") for line in f)
    smiles = read_moses_smiles(train_path) if train_path.name.endswith(".csv.gz") else \
        [ln.split()[0] for ln in train_path.read_text().splitlines() if ln.strip()]
    train = canonical_set(smiles, n_jobs=n_jobs)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.name + ".tmp")
    with gzip.open(tmp, "wt") as f:
        f.writelines(f"{s}\n" for s in sorted(train))
    tmp.replace(cache)  # atomic: a half-written cache is never read
    return train


def sample_run(run: Tuple[Any, ...], n: int, seed: int) -> tuple:
    """``n`` SMILES from a trained run's prior and facts about the run (step, training minutes);
    ``run`` is what ``vaekit.pipelines.load_run`` returns."""
    import torch

    from vaekit.domains.base import EvalContext

    from .evaluation import generate_smiles

    _, _, model, info, state = run
    dev = next(model.parameters()).device

    class _InfoOnly:  # generate_smiles reads ctx.data.info only
        pass

    data = _InfoOnly()
    data.info = info
    ctx = EvalContext(model, data=data, split="test", device=dev, seed=seed, batch_size=1000)
    g = torch.Generator(device=dev).manual_seed(seed)
    t0 = time.time()
    gen = generate_smiles(ctx, n, None, g)
    return gen, {"step": state.get("step"), "train_min": float(state.get("elapsed_s") or 0) / 60,
                 "sample_s": time.time() - t0, "device": str(dev)}


def _moses_run(model: str, params: Mapping[str, Any], seed: int, options: Mapping[str, Any],
               ctx: "SuiteContext") -> List[Dict[str, Any]]:
    from .metrics import moses_metrics

    data = Path(options["data"])
    facts: Dict[str, Any] = {}
    n = int(options["n_samples"])
    if model == "samples":
        if "path" not in params:
            raise ConfigError("benchmark.runs[].params.path: a `samples` row names its SMILES file, e.g. "
                              "{model: samples, params: {path: my_samples.smi}}.")
        gen = [ln.split()[0] if ln.strip() else "" for ln in Path(params["path"]).read_text().splitlines()]
    else:
        unknown = sorted(set(params) - {"config", "set", "run"})
        if unknown:
            raise ConfigError(f"benchmark.runs[].params: {unknown} are not parameters of a `vaekit` MOSES row; "
                              f"valid: config, set, run.")
        if params.get("run"):
            run_dir = Path(params["run"])
        else:
            run_dir = Path(ctx.work_dir) / "model"
            sets = list(params.get("set") or []) + [f"train.seed={seed}"]
            ctx.train(params.get("config") or "molecules:moses", sets, run_dir)
        gen, facts = sample_run(ctx.load_run(run_dir), n, seed)
        (Path(ctx.work_dir) / f"samples_{n}.smi").write_text("".join(f"{s}\n" for s in gen))
        facts["run"] = str(run_dir)
    t0 = time.time()
    train = moses_train_set(Path(options["train"] or data / "train.csv.gz"), Path(options["cache_dir"]),
                            int(options["n_jobs"]))
    import torch

    device = str(options["device"]) if options["device"] != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    res = moses_metrics(gen, train, n_jobs=int(options["n_jobs"]), device=device,
                        test_stats=data / "test_stats.npz", test_scaffolds_stats=data / "test_scaffolds_stats.npz")
    rec = {k: float(v) for k, v in res.items()}
    rec.update(facts, n_samples=len(gen), metrics_s=time.time() - t0)
    ctx.log(f"molecules:moses {model}: valid {rec['valid']:.4f} FCD/Test {rec.get('fcd/test', float('nan')):.4f} "
        f"novelty {rec['novelty']:.4f} ({len(gen)} samples, metrics {rec['metrics_s']:.0f} s)")
    return [rec]


def benchmark_suites() -> Dict[str, "BenchmarkSuite"]:
    """``molecules:moses`` (see the module docstring); options ``data`` (the MOSES folder),
    ``train`` (novelty's training SMILES; default ``data/train.csv.gz``), ``n_samples`` (30,000),
    ``n_jobs``, ``cache_dir`` (the canonical training set's cache), ``device``."""
    from vaekit.domains.base import BenchmarkSuite

    return {"moses": BenchmarkSuite(run=_moses_run, models=("vaekit", "samples"),
                                    options={"data": MOSES_DIR, "train": None, "n_samples": 30000, "n_jobs": 2,
                                             "cache_dir": "runs/cache", "device": "auto"},
                                    doc="MOSES: 30,000 prior samples scored against MOSES's test statistics")}
