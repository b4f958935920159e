"""Anomaly metrics: hand-computed values, PyOD's precision@n definition (ties included), and
the input checks."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from vaekit.core.errors import ConfigError, DataValidationError  # noqa: E402
from vaekit.domains.anomaly.metrics import (anomaly_scores_report, average_precision, precision_at_n,  # noqa: E402
                                            recall_at_fpr, roc_auc)

# Hand-checked case: 2 anomalies of 6, ranked 1st and 3rd.
Y = [1, 0, 1, 0, 0, 0]
S = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]


def test_perfect_and_reversed_ranking():
    y = np.array([0, 0, 0, 1, 1])
    s = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert roc_auc(y, s) == 1.0 and average_precision(y, s) == 1.0
    assert precision_at_n(y, s) == 1.0 and recall_at_fpr(y, s, 0.0) == 1.0
    assert roc_auc(y, -s) == 0.0
    assert precision_at_n(y, -s) == 0.0
    assert recall_at_fpr(y, -s, 0.5) == 0.0  # 2 of 3 normals must be flagged before any anomaly
    assert recall_at_fpr(y, -s, 1.0) == 1.0


def test_hand_computed_values():
    # AUC: the anomaly at 0.9 beats 4 normals, the one at 0.7 beats 3 -> 7 / 8.
    assert roc_auc(Y, S) == pytest.approx(7 / 8)
    # AP: recall 1/2 at precision 1 (rank 1), recall 1 at precision 2/3 (rank 3).
    assert average_precision(Y, S) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    # n = 2 anomalies: the top 2 are 0.9 (anomaly) and 0.8 (normal).
    assert precision_at_n(Y, S) == pytest.approx(0.5)
    assert precision_at_n(Y, S, n=1) == 1.0
    assert precision_at_n(Y, S, n=3) == pytest.approx(2 / 3)
    # ROC points: (0, 1/2) at 0.9, (1/4, 1/2) at 0.8, (1/4, 1) at 0.7, ...
    assert recall_at_fpr(Y, S, 0.0) == 0.5
    assert recall_at_fpr(Y, S, 0.2) == 0.5
    assert recall_at_fpr(Y, S, 0.25) == 1.0


def test_report():
    rep = anomaly_scores_report(Y, S, fpr=0.25)
    assert set(rep) == {"roc_auc", "auc_pr", "precision_at_n", "recall_at_fpr"}
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in rep.values())
    assert rep["roc_auc"] == pytest.approx(7 / 8) and rep["recall_at_fpr"] == 1.0
    assert anomaly_scores_report(Y, S)["recall_at_fpr"] == 0.5  # default fpr 0.05
    # bool labels and integer scores are accepted
    assert anomaly_scores_report(np.array(Y, dtype=bool), [6, 5, 4, 3, 2, 1])["roc_auc"] == pytest.approx(7 / 8)


def test_precision_at_n_ties_follow_pyod():
    # PyOD flags scores strictly above the percentile: a tie at the cut is left out entirely.
    y, s = [1, 1, 0, 0], [3.0, 2.0, 2.0, 1.0]
    assert precision_at_n(y, s) == 1.0  # percentile 50 = 2.0: only the 3.0 row is flagged
    with pytest.warns(UserWarning, match="nothing is flagged"):
        assert precision_at_n([1, 0, 1, 0], [1.0, 1.0, 1.0, 0.0], n=2) == 0.0


def test_precision_at_n_matches_pyod_on_random_ties():
    utility = pytest.importorskip("pyod.utils.utility")
    rng = np.random.default_rng(0)
    for trial in range(20):
        N = int(rng.integers(10, 300))
        y = (rng.random(N) < rng.uniform(0.05, 0.4)).astype(int)
        y[0], y[1] = 1, 0
        s = rng.integers(0, int(rng.integers(2, 15)), size=N).astype(float)  # many ties
        if trial % 3 == 0:
            s += y * rng.random(N)  # some signal
        for n in (None, 1, int(rng.integers(1, N + 1)), N):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = utility.precision_n_scores(y, s, n)
                got = precision_at_n(y, s, n)
            assert got == pytest.approx(expected), (trial, n)


def test_recall_at_fpr_with_ties():
    # Rows tied at a threshold are flagged together: no threshold between the two 0.5s.
    y = [1, 1, 0, 0, 0, 0]
    s = [0.9, 0.5, 0.5, 0.1, 0.1, 0.1]
    assert recall_at_fpr(y, s, 0.2) == 0.5
    assert recall_at_fpr(y, s, 0.25) == 1.0


@pytest.mark.parametrize("fn", [roc_auc, average_precision, precision_at_n, recall_at_fpr, anomaly_scores_report])
def test_input_errors(fn):
    name = fn.__name__
    with pytest.raises(DataValidationError, match=rf"{name}: y, scores: must have the same length.*3 labels and 2"):
        fn([0, 1, 0], [0.1, 0.2])
    with pytest.raises(DataValidationError, match=rf"{name}: y: labels must be 0/1.*\[0, 1, 2\]"):
        fn([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(DataValidationError, match="labels must be 0/1"):
        fn(["a", "b", "a"], [0.1, 0.2, 0.3])
    with pytest.raises(DataValidationError, match=rf"{name}: y: must contain both.*all 0.*stratified"):
        fn([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(DataValidationError, match="all 1"):
        fn([1, 1], [0.1, 0.2])
    with pytest.raises(DataValidationError, match=r"scores: must be finite.*2 NaN/inf score\(s\), first at row 1"):
        fn([0, 1, 0], [0.1, np.nan, np.inf])
    with pytest.raises(DataValidationError, match="must be real numbers"):
        fn([0, 1], ["a", "b"])
    with pytest.raises(DataValidationError, match=r"1-D.*ravel"):
        fn(np.array([[0], [1]]), [0.1, 0.2])
    with pytest.raises(DataValidationError, match="at least one row"):
        fn([], [])


def test_argument_errors():
    for n in (0, 7, 2.5, True):
        with pytest.raises(ConfigError, match=r"precision_at_n: n: must be an integer in 1\.\.6"):
            precision_at_n(Y, S, n=n)
    for fpr in (-0.1, 1.5, "0.05"):
        with pytest.raises(ConfigError, match=r"recall_at_fpr: fpr"):
            recall_at_fpr(Y, S, fpr=fpr)
    with pytest.raises(ConfigError, match=r"fpr"):
        anomaly_scores_report(Y, S, fpr=2.0)
