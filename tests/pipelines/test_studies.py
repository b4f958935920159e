"""`vaekit sweep` and `vaekit study losses` smoke-run on the toy and images domains."""
import json

import pytest

from vaekit.core.errors import ConfigError
from vaekit.pipelines.cli import main
from vaekit.pipelines.studies import expand_overrides, loss_variant_overrides, split_values

FAST = ["train.max_steps=20", "train.eval_every=10", "eval.mi_examples=50", "eval.n_samples=10"]


def test_split_values_keeps_lists_and_mappings_whole():
    assert split_values("0.1,0.3, 1") == ["0.1", "0.3", "1"]
    assert split_values("[64,64]") == ["[64,64]"]
    assert split_values("[64,64],[32]") == ["[64,64]", "[32]"]
    assert split_values("{a: 1, b: 2}") == ["{a: 1, b: 2}"]
    fixed, axes = expand_overrides(["train.lr=0.01", "objective.beta=0.1,1"])
    assert fixed == ["train.lr=0.01"] and axes == [("objective.beta", ["0.1", "1"])]
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        expand_overrides(["objective.beta"])


def test_sweep_writes_table_plots_and_resumes(capsys, tmp_path):
    out = tmp_path / "sw"
    args = ["sweep", "toy:binary", "--no-progress", "--out-dir", str(out), "--iw-samples", "3", "--set",
            "objective.beta=0.5,2", "objective.free_bits=0", *FAST]
    assert main(args) == 0
    table = capsys.readouterr().out
    assert "| objective.beta | rate (KL) | distortion |" in table and "| 0.5 |" in table and "| 2 |" in table
    study = json.loads((out / "study.json").read_text())
    rates = [r["result"]["rate"] for r in study["rows"]]
    assert len(rates) == 2 and rates[0] > rates[1]  # a larger beta buys a lower rate
    assert (out / "table.csv").read_text().startswith("objective.beta,rate,")
    pytest.importorskip("matplotlib")
    assert (out / "rate_distortion.png").read_bytes()[:4] == b"\x89PNG"
    assert "rate_distortion.png" in (out / "report.md").read_text()
    mtime = (out / "runs" / "beta=2" / "checkpoints" / "last.pt").stat().st_mtime
    assert main(args) == 0  # finished runs are resumed, not retrained
    assert (out / "runs" / "beta=2" / "checkpoints" / "last.pt").stat().st_mtime == mtime


def test_sweep_needs_a_list(capsys):
    assert main(["sweep", "toy:binary", "--set", "objective.beta=1"]) == 2
    assert "no override lists a sweep" in capsys.readouterr().err


def test_study_losses_runs_every_variant(capsys, tmp_path):
    out = tmp_path / "st"
    assert main(["study", "losses", "images:default", "--no-progress", "--out-dir", str(out), "--feature-steps",
                 "20", "--iw-samples", "2", "--set", "data.n_train=300", *FAST]) == 0
    table = capsys.readouterr().out
    for v in ("pointwise", "perceptual", "adversarial", "perceptual+adversarial"):
        assert f"| {v} |" in table
    study = json.loads((out / "study.json").read_text())
    assert [len(r["result"]["posterior_variance"]) for r in study["rows"]] == [8] * 4
    assert "perceptual" not in study["rows"][0]["result"]  # the pointwise run has no neural terms
    assert loss_variant_overrides("pointwise", 1, 1, 5) == []
    # Re-running resumes the finished runs: the trained (frozen) features must not enter the
    # optimizer, or its groups no longer match the checkpoint's.
    capsys.readouterr()
    assert main(["study", "losses", "images:default", "--no-progress", "--out-dir", str(out), "--feature-steps",
                 "20", "--iw-samples", "2", "--variants", "perceptual", "--set", "data.n_train=300", *FAST]) == 0
    assert "| perceptual |" in capsys.readouterr().out
    assert main(["study", "losses", "images:default", "--set", "objective.weights={perceptual: 1}"]) == 2
