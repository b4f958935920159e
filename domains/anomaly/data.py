"""Tabular anomaly-detection data: read benchmark and user tables, check them, return features and labels.

Pipeline of :func:`read_table`:

1. **Read** the file by its suffix: ODDS ``.mat`` (``scipy.io.loadmat``, arrays ``X``
   ``(N, F)`` and ``y`` ``(N, 1)``; MATLAB v7.3 files are HDF5 and are read with ``h5py`` when
   it is installed, else the error says how to convert them), ADBench ``.npz`` (arrays ``X``
   and ``y``), ``.csv``/``.tsv`` (optionally ``.gz``) and ``.parquet`` (pandas). Arrays become a
   DataFrame with columns ``x0 .. x{F-1}``; tables keep their column names. Cells equal to one
   of ``na_values`` (default ``"?"``, ``"NA"``, empty) are read as missing.
2. **Labels**: the column ``label_column``, else the one column named ``label``, ``y``,
   ``class``, ``outlier`` or ``anomaly`` (any case), else none (``y`` is ``None``). Labels are
   returned as int64 ``0``/``1`` with **1 = anomaly** (:func:`to_binary_labels`).
3. **Features**: ``feature_columns`` if given, else every other column; then
   :func:`validate_features` checks them and sorts them into numeric and categorical columns
   (the preprocessing step imputes, scales and one-hot encodes them from that description).

Nothing is dropped: a row or column that breaks a rule is an error that names the file,
the column, the rule, the values that broke it and the fix (DESIGN.md section 8). Missing
feature values are allowed (they are imputed later); missing labels are not.

Also here: :func:`breast_cancer_data`, the embedded default data set (Wisconsin Diagnostic
Breast Cancer from scikit-learn, no download), and :func:`load_adbench_dir`, which lists the
ADBench ``.npz`` files of a folder by data-set name (:data:`MEDICAL`, :data:`OTHER`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Hashable, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, require
from vaekit.core.registry import did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    import pandas

# ADBench "Classical" data sets (Han et al. 2022, Table 1), by the name in their file names.
MEDICAL = ("breastw", "cardio", "Hepatitis", "Lymphography", "mammography", "thyroid", "WBC", "WDBC", "WPBC")
OTHER = ("fault", "glass", "Ionosphere", "letter", "optdigits", "pendigits", "satellite", "shuttle", "vowels",
         "wine")

LABEL_NAMES = ("label", "y", "class", "outlier", "anomaly")  # label columns found without label_column
DEFAULT_NA_VALUES = ("?", "NA", "")
MAX_CATEGORIES = 50  # distinct values a text/category/bool column may have to count as categorical
ARRAY_SUFFIXES = (".mat", ".npz")
TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
PARQUET_SUFFIXES = (".parquet", ".pq")
_N_SHOWN = 5  # values / rows / columns named in a message


def _pd():
    return require("pandas", "anomaly")


def _show(items: Sequence[Any], n: int = _N_SHOWN) -> str:
    """``[a, b, c, ...]`` with at most ``n`` items and the total when some are left out."""
    items = list(items)
    shown = ", ".join(repr(_plain(v)) for v in items[:n])
    return f"[{shown}, ... ({len(items)} in all)]" if len(items) > n else f"[{shown}]"


def _plain(v: Any) -> Any:
    """numpy scalars as Python scalars, so messages read ``1`` rather than ``np.int64(1)``."""
    return v.item() if isinstance(v, np.generic) else v


# ====================================================================== validation
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
      value markers (add them to ``na_values``) or the column is categorical (cast it to the
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
                                  f"rows x {n_cols} feature columns. Check the file (and feature_columns / "
                                  f"label_column: the label column is not a feature).")
    if isinstance(categorical_columns, str):
        raise ConfigError(f"{where}: categorical_columns must be a list of column names; got the string "
                          f"{categorical_columns!r}. Pass [{categorical_columns!r}] for one column.")
    forced = list(categorical_columns or [])
    for c in forced:
        if c not in df.columns:
            raise DataValidationError(f"{where}: categorical_columns names {c!r}, which is not a column; "
                                      f"{_close(c, list(df.columns))} Fix categorical_columns.")
    dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if dup:
        raise DataValidationError(f"{where}: column names must be unique; got {dup} more than once. Rename or drop "
                                  f"the duplicates.")

    all_nan = [c for c in df.columns if df[c].isna().all()]
    if all_nan:
        raise DataValidationError(f"{where}: {len(all_nan)} column(s) hold no value at all (every row missing): "
                                  f"{_show(all_nan, 20)}. Drop them (or leave them out of feature_columns).")

    numeric: List[Hashable] = []
    categorical: List[Hashable] = []
    bad_dtype: List[str] = []
    tokens: List[str] = []  # "col: tokens" for mostly-numeric text columns
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
                shown = ", ".join(f"{t!r} x{c}" for t, c in list(bad.items())[:_N_SHOWN])
                more = f", ... ({len(bad)} distinct)" if len(bad) > _N_SHOWN else ""
                tokens.append(f"{name!r}: {shown}{more}")
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
        raise DataValidationError(f"{where}: column(s) of numbers hold non-numeric tokens: {'; '.join(tokens)}. If the "
                                  f"tokens mark missing values, add them to na_values (read_table(..., na_values="
                                  f"[...])) or replace them by NaN, so that they are imputed; if the column is "
                                  f"categorical, cast it to the 'category' dtype.")
    if too_many:
        raise DataValidationError(f"{where}: a categorical (text/category/bool) column may have at most "
                                  f"{max_categories} distinct values; got {', '.join(too_many)}. Such columns are "
                                  f"usually IDs or free text: drop them, or list the features to use in "
                                  f"feature_columns without them.")
    if as_text:
        raise DataValidationError(f"{where}: column(s) hold numbers stored as text, too many distinct values to be "
                                  f"categories: {', '.join(as_text)}. Convert them with pandas.to_numeric (or read "
                                  f"the file with the right na_values so pandas parses them as numbers).")
    if infinite:
        desc = ", ".join(f"{c!r} ({n})" for c, n in infinite.items())
        raise DataValidationError(f"{where}: numeric features must be finite; got {sum(infinite.values())} infinite "
                                  f"value(s) in {desc}. Replace them by NaN (df.replace([np.inf, -np.inf], np.nan)) "
                                  f"to have them imputed, or clip them.")
    return FeatureSummary(numeric, categorical, int(n_rows))


# ====================================================================== labels
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
                                  f"{_show((missing + 1).tolist())} (1 = first data row). Every row needs a label "
                                  f"0/1: fill them in or remove those rows (or, for unlabelled data, read the file "
                                  f"without a label column).")
    try:
        distinct = list(pd.unique(s))
    except TypeError as exc:
        raise DataValidationError(f"{where}: labels must be scalars; got cells such as {s.iloc[0]!r}. Clean the "
                                  f"column to 0/1.") from exc
    if len(distinct) > 2:
        raise DataValidationError(f"{where}: labels must take at most two values (1/anomaly and 0/normal); got "
                                  f"{len(distinct)} distinct values {_show(distinct)}. Recode the column to two values "
                                  f"first, e.g. df[col] = (df[col] == <anomaly class>).astype(int).")
    if positive_label is not None:
        def is_pos(v: Any) -> bool:
            return bool(v == positive_label) or str(_plain(v)) == str(positive_label)

        hits = [v for v in distinct if is_pos(v)]
        if len(distinct) == 2 and len(hits) != 1:
            raise DataValidationError(f"{where}: positive_label={positive_label!r} must be exactly one of the two "
                                      f"label values {_show(distinct)}; it matches {len(hits)}. Set positive_label "
                                      f"to the value that marks an anomaly.")
        return np.fromiter((is_pos(v) for v in s), dtype=bool, count=len(s)).astype(np.int64)
    if all(isinstance(v, (bool, np.bool_)) for v in distinct):
        return s.to_numpy(dtype=bool).astype(np.int64)
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                  for v in distinct)
    if numeric and set(float(v) for v in distinct) <= {0.0, 1.0}:
        return s.to_numpy(dtype="float64").astype(np.int64)
    kind = "numbers other than 0/1" if numeric else "text or mixed values"
    raise DataValidationError(f"{where}: labels must be 0/1 (1 = anomaly) or bool; got {kind} {_show(distinct)}. "
                              f"Pass positive_label=<the value that marks an anomaly> (it becomes 1, the other "
                              f"value 0), or clean the column to 0/1.")


# ====================================================================== reading
def _suffix(path: Path) -> str:
    """Format suffix, lower case, ``.gz`` kept: ``a.CSV.gz`` -> ``.csv.gz``."""
    sfx = [s.lower() for s in path.suffixes]
    if len(sfx) >= 2 and sfx[-1] == ".gz":
        return sfx[-2] + ".gz"
    return sfx[-1] if sfx else ""


def _close(name: Any, options: Sequence[Any]) -> str:
    """``Did you mean ...?`` or the available names, for an unknown column."""
    strs = [str(o) for o in options]
    hint = did_you_mean(str(name), strs)
    return hint.strip() if hint else f"the columns are {_show(strs, 20)}."


def read_table(path: Union[str, Path], label_column: Optional[str] = None,
               feature_columns: Optional[Sequence[Hashable]] = None,
               na_values: Iterable[str] = DEFAULT_NA_VALUES, positive_label: Any = None, *,
               max_categories: int = MAX_CATEGORIES) -> Tuple["pandas.DataFrame", Optional[np.ndarray]]:
    """Read an anomaly-detection table: features and (if present) 0/1 labels.

    Parameters
    ----------
    path : str or Path
        ``.mat`` (ODDS: arrays ``X``, ``y``), ``.npz`` (ADBench: arrays ``X``, ``y``),
        ``.csv``, ``.tsv``, ``.csv.gz``, ``.tsv.gz`` or ``.parquet``.
    label_column : str, optional
        Tables only: the label column. ``None``: the one column named ``label``, ``y``,
        ``class``, ``outlier`` or ``anomaly`` (any case) that is not in ``feature_columns``,
        else no labels. Arrays always take their labels from ``y`` (none if absent).
    feature_columns : sequence of column names, optional
        The features to keep, in this order (``x0 ..`` for arrays). ``None``: every column
        except the label column.
    na_values : iterable of str
        Cells read as missing (tables), besides pandas' defaults (``NaN``, ``null``, ...).
    positive_label : scalar, optional
        The label value that marks an anomaly, for labels that are not 0/1 or bool (see
        :func:`to_binary_labels`).
    max_categories : int
        Most distinct values of a categorical feature (see :func:`validate_features`).

    Returns
    -------
    features : DataFrame ``(N, F)``
        Original column names (``x0 .. x{F-1}`` for arrays), index ``0 .. N-1``.
    labels : ndarray of int64 ``(N,)`` or None
        1 = anomaly, 0 = normal; ``None`` when the file has no label.

    Raises
    ------
    DataValidationError
        Missing, unreadable or empty file; unknown suffix; unknown column; bad labels
        (:func:`to_binary_labels`); bad features (:func:`validate_features`).
    ConfigError
        ``label_column`` given for an array file, or also listed in ``feature_columns``.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise DataValidationError(f"{where}: file not found; expected a .mat, .npz, .csv, .tsv (optionally .gz) or "
                                  f".parquet file. Fix the path (relative paths are read from {Path.cwd()}).")
    if isinstance(na_values, str):
        na_values = [na_values]
    na_list = [] if na_values is None else [str(v) for v in na_values]
    if feature_columns is not None:
        if isinstance(feature_columns, str):
            raise ConfigError(f"read_table: feature_columns must be a list of column names; got the string "
                              f"{feature_columns!r}. Pass [{feature_columns!r}] for one column.")
        feature_columns = list(feature_columns)
        dup = sorted({str(c) for c in feature_columns if feature_columns.count(c) > 1})
        if dup:
            raise ConfigError(f"read_table: feature_columns must list each column once; got {dup} more than once.")
    fmt = _suffix(path)
    if fmt in ARRAY_SUFFIXES:
        if label_column is not None:
            raise ConfigError(f"read_table: label_column applies to tables only; got label_column={label_column!r} "
                              f"for the {fmt} file {where}, whose labels are its array 'y'. Remove label_column.")
        X, y_raw = _read_mat(path, where) if fmt == ".mat" else _read_npz(path, where)
        df = as_feature_frame(X, where)
        if y_raw is not None and len(np.asarray(y_raw).reshape(-1)) != len(df):
            raise DataValidationError(f"{where}: 'y' must hold one label per row of 'X'; got {np.asarray(y_raw).size} "
                                      f"labels for {len(df)} rows. Fix the file.")
        y = None if y_raw is None else to_binary_labels(y_raw, f"{where}: array 'y'", positive_label)
        if feature_columns is not None:
            df = _select(df, feature_columns, where)
    elif fmt in TABLE_SUFFIXES or (fmt.endswith(".gz") and fmt[:-3] in TABLE_SUFFIXES):
        df = _read_delimited(path, TABLE_SUFFIXES[fmt.replace(".gz", "")], na_list, where)
        df, y = _split_label(df, label_column, feature_columns, positive_label, where)
    elif fmt in PARQUET_SUFFIXES:
        df = _read_parquet(path, na_list, where)
        df, y = _split_label(df, label_column, feature_columns, positive_label, where)
    else:
        raise DataValidationError(f"{where}: unknown file type {fmt or '(no suffix)'!r}; expected .mat, .npz, .csv, "
                                  f".tsv, .csv.gz, .tsv.gz or .parquet. Rename or convert the file.")
    validate_features(df, where, max_categories)
    return df, y


