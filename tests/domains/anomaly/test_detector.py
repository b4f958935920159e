"""VAEDetector: PyOD/scikit-learn conformance, determinism, mixed tables, explanations, and an
AUC floor on generated data with planted anomalies. Models are small and train for a few
hundred steps on a few hundred rows (seconds)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyod")
pd = pytest.importorskip("pandas")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError as SkNotFittedError  # noqa: E402

from vaekit.core.errors import ConfigError, DataValidationError  # noqa: E402
from vaekit.core.errors import NotFittedError as VkNotFittedError  # noqa: E402
from vaekit.domains.anomaly import VAEDetector, roc_auc  # noqa: E402
from vaekit.domains.anomaly.detector import KL_COLUMN  # noqa: E402
from vaekit.domains.anomaly.scoring import anomaly_scores  # noqa: E402

FAST = dict(epochs=5, min_steps=60, n_score_samples=4)


def planted(n: int = 400, n_out: int = 20, d: int = 8, seed: int = 0, manifold_seed: int = 0):
    """Inliers on a 2-D linear manifold plus noise; anomalies break the correlations while
    each of their coordinates stays inside the inliers' range (so per-feature tail tests
    cannot see them, a joint model can). ``manifold_seed`` fixes the manifold, ``seed`` the draws."""
    w = np.random.default_rng(1000 + manifold_seed).normal(size=(2, d))
    rng = np.random.default_rng(seed)
    x_in = rng.normal(size=(n, 2)) @ w + 0.1 * rng.normal(size=(n, d))
    x_out = rng.permuted(rng.normal(size=(n_out, 2)) @ w, axis=1) + 0.1 * rng.normal(size=(n_out, d))
    x = np.concatenate([x_in, x_out])
    y = np.r_[np.zeros(n), np.ones(n_out)].astype(int)
    return x, y


@pytest.fixture(scope="module")
def fitted():
    x, y = planted()
    return VAEDetector(contamination=0.05, random_state=0, **FAST).fit(x), x, y


def test_fit_returns_self_and_sets_pyod_attributes(fitted):
    det, x, _ = fitted
    assert det.decision_scores_.shape == (len(x),)
    assert np.isfinite(det.decision_scores_).all()
    assert det.labels_.shape == (len(x),) and set(np.unique(det.labels_)) <= {0, 1}
    # PyOD's convention: the threshold is the (1 - contamination) quantile of the training scores.
    assert det.threshold_ == pytest.approx(np.percentile(det.decision_scores_, 95))
    assert det.labels_.mean() == pytest.approx(0.05, abs=0.01)
    assert det.n_features_in_ == x.shape[1] and det.n_steps_ >= FAST["min_steps"]


def test_predict_and_predict_proba_come_from_pyod(fitted):
    det, x, _ = fitted
    pred = det.predict(x[:30])
    assert pred.shape == (30,) and set(np.unique(pred)) <= {0, 1}
    proba = det.predict_proba(x[:30])
    assert proba.shape == (30, 2) and np.allclose(proba.sum(1), 1.0)
    _, conf = det.predict(x[:5], return_confidence=True)
    assert conf.shape == (5,)


def test_scores_are_deterministic_and_do_not_touch_the_global_rng(fitted):
    import torch

    det, x, _ = fitted
    torch.manual_seed(123)
    a = det.decision_function(x)
    after = torch.rand(1)
    torch.manual_seed(123)
    b = det.decision_function(x)
    assert np.array_equal(a, b)
    assert torch.equal(torch.rand(1), after)  # the caller's random stream is untouched
    # The training scores are the same function applied to the training rows.
    assert np.allclose(det.decision_function(x), det.decision_scores_)


def test_same_random_state_gives_the_same_model():
    x, _ = planted(n=120, n_out=6)
    a = VAEDetector(random_state=3, **FAST).fit(x).decision_scores_
    b = VAEDetector(random_state=3, **FAST).fit(x).decision_scores_
    assert np.array_equal(a, b)


def test_sklearn_clone_and_params_round_trip():
    det = VAEDetector(contamination=0.02, latent_dim=3, hidden_dims=(16, 8), trim=0.05, score="iwae")
    params = det.get_params()
    assert params["latent_dim"] == 3 and params["hidden_dims"] == (16, 8) and params["score"] == "iwae"
    c = clone(det)
    assert c is not det and c.get_params() == params
    det.set_params(latent_dim=5)
    assert det.latent_dim == 5
    assert "VAEDetector(" in repr(det)


def test_not_fitted_error_is_sklearns_and_vaekits():
    det = VAEDetector()
    for call in (det.decision_function, det.predict, det.explain):
        with pytest.raises(SkNotFittedError):
            call(np.zeros((2, 3)))
    with pytest.raises(VkNotFittedError, match="call fit"):
        det.decision_function(np.zeros((2, 3)))


def test_number_of_features_is_checked(fitted):
    det, x, _ = fitted
    with pytest.raises(DataValidationError, match="X has 5 features, but the model was fitted on 8"):
        det.decision_function(x[:, :5])
    with pytest.raises(DataValidationError, match="2-D"):
        det.decision_function(x[0])


# Anomalies that break correlations need the joint structure learnt, i.e. a trained model
# (the default's short training suits marginal outliers; see VAEDetector's docstring).
# Correlation-breaking anomalies need the joint structure learnt and a likelihood scale floor
# below the inliers' noise (the default 0.3 column SDs hides deviations that small).
CONVERGED = dict(epochs=300, lr=1e-2, min_scale=0.05)


def test_auc_floor_on_planted_anomalies_that_marginal_methods_miss():
    from pyod.models.ecod import ECOD

    x, y = planted(seed=1)
    det = VAEDetector(contamination=0.05, random_state=0, **CONVERGED).fit(x)
    auc = roc_auc(y, det.decision_scores_)
    assert auc >= 0.95
    # The anomalies are unusual only jointly: a per-feature tail method does far worse.
    assert auc > roc_auc(y, ECOD().fit(x).decision_scores_) + 0.1
    x_te, y_te = planted(n=200, n_out=10, seed=2)  # new records, same manifold
    assert roc_auc(y_te, det.decision_function(x_te)) >= 0.9


@pytest.mark.parametrize("score", ["elbo", "iwae", "recon_prob"])
def test_every_score_ranks_planted_anomalies(score):
    x, y = planted(n=200, n_out=10, seed=4)
    det = VAEDetector(score=score, random_state=0, n_score_samples=8, **CONVERGED).fit(x)
    assert roc_auc(y, det.decision_scores_) >= 0.9


def test_scores_agree_with_their_definitions(fitted):
    det, x, _ = fitted
    xt = det.preprocessor_.transform(x[:50])
    elbo = anomaly_scores(det.model_, xt, "elbo", 64, seed=0)
    iw = anomaly_scores(det.model_, xt, "iwae", 64, seed=0)
    rp = anomaly_scores(det.model_, xt, "recon_prob", 64, seed=0)
    assert iw.mean() <= elbo.mean()  # the IW bound is tighter than the ELBO
    assert (rp <= elbo + 1e-9).all()  # the reconstruction term alone leaves out a KL >= 0
    # elbo_agg with a one-component "mixture" N(0, I) is the ELBO with a Monte-Carlo KL
    import torch

    from vaekit.domains.anomaly.scoring import aggregate_posterior

    u = det.model_.encode(torch.as_tensor(xt[:1], dtype=torch.float32)).loc.shape[-1]
    prior = (torch.zeros(1, u), torch.ones(1, u))
    mc = anomaly_scores(det.model_, xt, "elbo_agg", 4000, seed=0, mixture=prior)
    np.testing.assert_allclose(mc, anomaly_scores(det.model_, xt, "elbo", 4000, seed=0), rtol=0.02, atol=0.05)
    with pytest.raises(ConfigError, match="mixture"):
        anomaly_scores(det.model_, xt, "elbo_agg", 4)
    # the training rows' aggregate posterior: K components of the latent's size
    loc, scale = aggregate_posterior(det.model_, xt, k=20)
    assert loc.shape == scale.shape == (20, u) and (scale > 0).all()


def test_fewer_rows_than_a_batch_trains_full_batch():
    x, _ = planted(n=12, n_out=1)
    det = VAEDetector(batch_size=128, **FAST).fit(x)
    assert det.decision_scores_.shape == (13,)


def test_mixed_table_with_missing_values_and_categories_and_explain():
    rng = np.random.default_rng(0)
    n = 200
    age = rng.normal(50, 10, n)
    df = pd.DataFrame({"age": age, "sbp": 100 + 0.8 * age + rng.normal(0, 3, n),
                       "sex": rng.choice(["F", "M"], n), "smoker": rng.choice([True, False], n)})
    df.loc[::17, "sbp"] = np.nan
    df.loc[5, "sex"] = None
    det = VAEDetector(**FAST).fit(df)
    names = det.preprocessor_.output_names_
    assert "sbp__missing" in names and "sex=F" in names and "sex=M" in names
    # Explanations: one column per input feature plus the latent KL; they add up to the score.
    odd = df.iloc[:3].copy()
    odd.loc[odd.index[0], "sbp"] = 400.0  # an impossible blood pressure for that age
    ex = det.explain(odd)
    assert list(ex.columns) == ["age", "sbp", "sex", "smoker", KL_COLUMN]
    assert list(ex.index) == list(odd.index)
    assert np.allclose(ex.sum(axis=1).to_numpy() - det.score_offset_, det.decision_function(odd),
                       rtol=1e-4, atol=1e-3)
    assert ex.drop(columns=KL_COLUMN).iloc[0].idxmax() == "sbp"
    # Columns may come in any order; a category never seen in training still scores.
    shuffled = odd[["smoker", "sex", "sbp", "age"]].copy()
    shuffled.loc[shuffled.index[1], "sex"] = "X"
    assert np.isfinite(det.decision_function(shuffled)).all()
    with pytest.raises(DataValidationError, match="lacks column"):
        det.decision_function(df.drop(columns="age"))


@pytest.mark.parametrize("kwargs,match", [
    (dict(preprocessing="zscore"), "preprocessing"), (dict(score="mse"), "score"),
    (dict(trim=0.6), "trim"), (dict(min_scale=0.0), "min_scale"), (dict(epochs=0), "epochs"), (dict(latent_dim=0), "latent_dim"),
    (dict(n_estimators=0), "n_estimators"), (dict(max_samples=5), "max_samples"), (dict(max_samples=1.5), "max_samples"),
    (dict(max_features=0), "max_features"), (dict(max_features=1.2), "max_features"),
    (dict(extra_views=[{"epochs": 3}]), r"extra_views=\.\.\.\)\[0\].*'preprocessing'"),
    (dict(extra_views=[{"preprocessing": "standard", "epoch": 3}]), r"\['epoch'\] are not VAEDetector arguments"),
])
def test_bad_parameters_fail_at_fit_with_the_parameter_named(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        VAEDetector(**kwargs).fit(np.zeros((10, 2)))


def test_an_ensemble_has_a_member_per_scaling_and_seed_each_on_its_rows():
    x, y = planted()
    det = VAEDetector(preprocessing=("standard", "rank_gauss"), n_estimators=3, max_samples=100, random_state=4,
                      **FAST).fit(x)
    assert [m.scaling for m in det.members_] == ["standard"] * 3 + ["rank_gauss"] * 3
    # each member trained on its own 100 rows (so they differ), each scored on all 420
    first = [m.model.state_dict()["encoder.net.0.weight"] if "encoder.net.0.weight" in m.model.state_dict()
             else next(iter(m.model.parameters())) for m in det.members_[:3]]
    assert not np.allclose(first[0].detach().numpy(), first[1].detach().numpy())
    assert det._member_rows(420, 0).shape == (100,) and len(set(det._member_rows(420, 0).tolist())) == 100
    assert not np.array_equal(det._member_rows(420, 0), det._member_rows(420, 1))
    assert det.set_params(max_samples=0.5)._member_rows(420, 2).shape == (210,)
    assert det.set_params(max_samples=None)._member_rows(420, 2) is None
    assert det.decision_scores_.shape == (420,)
    again = VAEDetector(preprocessing=("standard", "rank_gauss"), n_estimators=3, max_samples=100, random_state=4,
                        **FAST).fit(x)
    np.testing.assert_array_equal(again.decision_function(x), det.set_params(max_samples=100).decision_function(x))
    # explain still adds up to the combined score plus its offset
    ex = det.explain(x[:5])
    np.testing.assert_allclose(ex.sum(axis=1).to_numpy(), det.decision_function(x[:5]) + det.score_offset_,
                               rtol=1e-4, atol=1e-3)


def test_feature_bagging_members_see_their_features_and_explain_still_adds_up():
    x, _ = planted()  # 8 features
    det = VAEDetector(preprocessing="standard", n_estimators=3, max_features=0.5, random_state=2, **FAST).fit(x)
    cols = [m.columns for m in det.members_]
    assert all(c is not None and len(c) == 4 for c in cols) and len({tuple(c) for c in cols}) > 1
    assert [m.model.decoder.likelihood.running_sq_residual.shape[0] for m in det.members_] == [4, 4, 4]
    ex = det.explain(x[:5])
    np.testing.assert_allclose(ex.sum(axis=1).to_numpy(), det.decision_function(x[:5]) + det.score_offset_,
                               rtol=1e-4, atol=1e-3)
    assert VAEDetector(max_features=1.0)._member_columns(det.members_[0].preprocessor, 0) is None


def test_extra_views_add_members_with_their_own_arguments():
    x, _ = planted()
    det = VAEDetector(preprocessing="standard", random_state=1, likelihood="laplace",
                      extra_views=[{"preprocessing": "rank_gauss", "likelihood": "gaussian", "epochs": 7},
                                   {"preprocessing": "standard", "max_samples": 50, "epochs": 3}],
                      **FAST).fit(x)
    assert [m.scaling for m in det.members_] == ["standard", "rank_gauss", "standard"]
    kinds = [type(m.model.decoder.likelihood).__name__ for m in det.members_]
    assert kinds == ["LaplaceLikelihood", "GaussianLikelihood", "LaplaceLikelihood"]
    assert det.get_params()["extra_views"][0]["epochs"] == 7  # stored unchanged (clone works)
    assert det.decision_function(x[:4]).shape == (4,)
    with pytest.raises(ConfigError, match="likelihood"):
        VAEDetector(likelihood="cauchy").fit(x)


def test_contamination_is_checked_as_pyod_does():
    with pytest.raises(ValueError, match="contamination"):
        VAEDetector(contamination=0.7)  # PyOD's BaseDetector checks it in __init__
    with pytest.raises(ConfigError, match="contamination"):
        VAEDetector(**FAST).set_params(contamination=0.7).fit(np.zeros((10, 2)))


@pytest.mark.parametrize("x,match", [
    (np.zeros((0, 3)), "row"),
    (pd.DataFrame({"a": [1.0, 2.0], "b": [np.nan, np.nan]}), "b"),
    (pd.DataFrame({"a": [1.0, np.inf, 2.0]}), "nfinite"),
    (pd.DataFrame({"id": [f"patient-{i}" for i in range(80)], "a": np.arange(80.0)}), "id"),
])
def test_bad_tables_are_rejected_with_the_column_named(x, match):
    with pytest.raises(DataValidationError, match=match):
        VAEDetector(**FAST).fit(x)


def test_the_detector_is_a_facade_over_its_packaged_config():
    from vaekit.pipelines import load_config
    from vaekit.pipelines.config import config_from_dict

    det = VAEDetector()
    assert det.param("epochs") == 10 and det.param("min_scale") == 0.3 and det.param("likelihood") == "gaussian" and det.param("random_state") == 0
    cfg = det.member_config("rank_gauss", 21)
    assert cfg["data"]["preprocessing"] == "rank_gauss" and cfg["model"]["latent_dim"] == 5  # clip(21 // 4, 2, 16)
    assert config_from_dict(det.run_config()) == load_config("anomaly:detector")
    trimmed = VAEDetector(contamination=0.05, trim=None, hidden_dims=(16, 8)).run_config()
    assert trimmed["objective"]["trim"] == trimmed["model"]["likelihood"]["params"]["scale_trim"] == 0.05
    assert trimmed["model"]["decoder"]["params"]["hidden_dims"] == [16, 8]


def test_vaekit_train_of_a_member_config_trains_the_members_model(tmp_path):
    """`vaekit train anomaly:detector` and the detector's fit run the same training sequence:
    the CLI's weights equal fit_vae's on the CLI's own (preprocessed) training split."""
    import json

    import torch

    from vaekit.core.estimator import fit_vae
    from vaekit.pipelines import load_config, load_run, train_run

    det = VAEDetector(epochs=2, min_steps=5, hidden_dims=(16,), random_state=2)
    sets = [f"{k}={json.dumps(v)}" for k, v in det.member_config("standard", 30).items()
            if k in ("model", "objective", "fit", "train")]
    cfg = load_config("anomaly:detector", sets + ["eval.mi_examples=50"])
    train_run(cfg, tmp_path / "run", resume="never", log=lambda m: None)
    _, domain, model, _, _ = load_run(tmp_path / "run", device="cpu")
    data = domain.load_data(cfg.data_config, cfg.train.seed)
    mine, train = fit_vae(det.member_config("standard", data.info.shape[0]), data)
    assert train.max_steps == max(5, -(-2 * len(data.train) // 128))
    for (k, a), b in zip(mine.state_dict().items(), model.state_dict().values()):
        assert torch.equal(a, b), k


def test_documented_defaults_are_the_packaged_ones():
    from vaekit.core.estimator import documented_defaults

    assert documented_defaults(VAEDetector()) == {}
