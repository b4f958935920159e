"""(slow) The `molecules:moses` suite of `vaekit benchmark` on the real MOSES statistics: a
SMILES file and a briefly trained vaekit run are scored the MOSES way, published rows beside."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import yaml

MOSES_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "molecules" / "moses"
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (MOSES_DIR / "test_stats.npz").is_file(),
                                                   reason="needs ../shared/data/molecules/moses")]


def _test_smiles(n):
    with gzip.open(MOSES_DIR / "test.csv.gz", "rt") as f:
        col = f.readline().rstrip("\n").split(",").index("SMILES")
        return [next(f).rstrip("\n").split(",")[col] for _ in range(n)]


def test_moses_suite_scores_a_file_and_a_trained_run(tmp_path):
    from vaekit.pipelines.benchmark import benchmark_from_file

    test = _test_smiles(400)
    (tmp_path / "samples.smi").write_text("\n".join(test[:300] + ["not_a_smiles"]) + "\n")
    (tmp_path / "train.smi").write_text("\n".join(test[300:]) + "\n")  # novelty reference: 100 others
    spec = {"name": "moses-small", "suite": "molecules:moses",
            "options": {"data": str(MOSES_DIR), "train": str(tmp_path / "train.smi"), "n_samples": 200,
                        "n_jobs": 1, "cache_dir": str(tmp_path / "cache"), "device": "cpu"},
            "runs": [{"label": "test molecules", "model": "samples", "params": {"path": str(tmp_path / "samples.smi")}},
                     {"label": "vaekit", "model": "vaekit",
                      "params": {"config": "molecules:default", "set": ["train.max_steps=30", "train.progress=false",
                                                                        "tracking.tensorboard=false"]}}],
            "metrics": ["valid", "fcd/test", "snn/test", "novelty"],
            "references": [{"label": "MOSES VAE", "source": "MOSES README", "values": {"valid": 0.9767}}]}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    res = benchmark_from_file(path, tmp_path / "out", log=lambda m: None)
    rows = {r["label"]: {k: v[0] for k, v in r["values"].items()} for r in res["rows"]}
    real = rows["test molecules"]
    assert real["valid"] == pytest.approx(300 / 301)  # the one invalid line counts against validity
    assert real["novelty"] == pytest.approx(1.0)       # none of them is in the 100-molecule train file
    # test molecules are their own nearest neighbours; FCD of 300 molecules is biased upwards but finite
    assert real["snn/test"] == pytest.approx(1.0) and 0 < real["fcd/test"] < 30
    ours = rows["vaekit"]
    assert 0 <= ours["valid"] < 1 and ours["fcd/test"] > real["fcd/test"]  # 30 steps: far from the data
    assert (tmp_path / "out" / "runs" / "vaekit" / "seed0" / "model" / "checkpoints" / "last.pt").is_file()
    assert (tmp_path / "out" / "runs" / "vaekit" / "seed0" / "samples_200.smi").is_file()
    assert rows["MOSES VAE"]["valid"] == 0.9767
