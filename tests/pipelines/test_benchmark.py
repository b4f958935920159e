"""`vaekit benchmark SPEC.yaml`: runs x seeds -> one table with the baselines beside."""
from __future__ import annotations

import csv

import pytest
import yaml

from vaekit.core.errors import ConfigError
from vaekit.pipelines.benchmark import BaselineSpec, _cell, load_spec
from vaekit.pipelines.cli import main

PROTOCOL = ["train.progress=false", "train.max_steps=40", "train.eval_every=20", "data.n_train=256", "data.n_val=64",
            "data.n_test=64", "eval.mi_examples=50", "tracking.tensorboard=false"]


def _spec(tmp_path, **over):
    spec = {"name": "t", "protocol": {"set": PROTOCOL}, "seeds": [0, 1], "iw_samples": 5,
            "runs": [{"label": "VAE", "config": "toy:default"},
                     {"label": "beta4", "config": "toy:default", "set": ["objective.beta=4"]}],
            "metrics": ["nll_iw", "kl", "knn_acc"],
            "baselines": [{"label": "raw", "from": "VAE", "keys": {"knn_acc": "knn_acc/raw_input"}}]}
    spec.update(over)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_benchmark_tabulates_runs_seeds_and_baselines(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["benchmark", str(_spec(tmp_path)), "--out-dir", str(out)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "| model | nll_iw | kl | knn_acc | train s |"
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table[2:]}
    assert set(rows) == {"VAE", "beta4", "raw"}
    assert "±" in rows["VAE"] and rows["raw"].split(" | ")[1] == "-"  # the baseline has no NLL
    with open(out / "table.csv") as f:
        recs = list(csv.DictReader(f))
    assert len(recs) == 6 and {r["seed"] for r in recs} == {"0", "1"}
    vae = [float(r["kl"]) for r in recs if r["model"] == "VAE"]
    beta4 = [float(r["kl"]) for r in recs if r["model"] == "beta4"]
    assert min(vae) > max(beta4)  # beta = 4 buys a lower rate: the table reflects the runs
    assert (out / "runs" / "beta4" / "seed1" / "eval.json").is_file()
    assert main(["benchmark", str(_spec(tmp_path)), "--out-dir", str(out)]) == 0  # resumes: only re-reads
    assert capsys.readouterr().out.splitlines()[2:] == table[2:]


def test_cell_formats_mean_and_sample_std():
    assert _cell([1.0]) == "1"
    assert _cell([1.0, 3.0]) == "2 ± 1.4"
    assert _cell([None, float("nan")]) == "-"


def test_baseline_keys_by_prefix_or_mapping():
    assert BaselineSpec("EASE", "VAE", prefix="baseline/ease_").key("rank/ndcg@100") == "baseline/ease_ndcg@100"
    assert BaselineSpec("raw", "VAE", keys={"knn_acc": "knn_acc/raw_input"}).key("knn_acc") == "knn_acc/raw_input"


@pytest.mark.parametrize("over, match", [
    ({"runs": []}, r"benchmark\.runs: list at least one run"),
    ({"runs": [{"label": "a", "config": "toy:default"}, {"label": "a", "config": "toy:binary"}]},
     r"labels must be unique; repeated: \['a'\]"),
    ({"baselines": [{"label": "x", "from": "nope", "prefix": "p"}]}, r"baselines\[0\]\.from: 'nope' is not a run"),
    ({"metrics": []}, r"benchmark\.metrics: name at least one"),
])
def test_bad_specs_name_the_field(tmp_path, over, match):
    with pytest.raises(ConfigError, match=match):
        load_spec(_spec(tmp_path, **over))


def test_unknown_metric_key_is_an_error_after_the_runs(tmp_path):
    spec = _spec(tmp_path, metrics=["no_such_key"], seeds=[0], runs=[{"label": "VAE", "config": "toy:default"}],
                 baselines=[])
    assert main(["benchmark", str(spec), "--out-dir", str(tmp_path / "o")]) == 2


def test_packaged_specs_load():
    from pathlib import Path

    for p in (Path(__file__).resolve().parents[2] / "benchmarks" / "specs").glob("*.yaml"):
        load_spec(p)


def test_set_and_iw_samples_from_the_command_line(tmp_path, capsys):
    import json

    spec = _spec(tmp_path, seeds=[0], runs=[{"label": "VAE", "config": "toy:default"}], baselines=[])
    out = tmp_path / "o"
    assert main(["benchmark", str(spec), "--out-dir", str(out), "--set", "objective.beta=4",
                 "--iw-samples", "3"]) == 0
    run = out / "runs" / "VAE" / "seed0"
    assert yaml.safe_load((run / "config.yaml").read_text())["objective"]["beta"] == 4
    assert json.loads((run / "eval.json").read_text())["iw_samples"] == 3


def test_set_is_refused_for_a_suite(tmp_path):
    from vaekit.pipelines.benchmark import benchmark_from_file

    spec = _spec(tmp_path, suite="anomaly:adbench", runs=[{"label": "x", "model": "ECOD"}], baselines=[],
                 protocol={"set": []})
    with pytest.raises(ConfigError, match=r"--set: anomaly:adbench runs its own protocol"):
        benchmark_from_file(spec, tmp_path / "o", overrides=["train.max_steps=5"], log=lambda m: None)


def test_only_runs_the_named_rows_and_their_baselines(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["benchmark", str(_spec(tmp_path, seeds=[0])), "--out-dir", str(out), "--only", "beta4"]) == 0
    labels = [line.split(" | ")[0].lstrip("| ") for line in capsys.readouterr().out.splitlines()[2:]]
    assert labels == ["beta4"]  # VAE not trained, and the baseline read from it left out
    assert not (out / "runs" / "VAE").exists() and (out / "runs" / "beta4" / "seed0" / "eval.json").is_file()
    assert main(["benchmark", str(_spec(tmp_path)), "--only", "VAE", "raw"]) == 2
    err = capsys.readouterr().err
    assert "--only: " in err and "no run labelled 'raw'" in err and "'VAE', 'beta4'" in err
