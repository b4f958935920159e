"""`vaekit benchmark` with a domain's suite: ADBench's data sets x detectors, RecSys splits."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml

from vaekit.core.errors import ConfigError
from vaekit.pipelines.benchmark import benchmark_from_file, list_suites, load_spec, resolve_suite
from vaekit.pipelines.cli import main

pytest.importorskip("pyod")


def _adbench_dir(tmp_path):
    """Two ADBench-format sets: Gaussian inliers, anomalies shifted (easy) or not (chance)."""
    rng = np.random.default_rng(0)
    root = tmp_path / "adbench"
    root.mkdir(exist_ok=True)
    for i, (name, shift) in enumerate((("cardio", 4.0), ("glass", 0.0)), start=1):
        X = rng.normal(size=(300, 5))
        y = np.zeros(300, dtype=int)
        y[:30] = 1
        X[:30] += shift
        np.savez(root / f"{i}_{name}.npz", X=X, y=y)
    return root


def _spec(tmp_path, **over):
    spec = {"name": "ad", "suite": "anomaly:adbench", "options": {"root": str(_adbench_dir(tmp_path))},
            "seeds": [1, 2], "runs": [{"label": "IForest", "model": "IForest", "params": {"n_estimators": 20}},
                                      {"label": "ECOD", "model": "ECOD"}],
            "metrics": ["auc_roc", "auc_pr"]}
    spec.update(over)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_adbench_suite_tabulates_sets_models_and_group_means(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["benchmark", str(_spec(tmp_path)), "--out-dir", str(out)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == "| dataset | model | auc_roc | auc_pr |"
    cells = {tuple(c.strip() for c in line.strip("|").split("|")[:2]): line for line in lines[2:6]}
    assert set(cells) == {("cardio", "IForest"), ("cardio", "ECOD"), ("glass", "IForest"), ("glass", "ECOD")}
    roc = {k: float(v.split("|")[3].split("±")[0]) for k, v in cells.items()}
    assert roc[("cardio", "ECOD")] > 90 and 25 < roc[("glass", "ECOD")] < 75  # separable vs chance
    # the suite's groups: cardio is a medical set, glass another, the mean over both
    assert "### mean over medical sets (1)" in text and "### mean over all sets (2)" in text
    assert "| model | auc_roc | auc_pr | rank auc_roc | rank auc_pr | sets |" in text
    with open(out / "table.csv") as f:
        recs = list(csv.DictReader(f))
    assert len(recs) == 8 and {r["dataset"] for r in recs} == {"cardio", "glass"}
    saved = json.loads((out / "runs" / "IForest" / "seed2" / "records.json").read_text())
    assert saved["params"] == {"n_estimators": 20} and len(saved["records"]) == 2
    # resuming re-reads the records: the same table, nothing re-fitted
    (out / "runs" / "ECOD" / "seed1" / "records.json").write_text(json.dumps(
        {**json.loads((out / "runs" / "ECOD" / "seed1" / "records.json").read_text()), "seconds": -1.0}))
    assert main(["benchmark", str(_spec(tmp_path)), "--out-dir", str(out)]) == 0
    assert capsys.readouterr().out == text


def test_group_tables_give_the_mean_rank_of_each_ranked_metric():
    """ADBench's headline statistic: per set, 1 = best model, ties share their mean rank; the
    mean over the group's sets."""
    from vaekit.pipelines.benchmark import _group_table, _mean_ranks

    def row(label, dataset, values):
        return {"label": label, "dataset": dataset, "values": {"auc_roc": values}}

    rows = [row("A", "s1", [90, 92]), row("B", "s1", [80]), row("C", "s1", [91]),
            row("A", "s2", [50]), row("B", "s2", [60]), row("C", "s2", [60]),
            row("A", "s3", [float("nan")]), row("B", "s3", [70]), row("C", "s3", [75])]
    ranks = _mean_ranks(rows, "auc_roc", "max", ["s1", "s2", "s3"])
    # s1: A 91 (tie with C 91) -> 1.5 each, B 3; s2: B, C tie at 1.5, A 3; s3: C 1, B 2 (A has none)
    assert ranks == {"A": (1.5 + 3) / 2, "B": (3 + 1.5 + 2) / 3, "C": (1.5 + 1.5 + 1) / 3}
    assert _mean_ranks(rows, "auc_roc", "min", ["s3"]) == {"B": 1.0, "C": 2.0}
    # an ablation (unranked) is ranked among the others and does not move their ranks
    ab = rows + [row("D", "s1", [95]), row("D", "s2", [95]), row("D", "s3", [95])]
    with_d = _mean_ranks(ab, "auc_roc", "max", ["s1", "s2", "s3"], unranked=["D"])
    assert {k: v for k, v in with_d.items() if k != "D"} == ranks and with_d["D"] == 1.0
    table = _group_table("mean over all sets (3)", rows, ["auc_roc"], ["s1", "s2", "s3"], {"auc_roc": "max"})
    assert "| model | auc_roc | rank auc_roc | sets |" in table
    assert "| C | 75.33 | 1.33 | 3/3 |" in table and "| A | 70.5 | 2.25 | 2/3 |" in table