def _read_delimited(path: Path, sep: str, na_values: List[str], where: str) -> "pandas.DataFrame":
    pd = _pd()
    try:
        return pd.read_csv(path, sep=sep, na_values=na_values, keep_default_na=True, compression="infer")
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{where}: the file is empty (no header, no rows). Point it to a table with a "
                                  f"header row and one row per record.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DataValidationError(f"{where}: cannot be read as a {'comma' if sep == ',' else 'tab'}-separated table "
                                  f"({exc}). Check the separator matches the suffix (.csv: comma, .tsv: tab) and "
                                  f"that a .gz file is gzip-compressed.") from exc


def _read_parquet(path: Path, na_values: List[str], where: str) -> "pandas.DataFrame":
    from ..tables import read_parquet

    pd = _pd()
    df = read_parquet(path, where)
    if na_values:  # Parquet has real nulls; text markers such as "?" are mapped as read_csv does
        for c in df.columns:
            if pd.api.types.is_object_dtype(df[c]) or pd.api.types.is_string_dtype(df[c]):
                df[c] = df[c].mask(df[c].isin(na_values))
    return df


def _load_npz(path: Path, where: str):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataValidationError(f"{where}: cannot be read as a numpy .npz archive ({exc}). Check the file (ADBench "
                                  f"files hold numeric arrays 'X' and 'y').") from exc


