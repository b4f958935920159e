"""The MOSES benchmark as a declared ``vaekit benchmark`` protocol (``suite: molecules:moses``).

Protocol (Polykovskiy et al. 2020; ``molecules/moses`` under the data root): train a generator on
the MOSES train split, sample 30,000 SMILES (the decoder sampled at temperature 1, as MOSES
samples its models), and compute the MOSES metrics: validity over all samples; the rest over
valid ones; novelty against the full MOSES training set (1,584,663 SMILES); FCD / SNN / Frag /
Scaf against MOSES's precomputed statistics of test and test_scaffolds (``test_stats.npz``,
``test_scaffolds_stats.npz``), so FCD/Test is comparable with the published numbers.

Models of the protocol (each a generator: ``sample(n, seed) -> (SMILES, facts)``):

* ``vaekit``: a :class:`~vaekit.domains.protocols.TrainedRun`: ``vaekit benchmark`` trains
  ``params.config`` (default ``molecules:moses``, the MOSES VAE recipe) with ``params.set``
  overrides into the unit's folder (resumable), or loads an existing run (``params.run``); its
  prior is sampled and scored;
* ``samples``: scores a file of SMILES (``params.path``, one a line; e.g. another tool's samples).
"""
from __future__ import annotations

import gzip
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from vaekit.core.errors import ConfigError

from ..data_root import UnderDataRoot
from ..protocols import Model, Protocol, TrainedRun, Unit


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

    from .moses import CanonicalSet, canonical_set

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


@dataclass
class _SamplesFile:
    """A file of SMILES, one a line (the first field), scored as given."""

    path: Path

    def sample(self, n: int, seed: int) -> Tuple[List[str], Dict[str, Any]]:
        return [ln.split()[0] if ln.strip() else "" for ln in self.path.read_text().splitlines()], {}


@dataclass
class _RunSampler:
    """A trained vaekit run's prior, sampled (the samples are kept beside the unit's records)."""

    run: Tuple[Any, ...]
    run_dir: Path
    work_dir: Path

    def sample(self, n: int, seed: int) -> Tuple[List[str], Dict[str, Any]]:
        gen, facts = sample_run(self.run, n, seed)
        (self.work_dir / f"samples_{n}.smi").write_text("".join(f"{s}\n" for s in gen))
        return gen, {**facts, "run": str(self.run_dir)}


def _samples_file(unit: Unit) -> _SamplesFile:
    if "path" not in unit.params:
        raise ConfigError("benchmark.runs[].params.path: a `samples` row names its SMILES file, e.g. "
                          "{model: samples, params: {path: my_samples.smi}}.")
    return _SamplesFile(Path(unit.params["path"]))


def _load(seed: int, options: Mapping[str, Any]) -> Dict[Optional[str], Dict[str, Any]]:
    """The one data set: MOSES's test statistics and novelty's canonical training set.

    The statistics are read here, before any model is trained or sampled, so a damaged or
    crafted file (refused by :meth:`~.moses.ReferenceStats.from_moses`'s restricted unpickler)
    stops the benchmark at once, and each file is read once for every unit.
    """
    from .moses import ReferenceStats

    data = Path(options["data"])
    stats = {key: ReferenceStats.from_moses(data / f"{name}.npz")
             for key, name in (("test_stats", "test_stats"), ("test_scaffolds_stats", "test_scaffolds_stats"))}
    train = moses_train_set(Path(options["train"] or data / "train.csv.gz"), Path(options["cache_dir"]),
                            int(options["n_jobs"]))
    return {None: {"train": train, **stats}}


def _evaluate(generator, unit: Unit) -> Dict[str, Any]:
    """``n_samples`` SMILES from the generator, scored with the MOSES metrics."""
    import torch

    from .moses import moses_metrics

    o = unit.options
    gen, facts = generator.sample(int(o["n_samples"]), unit.seed)
    t0 = time.time()
    device = str(o["device"]) if o["device"] != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    res = moses_metrics(gen, unit.data["train"], n_jobs=int(o["n_jobs"]), device=device,
                        test_stats=unit.data["test_stats"], test_scaffolds_stats=unit.data["test_scaffolds_stats"])
    rec = {k: float(v) for k, v in res.items()}
    rec.update(facts, n_samples=len(gen), metrics_s=time.time() - t0)
    return rec


def _describe(rec: Mapping[str, Any]) -> str:
    return (f"valid {rec['valid']:.4f} FCD/Test {rec.get('fcd/test', float('nan')):.4f} novelty {rec['novelty']:.4f} "
            f"({rec['n_samples']} samples, metrics {rec['metrics_s']:.0f} s)")


#: ``molecules:moses`` (see the module docstring); options ``data`` (the MOSES folder), ``train``
#: (novelty's training SMILES; default ``data/train.csv.gz``), ``n_samples`` (30,000), ``n_jobs``,
#: ``cache_dir`` (the canonical training set's cache), ``device``.
PROTOCOLS = {
    "moses": Protocol(
        doc="MOSES: 30,000 prior samples scored against MOSES's test statistics",
        load=_load, evaluate=_evaluate,
        metrics=("valid", "unique@1000", "unique@10000", "fcd/test", "snn/test", "frag/test", "scaf/test",
                 "fcd/testsf", "snn/testsf", "frag/testsf", "scaf/testsf", "intdiv1", "intdiv2", "filters",
                 "novelty", "logp_w1", "sa_w1", "qed_w1", "mw_w1"),
        models={"vaekit": Model(make=lambda unit: _RunSampler(unit.run, unit.run_dir, unit.work_dir), params=(),
                                run=TrainedRun(config="molecules:moses"),
                                doc="a vaekit run (params: config + set, trained here, or run)"),
                "samples": Model(make=_samples_file, params=("path",), doc="a SMILES file (params: path)")},
        options={"data": UnderDataRoot("molecules/moses"), "train": None, "n_samples": 30000, "n_jobs": 2,
                 "cache_dir": "runs/cache", "device": "auto"},
        describe=_describe),
}

__all__ = ["PROTOCOLS", "moses_train_set", "read_moses_smiles", "sample_run"]