def test_adbench_development_halves_are_fixed_by_name(tmp_path):
    """The selection / confirmation split: alternate names in case-insensitive order, within the
    medical sets and within the others; a subset keeps each set in its half."""
    from vaekit.domains.anomaly.io import MEDICAL, OTHER, development_halves
    from vaekit.domains.anomaly.protocol import _adbench_groups

    names = list(MEDICAL) + list(OTHER)
    assert len(names) == len(set(names)) == 35
    selection, confirmation = development_halves(names)
    assert len(selection) == 18 and len(confirmation) == 17 and not set(selection) & set(confirmation)
    assert [n for n in selection if n in MEDICAL] == ["breastw", "Hepatitis", "mammography", "WBC", "WPBC"]
    assert [n for n in confirmation if n in MEDICAL] == ["cardio", "Lymphography", "thyroid", "WDBC"]
    assert confirmation[4:7] == ["campaign", "cover", "fault"]
    # options.datasets may name a half: the selection half asks for its 18 sets (this root has 2)
    from vaekit.domains.anomaly.protocol import _load

    root = _adbench_dir(tmp_path)
    with pytest.raises(ConfigError, match="breastw") as err:
        _load(1, {"root": str(root), "datasets": "selection"})
    assert "'cardio'" not in str(err.value).split("available")[0]  # a confirmation set is not asked for
    with pytest.raises(ConfigError, match="'selection' / 'confirmation'"):
        _load(1, {"root": str(root), "datasets": "half"})
    groups = _adbench_groups(["cardio", "glass", "WBC"])
    assert groups["selection"] == ["glass", "WBC"] and groups["confirmation"] == ["cardio"]
    assert groups["medical selection"] == ["WBC"] and groups["other"] == ["glass"]


