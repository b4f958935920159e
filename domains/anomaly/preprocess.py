"""Tabular preprocessing for anomaly detection: impute, scale, one-hot, and remember where
every model column came from.

:class:`TabularPreprocessor` is fitted on the training rows only (ADBench's protocol fits
its scaler on the train split) and composes scikit-learn's own transformers:

* **numeric columns**: ``SimpleImputer(strategy="median", add_indicator=True)`` (a missing
  value becomes the training median plus a 0/1 "was missing" column, so missingness itself
  can be anomalous), then the scaling: ``standard`` (``StandardScaler``), ``rank_gauss``
  (:class:`RankGauss`: mid-rank ECDF then the normal quantile, a Gaussian copula),
  ``robust`` (``RobustScaler``: median and IQR), ``power`` (``PowerTransformer``, Yeo-Johnson),
  ``standard+rank`` (both the standardised value and its rank-Gauss value as model columns), ``quantile``
  (``QuantileTransformer`` to a standard normal: heavy tails and skew, common in lab values,
  become Gaussian, and a record beyond the training range maps to the outermost quantile),
  ``minmax`` (``MinMaxScaler``) or ``none``;
* **categorical columns** (object, string, category or bool dtype): missing values become
  their own category, then ``OneHotEncoder(handle_unknown="ignore")`` (a category never seen
  in training encodes as all zeros, which the model finds unusual, rather than failing).

:attr:`TabularPreprocessor.groups_` maps each output column to its input feature, so
per-column contributions of an anomaly score add up per original measurement
(:meth:`~vaekit.domains.anomaly.detector.VAEDetector.explain`).

**Overflow.** A finite input can still overflow here: ``StandardScaler`` squares the values
(a column holding 1e300 has an infinite variance, so every row of it scales to NaN), and a
scaled value beyond :data:`MAX_MODEL_VALUE` becomes infinite in the model's float32 input or
in its squares. ``fit`` and ``transform`` check the scaled numeric columns and name the
column, the row and the input value that caused it (an overflow of the scaling, not a NaN
in the input), with the fixes: mark it missing (``data.na_values``) or use a rank-based
scaling.
"""
from __future__ import annotations

from typing import List, Literal, Optional, Sequence

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, NotFittedError, fmt_error

from .features import as_feature_frame, option, validate_features

Scaling = Literal["standard", "robust", "standard+rank", "power", "rank_gauss", "quantile", "minmax", "none"]
SCALINGS = ("standard", "robust", "standard+rank", "power", "rank_gauss", "quantile", "minmax", "none")
_MISSING = "__missing__"
#: Largest magnitude of a scaled value sent to the model. The model computes in float32
#: (largest value 3.4e38), and its Gaussian likelihood squares ``(x - mu) / sigma``: beyond
#: about 1.8e19 the square is infinite. 1e15 leaves a factor 1e4 for ``1 / sigma`` and for the
#: sum over columns. No real measurement lies 1e15 column spreads from the training data;
#: such a value is a sentinel (a missing-value code) or a unit error.
MAX_MODEL_VALUE = 1e15


def _pd_frame():
    import pandas as pd

    return pd.DataFrame


class RankGauss:
    """Each column through its training mid-rank ECDF, then the standard normal quantile:
    ``z = Phi^-1((#{v < x} + #{v <= x}) / (2 n))``, clipped to ``[1/(2n), 1 - 1/(2n)]``.

    A Gaussian copula of the columns (the marginals of COPOD, Li et al. 2020, made Gaussian),
    so a Gaussian likelihood sees skewed and heavy-tailed measurements on one scale. Unlike
    scikit-learn's ``QuantileTransformer``, which sends every value equal to the training
    minimum to the lower bound (-5.2 sigma), tied values share their mid-rank, so a discrete
    column whose most common value is its minimum (a 1-10 grade, a count) is not made extreme.
    """

    def fit(self, X: np.ndarray) -> "RankGauss":
        self.sorted_ = np.sort(np.asarray(X, dtype=np.float64), axis=0)
        self.references_ = np.linspace(0.0, 1.0, 1001)
        self.quantiles_ = np.quantile(self.sorted_, self.references_, axis=0)  # for the inverse
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        from scipy.stats import norm

        X = np.asarray(X, dtype=np.float64)
        n = self.sorted_.shape[0]
        u = np.empty_like(X)
        for j in range(X.shape[1]):
            v = self.sorted_[:, j]
            u[:, j] = (np.searchsorted(v, X[:, j], "left") + np.searchsorted(v, X[:, j], "right")) / (2.0 * n)
        return norm.ppf(np.clip(u, 0.5 / n, 1.0 - 0.5 / n))


