"""Anomaly data readers: every format round-trips, label rules, every bad-input error,
the embedded breast-cancer set, ADBench folder listing and (slow) the real ADBench files."""
from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("scipy")
pytest.importorskip("sklearn")

import scipy.io  # noqa: E402

from vaekit.core.errors import ConfigError, DataValidationError, MissingDependencyError  # noqa: E402
from vaekit.domains.anomaly.features import (FeatureSummary, as_feature_frame, to_binary_labels,  # noqa: E402
                                             validate_features)
from vaekit.domains.anomaly.io import MEDICAL, OTHER, breast_cancer_data, load_adbench_dir, read_table  # noqa: E402

ADBENCH_DIR = Path(__file__).resolve().parents[3].parent / "shared/data/anomaly/adbench"


def _arrays(n=20, f=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, f))
    y = (np.arange(n) % 5 == 0).astype(np.int64)  # 4 anomalies of 20
    return X, y


def _frame(n=20):
    X, y = _arrays(n)
    df = pd.DataFrame(X, columns=["age", "bmi", "glucose"])
    df["sex"] = np.where(np.arange(n) % 2 == 0, "f", "m")
    df["label"] = y
    return df


# ====================================================================== formats
def test_mat_round_trip_odds_layout(tmp_path):
    X, y = _arrays()
    p = tmp_path / "cardio.mat"
    scipy.io.savemat(p, {"X": X, "y": y.astype(float).reshape(-1, 1)})  # ODDS: float (N, 1) labels
    df, labels = read_table(p)
    assert list(df.columns) == ["x0", "x1", "x2"]
    np.testing.assert_array_equal(df.to_numpy(), X)
    assert labels.dtype == np.int64 and labels.shape == (20,)
    np.testing.assert_array_equal(labels, y)


def test_mat_sparse_features_and_no_labels(tmp_path):
    sparse = pytest.importorskip("scipy.sparse")
    X, _ = _arrays()
    X[X < 0] = 0.0
    p = tmp_path / "s.mat"
    scipy.io.savemat(p, {"X": sparse.csc_matrix(X)})
    df, labels = read_table(p)
    np.testing.assert_allclose(df.to_numpy(), X)
    assert labels is None


