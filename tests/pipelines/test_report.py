"""The HTML run report: its parts on hand-made inputs, a real run end to end, and the page in
headless Chromium (skipped only where no Chromium is installed; `.ci/run` installs it)."""
from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from vaekit.domains.report_parts import Section, fmt, table
from vaekit.pipelines import load_config, train_run
from vaekit.pipelines.report import (_colour_values, diagnostics_section, project_2d, read_metrics, render,
                                     training_section)
from vaekit.pipelines.runs import evaluate_run

FAST = ["train.max_steps=60", "train.eval_every=30", "data.n_train=512", "data.n_val=128", "data.n_test=128",
        "eval.iw_samples=10", "eval.n_samples=100", "eval.mi_examples=100", "train.progress=false"]
IMG = re.compile(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+"')


def _chromium():
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                None)


@pytest.fixture(scope="module")
def toy_report(tmp_path_factory):
    run = tmp_path_factory.mktemp("report") / "toy"
    train_run(load_config("toy:default", FAST), run, log=lambda m: None)
    res = evaluate_run(run)
    return run, res


def test_project_2d_recovers_the_dominant_plane():
    rng = np.random.default_rng(0)
    z = np.zeros((500, 5))
    z[:, 0] = rng.normal(0, 3, 500)
    z[:, 1] = rng.normal(0, 2, 500)
    z[:, 2:] = rng.normal(0, 0.01, (500, 3))
    xy, ratio = project_2d(z)
    assert xy.shape == (500, 2)
    assert ratio.sum() > 0.999 and ratio[0] > ratio[1]
    one, r1 = project_2d(z[:, :1])
    assert one.shape == (500, 2) and r1[0] == 1.0


def test_colour_values_tell_classes_from_properties():
    assert _colour_values(np.array([0, 1, 2, 1]), None)[1] == "class"
    assert _colour_values(np.linspace(0, 1, 50), None)[1] == "value"
    assert _colour_values(np.arange(100), None)[1] == "value"  # too many distinct ids for a legend
    vals, kind, _ = _colour_values(np.ones((4, 3)), None)
    assert kind == "value" and vals.shape == (4,)
    assert _colour_values(np.ones((4, 500)), None)[1] is None  # e.g. held-out item matrices
    assert _colour_values(None, None)[1] is None


def test_tables_and_titles_are_escaped():
    html = render("a <b> title", [Section("x & y", table(["<col>"], [["<script>", 1.234567]]))])
    assert "<script>" not in html.split("</script>", 1)[1]  # only the page's own script is live
    assert "&lt;script&gt;" in html and "a &lt;b&gt; title" in html and "x &amp; y" in html
    assert fmt(1.234567) == "1.235" and fmt(12345) == "12,345" and fmt(float("nan")) == "-"


def test_read_metrics_skips_a_torn_last_line(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "split": "train", "loss": 2.0}\n{"step": 2, "spl')
    assert read_metrics(tmp_path) == [{"step": 1, "split": "train", "loss": 2.0}]
    assert "has not trained" in training_section([]).body


def test_diagnostics_section_shows_collapse_warnings():
    res = {"rate": 0.01, "distortion": 5.0, "kl_per_dim": [0.0, 0.01], "collapse": "full",
           "warnings": ["posterior collapse: 0 of 2 latent units are active"]}
    body = diagnostics_section(res).body
    assert 'class="warn"' in body and "0 of 2 latent units" in body


def test_evaluate_writes_a_self_contained_report(toy_report):
    run, res = toy_report
    html = (run / "report.html").read_text()
    assert res["report"] == str(run / "report.html")
    for title in ("Domain metrics", "Training curves", "Diagnostics of the latent", "Latent space"):
        assert f">{title}</h2>" in html
    assert len(IMG.findall(html)) >= 5  # loss, KL, KL per unit, variance profile, spectrum, latent
    assert "knn_acc" in html and "coloured by label" in html
    assert 'src="http' not in html and "<link" not in html  # nothing fetched from outside the file


@pytest.mark.skipif(_chromium() is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_report_images_render_in_headless_chromium(toy_report):
    run, _ = toy_report
    html = run / "report.html"
    proc = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                           "--dump-dom", html.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r'data-images-ok="(\d+)/(\d+)"', proc.stdout)
    assert m, f"the page's load handler did not run; chromium said: {proc.stderr[-500:]}"
    ok, n = int(m.group(1)), int(m.group(2))
    assert n >= 5 and ok == n, f"{ok} of {n} images decoded"
