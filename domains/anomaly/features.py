"""Checks of anomaly-detection features and labels, shared by the readers and the preprocessor.

* :func:`as_feature_frame`: an array or DataFrame as a DataFrame (columns ``x0 .. x{F-1}``);
* :func:`validate_features`: the rules a feature table must meet, and its columns sorted into
  numeric and categorical ones (:class:`FeatureSummary`), from which the preprocessing step
  (:mod:`.preprocess`) imputes, scales and one-hot encodes;
* :func:`to_binary_labels`: labels as int64 ``0``/``1`` with **1 = anomaly**;
* :func:`check_train_rows`: the fewest rows a detector is fitted on (:data:`MIN_TRAIN_ROWS`).

A row or column that breaks a rule is an error that names where, the column, the rule, the
values that broke it and the fix (DESIGN.md section 8). A fix names the run-config key a CLI
user sets (``data.na_values``) and then the Python argument (:func:`option`), since the same
checks serve ``vaekit train`` and the Python API. Missing feature values are allowed (they are
imputed later); missing labels are not.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Hashable, List, Optional, Sequence

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, fmt_error, require

from ..io import N_SHOWN, close_names, plain, show

if TYPE_CHECKING:  # pragma: no cover
    import pandas

MAX_CATEGORIES = 50  # distinct values a text/category/bool column may have to count as categorical
#: Cells read as missing in text tables (besides pandas' own markers): ``data.na_values``'s default.
DEFAULT_NA_VALUES = ("?", "NA", "")
#: Fewest rows a detector is fitted on. The column scaling and the likelihood's per-column
#: scale (the RMS residual of the rows the trimmed loss keeps: 6 of 10 at the default
#: ``trim=0.4``) are statistics of the training rows; below 10 they rest on a handful of
#: values (one row has a standard deviation of 0, and every score is then an artefact of the
#: floors), and ``threshold_`` at the default contamination 0.1 has no row above it.
MIN_TRAIN_ROWS = 10


def _pd():
    return require("pandas", "anomaly")


def option(name: str, python: str = "") -> str:
    """How a fix names a data option: the run-config key, then the Python argument.

    ``option("na_values")`` -> ``"data.na_values (the na_values argument in Python)"``;
    ``python`` replaces the argument's description (e.g. ``"read_table(na_values=...)"``).
    """
    return f"data.{name} ({python or f'the {name} argument'} in Python)"


def check_train_rows(n_rows: int, where: str, fix: str) -> None:
    """Refuse to fit a detector on fewer than :data:`MIN_TRAIN_ROWS` rows.

    Raises
    ------
    DataValidationError
        ``n_rows < MIN_TRAIN_ROWS``; the message ends with ``fix``.
    """
    if n_rows < MIN_TRAIN_ROWS:
        raise DataValidationError(fmt_error(
            where, f"needs at least {MIN_TRAIN_ROWS} rows to fit a detector (the column scaling and the "
                   f"likelihood's per-column scale are estimated from them)", int(n_rows), fix))


@dataclass(frozen=True)
class FeatureSummary:
    """What :func:`validate_features` found: the feature columns sorted by kind.

    Attributes
    ----------
    numeric_columns : list
        Names of the int/float columns (missing values allowed, infinities not), in the
        order of the table.
    categorical_columns : list
        Names of the bool, category and text columns with at most ``max_categories``
        distinct values (to be one-hot encoded), in the order of the table.
    n_rows : int
        Number of rows.
    """

    numeric_columns: List[Hashable]
    categorical_columns: List[Hashable]
    n_rows: int

    @property
    def n_features(self) -> int:
        """Number of feature columns (numeric + categorical)."""
        return len(self.numeric_columns) + len(self.categorical_columns)


def as_feature_frame(X: Any, where: str = "X") -> "pandas.DataFrame":
    """``X`` as a DataFrame: a DataFrame as it is, a 2-D array with columns ``x0 .. x{F-1}``.

    Parameters
    ----------
    X : DataFrame or array-like ``(N, F)``
    where : str
        How messages name ``X``.

    Raises
    ------
    DataValidationError
        ``X`` is a Series or not 2-D.
    """
    pd = _pd()
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, pd.Series):
        raise DataValidationError(f"{where}: features must be a 2-D table (rows x features); got a pandas Series "
                                  f"{X.name!r} of length {len(X)}. Pass X.to_frame() for a single feature.")
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as exc:
        raise DataValidationError(f"{where}: features must be a DataFrame or a 2-D array; got "
                                  f"{type(X).__name__} that numpy cannot convert ({exc}).") from exc
    if arr.ndim != 2:
        fix = "Pass X.reshape(-1, 1) for a single feature." if arr.ndim == 1 else "Pass a 2-D (rows x features) array."
        raise DataValidationError(f"{where}: features must be 2-D (rows x features); got an array of shape "
                                  f"{arr.shape}. {fix}")
    df = pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])])
    # An object array mixing numbers and text: give its all-number columns a numeric dtype.
    return df.infer_objects() if arr.dtype == object else df


def validate_features(X: Any, where: str = "X", max_categories: int = MAX_CATEGORIES,
                      categorical_columns: Optional[Sequence[Hashable]] = None) -> FeatureSummary:
    """Check a feature table and sort its columns into numeric and categorical ones.

    Rules, each an error naming the columns that break it and the fix:

    * at least one row and one column; column names unique;
    * int/float columns are numeric: missing values are allowed (imputed later), infinite
      values are not (replace them by NaN to have them imputed);
    * bool, category and text (object/string) columns are categorical when they have at
      most ``max_categories`` distinct non-missing values;
    * a text column whose values are mostly numbers (at least half of the non-missing ones)
      with a few other tokens (e.g. ``"?"``) is an error naming the tokens: they are missing
      value markers (add them to ``data.na_values`` / ``na_values``) or the column is categorical (cast it to the
      ``category`` dtype);
    * a text column with more than ``max_categories`` distinct values (IDs, free text, numbers
      stored as text) is an error naming its number of distinct values;
    * no column may be entirely missing; dates, complex numbers and other dtypes are errors;
    * columns named in ``categorical_columns`` are categorical whatever their dtype (e.g.
      integer-coded categories): only the ``max_categories`` rule applies to them.

    Parameters
    ----------
    X : DataFrame or array-like ``(N, F)``
        Arrays are read with :func:`as_feature_frame` (columns ``x0 .. x{F-1}``).
    where : str
        How messages name ``X`` (e.g. the file).
    max_categories : int
        Most distinct values of a categorical column.
    categorical_columns : sequence of column names, optional
        Columns to treat as categorical in addition to the bool, category and text ones.

    Returns
    -------
    FeatureSummary

    Raises
    ------
    DataValidationError
        A rule above is broken.
    ConfigError
        ``max_categories`` is not a positive integer, or ``categorical_columns`` is a string.
    """
    pd = _pd()
    ptypes = pd.api.types
    if isinstance(max_categories, bool) or not isinstance(max_categories, (int, np.integer)) or max_categories < 1:
        raise ConfigError(f"validate_features: max_categories must be a positive integer; got {max_categories!r}. "
                          f"Use e.g. {MAX_CATEGORIES}.")
    df = as_feature_frame(X, where)
    n_rows, n_cols = df.shape
    if n_rows == 0 or n_cols == 0:
        raise DataValidationError(f"{where}: the features must have at least one row and one column; got {n_rows} "
                                  f"rows x {n_cols} feature columns. Check the file (and data.feature_columns / "
                                  f"data.label_column, the feature_columns / label_column arguments in Python: the "
                                  f"label column is not a feature).")
    if isinstance(categorical_columns, str):
        raise ConfigError(f"{where}: categorical_columns must be a list of column names; got the string "
                          f"{categorical_columns!r}. Pass [{categorical_columns!r}] for one column.")
    forced = list(categorical_columns or [])
    for c in forced:
        if c not in df.columns:
            raise DataValidationError(f"{where}: categorical_columns names {c!r}, which is not a column; "
                                      f"{close_names(c, list(df.columns))} Fix {option('categorical_columns')}.")
    dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if dup:
        raise DataValidationError(f"{where}: column names must be unique; got {dup} more than once. Rename or drop "
                                  f"the duplicates.")

    all_nan = [c for c in df.columns if df[c].isna().all()]
    if all_nan:
        raise DataValidationError(f"{where}: {len(all_nan)} column(s) hold no value at all (every row missing): "
                                  f"{show(all_nan, 20)}. Drop them (or leave them out of {option('feature_columns')}).")

    numeric: List[Hashable] = []
    categorical: List[Hashable] = []
    bad_dtype: List[str] = []
    tokens: List[str] = []  # "col: tokens" for mostly-numeric text columns
    token_values: List[str] = []  # the distinct tokens themselves, for the fix
    too_many: List[str] = []  # "col (k distinct)"
    as_text: List[str] = []  # numbers stored as text, too many to be categories
    infinite: Dict[Hashable, int] = {}
    for name in df.columns:
        s = df[name]
        dt = s.dtype
        if name in forced or ptypes.is_bool_dtype(dt) or isinstance(dt, pd.CategoricalDtype):
            try:
                k = int(s.nunique(dropna=True))
            except TypeError:  # unhashable cells (lists, dicts)
                bad_dtype.append(f"{name!r} (cells that are not scalars)")
                continue
            if k > max_categories:
                too_many.append(f"{name!r} ({k} distinct)")
            else:
                categorical.append(name)
        elif ptypes.is_complex_dtype(dt):
            bad_dtype.append(f"{name!r} ({dt})")
        elif ptypes.is_numeric_dtype(dt):
            numeric.append(name)
            n_inf = int(np.isinf(s.to_numpy(dtype="float64", na_value=np.nan)).sum())
            if n_inf:
                infinite[name] = n_inf
        elif ptypes.is_object_dtype(dt) or ptypes.is_string_dtype(dt):
            values = s.dropna()
            try:
                k = int(values.nunique())
            except TypeError:  # unhashable cells (lists, dicts)
                bad_dtype.append(f"{name!r} (cells that are not scalars, e.g. {values.iloc[0]!r})")
                continue
            is_num = pd.to_numeric(values, errors="coerce").notna()
            n_num = int(is_num.sum())
            if 0 < n_num < len(values) and n_num >= len(values) / 2:
                bad = values[~is_num].astype(str).value_counts()
                shown = ", ".join(f"{t!r} x{c}" for t, c in list(bad.items())[:N_SHOWN])
                more = f", ... ({len(bad)} distinct)" if len(bad) > N_SHOWN else ""
                tokens.append(f"{name!r}: {shown}{more}")
                token_values += [t for t in bad.index if t not in token_values]
            elif k > max_categories:
                (as_text if n_num == len(values) else too_many).append(f"{name!r} ({k} distinct)")
            else:
                categorical.append(name)
        else:  # datetime, timedelta, period, interval, sparse, ...
            bad_dtype.append(f"{name!r} ({dt})")

    if bad_dtype:
        raise DataValidationError(f"{where}: features must be numbers, bool, category or text; got unsupported "
                                  f"column(s) {', '.join(bad_dtype)}. Convert them to numbers (e.g. a date to days "
                                  f"since a reference date) or drop them.")
    if tokens:
        example = ",".join(repr(v) for v in dict.fromkeys([*DEFAULT_NA_VALUES, *token_values[:N_SHOWN]]))
        raise DataValidationError(f"{where}: column(s) of numbers hold non-numeric tokens: {'; '.join(tokens)}. If the "
                                  f"tokens mark missing values, add them to "
                                  f"{option('na_values', 'read_table(na_values=...)')}"
                                  f", e.g. --set \"data.na_values=[{example}]\", or replace them by NaN, so that they "
                                  f"are imputed; if the column is categorical, list it in data.categorical_columns "
                                  f"(in Python, cast it to the 'category' dtype or pass categorical_columns).")
    if too_many:
        raise DataValidationError(f"{where}: a categorical (text/category/bool) column may have at most "
                                  f"{max_categories} distinct values; got {', '.join(too_many)}. Such columns are "
                                  f"usually IDs or free text: drop them, or list the features to use, without them, "
                                  f"in {option('feature_columns')}.")
    if as_text:
        raise DataValidationError(f"{where}: column(s) hold numbers stored as text, too many distinct values to be "
                                  f"categories: {', '.join(as_text)}. Add the cells that are not numbers to "
                                  f"{option('na_values', 'read_table(na_values=...)')} so that the column is read as "
                                  f"numbers, or convert it with pandas.to_numeric.")
    if infinite:
        desc = ", ".join(f"{c!r} ({n})" for c, n in infinite.items())
        raise DataValidationError(f"{where}: numeric features must be finite; got {sum(infinite.values())} infinite "
                                  f"value(s) in {desc} (a text file's 'inf', or a number beyond +-1.8e308, reads as "
                                  f"infinite). To have them imputed, mark them missing: add 'inf' and '-inf' to "
                                  f"{option('na_values', 'read_table(na_values=...)')}, or replace them by NaN "
                                  f"(df.replace([np.inf, -np.inf], np.nan)); or clip them.")
    return FeatureSummary(numeric, categorical, int(n_rows))


def to_binary_labels(values: Any, where: str = "y", positive_label: Any = None) -> np.ndarray:
    """Labels as int64 ``0``/``1`` with 1 = anomaly.

    Accepted without ``positive_label``: numbers in {0, 1} (int or float, e.g. ODDS' float
    ``(N, 1)`` column) and bools (True = anomaly). With ``positive_label=V`` any column with
    at most two distinct values maps ``V`` to 1 and the other value to 0 (``V`` matches a value
    that equals it or prints the same, so ``"1"`` matches ``1``).

    Parameters
    ----------
    values : array-like ``(N,)`` or ``(N, 1)``
    where : str
        How messages name the labels (file and column).
    positive_label : scalar, optional
        The value that marks an anomaly.

    Returns
    -------
    ndarray of int64, ``(N,)``

    Raises
    ------
    DataValidationError
        Missing labels, more than two distinct values, two values other than 0/1 (or text)
        without ``positive_label``, or a ``positive_label`` that is neither of two values.
    """
    pd = _pd()
    arr = np.asarray(values)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise DataValidationError(f"{where}: labels must be 1-D (one per row); got shape {arr.shape}. Pass one "
                                  f"column of labels.")
    s = pd.Series(arr, dtype=object if arr.dtype.kind in "OUS" else arr.dtype)
    missing = np.flatnonzero(s.isna().to_numpy())
    if len(missing):
        raise DataValidationError(f"{where}: {len(missing)} of {len(s)} rows have no label (missing value), e.g. rows "
                                  f"{show((missing + 1).tolist())} (1 = first data row). Every row needs a label "
                                  f"0/1: fill them in or remove those rows (or, for unlabelled data, read the file "
                                  f"without a label column).")
    try:
        distinct = list(pd.unique(s))
    except TypeError as exc:
        raise DataValidationError(f"{where}: labels must be scalars; got cells such as {s.iloc[0]!r}. Clean the "
                                  f"column to 0/1.") from exc
    if len(distinct) > 2:
        raise DataValidationError(f"{where}: labels must take at most two values (1/anomaly and 0/normal); got "
                                  f"{len(distinct)} distinct values {show(distinct)}. Recode the column to two values "
                                  f"first, e.g. df[col] = (df[col] == <anomaly class>).astype(int) (two values "
                                  f"are then mapped with {option('positive_label')}).")
    if positive_label is not None:
        def is_pos(v: Any) -> bool:
            return bool(v == positive_label) or str(plain(v)) == str(positive_label)

        hits = [v for v in distinct if is_pos(v)]
        if len(distinct) == 2 and len(hits) != 1:
            raise DataValidationError(f"{where}: positive_label={positive_label!r} must be exactly one of the two "
                                      f"label values {show(distinct)}; it matches {len(hits)}. Set "
                                      f"{option('positive_label')} to the value that marks an anomaly.")
        return np.fromiter((is_pos(v) for v in s), dtype=bool, count=len(s)).astype(np.int64)
    if all(isinstance(v, (bool, np.bool_)) for v in distinct):
        return s.to_numpy(dtype=bool).astype(np.int64)
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                  for v in distinct)
    if numeric and set(float(v) for v in distinct) <= {0.0, 1.0}:
        return s.to_numpy(dtype="float64").astype(np.int64)
    kind = "numbers other than 0/1" if numeric else "text or mixed values"
    raise DataValidationError(f"{where}: labels must be 0/1 (1 = anomaly) or bool; got {kind} {show(distinct)}. "
                              f"Set {option('positive_label')} to the value that marks an anomaly (it becomes 1, "
                              f"the other value 0), or clean the column to 0/1.")


__all__ = ["MAX_CATEGORIES", "DEFAULT_NA_VALUES", "MIN_TRAIN_ROWS", "FeatureSummary", "option", "check_train_rows",
           "as_feature_frame", "validate_features", "to_binary_labels"]