def test_mat_v73_hdf5_is_a_clear_error(tmp_path):
    # A MATLAB v7.3 header (version 0x0200): scipy cannot read these HDF5 files.
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".ljust(116, b" ") + b"\0" * 8 + b"\0\2IM"
    p = tmp_path / "big.mat"
    p.write_bytes(header + b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(DataValidationError, match=r"v7\.3.*HDF5") as e:
        read_table(p)
    assert "h5py" in str(e.value) and str(p) in str(e.value)


def test_mat_errors(tmp_path):
    p = tmp_path / "junk.mat"
    p.write_bytes(b"hello world" * 30)
    with pytest.raises(DataValidationError, match="not a MATLAB"):
        read_table(p)
    p = tmp_path / "nox.mat"
    scipy.io.savemat(p, {"data": np.ones((3, 2))})
    with pytest.raises(DataValidationError, match=r"no variable 'X'.*'data'"):
        read_table(p)


def test_npz_round_trip_adbench_layout(tmp_path):
    X, y = _arrays()
    p = tmp_path / "6_cardio.npz"
    np.savez(p, X=X, y=y.astype(np.int32))
    df, labels = read_table(p)
    np.testing.assert_array_equal(df.to_numpy(), X)
    np.testing.assert_array_equal(labels, y)
    assert labels.dtype == np.int64


def test_npz_feature_columns_and_errors(tmp_path):
    X, y = _arrays()
    p = tmp_path / "a.npz"
    np.savez(p, X=X, y=y)
    df, _ = read_table(p, feature_columns=["x2", "x0"])
    np.testing.assert_array_equal(df.to_numpy(), X[:, [2, 0]])
    with pytest.raises(DataValidationError, match=r"'x9'.*the columns are \['x0', 'x1', 'x2'\]"):
        read_table(p, feature_columns=["x9"])
    with pytest.raises(ConfigError, match="label_column applies to tables only"):
        read_table(p, label_column="y")
    np.savez(tmp_path / "b.npz", X=X, y=y[:-1])
    with pytest.raises(DataValidationError, match="one label per row"):
        read_table(tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", features=X)
    with pytest.raises(DataValidationError, match=r"no array 'X'.*features"):
        read_table(tmp_path / "c.npz")
    np.savez(tmp_path / "d.npz", X=X[:, 0])
    with pytest.raises(DataValidationError, match=r"2-D.*reshape"):
        read_table(tmp_path / "d.npz")


@pytest.mark.parametrize("name,sep", [("t.csv", ","), ("t.tsv", "\t"), ("t.csv.gz", ","), ("t.tsv.gz", "\t")])
def test_delimited_round_trip(tmp_path, name, sep):
    df0 = _frame()
    p = tmp_path / name
    df0.to_csv(p, sep=sep, index=False)  # pandas gzips by the .gz suffix
    if name.endswith(".gz"):
        with gzip.open(p, "rt") as fh:
            assert fh.readline().startswith("age")
    df, labels = read_table(p)
    assert list(df.columns) == ["age", "bmi", "glucose", "sex"]  # "label" found by its name and removed
    np.testing.assert_allclose(df[["age", "bmi", "glucose"]].to_numpy(), df0[["age", "bmi", "glucose"]].to_numpy())
    assert df["sex"].tolist() == df0["sex"].tolist()
    np.testing.assert_array_equal(labels, df0["label"].to_numpy())


def test_parquet_round_trip(tmp_path):
    pytest.importorskip("pyarrow")
    df0 = _frame()
    df0.loc[3, "sex"] = "?"  # a text marker becomes missing, as with read_csv
    p = tmp_path / "t.parquet"
    df0.to_parquet(p)
    df, labels = read_table(p)
    assert list(df.columns) == ["age", "bmi", "glucose", "sex"]
    assert pd.isna(df.loc[3, "sex"]) and df.loc[2, "sex"] == "f"
    np.testing.assert_array_equal(labels, df0["label"].to_numpy())


def test_parquet_without_an_engine_names_the_package(tmp_path):
    if any(importlib.util.find_spec(m) is not None for m in ("pyarrow", "fastparquet")):
        pytest.skip("a Parquet engine is installed")
    p = tmp_path / "t.parquet"
    p.write_bytes(b"PAR1")
    with pytest.raises(MissingDependencyError, match="pip install pyarrow"):
        read_table(p)


def test_parquet_reader_logic_without_an_engine(tmp_path, monkeypatch):
    # The reader's own work (text markers -> missing, label split) with pandas' engine stubbed out.
    df0 = _frame()
    df0["sex"] = df0["sex"].astype(object)
    df0.loc[3, "sex"] = "?"
    monkeypatch.setattr(pd, "read_parquet", lambda path: df0.copy())
    p = tmp_path / "t.parquet"
    p.write_bytes(b"PAR1")
    df, labels = read_table(p)
    assert list(df.columns) == ["age", "bmi", "glucose", "sex"]
    assert pd.isna(df.loc[3, "sex"]) and df.loc[2, "sex"] == "f"
    np.testing.assert_array_equal(labels, df0["label"].to_numpy())


def test_label_column_detection_and_selection(tmp_path):
    df0 = _frame().rename(columns={"label": "Outlier"})
    p = tmp_path / "t.csv"
    df0.to_csv(p, index=False)
    _, labels = read_table(p)  # any case
    np.testing.assert_array_equal(labels, df0["Outlier"].to_numpy())
    df, labels = read_table(p, label_column="Outlier", feature_columns=["bmi", "age"])
    assert list(df.columns) == ["bmi", "age"]
    df0.drop(columns=["Outlier"]).to_csv(p, index=False)
    df, labels = read_table(p)
    assert labels is None and df.shape == (20, 4)


def test_label_and_column_errors(tmp_path):
    df0 = _frame()
    p = tmp_path / "t.csv"
    df0.to_csv(p, index=False)
    with pytest.raises(DataValidationError, match=r"no label column 'lable'.*Did you mean 'label'"):
        read_table(p, label_column="lable")
    with pytest.raises(DataValidationError, match=r"'glucos'.*Did you mean 'glucose'"):
        read_table(p, feature_columns=["age", "glucos"])
    with pytest.raises(DataValidationError, match=r"'height'.*the columns are"):
        read_table(p, feature_columns=["height"])
    with pytest.raises(ConfigError, match="also in feature_columns"):
        read_table(p, label_column="label", feature_columns=["label", "age"])
    with pytest.raises(ConfigError, match="list of column names"):
        read_table(p, feature_columns="age")
    df0["class"] = df0["label"]
    df0.to_csv(p, index=False)
    with pytest.raises(DataValidationError, match=r"more than one column looks like the label.*'label', 'class'"):
        read_table(p)
    df, labels = read_table(p, label_column="class", feature_columns=["age", "bmi"])
    assert labels.sum() == 4 and list(df.columns) == ["age", "bmi"]


def test_file_errors(tmp_path):
    with pytest.raises(DataValidationError, match="file not found"):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(DataValidationError, match=r"unknown file type '\.xlsx'"):
        read_table(tmp_path / "t.xlsx")
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataValidationError, match="the file is empty"):
        read_table(tmp_path / "e.csv")


# ====================================================================== labels
def _write_labels(tmp_path, labels, name="t.csv"):
    df = pd.DataFrame({"a": np.arange(len(labels), dtype=float), "label": labels})
    p = tmp_path / name
    df.to_csv(p, index=False)
    return p


def test_labels_bool_01_and_float():
    np.testing.assert_array_equal(to_binary_labels(np.array([True, False, True])), [1, 0, 1])
    np.testing.assert_array_equal(to_binary_labels(np.array([[0.0], [1.0], [0.0]])), [0, 1, 0])  # ODDS
    out = to_binary_labels([0, 1, 1])
    assert out.dtype == np.int64 and out.tolist() == [0, 1, 1]
    assert to_binary_labels([0, 0, 0]).tolist() == [0, 0, 0]  # unlabelled-anomaly-free split: fine


def test_labels_from_files(tmp_path):
    _, y = read_table(_write_labels(tmp_path, [True, False, False, True]))
    assert y.tolist() == [1, 0, 0, 1]
    _, y = read_table(_write_labels(tmp_path, ["o", "n", "n", "o"]), positive_label="o")
    assert y.tolist() == [1, 0, 0, 1]
    _, y = read_table(_write_labels(tmp_path, [2, 4, 4, 2]), positive_label=4)  # UCI breast-cancer style
    assert y.tolist() == [0, 1, 1, 0]
    _, y = read_table(_write_labels(tmp_path, [-1, 1, 1, -1]), positive_label="-1")  # printed form matches
    assert y.tolist() == [1, 0, 0, 1]


def test_three_classes_is_an_error(tmp_path):
    p = _write_labels(tmp_path, ["a", "b", "c", "a"])
    with pytest.raises(DataValidationError, match=r"t\.csv: label column 'label'.*3 distinct values.*'a', 'b', 'c'"):
        read_table(p)
    with pytest.raises(DataValidationError, match="at most two values"):
        read_table(p, positive_label="a")


def test_strings_without_positive_label_is_an_error(tmp_path):
    p = _write_labels(tmp_path, ["yes", "no", "no", "yes"])
    with pytest.raises(DataValidationError, match=r"label column 'label'.*text.*'yes', 'no'.*positive_label"):
        read_table(p)
    with pytest.raises(DataValidationError, match=r"positive_label='maybe' must be exactly one"):
        read_table(p, positive_label="maybe")


def test_two_numbers_other_than_01_is_an_error():
    with pytest.raises(DataValidationError, match=r"numbers other than 0/1.*\[2, 4\].*positive_label"):
        to_binary_labels([2, 4, 4], "y")


def test_missing_labels_is_an_error(tmp_path):
    p = _write_labels(tmp_path, [1.0, np.nan, 0.0, np.nan, 0.0])
    with pytest.raises(DataValidationError, match=r"2 of 5 rows have no label.*rows \[2, 4\]"):
        read_table(p)
    p = _write_labels(tmp_path, ["1", "?", "0"])  # "?" is a default na_value
    with pytest.raises(DataValidationError, match="1 of 3 rows have no label"):
        read_table(p)


# ====================================================================== feature validation
def test_validate_features_sorts_columns():
    df = pd.DataFrame({"num": [1.0, np.nan, 3.0], "int": [1, 2, 3], "txt": ["a", "b", None],
                       "flag": [True, False, True], "cat": pd.Categorical(["x", "y", "x"])})
    s = validate_features(df, "t")
    assert isinstance(s, FeatureSummary)
    assert s.numeric_columns == ["num", "int"]
    assert s.categorical_columns == ["txt", "flag", "cat"]
    assert s.n_rows == 3 and s.n_features == 5


def test_validate_features_forced_categorical_columns():
    df = pd.DataFrame({"grade": [1, 2, 3, 2], "v": ["1", "2", "unknown", "3"], "x": [0.1, 0.2, 0.3, 0.4]})
    with pytest.raises(DataValidationError, match="'unknown'"):
        validate_features(df, "t")
    s = validate_features(df, "t", categorical_columns=["grade", "v"])
    assert s.numeric_columns == ["x"] and s.categorical_columns == ["grade", "v"]
    with pytest.raises(DataValidationError, match=r"at most 3 distinct.*'grade' \(4 distinct\)"):
        validate_features(pd.DataFrame({"grade": [1, 2, 3, 4]}), "t", max_categories=3, categorical_columns=["grade"])
    with pytest.raises(DataValidationError, match=r"'grad'.*Did you mean 'grade'"):
        validate_features(df, "t", categorical_columns=["grad"])
    with pytest.raises(ConfigError, match="list of column names"):
        validate_features(df, "t", categorical_columns="grade")


def test_validate_features_arrays():
    s = validate_features(np.zeros((4, 2)))
    assert s.numeric_columns == ["x0", "x1"] and s.categorical_columns == []
    mixed = np.array([[1.0, "a"], [2.0, "b"]], dtype=object)
    df = as_feature_frame(mixed)
    assert df["x0"].dtype == np.float64
    assert validate_features(mixed).categorical_columns == ["x1"]
    with pytest.raises(DataValidationError, match=r"2-D.*reshape\(-1, 1\)"):
        validate_features(np.zeros(4))
    with pytest.raises(DataValidationError, match="Series"):
        validate_features(pd.Series([1.0, 2.0], name="a"))


def test_empty_input_is_an_error(tmp_path):
    with pytest.raises(DataValidationError, match="0 rows x 2 feature columns"):
        validate_features(pd.DataFrame({"a": [], "b": []}), "t")
    with pytest.raises(DataValidationError, match="3 rows x 0 feature columns"):
        validate_features(pd.DataFrame(index=range(3)), "t")
    p = tmp_path / "h.csv"
    p.write_text("a,b,label\n")  # header only
    with pytest.raises(DataValidationError, match=r"h\.csv.*0 rows"):
        read_table(p)
    p.write_text("label\n0\n1\n")  # only a label
    with pytest.raises(DataValidationError, match="0 feature columns"):
        read_table(p)


def test_all_nan_column_is_an_error(tmp_path):
    p = tmp_path / "t.csv"
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "empty": [np.nan] * 3, "also": ["?", "NA", ""],
                  "label": [0, 1, 0]}).to_csv(p, index=False)
    with pytest.raises(DataValidationError, match=r"2 column\(s\) hold no value.*'empty', 'also'.*Drop them"):
        read_table(p)
    df, _ = read_table(p, feature_columns=["a"])
    assert list(df.columns) == ["a"]


