"""The anomaly domain through the pipeline (train -> evaluate -> generate) and its
preprocessing (imputation, one-hot, the column groups, inverse transform)."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pyod")
pd = pytest.importorskip("pandas")

from vaekit.core.errors import ConfigError, DataValidationError  # noqa: E402
from vaekit.domains import get_domain  # noqa: E402
from vaekit.domains.anomaly.loading import AnomalyDataConfig, load_anomaly  # noqa: E402
from vaekit.domains.anomaly.preprocess import TabularPreprocessor, inverse_transform  # noqa: E402
from vaekit.pipelines import evaluate_run, generate_run, load_config, train_run  # noqa: E402

TINY = ["train.max_steps=30", "train.eval_every=15", "train.progress=false", "eval.iw_samples=4",
        "eval.mi_examples=60", "eval.options.n_score_samples=2", "eval.options.baselines=[IForest]"]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("anomaly") / "run"
    train_run(load_config("anomaly:default", TINY), run_dir, resume="never", log=lambda m: None)
    return run_dir


def test_embedded_default_splits_stratified_and_preprocessing_fitted_on_train():
    data = load_anomaly(AnomalyDataConfig(), seed=0)
    n = {k: len(getattr(data, k)) for k in ("train", "val", "test")}
    assert sum(n.values()) == 397 and n["test"] == 120  # 357 benign + 40 malignant; 30% test
    counts = data.info.extra["n_anomalies"]
    assert sum(counts.values()) == 40 and counts["test"] == 12  # stratified
    assert data.info.shape == (30,) and data.info.likelihood == "gaussian"
    x = data.train.x.numpy()
    assert np.allclose(x.mean(0), 0, atol=1e-5) and np.allclose(x.std(0), 1, atol=1e-2)  # standardised on train


def test_train_evaluate_generate(default_run, tmp_path):
    res = evaluate_run(default_run)
    for key in ("detect/roc_auc", "detect/auc_pr", "detect/precision_at_n", "detect/recall_at_fpr",
                "baseline/iforest_roc_auc", "baseline/iforest_auc_pr", "active_units", "nll_iw"):
        assert key in res, key
    assert 0.5 < res["detect/roc_auc"] <= 1.0
    out = generate_run(default_run, 7, tmp_path / "fake_patients.csv")
    df = pd.read_csv(out)
    names = json.loads((default_run / "data_info.json").read_text())["extra"]["preprocessor"]["feature_names"]
    assert list(df.columns) == names and len(df) == 7
    # Generated records are in the original units (e.g. mean radius of a cell nucleus, ~6-28).
    assert 0 < df["mean radius"].median() < 40
    with pytest.raises(DataValidationError, match="csv"):
        get_domain("anomaly").save_samples([], tmp_path / "x.smi", None)


def test_csv_with_label_column_and_categories(tmp_path):
    rng = np.random.default_rng(0)
    n = 120
    df = pd.DataFrame({"hr": rng.normal(70, 8, n), "ward": rng.choice(["A", "B", "C"], n),
                       "status": ["sick" if i % 10 == 0 else "ok" for i in range(n)]})
    df.loc[3, "hr"] = np.nan
    path = tmp_path / "patients.csv"
    df.to_csv(path, index=False)
    data = load_anomaly(AnomalyDataConfig(path=str(path), label_column="status", positive_label="sick"), seed=0)
    state = data.info.extra["preprocessor"]
    assert state["feature_names"] == ["hr", "ward"]
    assert sum(data.info.extra["n_anomalies"].values()) == 12
    assert data.info.shape[0] == len(state["output_names"])
    with pytest.raises(DataValidationError, match="positive_label"):
        load_anomaly(AnomalyDataConfig(path=str(path), label_column="status"), seed=0)


@pytest.mark.parametrize("override,match", [("data.preprocessing=zscore", "data.preprocessing"),
                                            ("data.test_fraction=1.5", "data.test_fraction"),
                                            ("eval.options.score=mse", "eval.options.score"),
                                            ("eval.options.baselines=[Nope]", "Nope")])
def test_config_errors_name_the_path(override, match):
    with pytest.raises(ConfigError, match=match):
        load_config("anomaly:default", [override])


@pytest.mark.parametrize("scaling", ["standard", "robust", "standard+rank", "power", "minmax", "quantile",
                                     "rank_gauss", "none"])
def test_inverse_transform_recovers_numeric_and_categorical_values(scaling):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(5, 2, 300), "b": rng.exponential(3, 300),
                       "c": rng.choice(["x", "y"], 300)})
    pre = TabularPreprocessor(scaling).fit(df)
    back = inverse_transform(json.loads(json.dumps(pre.state())), pre.transform(df))
    assert list(back.columns) == ["a", "b", "c"]
    got, want = back[["a", "b"]].to_numpy(float), df[["a", "b"]].to_numpy()
    if scaling in ("quantile", "rank_gauss", "power"):  # through tables interpolated at 300 points
        assert np.median(np.abs(got - want)) < 0.05 and np.corrcoef(got[:, 1], want[:, 1])[0, 1] > 0.999
    else:
        assert np.allclose(got, want, atol=1e-4, rtol=1e-4)
    assert (back["c"] == df["c"]).all()


def test_preprocessor_groups_map_outputs_to_inputs_and_unseen_categories_encode_as_zeros():
    df = pd.DataFrame({"x": [1.0, np.nan, 3.0, 4.0], "k": ["u", "v", None, "u"], "z": [0.0, 1.0, 2.0, 3.0]})
    pre = TabularPreprocessor("standard").fit(df)
    assert pre.output_names_ == ["x", "z", "x__missing", "k=__missing__", "k=u", "k=v"]
    assert pre.groups_.tolist() == [0, 2, 0, 1, 1, 1]
    row = pre.transform(pd.DataFrame({"x": [np.nan], "k": ["w"], "z": [1.0]}))
    assert row[0, 2] == 1.0 and row[0, 3:].tolist() == [0.0, 0.0, 0.0]
    assert pre.group_sums(np.ones((1, 6))).tolist() == [[2.0, 3.0, 1.0]]


def test_rank_gauss_gives_ties_their_mid_rank_unlike_sklearns_quantile_transformer():
    # A 1-10 grade where most records sit at the minimum (as in breastw).
    grade = np.r_[np.ones(70), np.arange(2, 11).repeat(3), [10.0]].reshape(-1, 1)
    df = pd.DataFrame({"grade": grade[:, 0]})
    z_rank = TabularPreprocessor("rank_gauss").fit(df).transform(df)[:, 0]
    z_quant = TabularPreprocessor("quantile").fit(df).transform(df)[:, 0]
    assert z_quant[0] < -5  # sklearn sends the minimum to its lower bound
    assert -1 < z_rank[0] < 0  # the mid-rank of 70 tied values of 98 is ~0.36: z ~ -0.36
    assert z_rank[-1] == pytest.approx(z_rank.max()) and z_rank.max() > 1.5
    # Mid-rank ECDF then the normal quantile, by hand for one value.
    from scipy.stats import norm

    assert z_rank[0] == pytest.approx(norm.ppf((0 + 70) / (2 * 98)))
