"""Anomaly-detection metrics, computed with scikit-learn as the benchmarks report them.

Every function takes ``y`` (1-D, 0/1 or bool, 1 = anomaly) and ``scores`` (1-D, same length,
higher = more anomalous) and checks them first: equal lengths, at least one row, labels in
{0, 1} with both classes present (every metric here is undefined or trivial with one class),
finite scores. A broken rule is a :class:`~vaekit.core.errors.DataValidationError` naming the
function, the rule, the value and the fix.

* :func:`roc_auc`: area under the ROC curve (``sklearn.metrics.roc_auc_score``; ties count
  one half), "AUC-ROC" in ADBench (Han et al. 2022) and ODDS papers.
* :func:`average_precision`: ``sklearn.metrics.average_precision_score``, the step-wise area
  under the precision-recall curve that ADBench reports as "AUC-PR".
* :func:`precision_at_n`: precision among the ``n`` highest scores, exactly as PyOD's
  ``pyod.utils.utility.precision_n_scores`` (via ``get_label_n``) defines it, ties included.
* :func:`recall_at_fpr`: the largest true-positive rate of any score threshold whose
  false-positive rate is at most ``fpr`` (from ``sklearn.metrics.roc_curve``).
* :func:`anomaly_scores_report`: all four in one dict.
"""
from __future__ import annotations

import warnings
from typing import Any, Dict, Optional, Tuple

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, fmt_error, require


def _sk_metrics():
    require("sklearn", "anomaly")
    import sklearn.metrics

    return sklearn.metrics


def check_labels_scores(y: Any, scores: Any, where: str = "metric") -> Tuple[np.ndarray, np.ndarray]:
    """Validate ``y`` and ``scores`` and return them as int64 and float64 ``(N,)`` arrays.

    Parameters
    ----------
    y : array-like ``(N,)``
        0/1 or bool, 1 = anomaly; both classes must be present.
    scores : array-like ``(N,)``
        Real, finite anomaly scores, higher = more anomalous.
    where : str
        How messages name the caller (e.g. ``"roc_auc"``).

    Raises
    ------
    DataValidationError
        Not 1-D, empty, lengths differ, labels not 0/1, one class only, scores not finite.
    """
    y_arr = np.asarray(y)
    s_arr = np.asarray(scores)
    for name, arr in (("y", y_arr), ("scores", s_arr)):
        if arr.ndim != 1:
            raise DataValidationError(fmt_error(f"{where}: {name}", "must be 1-D (one value per row)",
                                                f"shape {arr.shape}", f"Pass {name}.ravel() if it is a column."))
    if len(y_arr) != len(s_arr):
        raise DataValidationError(fmt_error(f"{where}: y, scores", "must have the same length",
                                            f"{len(y_arr)} labels and {len(s_arr)} scores",
                                            "Pass one score per labelled row, in the same order."))
    if len(y_arr) == 0:
        raise DataValidationError(fmt_error(f"{where}: y", "must hold at least one row", "an empty array",
                                            "Score a non-empty data set."))
    if y_arr.dtype == bool:
        y_int = y_arr.astype(np.int64)
    else:
        try:
            values = np.unique(y_arr)
        except TypeError:
            values = np.asarray(sorted({repr(v) for v in y_arr.tolist()}), dtype=object)
        if not (y_arr.dtype.kind in "iuf" and set(values.tolist()) <= {0, 1}):
            raise DataValidationError(fmt_error(f"{where}: y", "labels must be 0/1 (1 = anomaly) or bool",
                                                f"values {values[:5].tolist()}" + (" ..." if len(values) > 5 else ""),
                                                "Map the labels to 0/1 first (e.g. with "
                                                "vaekit.domains.anomaly.features.to_binary_labels)."))
        y_int = y_arr.astype(np.int64)
    n_pos = int(y_int.sum())
    if n_pos == 0 or n_pos == len(y_int):
        raise DataValidationError(fmt_error(f"{where}: y", "must contain both anomalies (1) and normal rows (0); "
                                            "the metric is undefined with one class",
                                            f"{len(y_int)} rows, all {int(y_int[0])}",
                                            "Evaluate on a split that holds both classes (e.g. a stratified split)."))
    if s_arr.dtype.kind not in "iufb":
        raise DataValidationError(fmt_error(f"{where}: scores", "must be real numbers", f"dtype {s_arr.dtype}",
                                            "Pass the detector's numeric anomaly scores."))
    s_float = s_arr.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(s_float))
    if len(bad):
        raise DataValidationError(fmt_error(
            f"{where}: scores", "must be finite", f"{len(bad)} NaN/inf score(s), first at row {int(bad[0])} "
            f"({s_float[bad[0]]})", "Check the detector: NaN scores usually mean missing features reached the model "
            "(impute them) or the training diverged."))
    return y_int, s_float


def roc_auc(y: Any, scores: Any) -> float:
    """Area under the ROC curve (``sklearn.metrics.roc_auc_score``).

    The probability that a random anomaly scores higher than a random normal row (ties
    count one half): 1.0 for a perfect ranking, 0.5 for chance, 0.0 for a reversed one.

    Parameters
    ----------
    y : array-like ``(N,)``
        0/1, 1 = anomaly.
    scores : array-like ``(N,)``
        Higher = more anomalous.

    Returns
    -------
    float
    """
    y_int, s = check_labels_scores(y, scores, "roc_auc")
    return float(_sk_metrics().roc_auc_score(y_int, s))


