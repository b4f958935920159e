"""`vaekit demo`: summary table beside the baseline, one combined report, resume skips done work."""
from __future__ import annotations

import dataclasses

import pytest

from vaekit.core.errors import ConfigError
from vaekit.pipelines import demo
from vaekit.pipelines.cli import main

FAST = ("train.max_steps=40", "train.eval_every=20", "data.n_train=256", "data.n_val=64", "data.n_test=64",
        "eval.iw_samples=5", "eval.n_samples=50", "eval.mi_examples=50", "tracking.tensorboard=false")


@pytest.fixture
def fast_toy(monkeypatch):
    toy = dataclasses.replace(next(e for e in demo.DEMO if e.domain == "toy"), overrides=FAST)
    monkeypatch.setattr(demo, "DEMO", [toy] + [e for e in demo.DEMO if e.domain != "toy"])


def test_every_domain_has_a_demo_entry_with_a_packaged_default():
    from vaekit.domains import get_domain

    names = [e.domain for e in demo.DEMO]
    assert names == ["toy", "molecules", "anomaly", "recsys", "text"]
    for e in demo.DEMO:
        assert "default" in get_domain(e.domain).config_names()


def test_baseline_picks_the_best_of_a_family():
    e = demo.DemoEntry("anomaly", ("detect/roc_auc", "AUC"), ("baseline/", "_roc_auc", "best PyOD"))
    res = {"baseline/iforest_roc_auc": 0.8, "baseline/ecod_roc_auc": 0.9, "baseline/ecod_auc_pr": 0.99}
    # vaekit's key metric absent: no rank
    assert demo._baseline(e, res) == ("best PyOD (ecod)", 0.9, "-")
    assert demo._baseline(e, {}) == ("-", None, "-")
    # its rank among the family and itself: behind ecod, ahead of iforest; a tie counts half
    assert demo._baseline(e, {**res, "detect/roc_auc": 0.85})[2] == "2 of 3"
    assert demo._baseline(e, {**res, "detect/roc_auc": 0.95})[2] == "1 of 3"
    assert demo._baseline(e, {**res, "detect/roc_auc": 0.9})[2] == "1.5 of 3"
    single = demo.DemoEntry("recsys", ("rank/ndcg@100", "NDCG@100"), ("baseline/ease_ndcg@100", "EASE"))
    assert demo._baseline(single, {"baseline/ease_ndcg@100": 0.4, "rank/ndcg@100": 0.5}) == ("EASE", 0.4, "-")


def test_demo_runs_reports_and_skips_what_is_done(tmp_path, capsys, fast_toy):
    out = tmp_path / "demo"
    assert main(["demo", "--domain", "toy", "--out-dir", str(out), "--no-progress"]) == 0
    printed, err = capsys.readouterr()
    lines = printed.splitlines()
    assert lines[0].startswith("| domain | key metric | vaekit | baseline")
    row = next(line for line in lines if line.startswith("| toy |"))
    assert "kNN on the raw input" in row
    html = (out / "report.html").read_text()
    assert ">Summary</h2>" in html and ">toy - Latent space</h2>" in html and 'href="toy/report.html"' in html
    assert (out / "toy" / "report.html").is_file()
    assert "training" in err
    assert main(["demo", "--domain", "toy", "--out-dir", str(out), "--no-progress"]) == 0
    again, err2 = capsys.readouterr()
    assert "already done" in err2 and "training ->" not in err2
    row2 = next(line for line in again.splitlines() if line.startswith("| toy |"))
    assert row2.rsplit(" | ", 1)[0] == row.rsplit(" | ", 1)[0]  # same numbers, read back from the run
    assert row.endswith(" s |") and row2.endswith("| done before |")


def test_unknown_demo_domain_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match=r"--domain: unknown demo domain.*valid: toy, molecules"):
        demo.run_demo(["toys"], tmp_path)