def test_question_mark_tokens_are_an_error_naming_them(tmp_path):
    p = tmp_path / "t.csv"
    vals = [str(v) for v in range(1, 11)] * 3
    vals[4] = "?"
    vals[7] = "-"
    pd.DataFrame({"bare_nuclei": vals, "label": [0, 1] * 15}).to_csv(p, index=False)
    df, _ = read_table(p, na_values=["?", "-"])  # the fix works
    assert df["bare_nuclei"].isna().sum() == 2 and df["bare_nuclei"].dtype.kind == "f"
    with pytest.raises(DataValidationError, match=r"'bare_nuclei': '-' x1.*na_values"):
        read_table(p)  # "?" is a default na_value, "-" is not
    df = pd.DataFrame({"v": vals})
    with pytest.raises(DataValidationError, match=r"'v': '\?' x1, '-' x1.*na_values.*'category'"):
        validate_features(df, "t")
    assert validate_features(df.astype("category"), "t").categorical_columns == ["v"]  # the other fix


def test_id_like_text_column_is_an_error(tmp_path):
    n = 60
    p = tmp_path / "t.csv"
    pd.DataFrame({"patient_id": [f"P{i:04d}" for i in range(n)], "a": np.arange(n, dtype=float),
                  "label": [0] * (n - 3) + [1] * 3}).to_csv(p, index=False)
    with pytest.raises(DataValidationError, match=r"at most 50 distinct.*'patient_id' \(60 distinct\).*drop them"):
        read_table(p)
    df, y = read_table(p, feature_columns=["a"])
    assert df.shape == (60, 1) and y.sum() == 3
    df, _ = read_table(p, max_categories=100)  # a larger limit accepts it as categorical
    assert "patient_id" in df.columns
    with pytest.raises(DataValidationError, match=r"numbers stored as text.*'num' \(60 distinct\).*to_numeric"):
        validate_features(pd.DataFrame({"num": [str(i) for i in range(n)]}, dtype=object), "t")
    with pytest.raises(ConfigError, match="max_categories"):
        validate_features(pd.DataFrame({"a": [1.0]}), "t", max_categories=0)


