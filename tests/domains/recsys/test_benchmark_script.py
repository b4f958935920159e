"""The recommendation benchmark script runs end to end from a user's ML-20M-format ratings.csv
(MovieLens itself may not be shipped: the file is generated here in its exact format)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pandas")

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "recsys_benchmark.py"


def test_ml20m_suite_runs_from_a_ratings_csv_path(tmp_path):
    from vaekit.domains.recsys import synthetic_interactions

    df = synthetic_interactions(n_users=400, n_items=150, seed=0)
    ml20m = df.rename(columns={"user": "userId", "item": "movieId", "time": "timestamp"})
    ml20m["rating"] = ml20m["rating"].astype(float)  # ML-20M stores 0.5-5.0 stars as floats
    path = tmp_path / "ratings.csv"
    ml20m[["userId", "movieId", "rating", "timestamp"]].to_csv(path, index=False)
    assert path.read_text().splitlines()[0] == "userId,movieId,rating,timestamp"
    out = subprocess.run([sys.executable, str(SCRIPT), "--suite", "ml20m", "--path", str(path), "--heldout", "40",
                          "--epochs", "2", "--models", "Mult-VAE,RecVAE,EASE,popularity", "--out",
                          str(tmp_path / "rows.csv")], capture_output=True, text=True, timeout=600,
                         env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    for name in ("Mult-VAE", "RecVAE", "EASE", "popularity"):
        assert f"| {name}" in out.stdout
    import pandas as pd

    rows = pd.read_csv(tmp_path / "rows.csv")
    assert set(rows["model"]) == {"Mult-VAE", "RecVAE", "EASE", "popularity"}
    assert rows[["recall@20", "recall@50", "ndcg@100"]].apply(lambda c: c.between(0, 1).all()).all()
