"""Experiment tracking (TensorBoard, MLflow on a local SQLite store) and `vaekit runs`."""
from __future__ import annotations

import json

import pytest

from vaekit.core.errors import MissingDependencyError
from vaekit.pipelines import load_config, train_run
from vaekit.pipelines import tracking as tr
from vaekit.pipelines.cli import main
from vaekit.pipelines.history import find_runs, format_runs
from vaekit.pipelines.runs import evaluate_run

FAST = ["train.max_steps=40", "train.eval_every=20", "train.log_every=10", "data.n_train=256", "data.n_val=64",
        "data.n_test=64", "eval.iw_samples=5", "eval.n_samples=50", "eval.mi_examples=50", "train.progress=false"]


def _train(run_dir, extra=()):
    return train_run(load_config("toy:default", FAST + list(extra)), run_dir, log=lambda m: None)


def test_mlflow_key_keeps_names_mlflow_accepts():
    assert tr.mlflow_key("val/ndcg@100") == "val/ndcg_at_100"
    assert tr.mlflow_key("rank/recall@20 (x)") == "rank/recall_at_20 _x_"


def test_required_tracker_without_its_package_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(tr, "_installed", lambda m: False)
    with pytest.raises(MissingDependencyError, match=r"tracking\.tensorboard: true.*vaekit\[tracking\]"):
        tr.open_trackers(tr.TrackingConfig(tensorboard=True), tmp_path, {}, print)
    # auto (null) without the package and without a URI: no tracker, no error
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tr.open_trackers(tr.TrackingConfig(), tmp_path, {}, print) == []


def test_tensorboard_gets_every_training_record(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "tb"
    _train(run, ["tracking.tensorboard=true"])
    acc = EventAccumulator(str(run / "tensorboard"))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert "train/loss" in tags and "val/kl" in tags
    jsonl = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    train_steps = [r["step"] for r in jsonl if r["split"] == "train"]
    assert [e.step for e in acc.Scalars("train/loss")] == train_steps


def test_mlflow_sqlite_store_holds_params_curves_eval_and_resumes_one_run(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run = tmp_path / "runs" / "m"
    _train(run, ["tracking.mlflow=true", "tracking.tensorboard=false"])
    run_id = (run / "mlflow_run.txt").read_text().strip()
    _train(run, ["tracking.mlflow=true", "tracking.tensorboard=false", "train.max_steps=60"])  # resume
    assert (run / "mlflow_run.txt").read_text().strip() == run_id
    evaluate_run(run, report=False)
    client = mlflow.tracking.MlflowClient(f"sqlite:///{tmp_path / 'runs' / 'mlflow.db'}")
    r = client.get_run(run_id)
    assert r.data.params["model.latent_dim"] == "8"
    steps = [m.step for m in client.get_metric_history(run_id, "train/loss")]
    assert steps == sorted(steps) and steps[-1] == 60 and len(steps) == 6  # 4 records, then 2 more after resume
    assert "eval/kl" in r.data.metrics and "eval/knn_acc" in r.data.metrics
    assert len(client.search_runs([r.info.experiment_id])) == 1


def test_vaekit_runs_lists_trained_and_evaluated_runs(tmp_path, capsys):
    _train(tmp_path / "a", ["tracking.tensorboard=false"])
    _train(tmp_path / "b", ["tracking.tensorboard=false"])
    evaluate_run(tmp_path / "b", report=False)
    rows = find_runs(tmp_path)
    assert [r["run_dir"] for r in rows] == [str(tmp_path / "b"), str(tmp_path / "a")]  # newest first
    b, a = rows
    assert b["evaluated"] and b["split"] == "test" and b["key_metric"].startswith("knn_acc=")
    assert not a["evaluated"] and a["step"] == 40 and a["split"] == "val"
    text = format_runs(rows)
    assert "toy:default" in text and "val (train)" in text
    assert main(["runs", str(tmp_path), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert main(["runs", str(tmp_path / "nope")]) == 2
    assert "not a folder" in capsys.readouterr().err