def test_infinite_values_are_an_error(tmp_path):
    p = tmp_path / "t.npz"
    X, y = _arrays()
    X[2, 1] = np.inf
    X[5, 1] = -np.inf
    X[7, 2] = np.inf
    np.savez(p, X=X, y=y)
    with pytest.raises(DataValidationError, match=r"3 infinite value\(s\) in 'x1' \(2\), 'x2' \(1\).*NaN"):
        read_table(p)
    X[~np.isfinite(X)] = np.nan  # the fix: NaN is allowed (imputed later)
    np.savez(p, X=X, y=y)
    df, _ = read_table(p)
    assert int(df.isna().sum().sum()) == 3


def test_other_feature_errors():
    with pytest.raises(DataValidationError, match="unique"):
        validate_features(pd.DataFrame([[1.0, 2.0]], columns=["a", "a"]), "t")
    with pytest.raises(DataValidationError, match=r"unsupported.*'when'"):
        validate_features(pd.DataFrame({"when": pd.to_datetime(["2020-01-01", "2021-01-01"])}), "t")


# ====================================================================== embedded and benchmark data
def test_breast_cancer_default():
    X, y = breast_cancer_data()
    assert X.shape == (397, 30) and y.shape == (397,) and y.dtype == np.int64
    assert int(y.sum()) == 40 and int((y == 0).sum()) == 357
    assert list(X.index) == list(range(397)) and X.columns[0] == "mean radius"
    assert np.isfinite(X.to_numpy()).all()
    s = validate_features(X)
    assert len(s.numeric_columns) == 30 and s.categorical_columns == []


