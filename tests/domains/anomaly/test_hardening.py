"""Issue 19, anomaly items: bad input as a user meets it, through the API and the CLI.

* 9: too few rows to fit (API and CLI) is one clear error, not a silent fit or a scikit-learn
  traceback;
* 10: a value whose magnitude overflows the preprocessing (the variance of the scaling, the
  float32 model input) is named with its column, row and value, never blamed on NaN input;
* 11: every fix a CLI user reads names the config key (``data.na_values`` and the other
  ``data.*`` keys), and ``data.na_values`` exists;
* 20: labels that cannot be evaluated (one class in the table or in the test split) fail at
  load time, not at ``vaekit evaluate``.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

pytest.importorskip("pyod")
pd = pytest.importorskip("pandas")

from vaekit.core.errors import ConfigError, DataValidationError  # noqa: E402
from vaekit.domains.anomaly import VAEDetector  # noqa: E402
from vaekit.domains.anomaly.features import MIN_TRAIN_ROWS  # noqa: E402
from vaekit.domains.anomaly.io import read_table  # noqa: E402
from vaekit.domains.anomaly.loading import AnomalyDataConfig, load_anomaly  # noqa: E402
from vaekit.domains.anomaly.preprocess import MAX_MODEL_VALUE, SCALINGS, TabularPreprocessor  # noqa: E402
from vaekit.pipelines.cli import main  # noqa: E402

FAST = dict(epochs=1, min_steps=2, n_score_samples=2)


def _cli_train(capsys, tmp_path, csv, *overrides):
    code = main(["train", "anomaly:default", "--no-progress", "--run-dir", str(tmp_path / "run"),
                 "--set", f"data.path={csv}", "train.max_steps=2", *overrides])
    return code, capsys.readouterr().err


def _gaussian_csv(tmp_path, n=200, big=None, name="t.csv"):
    """``n`` rows of 4 standard-normal columns a..d; ``big`` = (row, column, value) planted."""
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(n, 4)), columns=list("abcd"))
    if big is not None:
        df.loc[big[0], big[1]] = big[2]
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path, df


# ---------------------------------------------------------------------- 9: too few rows
@pytest.mark.parametrize("n", [1, MIN_TRAIN_ROWS - 1])
def test_detector_refuses_too_few_rows(n):
    with pytest.raises(DataValidationError, match=rf"VAEDetector\.fit\(X\): needs at least {MIN_TRAIN_ROWS} rows.*"
                                                  rf"got {n}\."):
        VAEDetector(**FAST).fit(np.arange(3.0 * n).reshape(n, 3))


def test_detector_fits_the_minimum():
    det = VAEDetector(**FAST).fit(np.random.default_rng(0).normal(size=(MIN_TRAIN_ROWS, 3)))
    assert det.decision_scores_.shape == (MIN_TRAIN_ROWS,) and np.isfinite(det.threshold_)


def test_cli_refuses_a_one_row_table_in_one_line(capsys, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("a,b,c\n1,2,3\n")
    code, err = _cli_train(capsys, tmp_path, path)
    assert code == 2, err
    assert "Traceback" not in err and "train_test_split" not in err and len(err.strip().splitlines()) == 1
    assert f"at least {MIN_TRAIN_ROWS} rows" in err and "data.test_fraction" in err and "one.csv" in err


def test_load_names_the_rows_a_split_leaves_for_training(tmp_path):
    path, _ = _gaussian_csv(tmp_path, n=12)
    with pytest.raises(DataValidationError, match=r"12 rows.*data\.val_fraction") as exc:
        load_anomaly(AnomalyDataConfig(path=str(path)), seed=0)
    # the fix names the size that works with these fractions
    need = int(re.search(r"at least (\d+) rows", str(exc.value).split("Use")[1]).group(1))
    path, _ = _gaussian_csv(tmp_path, n=need, name="ok.csv")
    assert len(load_anomaly(AnomalyDataConfig(path=str(path)), seed=0).train) >= MIN_TRAIN_ROWS
    path, _ = _gaussian_csv(tmp_path, n=need - 1, name="short.csv")
    with pytest.raises(DataValidationError, match="training"):
        load_anomaly(AnomalyDataConfig(path=str(path)), seed=0)


# ---------------------------------------------------------------------- 10: overflow
@pytest.mark.parametrize("scaling", ["standard", "standard+rank", "power"])
def test_a_value_that_overflows_the_scaling_is_named(scaling):
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 3)), columns=["a", "b", "c"])
    df.loc[57, "b"] = 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy overflow noise before the error
        with pytest.raises(DataValidationError) as exc:
            TabularPreprocessor(scaling).fit(df, "X")
    msg = str(exc.value)
    assert "column 'b'" in msg and "index 57" in msg and "1e+300" in msg and scaling in msg
    assert "NaN" not in msg.split(";")[0]  # the input is not blamed for NaN
    assert "rank_gauss" in msg and "data.na_values" in msg


@pytest.mark.parametrize("scaling", ["robust", "none"])
def test_a_value_beyond_the_model_input_range_is_named(scaling):
    """Scalings that do not overflow while fitting still must not send 1e39 (inf in float32),
    or a value whose square overflows float32, to the model."""
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 3)), columns=["a", "b", "c"])
    df.loc[5, "c"] = -1e39
    with pytest.raises(DataValidationError, match=r"column 'c'.*index 5.*-1e\+39"):
        TabularPreprocessor(scaling).fit(df, "X")


def test_scaling_a_new_row_that_overflows_names_it():
    x = np.random.default_rng(0).normal(size=(100, 3))
    pre = TabularPreprocessor("standard").fit(x)
    new = x[:4].copy()
    new[2, 1] = 10 * MAX_MODEL_VALUE
    with pytest.raises(DataValidationError, match=r"column 'x1'.*row 2\b.*1e\+16"):
        pre.transform(new, "VAEDetector.decision_function(X)")
    assert np.isfinite(pre.transform(x[:4])).all()


def test_every_scaling_keeps_large_but_safe_values():
    df = pd.DataFrame(np.random.default_rng(0).normal(size=(200, 3)), columns=["a", "b", "c"])
    df.loc[7, "a"] = 1e12  # far out, but no scaling overflows on it
    for scaling in SCALINGS:
        z = TabularPreprocessor(scaling).fit_transform(df)
        assert np.isfinite(z).all() and np.abs(z).max() <= MAX_MODEL_VALUE, scaling


def test_cli_names_the_file_row_and_value(capsys, tmp_path):
    path, _ = _gaussian_csv(tmp_path, big=(57, "b", 1e300))
    code, err = _cli_train(capsys, tmp_path, path)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "NaN or infinite" not in err and "RuntimeWarning" not in err
    assert "column 'b'" in err and "data row 58" in err and "1e+300" in err and "data.preprocessing" in err
    # the fix works: rank-based scaling takes the value, and data.na_values marks it missing
    for fix in ("data.preprocessing=rank_gauss", "data.na_values=['?','NA','',1e300]"):
        code, err = _cli_train(capsys, tmp_path, path, fix, "--fresh")
        assert code == 0, (fix, err)


# ---------------------------------------------------------------------- 11: config keys in fixes
def _tokens_csv(tmp_path):
    df = pd.DataFrame({"a": [str(v) for v in np.arange(30.0)], "b": np.arange(30.0)})
    df.loc[[3, 8], "a"] = "-"
    path = tmp_path / "tokens.csv"
    df.to_csv(path, index=False)
    return path


def test_na_values_is_a_config_key_named_in_the_fix(tmp_path):
    path = _tokens_csv(tmp_path)
    with pytest.raises(DataValidationError, match=r"data\.na_values"):
        load_anomaly(AnomalyDataConfig(path=str(path)), seed=0)
    data = load_anomaly(AnomalyDataConfig(path=str(path), na_values=["?", "NA", "", "-"]), seed=0)
    assert "a__missing" in data.info.extra["preprocessor"]["output_names"]


def test_na_values_through_the_cli(capsys, tmp_path):
    path = _tokens_csv(tmp_path)
    code, err = _cli_train(capsys, tmp_path, path)
    assert code == 2 and "--set \"data.na_values=['?','NA','','-']\"" in err, err
    code, err = _cli_train(capsys, tmp_path, path, "data.na_values=[-]", "--fresh")
    assert code == 0, err
    code, err = _cli_train(capsys, tmp_path, path, "data.na_values=-", "--fresh")
    assert code == 2 and "data.na_values" in err


@pytest.mark.parametrize("cfg,key", [
    (dict(label_column="nope"), "data.label_column"),
    (dict(feature_columns=["nope"]), "data.feature_columns"),
    (dict(categorical_columns=["nope"]), "data.categorical_columns"),
    (dict(label_column="status"), "data.positive_label"),
    (dict(label_column="status", positive_label="neither"), "data.positive_label"),
    (dict(feature_columns=["hr"], label_column="hr"), "data.feature_columns"),
])
def test_fixes_name_the_config_key(tmp_path, cfg, key):
    df = pd.DataFrame({"hr": np.arange(40.0), "status": ["sick" if i % 5 == 0 else "ok" for i in range(40)]})
    df.to_csv(tmp_path / "p.csv", index=False)
    with pytest.raises((DataValidationError, ConfigError), match=re.escape(key)):
        load_anomaly(AnomalyDataConfig(path=str(tmp_path / "p.csv"), **cfg), seed=0)


def test_other_feature_fixes_name_the_config_key(tmp_path):
    ids = pd.DataFrame({"id": [f"p{i}" for i in range(80)], "a": np.arange(80.0)})
    empty = pd.DataFrame({"a": np.arange(20.0), "b": [np.nan] * 20})
    for df, key in ((ids, "data.feature_columns"), (empty, "data.feature_columns")):
        df.to_csv(tmp_path / "f.csv", index=False)
        with pytest.raises(DataValidationError, match=re.escape(key)):
            load_anomaly(AnomalyDataConfig(path=str(tmp_path / "f.csv")), seed=0)
    np.savez(tmp_path / "a.npz", X=np.zeros((20, 2)), y=np.zeros(20))
    with pytest.raises(ConfigError, match=r"data\.label_column"):
        read_table(tmp_path / "a.npz", label_column="y")


# ---------------------------------------------------------------------- 20: labels that cannot be evaluated
@pytest.mark.parametrize("value", [0, 1])
def test_one_class_labels_fail_at_load_naming_the_column(tmp_path, value):
    path, df = _gaussian_csv(tmp_path, n=60)
    df["outcome"] = value
    df.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match=rf"label column 'outcome'.*all {value}.*data\.label_column"):
        load_anomaly(AnomalyDataConfig(path=str(path), label_column="outcome"), seed=0)
    df.rename(columns={"outcome": "label"}).to_csv(path, index=False)  # found without label_column too
    with pytest.raises(DataValidationError, match=r"label column 'label'"):
        load_anomaly(AnomalyDataConfig(path=str(path)), seed=0)


def test_a_single_anomaly_fails_at_load(tmp_path):
    path, df = _gaussian_csv(tmp_path, n=60)
    df["label"] = 0
    df.loc[4, "label"] = 1  # one anomaly: no stratified split can give both splits one
    df.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match=r"label column 'label'.*at least 2 anomalies.*got '1 anomalies"):
        load_anomaly(AnomalyDataConfig(path=str(path)), seed=0)


def test_a_test_split_without_anomalies_fails_at_load(tmp_path):
    path, df = _gaussian_csv(tmp_path, n=60)
    df["label"] = 0
    df.loc[[4, 9], "label"] = 1
    df.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match=r"the test split: must hold both.*only normal rows.*"
                                                  r"data\.test_fraction \(now 0\.05\)"):
        load_anomaly(AnomalyDataConfig(path=str(path), test_fraction=0.05), seed=0)
    assert load_anomaly(AnomalyDataConfig(path=str(path)), seed=0).info.extra["n_anomalies"]["test"] == 1


def test_a_val_split_of_one_class_is_a_warning(tmp_path):
    path, df = _gaussian_csv(tmp_path, n=100)
    df["label"] = 0
    df.loc[[1, 2, 3, 4], "label"] = 1
    df.to_csv(path, index=False)
    with pytest.warns(UserWarning, match=r"val split.*--split val.*data\.val_fraction"):
        data = load_anomaly(AnomalyDataConfig(path=str(path)), seed=0)
    assert data.info.extra["n_anomalies"]["test"] >= 1


def test_cli_all_zero_labels_stop_training(capsys, tmp_path):
    path, df = _gaussian_csv(tmp_path, n=60)
    df["label"] = 0
    df.to_csv(path, index=False)
    code, err = _cli_train(capsys, tmp_path, path)
    assert code == 2 and "label column 'label'" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_the_detector_still_ignores_y():
    """PyOD's contract: fit(X, y) is unsupervised, so labels of one class are fine there."""
    x = np.random.default_rng(0).normal(size=(40, 3))
    det = VAEDetector(**FAST).fit(x, np.zeros(40))
    assert det.labels_.shape == (40,)


def test_evaluating_a_val_split_of_one_class_names_the_fix(tmp_path):
    from vaekit.pipelines import evaluate_run, load_config, train_run

    path, df = _gaussian_csv(tmp_path, n=100)
    df["label"] = 0
    df.loc[[1, 2, 3, 4], "label"] = 1
    df.to_csv(path, index=False)
    cfg = load_config("anomaly:default", [f"data.path={path}", "train.max_steps=2", "train.progress=false",
                                          "eval.iw_samples=2", "eval.options.n_score_samples=2",
                                          "eval.options.baselines=[IForest]"])
    with pytest.warns(UserWarning, match="val split"):
        train_run(cfg, tmp_path / "run", resume="never", log=lambda m: None)
    assert "detect/roc_auc" in evaluate_run(tmp_path / "run", report=False)  # the test split
    with pytest.raises(DataValidationError, match=r"the val split: must hold both.*--split test"):
        evaluate_run(tmp_path / "run", split="val", report=False)