def test_wide_layout_options_and_seeds_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "out"
    spec = _spec(tmp_path, layout="wide")
    assert main(["benchmark", str(spec), "--out-dir", str(out), "--option", "datasets=[glass]", "--seeds", "3"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("### auc_roc\n\n| dataset | IForest | ECOD |")
    assert "| glass |" in text and "cardio" not in text and "mean over" not in text  # one set: no group means
    assert (out / "runs" / "ECOD" / "seed3" / "records.json").is_file()
    # other options in the same folder: the cached records do not match, so the units run again
    assert main(["benchmark", str(spec), "--out-dir", str(out), "--option", "datasets=[cardio]", "--seeds", "3"]) == 0
    text = capsys.readouterr().out
    assert "| cardio |" in text and "glass" not in text


def test_references_per_set_and_without_a_set_are_shown(tmp_path):
    refs = [{"label": "paper", "dataset": "cardio", "source": "x", "values": {"auc_roc": 91.0}},
            {"label": "paper (mean)", "source": "x", "values": {"auc_roc": 80.0}}]
    res = benchmark_from_file(_spec(tmp_path, seeds=[1], references=refs), tmp_path / "out", log=lambda m: None)
    got = {(r["label"], r["dataset"]): r["values"]["auc_roc"] for r in res["rows"] if r["kind"] == "reference"}
    assert got == {("paper", "cardio"): [91.0], ("paper (mean)", None): [80.0]}
    assert "| cardio | paper | 91 | - |" in res["table"] and "|  | paper (mean) | 80 | - |" in res["table"]


def test_a_failing_detector_is_listed_not_dropped(tmp_path, capsys):
    # PyOD's KNN cannot take more neighbours than training rows: the run fails, the others stand
    spec = _spec(tmp_path, seeds=[1], runs=[{"label": "KNN-huge", "model": "KNN", "params": {"n_neighbors": 10_000}},
                                             {"label": "ECOD", "model": "ECOD"}])
    res = benchmark_from_file(spec, tmp_path / "out", log=lambda m: None)
    assert {f["label"] for f in res["failed"]} == {"KNN-huge"} and len(res["failed"]) == 2
    assert "Failed runs (left out of the means):" in res["table"] and "KNN-huge seed 1 on cardio" in res["table"]
    knn = [r for r in res["rows"] if r["label"] == "KNN-huge"]
    assert all(np.isnan(r["values"]["auc_roc"][0]) for r in knn)


@pytest.mark.parametrize("over, match", [
    ({"suite": "anomaly:nope"}, r"benchmark\.suite: 'anomaly:nope' is not a suite"),
    ({"options": {"rooot": "x"}}, r"benchmark\.options: \['rooot'\] are not options of anomaly:adbench"),
    ({"runs": [{"label": "x", "model": "IForrest"}]}, r"runs\[0\]\.model: 'IForrest' is not a model of anomaly:adbench"),
])
def test_bad_suite_specs_name_the_field(tmp_path, over, match):
    with pytest.raises(ConfigError, match=match):
        resolve_suite(load_spec(_spec(tmp_path, **over)))


@pytest.mark.parametrize("over, match", [
    ({"runs": [{"label": "x", "config": "toy:default"}]}, r"runs\[0\] \('x'\): a suite's runs name `model`"),
    ({"suite": "", "runs": [{"label": "x", "model": "IForest"}]}, r"runs\[0\] \('x'\): give `config: domain:name`"),
    ({"suite": "", "runs": [{"label": "x", "config": "toy:default"}]}, r"benchmark\.options: options are a suite's"),
    ({"layout": "tall"}, r"benchmark\.layout: 'long'"),
    ({"runs": [{"label": "Mult-VAE*", "model": "IForest"}, {"label": "Mult-VAE", "model": "ECOD"}]},
     r"labels \['Mult-VAE', 'Mult-VAE\*'\] map to the same run folder name"),
    ({"references": [{"label": "paper", "values": {"ndcg": 1.0}}]}, r"references\[0\]\.values: \['ndcg'\]"),
])
def test_bad_spec_shapes_name_the_field(tmp_path, over, match):
    with pytest.raises(ConfigError, match=match):
        load_spec(_spec(tmp_path, **over))


def test_suites_are_listed_and_packaged_suite_specs_resolve():
    from pathlib import Path

    assert {"anomaly:adbench", "recsys:ml100k", "recsys:ml1m-diffrec", "recsys:ml20m"} <= set(list_suites())
    specs = Path(__file__).resolve().parents[2] / "benchmarks" / "specs"
    for p in specs.glob("*.yaml"):
        spec = load_spec(p)
        if spec.suite:
            suite, options = resolve_suite(spec)
            assert set(options) == set(suite.options), p.name


def test_recsys_ml20m_suite_from_a_ratings_csv_with_published_references(tmp_path, capsys):
    """MovieLens itself may not be shipped: a file in ML-20M's exact ratings.csv format is generated."""
    pytest.importorskip("pandas")
    from vaekit.domains.recsys import synthetic_interactions

    df = synthetic_interactions(n_users=400, n_items=150, seed=0)
    ml20m = df.rename(columns={"user": "userId", "item": "movieId", "time": "timestamp"})
    ml20m["rating"] = ml20m["rating"].astype(float)  # ML-20M stores 0.5-5.0 stars as floats
    path = tmp_path / "ratings.csv"
    ml20m[["userId", "movieId", "rating", "timestamp"]].to_csv(path, index=False)
    assert path.read_text().splitlines()[0] == "userId,movieId,rating,timestamp"
    from pathlib import Path

    spec = Path(__file__).resolve().parents[2] / "benchmarks" / "specs" / "recsys_ml20m.yaml"
    out = tmp_path / "out"
    assert main(["benchmark", str(spec), "--out-dir", str(out), "--option", f"path={path}", "heldout=40",
                 "epochs=2"]) == 0
    table = capsys.readouterr().out
    rows = {line.split(" | ")[0].lstrip("| "): line for line in table.splitlines()[2:]}
    assert {"Mult-VAE", "Mult-DAE", "RecVAE", "EASE (L2 tuned on validation)", "popularity",
            "Mult-VAE (published)"} <= set(rows)
    assert rows["Mult-VAE (published)"].split(" | ")[3] == "0.426"  # quoted, not computed
    with open(out / "table.csv") as f:
        recs = [r for r in csv.DictReader(f) if r["kind"] == "run"]
    assert len(recs) == 5 and all(0 <= float(r[k]) <= 1 for r in recs for k in ("recall@20", "ndcg@100"))
    ease = json.loads((out / "runs" / "EASE_L2_tuned_on_validation" / "seed1" / "records.json").read_text())
    assert ease["records"][0]["l2"] > 0 and ease["options"]["heldout"] == 40


def test_recsys_suite_without_a_path_says_how_to_pass_it(tmp_path):
    from pathlib import Path

    spec = Path(__file__).resolve().parents[2] / "benchmarks" / "specs" / "recsys_ml20m.yaml"
    with pytest.raises(ConfigError, match=r"benchmark\.options\.path: suite recsys:ml20m reads a MovieLens"):
        benchmark_from_file(spec, tmp_path / "o", log=lambda m: None)


def test_list_suites_prints_every_declared_protocol(capsys):
    assert main(["benchmark", "--list-suites"]) == 0
    out = capsys.readouterr().out
    assert "anomaly:adbench: ADBench unsupervised protocol" in out and "recsys:ml100k:" in out
    assert "  models: vaekit, IForest, ECOD" in out and "  options: root=data_root:anomaly/adbench, datasets=None" in out
    assert main(["benchmark"]) == 2 and "--list-suites" in capsys.readouterr().err


def test_protocol_data_come_from_the_data_root(tmp_path, capsys):
    """No `root` option: the ADBench folder is anomaly/adbench under --data-root, and the resolved
    path is part of the options a cached unit must match."""
    root = tmp_path / "data"
    (root / "anomaly").mkdir(parents=True)
    _adbench_dir(tmp_path).rename(root / "anomaly" / "adbench")
    spec = _spec(tmp_path, options={}, seeds=[1], runs=[{"label": "ECOD", "model": "ECOD"}])
    out = tmp_path / "out"
    assert main(["benchmark", str(spec), "--out-dir", str(out), "--data-root", str(root)]) == 0
    assert "| cardio | ECOD |" in capsys.readouterr().out
    saved = json.loads((out / "runs" / "ECOD" / "seed1" / "records.json").read_text())
    assert saved["options"]["root"] == str(root / "anomaly" / "adbench")
    # another data root: the cached unit does not match, so it runs again (and finds no data there)
    assert main(["benchmark", str(spec), "--out-dir", str(out), "--data-root", str(tmp_path / "elsewhere")]) == 2
    assert str(tmp_path / "elsewhere" / "anomaly" / "adbench") in capsys.readouterr().err


@pytest.mark.parametrize("runs, match", [
    ([{"label": "c", "model": "copy input", "params": {"x": 1}}],
     r"runs\[0\]\.params: \['x'\] are not parameters of a `copy input` row of text:yelp-transfer; valid: none"),
    ([{"label": "v", "model": "vaekit", "params": {"runn": "r"}}],
     r"runs\[0\]\.params: \['runn'\] are not parameters of a `vaekit` row .* valid: run, config, set"),
])
def test_row_params_are_checked_against_the_declared_model(tmp_path, runs, match):
    spec = _spec(tmp_path, suite="text:yelp-transfer", options={}, runs=runs, metrics=["acc"])
    with pytest.raises(ConfigError, match=match):
        resolve_suite(load_spec(spec))


def test_a_trained_run_model_without_a_run_or_config_says_what_to_give(tmp_path):
    spec = _spec(tmp_path, suite="text:yelp-transfer", options={}, runs=[{"label": "v", "model": "vaekit"}],
                 metrics=["acc"])
    with pytest.raises(ConfigError, match=r"runs\[0\]\.params\.run: a `vaekit` row names its run folder, e\.g\. "
                                          r"\{model: vaekit, params: \{run: runs/text-yelp\}\}"):
        benchmark_from_file(spec, tmp_path / "out", log=lambda m: None)


def test_the_pipeline_trains_a_declared_run_model_and_captures_failures(tmp_path, monkeypatch):
    """A protocol declares a model as a vaekit run: `vaekit benchmark` trains the config into the
    unit's folder with the seed, hands the loaded run to the model, and records a model that fails
    on one data set as a failed run while the other set stands."""
    from vaekit.domains import get_domain
    from vaekit.domains.protocols import Model, Protocol, TrainedRun

    def evaluate(model, unit):
        if unit.dataset == "bad":
            raise RuntimeError("cannot score this set")
        cfg, _, vae, info, state = model
        return {"step": float(state["step"]), "seed": float(cfg.train.seed), "latent": float(cfg.model.latent_dim)}

    proto = Protocol(doc="test protocol", load=lambda seed, options: {"good": None, "bad": None},
                     evaluate=evaluate, metrics=("step", "seed", "latent"),
                     models={"vaekit": Model(make=lambda unit: unit.run, params=(),
                                             run=TrainedRun(config="toy:default"))})
    monkeypatch.setattr(type(get_domain("toy")), "benchmark_protocols", lambda self: {"trained": proto})
    sets = ["train.max_steps=6", "train.eval_every=3", "train.progress=false", "tracking.tensorboard=false",
            "data.n_train=64", "data.n_val=32", "data.n_test=32", "model.latent_dim=3"]
    spec = _spec(tmp_path, suite="toy:trained", options={}, seeds=[4], metrics=["step", "seed", "latent"],
                 runs=[{"label": "v", "model": "vaekit", "params": {"set": sets}}])
    res = benchmark_from_file(spec, tmp_path / "out", log=lambda m: None)
    good = next(r for r in res["rows"] if r["dataset"] == "good")["values"]
    assert good == {"step": [6.0], "seed": [4.0], "latent": [3.0]}
    assert (tmp_path / "out" / "runs" / "v" / "seed4" / "model" / "checkpoints" / "last.pt").is_file()
    assert res["failed"] == [{"label": "v", "seed": 4, "dataset": "bad", "error": "RuntimeError: cannot score this set"}]
    bad = next(r for r in res["rows"] if r["dataset"] == "bad")["values"]
    assert all(np.isnan(v[0]) for v in bad.values())