def average_precision(y: Any, scores: Any) -> float:
    """Average precision (``sklearn.metrics.average_precision_score``), ADBench's "AUC-PR".

    ``sum_k (R_k - R_{k-1}) P_k`` over the score thresholds, without interpolation; its
    chance level is the share of anomalies.

    Parameters
    ----------
    y : array-like ``(N,)``
        0/1, 1 = anomaly.
    scores : array-like ``(N,)``
        Higher = more anomalous.

    Returns
    -------
    float
    """
    y_int, s = check_labels_scores(y, scores, "average_precision")
    return float(_sk_metrics().average_precision_score(y_int, s))


def precision_at_n(y: Any, scores: Any, n: Optional[int] = None) -> float:
    """Precision among the ``n`` highest scores, as PyOD's ``precision_n_scores``.

    Follows ``pyod.utils.utility.precision_n_scores`` / ``get_label_n`` (PyOD 3.6.7) exactly:
    the rows flagged are those with a score strictly above
    ``numpy.percentile(scores, 100 * (1 - n / N))`` (linear interpolation), and the result is
    ``sklearn.metrics.precision_score`` of those flags. Without ties that is the top ``n``
    rows. With ties at the cut, every row tied at the percentile is left out, so fewer than
    ``n`` rows may be flagged; when none is (e.g. all scores equal) the precision is 0.0 and
    a warning says so (PyOD gets 0.0 with scikit-learn's ``UndefinedMetricWarning``).

    Parameters
    ----------
    y : array-like ``(N,)``
        0/1, 1 = anomaly.
    scores : array-like ``(N,)``
        Higher = more anomalous.
    n : int, optional
        Rows to flag, in ``1 .. N``. ``None``: the number of anomalies in ``y`` (then the
        value equals R-precision).

    Returns
    -------
    float

    Raises
    ------
    ConfigError
        ``n`` is not an integer in ``1 .. N``.
    """
    y_int, s = check_labels_scores(y, scores, "precision_at_n")
    if n is None:
        n = int(y_int.sum())
    elif isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or not 1 <= n <= len(y_int):
        raise ConfigError(fmt_error("precision_at_n: n", f"must be an integer in 1..{len(y_int)} (the rows scored)",
                                    n, "Pass the number of rows to flag, or None for the number of anomalies."))
    threshold = np.percentile(s, 100.0 * (1.0 - int(n) / len(y_int)))
    flagged = (s > threshold).astype(np.int64)
    if not flagged.any():
        warnings.warn(f"precision_at_n: no row scores above the {100.0 * (1.0 - int(n) / len(y_int)):.4g}th "
                      f"percentile ({float(threshold)!r}) because of tied scores, so nothing is flagged and precision@{n} "
                      f"is 0.0 (PyOD's definition). Scores with fewer ties (e.g. more precision) avoid this.",
                      UserWarning, stacklevel=2)
    return float(_sk_metrics().precision_score(y_int, flagged, zero_division=0.0))


def recall_at_fpr(y: Any, scores: Any, fpr: float = 0.05) -> float:
    """The largest recall (TPR) of a score threshold whose false-positive rate is at most ``fpr``.

    Read off ``sklearn.metrics.roc_curve`` (all thresholds kept): the maximum TPR over the
    curve's points with FPR <= ``fpr``. Thresholds lie at the distinct scores, so rows tied
    at a threshold are flagged together; there is no interpolation between points. The curve
    starts at (0, 0), so the value is 0.0 when no threshold is that selective.

    Parameters
    ----------
    y : array-like ``(N,)``
        0/1, 1 = anomaly.
    scores : array-like ``(N,)``
        Higher = more anomalous.
    fpr : float
        Largest false-positive rate allowed, in [0, 1].

    Returns
    -------
    float

    Raises
    ------
    ConfigError
        ``fpr`` is not a number in [0, 1].
    """
    y_int, s = check_labels_scores(y, scores, "recall_at_fpr")
    return _recall_at_fpr(y_int, s, fpr)


def _recall_at_fpr(y_int: np.ndarray, s: np.ndarray, fpr: float) -> float:
    if isinstance(fpr, (bool, np.bool_)) or not isinstance(fpr, (int, float, np.integer, np.floating)) \
            or not 0.0 <= float(fpr) <= 1.0:
        raise ConfigError(fmt_error("recall_at_fpr: fpr", "must be a false-positive rate in [0, 1]", fpr,
                                    "Use e.g. fpr=0.05."))
    fprs, tprs, _ = _sk_metrics().roc_curve(y_int, s, drop_intermediate=False)
    return float(tprs[fprs <= float(fpr)].max())


def anomaly_scores_report(y: Any, scores: Any, fpr: float = 0.05) -> Dict[str, float]:
    """The four metrics above in one dict (floats in [0, 1]).

    Parameters
    ----------
    y : array-like ``(N,)``
        0/1, 1 = anomaly.
    scores : array-like ``(N,)``
        Higher = more anomalous.
    fpr : float
        The false-positive rate of ``recall_at_fpr``.

    Returns
    -------
    dict
        ``roc_auc``, ``auc_pr`` (average precision), ``precision_at_n`` (``n`` = number of
        anomalies) and ``recall_at_fpr``.
    """
    y_int, s = check_labels_scores(y, scores, "anomaly_scores_report")
    return {
        "roc_auc": roc_auc(y_int, s),
        "auc_pr": average_precision(y_int, s),
        "precision_at_n": precision_at_n(y_int, s),
        "recall_at_fpr": _recall_at_fpr(y_int, s, fpr),
    }