class TabularPreprocessor:
    """Impute, scale and one-hot a table; fitted on training rows only.

    Parameters
    ----------
    scaling : {"standard", "rank_gauss", "quantile", "minmax", "none"}
        How numeric columns are scaled (see the module docstring).
    categorical_columns : sequence of str, optional
        Columns to one-hot; by default those of object, string, category or bool dtype.
    max_categories : int
        Most distinct values a categorical column may have (more is an ID or free text).
    n_quantiles : int
        Quantiles of the ``quantile`` scaling (at most the number of training rows).
    random_state : int
        Seeds the ``quantile`` scaling's subsampling of very large tables.

    Attributes
    ----------
    feature_names_in_ : list of str
        Input columns, in order.
    numeric_columns_, categorical_columns_ : list of str
    output_names_ : list of str
        One name per output column (``"age"``, ``"age__missing"``, ``"sex=F"``).
    groups_ : ndarray of int, shape (n_out,)
        Index into ``feature_names_in_`` of the input column each output column encodes.
    n_features_in_ : int
    """

    def __init__(self, scaling: Scaling = "standard", categorical_columns: Optional[Sequence[str]] = None,
                 max_categories: int = 50, n_quantiles: int = 1000, random_state: int = 0):
        if scaling not in SCALINGS:
            raise ConfigError(f"preprocessing: must be one of {', '.join(SCALINGS)}; got {scaling!r}.")
        self.scaling = scaling
        self.categorical_columns = categorical_columns
        self.max_categories = max_categories
        self.n_quantiles = n_quantiles
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    def fit(self, X, where: str = "X", rows: Optional[Sequence[int]] = None) -> "TabularPreprocessor":
        """Learn imputation values, scaling and categories from the rows of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like ``(N, F)``
        where : str
            How messages name ``X`` (e.g. the file).
        rows : sequence of int ``(N,)``, optional
            The rows' numbers in the file (1 = first data row), for messages; by default a
            DataFrame's rows are named by their index and an array's by position.

        Raises
        ------
        DataValidationError
            A rule of :func:`~.features.validate_features` is broken, or a value overflows the
            scaling (see the module docstring).
        """
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import OneHotEncoder

        df = as_feature_frame(X, where)
        kinds = validate_features(df, where, max_categories=self.max_categories,
                                  categorical_columns=self.categorical_columns)
        self.feature_names_in_ = [str(c) for c in df.columns]
        self.n_features_in_ = len(self.feature_names_in_)
        self.numeric_columns_ = list(kinds.numeric_columns)
        self.categorical_columns_ = list(kinds.categorical_columns)
        pos = {c: i for i, c in enumerate(self.feature_names_in_)}
        names: List[str] = []
        groups: List[int] = []
        self._num_imputer = self._scaler = self._cat_imputer = self._onehot = None
        if self.numeric_columns_:
            num = df[self.numeric_columns_].to_numpy(dtype=np.float64)
            self._num_imputer = SimpleImputer(strategy="median", add_indicator=True).fit(num)
            filled = self._num_imputer.transform(num)[:, : len(self.numeric_columns_)]
            self._rank = None
            # Values large enough to overflow the scaling's statistics would make numpy warn
            # here; the check below names them instead.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self._fit_scaler(filled, len(df))
            self._check_range(filled, self._scale(filled), df, where, rows, isinstance(X, _pd_frame()))
            names += self.numeric_columns_
            groups += [pos[c] for c in self.numeric_columns_]
            if self._rank is not None:
                names += [f"{c}__rank" for c in self.numeric_columns_]
                groups += [pos[c] for c in self.numeric_columns_]
            ind = self._num_imputer.indicator_
            missing_feats = [] if ind is None else list(ind.features_)
            names += [f"{self.numeric_columns_[j]}__missing" for j in missing_feats]
            groups += [pos[self.numeric_columns_[j]] for j in missing_feats]
        if self.categorical_columns_:
            cat = self._categorical_values(df)
            self._onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32).fit(cat)
            for c, cats in zip(self.categorical_columns_, self._onehot.categories_):
                names += [f"{c}={v}" for v in cats]
                groups += [pos[c]] * len(cats)
        self.output_names_ = names
        self.groups_ = np.asarray(groups, dtype=np.int64)
        return self

    def _fit_scaler(self, filled: np.ndarray, n_rows: int) -> None:
        """Fit the numeric scaling on the imputed training values ``(n, k)``."""
        from sklearn.preprocessing import (MinMaxScaler, PowerTransformer, QuantileTransformer, RobustScaler,
                                           StandardScaler)

        if self.scaling in ("standard", "standard+rank"):
            self._scaler = StandardScaler().fit(filled)
            if self.scaling == "standard+rank":
                self._rank = RankGauss().fit(filled)
        elif self.scaling == "robust":
            self._scaler = RobustScaler().fit(filled)
        elif self.scaling == "power":
            self._scaler = PowerTransformer(method="yeo-johnson", standardize=True).fit(filled)
            # A monotone map per column: its inverse is a lookup table at 1001 training quantiles.
            grid = np.quantile(filled, np.linspace(0, 1, 1001), axis=0)
            self._power_lookup = (grid, self._scaler.transform(grid))
        elif self.scaling == "rank_gauss":
            self._scaler = RankGauss().fit(filled)
        elif self.scaling == "quantile":
            self._scaler = QuantileTransformer(n_quantiles=max(2, min(self.n_quantiles, n_rows)),
                                               output_distribution="normal",
                                               random_state=self.random_state).fit(filled)
        elif self.scaling == "minmax":
            self._scaler = MinMaxScaler().fit(filled)

    def _scale(self, filled: np.ndarray) -> List[np.ndarray]:
        """The scaled numeric blocks ``(n, k)``, float64 (two for ``standard+rank``)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            parts = [filled if self._scaler is None else self._scaler.transform(filled)]
            if self._rank is not None:
                parts.append(self._rank.transform(filled))
        return parts

    def _check_range(self, filled: np.ndarray, parts: List[np.ndarray], df, where: str,
                     rows: Optional[Sequence[int]], is_frame: bool) -> None:
        """Every scaled value finite and within :data:`MAX_MODEL_VALUE`, else an error naming the
        column, the row and the input value that overflowed the scaling."""
        bad = np.zeros(filled.shape, dtype=bool)
        for z in parts:
            with np.errstate(invalid="ignore"):
                bad |= ~(np.abs(z) <= MAX_MODEL_VALUE)  # NaN compares False: bad too
        if not bad.any():
            return
        cols = np.flatnonzero(bad.any(axis=0))
        j = int(cols[0])
        cand = np.flatnonzero(bad[:, j])
        # When the scaling's statistics overflowed, every row of the column is bad: the row to
        # name is the one whose value has the largest magnitude, which made them overflow.
        i = int(cand[np.argmax(np.abs(filled[cand, j]))])
        z = next(float(p[i, j]) for p in parts if not abs(p[i, j]) <= MAX_MODEL_VALUE)
        if rows is not None:
            row = f"data row {int(np.asarray(rows)[i])}"
        elif is_frame:
            row = f"index {df.index[i]!r}"
        else:
            row = f"row {i} (0-based)"
        if np.isfinite(z):
            rule = (f"the {self.scaling!r} scaling maps this value to {z:.3g}, beyond +-{MAX_MODEL_VALUE:.0e}, the "
                    f"range in which the model's float32 arithmetic (and its squares) stays finite")
        else:
            rule = (f"a value this large overflows the {self.scaling!r} scaling (its statistics square the values "
                    f"beyond the float64 range, and the column scales to {z})")
        also = [str(self.numeric_columns_[c]) for c in cols[1:]]
        count = f"{len(cand)} row(s) of this column" + (f" and column(s) {also[:5]}" if also else "") + " affected"
        fix = (f"If it marks a missing value, add it to {option('na_values', 'read_table(na_values=...)')} or "
               f"replace it by NaN; if it is a real measurement, rescale the column (e.g. a log) or use a rank-based "
               f"scaling: data.preprocessing=rank_gauss or quantile (VAEDetector(preprocessing=...) in Python). "
               f"({count}.)")
        raise DataValidationError(fmt_error(f"{where}: column {self.numeric_columns_[j]!r}, {row}", rule,
                                            float(filled[i, j]), fix))

    def _categorical_values(self, df) -> np.ndarray:
        # Missing is a category of its own; everything is compared as text so that 1 and "1"
        # (CSV vs DataFrame input) are the same category.
        sub = df[self.categorical_columns_].astype("object")
        return sub.where(sub.notna(), _MISSING).astype(str).to_numpy()

    # ------------------------------------------------------------------ transform
    def check_fitted(self, what: str = "TabularPreprocessor") -> None:
        if not hasattr(self, "groups_"):
            raise NotFittedError(f"{what}: not fitted yet; call fit(X) first.")

    def transform(self, X, where: str = "X", rows: Optional[Sequence[int]] = None) -> np.ndarray:
        """The model's input ``(n, n_out)`` float32 for the rows of ``X``.

        ``X`` must have the training columns (a DataFrame: the same names, any order; an
        array: the same number of columns in the same order). ``rows`` names the rows in
        messages as in :meth:`fit`; a value that the fitted scaling maps beyond
        :data:`MAX_MODEL_VALUE` is an error naming its column, row and value.
        """
        import pandas as pd

        self.check_fitted()
        if isinstance(X, pd.DataFrame):
            missing = [c for c in self.feature_names_in_ if c not in X.columns]
            if missing:
                raise DataValidationError(f"{where}: the table lacks column(s) {missing[:5]} that the model was "
                                          f"fitted on (expected {self.n_features_in_} columns: "
                                          f"{self.feature_names_in_[:8]}...). Pass the same columns as in fit.")
            df = X[self.feature_names_in_]
        else:
            if hasattr(X, "toarray"):  # scipy sparse
                X = X.toarray()
            df = as_feature_frame(X, where)
            if df.shape[1] != self.n_features_in_:
                raise DataValidationError(f"{where}: X has {df.shape[1]} features, but the model was fitted on "
                                          f"{self.n_features_in_}. Pass the same columns as in fit.")
            df.columns = self.feature_names_in_
        if len(df) == 0:
            raise DataValidationError(f"{where}: no rows to score; got an empty table with {df.shape[1]} columns.")
        parts = []
        if self.numeric_columns_:
            try:
                num = df[self.numeric_columns_].to_numpy(dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise DataValidationError(f"{where}: numeric columns {self.numeric_columns_[:5]}... hold values "
                                          f"that are not numbers ({exc}). Clean them or mark missing values "
                                          f"as NaN.") from None
            if np.isinf(num).any():
                bad = [self.numeric_columns_[j] for j in np.where(np.isinf(num).any(0))[0]]
                raise DataValidationError(f"{where}: infinite values in column(s) {bad[:5]}; replace them by NaN "
                                          f"to have them imputed.")
            out = self._num_imputer.transform(num)
            k = len(self.numeric_columns_)
            filled, indicators = out[:, :k], out[:, k:]
            scaled = self._scale(filled)
            self._check_range(filled, scaled, df, where, rows, isinstance(X, pd.DataFrame))
            parts += scaled
            parts.append(indicators)
        if self.categorical_columns_:
            parts.append(self._onehot.transform(self._categorical_values(df)))
        return np.concatenate(parts, axis=1).astype(np.float32)

    def fit_transform(self, X, where: str = "X", rows: Optional[Sequence[int]] = None) -> np.ndarray:
        return self.fit(X, where, rows).transform(X, where, rows)

    def group_sums(self, values: np.ndarray) -> np.ndarray:
        """Sum per-output-column values ``(n, n_out)`` into per-input-feature ``(n, n_features_in_)``."""
        self.check_fitted()
        out = np.zeros((values.shape[0], self.n_features_in_), dtype=np.float64)
        np.add.at(out.T, self.groups_, values.T)
        return out

    # ------------------------------------------------------------------ inverse (for generation)
    def state(self) -> dict:
        """JSON-serialisable parameters that :func:`inverse_transform` needs (stored in a run's
        ``DataInfo.extra`` so generated records can be written in the original units)."""
        self.check_fitted()
        num = {"columns": self.numeric_columns_, "scaling": self.scaling}
        sc = self._scaler
        if self.scaling in ("standard", "standard+rank") and sc is not None:
            num.update(mean=sc.mean_.tolist(), scale=sc.scale_.tolist())
        elif self.scaling == "power" and sc is not None:
            grid, t_grid = self._power_lookup
            num.update(lookup_x=grid.T.tolist(), lookup_t=t_grid.T.tolist())
        elif self.scaling == "robust" and sc is not None:
            num.update(mean=sc.center_.tolist(), scale=sc.scale_.tolist())
        elif self.scaling == "minmax" and sc is not None:
            num.update(min=sc.data_min_.tolist(), range=sc.data_range_.tolist())
        elif self.scaling in ("quantile", "rank_gauss") and sc is not None:
            num.update(quantiles=sc.quantiles_.T.tolist(), references=sc.references_.tolist())
        cats = [] if self._onehot is None else [[str(v) for v in c] for c in self._onehot.categories_]
        return {"feature_names": self.feature_names_in_, "output_names": self.output_names_,
                "groups": self.groups_.tolist(), "numeric": num,
                "categorical": {"columns": self.categorical_columns_, "categories": cats}}


def inverse_transform(state: dict, x: np.ndarray):
    """Model-space rows ``(n, n_out)`` -> a DataFrame in the original columns and units.

    Numeric values are unscaled (the ``quantile`` scaling through its stored quantiles, by
    linear interpolation of the normal CDF, as scikit-learn's ``inverse_transform``);
    missing-value indicators are dropped; each categorical column takes its most probable
    one-hot level.
    """
    import pandas as pd
    from scipy.stats import norm

    x = np.asarray(x, dtype=np.float64)
    names = state["feature_names"]
    num = state["numeric"]
    out = {}
    k = len(num["columns"])
    vals = x[:, :k]
    if num["scaling"] in ("standard", "robust", "standard+rank") and "mean" in num:
        vals = vals * np.asarray(num["scale"]) + np.asarray(num["mean"])
    elif num["scaling"] == "minmax" and "min" in num:
        vals = vals * np.asarray(num["range"]) + np.asarray(num["min"])
    elif num["scaling"] == "power" and "lookup_x" in num:
        vals = np.stack([np.interp(vals[:, j], np.asarray(t), np.asarray(xg))
                         for j, (t, xg) in enumerate(zip(num["lookup_t"], num["lookup_x"]))], 1) if k else vals
    elif num["scaling"] in ("quantile", "rank_gauss") and "quantiles" in num:
        ref = np.asarray(num["references"])
        u = norm.cdf(vals)
        vals = np.stack([np.interp(u[:, j], ref, np.asarray(q)) for j, q in enumerate(num["quantiles"])], 1) \
            if k else vals
    for j, c in enumerate(num["columns"]):
        out[c] = vals[:, j]
    groups = np.asarray(state["groups"])
    col_pos = {c: i for i, c in enumerate(names)}
    for c, cats in zip(state["categorical"]["columns"], state["categorical"]["categories"]):
        cols = np.where(groups == col_pos[c])[0]
        levels = np.asarray(cats, dtype=object)
        out[c] = levels[np.argmax(x[:, cols], axis=1)]
        out[c] = np.where(out[c] == _MISSING, None, out[c])
    return pd.DataFrame({c: out[c] for c in names})