def _read_npz(path: Path, where: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """ADBench ``.npz``: ``X`` ``(N, F)`` and (optionally) ``y`` ``(N,)``."""
    with _load_npz(path, where) as z:
        keys = list(z.files)
        xk, yk = _array_key(keys, "X"), _array_key(keys, "y")
        if xk is None:
            raise DataValidationError(f"{where}: no array 'X' (the features); the archive holds {keys}. Save the "
                                      f"features as 'X' (np.savez(path, X=X, y=y)).")
        try:
            X = z[xk]
            y = z[yk] if yk is not None else None
        except ValueError as exc:  # object arrays need pickle, which we do not load
            raise DataValidationError(f"{where}: the arrays must be numeric ({exc}). Save numeric arrays (object "
                                      f"arrays are not read, since loading them would run pickled code).") from exc
    return X, y


def _array_key(keys: Sequence[str], name: str) -> Optional[str]:
    """``name`` if present, else the one key equal to it in any case."""
    if name in keys:
        return name
    same = [k for k in keys if k.lower() == name.lower()]
    return same[0] if len(same) == 1 else None


def _read_mat(path: Path, where: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """ODDS ``.mat``: ``X`` ``(N, F)`` and ``y`` ``(N, 1)``; v7.3 (HDF5) through h5py."""
    require("scipy", "anomaly")
    from scipy.io import loadmat
    from scipy.io.matlab import matfile_version

    try:
        major, _ = matfile_version(str(path))
    except Exception as exc:  # scipy raises MatReadError, ValueError, ... for non-MAT files
        raise DataValidationError(f"{where}: not a MATLAB .mat file ({exc}). Check the file.") from exc
    if major == 2:
        return _read_mat_hdf5(path, where)
    try:
        mat = loadmat(str(path))
    except Exception as exc:
        raise DataValidationError(f"{where}: cannot be read by scipy.io.loadmat ({exc}). Check the file.") from exc
    keys = [k for k in mat if not k.startswith("__")]
    xk, yk = _array_key(keys, "X"), _array_key(keys, "y")
    if xk is None:
        raise DataValidationError(f"{where}: no variable 'X' (the features); the file holds {keys}. ODDS files hold "
                                  f"'X' (N x F) and 'y' (N x 1).")
    X = mat[xk]
    if hasattr(X, "toarray"):  # a few ODDS sets are stored as sparse matrices
        X = X.toarray()
    y = mat[yk] if yk is not None else None
    if y is not None and hasattr(y, "toarray"):
        y = y.toarray()
    return np.asarray(X), (None if y is None else np.asarray(y))


def _read_mat_hdf5(path: Path, where: str) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    convert = ("or convert it to a v7 MAT file, in MATLAB: load('f.mat'); save('f_v7.mat', 'X', 'y', '-v7'), or in "
               "Python: scipy.io.savemat('f_v7.mat', {'X': X, 'y': y}) after reading it with h5py.")
    try:
        import h5py
    except ImportError:
        raise DataValidationError(f"{where}: is a MATLAB v7.3 file, which is HDF5 and cannot be read by "
                                  f"scipy.io.loadmat. Install h5py (pip install h5py) to read it, {convert}") from None
    try:
        with h5py.File(path, "r") as f:
            keys = list(f.keys())
            xk, yk = _array_key(keys, "X"), _array_key(keys, "y")
            if xk is None:
                raise DataValidationError(f"{where}: no variable 'X' (the features) in this MATLAB v7.3 (HDF5) file; "
                                          f"it holds {keys}.")
            # MATLAB stores arrays column-major: h5py sees them transposed.
            X = np.asarray(f[xk]).T
            y = np.asarray(f[yk]).T if yk is not None else None
    except OSError as exc:
        raise DataValidationError(f"{where}: a MATLAB v7.3 (HDF5) file that h5py cannot read ({exc}); "
                                  f"{convert}") from exc
    return X, y


def _select(df: "pandas.DataFrame", columns: List[Hashable], where: str) -> "pandas.DataFrame":
    for c in columns:
        if c not in df.columns:
            raise DataValidationError(f"{where}: feature_columns names {c!r}, which is not a column; "
                                      f"{_close(c, list(df.columns))} Fix feature_columns.")
    return df.loc[:, columns]


def _split_label(df: "pandas.DataFrame", label_column: Optional[str], feature_columns: Optional[List[Hashable]],
                 positive_label: Any, where: str) -> Tuple["pandas.DataFrame", Optional[np.ndarray]]:
    """(features, labels) of a table: find the label column, then select the features."""
    cols = list(df.columns)
    if label_column is not None:
        if label_column not in cols:
            raise DataValidationError(f"{where}: no label column {label_column!r}; {_close(label_column, cols)} Set "
                                      f"label_column to the column that marks anomalies (or None for no labels).")
        if feature_columns is not None and label_column in feature_columns:
            raise ConfigError(f"read_table: label_column {label_column!r} is also in feature_columns; the label "
                              f"must not be a feature. Remove it from feature_columns.")
        label = label_column
    else:
        found = [c for c in cols if str(c).strip().lower() in LABEL_NAMES
                 and (feature_columns is None or c not in feature_columns)]
        if len(found) > 1:
            raise DataValidationError(f"{where}: more than one column looks like the label: {_show(found)} (names "
                                      f"{', '.join(LABEL_NAMES)}). Set label_column to the one that marks anomalies "
                                      f"(the others are then features, or leave them out with feature_columns).")
        label = found[0] if found else None
    y = None
    if label is not None:
        y = to_binary_labels(df[label].to_numpy(), f"{where}: label column {label!r}", positive_label)
        df = df.drop(columns=[label])
    if feature_columns is not None:
        df = _select(df, feature_columns, where)
    return df.reset_index(drop=True), y


# ====================================================================== embedded and benchmark data
def breast_cancer_data(contamination: float = 0.1, seed: int = 0) -> Tuple["pandas.DataFrame", np.ndarray]:
    """The embedded default: Wisconsin Diagnostic Breast Cancer as an anomaly-detection set.

    The data ship inside scikit-learn (:func:`sklearn.datasets.load_breast_cancer`, 569
    records x 30 real-valued features of cell nuclei; no download). As in the outlier
    benchmarks built from it (Campos et al. 2016, "On the evaluation of unsupervised outlier
    detection", DAMI 30:891-927; ADBench's ``WDBC``, Han et al. 2022, keeps all 357 benign
    records and 10 malignant ones), every **benign** record is an inlier and the **malignant**
    records (scikit-learn target 0) are the anomalies, subsampled at random so that they make
    up ``contamination`` of the result: ``round(contamination * 357 / (1 - contamination))``
    of them, e.g. 40 of 397 rows at 0.1. Rows keep the order of the original data.

    Parameters
    ----------
    contamination : float
        Target share of anomalies, in (0, 1); at most about 0.37 (all 212 malignant records)
        and at least about 0.0014 (one).
    seed : int
        Seed of the subsample of malignant records (the result depends on nothing else).

    Returns
    -------
    features : DataFrame ``(N, 30)``
        scikit-learn's feature names (``"mean radius"``, ...), index ``0 .. N-1``.
    labels : ndarray of int64 ``(N,)``
        1 = malignant (anomaly), 0 = benign.

    Raises
    ------
    ConfigError
        ``contamination`` outside the reachable range, or ``seed`` not a non-negative integer.
    """
    require("sklearn", "anomaly")
    from sklearn.datasets import load_breast_cancer

    if isinstance(contamination, bool) or not isinstance(contamination, (int, float, np.floating)) \
            or not 0.0 < float(contamination) < 1.0:
        raise ConfigError(f"breast_cancer_data: contamination must be a fraction in (0, 1); got {contamination!r}. "
                          f"Use e.g. 0.1.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"breast_cancer_data: seed must be a non-negative integer; got {seed!r}.")
    bunch = load_breast_cancer(as_frame=True)
    target = bunch.target.to_numpy()
    benign = np.flatnonzero(target == 1)
    malignant = np.flatnonzero(target == 0)
    c = float(contamination)
    n_anomalies = int(math.floor(c * len(benign) / (1.0 - c) + 0.5))
    if not 1 <= n_anomalies <= len(malignant):
        lo = 0.5 / (len(benign) + 0.5)
        hi = len(malignant) / (len(benign) + len(malignant))
        raise ConfigError(f"breast_cancer_data: contamination={contamination!r} asks for {n_anomalies} malignant "
                          f"records next to the {len(benign)} benign ones; there are {len(malignant)}. Use a "
                          f"contamination between {lo:.4f} and {hi:.4f}.")
    rng = np.random.default_rng(int(seed))
    chosen = rng.choice(malignant, size=n_anomalies, replace=False)
    rows = np.sort(np.concatenate([benign, chosen]))
    X = bunch.data.iloc[rows].reset_index(drop=True)
    y = (target[rows] == 0).astype(np.int64)
    return X, y


def load_adbench_dir(root: Union[str, Path]) -> Dict[str, Path]:
    """The ADBench ``.npz`` files of a folder, by data-set name.

    ADBench names its files ``<number>_<name>.npz`` (e.g. ``6_cardio.npz``); the key is the
    name without the number (``cardio``), as in :data:`MEDICAL` and :data:`OTHER`. Files are
    listed in the order of their numbers. Read one with :func:`read_table`.

    Parameters
    ----------
    root : str or Path
        The folder (e.g. ADBench's ``datasets/Classical``).

    Returns
    -------
    dict of str -> Path

    Raises
    ------
    DataValidationError
        ``root`` is not a folder, holds no ``.npz`` file, or two files have the same name.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataValidationError(f"{root}: not a folder; expected a folder of ADBench .npz files (e.g. "
                                  f"ADBench's datasets/Classical). Fix the path.")

    def order(p: Path) -> Tuple[float, str]:
        m = re.match(r"^(\d+)_", p.stem)
        return (float(m.group(1)) if m else math.inf, p.stem)

    out: Dict[str, Path] = {}
    for p in sorted(root.glob("*.npz"), key=order):
        name = re.sub(r"^\d+_", "", p.stem)
        if name in out:
            raise DataValidationError(f"{root}: two files hold the data set {name!r}: {out[name].name} and {p.name}. "
                                      f"Remove one.")
        out[name] = p
    if not out:
        raise DataValidationError(f"{root}: holds no .npz file; expected ADBench files such as 6_cardio.npz. Fix the "
                                  f"path.")
    return out


# ---------------------------------------------------------------------------- the pipeline's data
@dataclass(frozen=True)
class AnomalyDataConfig:
    """The ``data`` section of an anomaly-detection run config.

    Attributes
    ----------
    path : str, optional
        A table (``.csv``, ``.tsv``, ``.parquet``, ODDS ``.mat``, ADBench ``.npz``; see
        :func:`read_table`). ``None``: the embedded breast-cancer default
        (:func:`breast_cancer_data`).
    label_column : str, optional
        The 0/1 (or two-valued, with ``positive_label``) anomaly label of a CSV/parquet table.
    positive_label : str or int, optional
        The label value that marks an anomaly when the labels are not 0/1.
    feature_columns : list of str, optional
        Use only these columns as features.
    categorical_columns : list of str, optional
        Columns to one-hot (default: the non-numeric ones).
    preprocessing : {"quantile", "standard", "minmax", "none"}
        Scaling of numeric columns, fitted on the train split.
    test_fraction, val_fraction : float
        Stratified held-out shares: ``test`` of all rows, ``val`` of the rest.
    contamination : float
        Share of anomalies in the embedded default (ignored with ``path``).
    data_seed : int, optional
        Seed of the splits (default: the run's seed).
    """

    path: Optional[str] = None
    label_column: Optional[str] = None
    positive_label: Optional[Union[str, int]] = None
    feature_columns: Optional[List[str]] = None
    categorical_columns: Optional[List[str]] = None
    preprocessing: str = "standard"
    test_fraction: float = 0.3
    val_fraction: float = 0.1
    contamination: float = 0.1
    data_seed: Optional[int] = None

    def validate(self, path: str = "data") -> None:
        from .preprocess import SCALINGS

        if self.preprocessing not in SCALINGS:
            raise ConfigError(f"{path}.preprocessing: must be one of {', '.join(SCALINGS)}; got "
                              f"{self.preprocessing!r}.")
        if not 0 < self.test_fraction < 1:
            raise ConfigError(f"{path}.test_fraction: must lie in (0, 1); got {self.test_fraction!r}.")
        if not 0 <= self.val_fraction < 1:
            raise ConfigError(f"{path}.val_fraction: must lie in [0, 1); got {self.val_fraction!r}.")
        if not 0 < self.contamination < 0.5:
            raise ConfigError(f"{path}.contamination: must lie in (0, 0.5); got {self.contamination!r}.")


def load_anomaly(cfg: AnomalyDataConfig, seed: int):
    """Read, split (stratified when labelled), preprocess (fitted on train) and wrap a table.

    Items are ``(index, x (d,), None, y)`` with ``y`` the 0/1 label (kept for evaluation,
    never seen by the model); training uses the contaminated train split, as in practice.

    Returns
    -------
    DataBundle
        ``info.extra`` holds ``preprocessor`` (:meth:`TabularPreprocessor.state`),
        ``source`` and the anomaly counts per split.
    """
    from sklearn.model_selection import train_test_split

    from vaekit.core.data import ArrayDataset, collate_arrays
    from vaekit.core.types import DataBundle, DataInfo

    from .preprocess import TabularPreprocessor

    if cfg.path is None:
        df, y = breast_cancer_data(contamination=cfg.contamination, seed=0)
        source = "sklearn breast-cancer (embedded default)"
        if cfg.feature_columns:
            df = df[list(cfg.feature_columns)]
    else:
        df, y = read_table(cfg.path, label_column=cfg.label_column, feature_columns=cfg.feature_columns,
                           positive_label=cfg.positive_label)
        source = str(cfg.path)
    s = seed if cfg.data_seed is None else cfg.data_seed
    idx = np.arange(len(df))
    strat = y if y is not None and np.bincount(y, minlength=2).min() >= 2 else None
    tr, te = train_test_split(idx, test_size=cfg.test_fraction, random_state=s, shuffle=True, stratify=strat)
    va = np.array([], dtype=np.int64)
    if cfg.val_fraction > 0:
        strat_tr = None if strat is None or np.bincount(y[tr], minlength=2).min() < 2 else y[tr]
        tr, va = train_test_split(tr, test_size=cfg.val_fraction, random_state=s, shuffle=True, stratify=strat_tr)
    pre = TabularPreprocessor(cfg.preprocessing, cfg.categorical_columns, random_state=s)
    where = f"data ({source})"
    pre.fit(df.iloc[tr], where)

    def ds(rows):
        if len(rows) == 0:
            return None
        return ArrayDataset(pre.transform(df.iloc[rows], where), y=None if y is None else y[rows], where=where)

    counts = {}
    if y is not None:
        counts = {name: int(y[rows].sum()) for name, rows in (("train", tr), ("val", va), ("test", te))}
    info = DataInfo(kind="vector", shape=(len(pre.output_names_),), likelihood="gaussian", n_train=len(tr),
                    extra={"source": source, "preprocessor": pre.state(), "labelled": y is not None,
                           "n_anomalies": counts})
    return DataBundle(train=ds(tr), val=ds(va), test=ds(te), info=info, collate=collate_arrays)