@pytest.mark.parametrize("c", [0.02, 0.05, 0.2, 0.3])
def test_breast_cancer_contamination(c):
    _, y = breast_cancer_data(contamination=c)
    assert int((y == 0).sum()) == 357
    assert abs(y.mean() - c) < 0.5 / len(y) + 1e-9  # rounding to whole records


def test_breast_cancer_seed_fixes_the_subsample():
    from sklearn.datasets import load_breast_cancer

    X0, y0 = breast_cancer_data(seed=3)
    X1, y1 = breast_cancer_data(seed=3)
    X2, _ = breast_cancer_data(seed=4)
    pd.testing.assert_frame_equal(X0, X1)
    np.testing.assert_array_equal(y0, y1)
    assert not X0.equals(X2)
    full = load_breast_cancer(as_frame=True)
    benign = full.data[full.target == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(X0[y0 == 0].reset_index(drop=True), benign)  # every benign record, in order
    malignant = full.data[full.target == 0]
    assert X0[y0 == 1].merge(malignant).shape[0] == 40  # anomalies are malignant records


@pytest.mark.parametrize("bad", [0.0, 1.0, 0.5, -0.1, True, "0.1"])
def test_breast_cancer_bad_contamination(bad):
    with pytest.raises(ConfigError, match="contamination"):
        breast_cancer_data(contamination=bad)


def test_breast_cancer_bad_seed():
    with pytest.raises(ConfigError, match="seed"):
        breast_cancer_data(seed=-1)


def test_load_adbench_dir(tmp_path):
    for name in ("6_cardio.npz", "43_WDBC.npz", "4_breastw.npz"):
        np.savez(tmp_path / name, X=np.zeros((2, 2)), y=np.array([0, 1]))
    (tmp_path / "notes.txt").write_text("x")
    found = load_adbench_dir(tmp_path)
    assert list(found) == ["breastw", "cardio", "WDBC"]  # in ADBench's number order
    assert found["cardio"] == tmp_path / "6_cardio.npz"
    np.savez(tmp_path / "99_cardio.npz", X=np.zeros((2, 2)))
    with pytest.raises(DataValidationError, match="two files hold the data set 'cardio'"):
        load_adbench_dir(tmp_path)
    with pytest.raises(DataValidationError, match="not a folder"):
        load_adbench_dir(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataValidationError, match="no .npz file"):
        load_adbench_dir(tmp_path / "empty")


def test_medical_and_other_names():
    assert len(MEDICAL) == 9 and len(OTHER) == 26 and not set(MEDICAL) & set(OTHER)


@pytest.mark.slow
def test_every_adbench_file_reads():
    if not ADBENCH_DIR.is_dir():
        pytest.skip(f"{ADBENCH_DIR} is absent")
    found = load_adbench_dir(ADBENCH_DIR)
    assert set(found) == set(MEDICAL) | set(OTHER)
    for name, path in found.items():
        X, y = read_table(path)
        assert y is not None and y.dtype == np.int64 and len(y) == len(X), name
        assert set(np.unique(y).tolist()) == {0, 1}, name
        assert 0 < y.mean() < 0.5, name
        assert validate_features(X, name).categorical_columns == [], name
