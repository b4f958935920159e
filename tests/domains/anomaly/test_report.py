"""The anomaly domain's view in report.html: detection curves of the VAE and the baselines, and
the most anomalous records with their per-feature explanation."""
from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("pyod")
pd = pytest.importorskip("pandas")

from vaekit.domains import EvalContext, get_domain  # noqa: E402
from vaekit.domains.anomaly import baselines, report  # noqa: E402
from vaekit.domains.anomaly.evaluation import BASELINE_SCORES, VAE_SCORES  # noqa: E402
from vaekit.domains.anomaly.preprocess import TabularPreprocessor  # noqa: E402
from vaekit.pipelines import evaluate_run, load_config, train_run  # noqa: E402
from vaekit.pipelines.runs import load_run  # noqa: E402

TINY = ["train.max_steps=30", "train.eval_every=15", "train.progress=false", "eval.iw_samples=4",
        "eval.mi_examples=60", "eval.options.n_score_samples=2", "eval.options.baselines=[IForest,ECOD]"]
IMG = '<img src="data:image/png;base64,'


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = tmp_path_factory.mktemp("anomaly_report") / "run"
    train_run(load_config("anomaly:default", TINY), run, resume="never", log=lambda m: None)
    return run


def _section(html: str, title: str) -> str:
    """The body of the report section titled ``title`` (up to the next heading)."""
    m = re.search(rf'<h2 id="s\d+">{re.escape(title)}</h2>(.*?)(?=<h2 |</body>)', html, re.S)
    assert m, f"no section {title!r}"
    return m.group(1)


def test_report_has_curves_and_top_records_without_refitting_baselines(run_dir, monkeypatch):
    pytest.importorskip("matplotlib")
    fits = []
    fit_score = baselines.fit_score
    monkeypatch.setattr(baselines, "fit_score", lambda det, *a: fits.append(det) or fit_score(det, *a))
    res = evaluate_run(run_dir)
    assert len(fits) == 2  # the report draws the metrics' own baseline scores
    html = (run_dir / "report.html").read_text()
    curves = _section(html, report.CURVES_TITLE)
    assert curves.count(IMG) == 2  # ROC and PR
    for name in ("VAE (elbo)", "IForest", "ECOD"):
        assert f"<td>{name}</td>" in curves
    # The AUC table states the very values of the metrics.
    assert f"<td>{res['detect/roc_auc']:.4g}</td>" in curves
    assert f"<td>{res['baseline/ecod_auc_pr']:.4g}</td>" in curves
    top = _section(html, report.TOP_TITLE)
    rows = re.findall(r"<tr>(.*?)</tr>", top.split("<tbody>")[1])
    assert len(rows) == report.TOP_RECORDS
    cells = [re.findall(r"<td>(.*?)</td>", r) for r in rows]
    assert [c[0] for c in cells] == [str(k) for k in range(1, 11)]
    scores = [float(c[2]) for c in cells]
    assert scores == sorted(scores, reverse=True)
    assert all(c[3] in ("anomaly", "normal") for c in cells)
    # Three features per record, each "name = value (model: value); term nats".
    assert all(re.fullmatch(r"[\w ]+ = [-\d.e+,]+ \(model: [-\d.e+,]+\); [-\d.e+]+ nats", f)
               for c in cells for f in c[4:7]), cells[0]


def test_report_sections_reuse_cached_scores_and_list_numbers_without_matplotlib(run_dir, monkeypatch):
    cfg, domain, model, info, _ = load_run(run_dir)
    data = domain.load_data(cfg.data_config, cfg.train.seed)
    ctx = EvalContext(model, data, "test", next(model.parameters()).device, options=cfg.eval_options)
    n = len(data.test)
    ctx.extra[VAE_SCORES] = np.arange(n, dtype=np.float64)  # the last record is "most anomalous"
    ctx.extra[BASELINE_SCORES] = {"Fake": -np.arange(n, dtype=np.float64)}
    monkeypatch.setattr(report, "plotting", lambda: None)
    curves, top = get_domain("anomaly").report_sections(ctx, {})
    assert IMG not in curves.body + top.body
    assert "matplotlib" in curves.body and "Fake" in curves.body
    first = re.findall(r"<td>(.*?)</td>", top.body.split("<tbody>")[1])
    assert first[:3] == ["1", str(n - 1), f"{n - 1:.4g}"]


def test_feature_sums_match_the_preprocessors_group_sums():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=50), "b": rng.choice(["x", "y", "z"], 50), "c": rng.normal(size=50)})
    df.loc[4, "a"] = np.nan
    pre = TabularPreprocessor("standard+rank").fit(df)
    vals = rng.random((5, len(pre.output_names_)))
    assert np.allclose(report.feature_sums(pre.state(), vals), pre.group_sums(vals))
