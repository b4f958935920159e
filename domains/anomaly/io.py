"""Read anomaly-detection data: benchmark arrays and user tables, as features and 0/1 labels.

Pipeline of :func:`read_table`:

1. **Read** the file by its suffix: ODDS ``.mat`` (``scipy.io.loadmat``, arrays ``X``
   ``(N, F)`` and ``y`` ``(N, 1)``; MATLAB v7.3 files are HDF5 and are read with ``h5py`` when
   it is installed, else the error says how to convert them), ADBench ``.npz`` (arrays ``X``
   and ``y``), ``.csv``/``.tsv``/``.tab`` (optionally ``.gz``) and ``.parquet`` (pandas).
   Arrays become a DataFrame with columns ``x0 .. x{F-1}``; tables keep their column names.
   Cells equal to one of ``na_values`` (default ``"?"``, ``"NA"``, empty) are read as missing.
2. **Labels**: the column ``label_column``, else the one column named ``label``, ``y``,
   ``class``, ``outlier`` or ``anomaly`` (any case), else none (``y`` is ``None``). Labels are
   returned as int64 ``0``/``1`` with **1 = anomaly** (:func:`~.features.to_binary_labels`).
3. **Features**: ``feature_columns`` if given, else every other column; then
   :func:`~.features.validate_features` checks them.

Nothing is dropped: a row or column that breaks a rule is an error that names the file,
the column, the rule, the values that broke it and the fix (DESIGN.md section 8).

Also here: :func:`breast_cancer_data`, the embedded default data set (Wisconsin Diagnostic
Breast Cancer from scikit-learn, no download), and :func:`load_adbench_dir`, which lists the
ADBench ``.npz`` files of a folder by data-set name (:data:`MEDICAL`, :data:`OTHER`).
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Hashable, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, require

from ..io import PARQUET_SUFFIXES, check_file, close_names, delimiter_of, find_column, format_of, read_delimited
from .features import DEFAULT_NA_VALUES, MAX_CATEGORIES, as_feature_frame, option, to_binary_labels, validate_features

if TYPE_CHECKING:  # pragma: no cover
    import pandas

# ADBench "Classical" data sets (Han et al. 2022, Table 1), by the name in their file names: the
# 35 of the shared data (9 medical, 26 other).
MEDICAL = ("breastw", "cardio", "Hepatitis", "Lymphography", "mammography", "thyroid", "WBC", "WDBC", "WPBC")
OTHER = ("ALOI", "campaign", "celeba", "cover", "donors", "fault", "glass", "http", "InternetAds", "Ionosphere",
         "landsat", "letter", "magic.gamma", "mnist", "musk", "optdigits", "pendigits", "satellite", "satimage-2",
         "shuttle", "skin", "smtp", "SpamBase", "vowels", "Waveform", "wine")


def development_halves(names) -> "tuple[list, list]":
    """The fixed split of ADBench sets into a *selection* half (defaults are chosen on it) and a
    *confirmation* half (they are checked on it), decided before any result on the 35 sets was
    seen: within the medical sets and within the others, the names sorted case-insensitively go
    alternately to selection (1st, 3rd, ...) and confirmation (2nd, 4th, ...). A name in neither
    group (a user's own table) goes with the others. 35 sets: 18 + 17 (medical 5 + 4)."""
    selection, confirmation = [], []
    medical = [n for n in names if n in MEDICAL]
    for group in (medical, [n for n in names if n not in MEDICAL]):
        for i, n in enumerate(sorted(group, key=str.lower)):
            (selection if i % 2 == 0 else confirmation).append(n)
    return selection, confirmation

LABEL_NAMES = ("label", "y", "class", "outlier", "anomaly")  # label columns found without label_column
ARRAY_SUFFIXES = (".mat", ".npz")


def _pd():
    return require("pandas", "anomaly")


def read_table(path: Union[str, Path], label_column: Optional[str] = None,
               feature_columns: Optional[Sequence[Hashable]] = None,
               na_values: Iterable[str] = DEFAULT_NA_VALUES, positive_label: Any = None, *,
               max_categories: int = MAX_CATEGORIES,
               categorical_columns: Optional[Sequence[Hashable]] = None) -> Tuple["pandas.DataFrame",
                                                                                  Optional[np.ndarray]]:
    """Read an anomaly-detection table: features and (if present) 0/1 labels.

    :func:`read_labelled_table` does the same and also says where the labels came from.

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
    categorical_columns : sequence of column names, optional
        Features that are categorical whatever their values (see :func:`validate_features`),
        e.g. a column of codes that mixes numbers and text.

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
    df, y, _ = read_labelled_table(path, label_column, feature_columns, na_values, positive_label,
                                   max_categories=max_categories, categorical_columns=categorical_columns)
    return df, y


def read_labelled_table(path: Union[str, Path], label_column: Optional[str] = None,
                        feature_columns: Optional[Sequence[Hashable]] = None,
                        na_values: Iterable[str] = DEFAULT_NA_VALUES, positive_label: Any = None, *,
                        max_categories: int = MAX_CATEGORIES,
                        categorical_columns: Optional[Sequence[Hashable]] = None
                        ) -> Tuple["pandas.DataFrame", Optional[np.ndarray], Optional[str]]:
    """:func:`read_table`, and where its labels came from (for messages about them).

    Returns
    -------
    features, labels
        As :func:`read_table`.
    label_source : str or None
        ``"label column 'status'"`` or ``"array 'y'"``; ``None`` without labels.
    """
    where = str(path)
    path = check_file(Path(path), where, "a .mat, .npz, .csv, .tsv, .tab (optionally .gz) or .parquet file")
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
            raise ConfigError(f"{where}: {option('feature_columns', 'read_table(feature_columns=...)')} must list "
                              f"each column once; got {dup} more than once. Remove the repeats.")
    fmt, gz = format_of(path)
    if gz and delimiter_of(fmt) is None:  # only text tables are read through gzip
        fmt += ".gz"
    if fmt in ARRAY_SUFFIXES:
        if label_column is not None:
            raise ConfigError(f"{where}: label_column applies to tables only; got {label_column!r} for this {fmt} "
                              f"file, whose labels are its array 'y'. Remove "
                              f"{option('label_column', 'read_table(label_column=...)')}.")
        X, y_raw = _read_mat(path, where) if fmt == ".mat" else _read_npz(path, where)
        df = as_feature_frame(X, where)
        if y_raw is not None and len(np.asarray(y_raw).reshape(-1)) != len(df):
            raise DataValidationError(f"{where}: 'y' must hold one label per row of 'X'; got {np.asarray(y_raw).size} "
                                      f"labels for {len(df)} rows. Fix the file.")
        y = None if y_raw is None else to_binary_labels(y_raw, f"{where}: array 'y'", positive_label)
        source = None if y is None else "array 'y'"
        if feature_columns is not None:
            df = select_columns(df, feature_columns, where)
    elif delimiter_of(fmt) is not None:
        df = read_delimited(path, delimiter_of(fmt), where, extra="anomaly", na_values=na_list, keep_default_na=True)
        df, y, source = _split_label(df, label_column, feature_columns, positive_label, where)
    elif fmt in PARQUET_SUFFIXES:
        df = _read_parquet(path, na_list, where)
        df, y, source = _split_label(df, label_column, feature_columns, positive_label, where)
    else:
        raise DataValidationError(f"{where}: unknown file type {fmt or '(no suffix)'!r}; expected .mat, .npz, .csv, "
                                  f".tsv, .tab (each optionally .gz) or .parquet. Rename or convert the file.")
    validate_features(df, where, max_categories, categorical_columns)
    return df, y, source


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


def select_columns(df: "pandas.DataFrame", columns: List[Hashable], where: str) -> "pandas.DataFrame":
    """The ``columns`` of ``df``, in that order; a name that is not a column is an error naming
    ``data.feature_columns``."""
    for c in columns:
        if c not in df.columns:
            raise DataValidationError(f"{where}: feature_columns names {c!r}, which is not a column; "
                                      f"{close_names(c, list(df.columns))} Fix {option('feature_columns')}.")
    return df.loc[:, columns]


def _split_label(df: "pandas.DataFrame", label_column: Optional[str], feature_columns: Optional[List[Hashable]],
                 positive_label: Any, where: str) -> Tuple["pandas.DataFrame", Optional[np.ndarray], Optional[str]]:
    """(features, labels, label source) of a table: find the label column, then select the features."""
    # Without label_column, a column listed in feature_columns is a feature, never the label.
    cols = [c for c in df.columns if label_column is not None or feature_columns is None or c not in feature_columns]
    label = find_column(cols, LABEL_NAMES, role="label", key=option("label_column"), where=where,
                        given=label_column, required=False)
    if label_column is not None and feature_columns is not None and label_column in feature_columns:
        raise ConfigError(f"{where}: the label column {label_column!r} is also in feature_columns; the label "
                          f"must not be a feature. Remove it from {option('feature_columns')}.")
    y = None
    if label is not None:
        y = to_binary_labels(df[label].to_numpy(), f"{where}: label column {label!r}", positive_label)
        df = df.drop(columns=[label])
    if feature_columns is not None:
        df = select_columns(df, feature_columns, where)
    return df.reset_index(drop=True), y, None if label is None else f"label column {label!r}"


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


__all__ = ["MEDICAL", "OTHER", "development_halves", "LABEL_NAMES", "DEFAULT_NA_VALUES", "ARRAY_SUFFIXES", "read_table",
           "read_labelled_table", "select_columns", "breast_cancer_data", "load_adbench_dir"]
