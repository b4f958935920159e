"""Recommendation data (implicit feedback): read interaction logs, binarise, filter, index and split them.

Pipeline:

1. :func:`read_interactions` reads a log into a DataFrame with the canonical columns ``user``,
   ``item`` and, when the file has them, ``rating`` (float64) and ``time`` (int64 or float64).
   Formats, detected by file name and first line (optionally ``.gz``): MovieLens-1M/10M
   ``ratings.dat`` (``user::item::rating::timestamp``, no header), MovieLens-20M/25M
   ``ratings.csv`` (header ``userId,movieId,rating,timestamp``), MovieLens-100K ``u.data``
   (tab, no header), RecBole atomic ``.inter`` files (tab, header ``name:type``) and any
   CSV/TSV/Parquet table with configurable or commonly named columns.
2. :func:`binarize` keeps the positives (rating ``>= threshold``) once per ``(user, item)``
   pair; :func:`filter_min_counts` drops rare items, then inactive users (Liang et al. 2018,
   ``filter_triplets``).
3. :class:`Interactions` is the users x items CSR matrix of positives with the original ids of
   its rows and columns.
4. Splits: :func:`strong_generalization_split` (held-out *users*, fold-in/target per held-out
   user, exactly the preprocessing of Liang et al. 2018, "Variational Autoencoders for
   Collaborative Filtering", WWW), :func:`leave_last_out_split` (temporal, per user) and
   :func:`load_diffrec` (the fixed splits DiffRec, Wang et al. 2023, ships as ``.npy`` pairs).

:func:`synthetic_interactions` generates a seeded, structured log (genres, popularity, tastes)
in the shape of ``ratings.csv``: the embedded default when no data set is given.

Rows are never dropped silently: a read error names the file, the column, the first offending
rows and the fix (DESIGN.md section 8); steps that drop rows by design (binarisation, the
minimum counts, unseen target items) count what they drop, warn once or report it in the
split's ``summary()``.
"""
from __future__ import annotations

import gzip
import io
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, fmt_error, require
from vaekit.core.registry import did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import scipy.sparse

# Column names recognised without user_col / item_col / rating_col / time_col (any case).
USER_NAMES = ("user", "userid", "user_id", "uid")
ITEM_NAMES = ("item", "itemid", "movieid", "item_id", "iid", "movie_id")
RATING_NAMES = ("rating", "score", "value")
TIME_NAMES = ("timestamp", "time", "ts")
CANONICAL = ("user", "item", "rating", "time")
# Headerless files hold, by position: user, item, rating, time (ratings.dat, u.data).
HEADERLESS_NAMES = ("ratings.dat", "u.data")
RECBOLE_TYPE = re.compile(r"^(?P<name>.+):(?:token|token_seq|float|float_seq)$")
PARQUET_SUFFIXES = (".parquet", ".pq")
MIN_ITEMS_FOR_TARGET = 5  # Liang et al.'s split_train_test_proportion: fewer -> all fold-in
_N_SHOWN = 5


def _pd():
    return require("pandas", "recsys")


def _sparse():
    require("scipy", "recsys")
    import scipy.sparse as sp

    return sp


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _show(items: Sequence[Any], n: int = _N_SHOWN) -> str:
    """``[a, b, c, ...]`` with at most ``n`` items and the total when some are left out."""
    items = list(items)
    shown = ", ".join(repr(_plain(v)) for v in items[:n])
    return f"[{shown}, ... ({len(items)} in all)]" if len(items) > n else f"[{shown}]"


def _rows(positions: np.ndarray) -> str:
    """0-based positions as the message's 1-based data-row numbers."""
    return _show((np.asarray(positions) + 1).tolist())


def _check_int(value: Any, name: str, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(fmt_error(where, f"{name} must be an integer >= {minimum}", value,
                                    f"Pass e.g. {name}={max(minimum, 1)}."))
    return int(value)


def _check_frame(df: Any, columns: Sequence[str], where: str) -> "pandas.DataFrame":
    pd = _pd()
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(fmt_error(where, "interactions must be a pandas DataFrame", type(df).__name__,
                                            "Pass the frame read_interactions returns."))
    missing = [c for c in columns if c not in df.columns]
    if missing:
        hint = did_you_mean(missing[0], [str(c) for c in df.columns])
        raise DataValidationError(fmt_error(where, f"the frame needs the column(s) {list(columns)}, missing "
                                                   f"{missing}", list(df.columns),
                                            f"Rename the columns (read_interactions returns user, item, rating, "
                                            f"time).{hint}"))
    return df


# ====================================================================== reading
def read_interactions(path: Union[str, Path], user_col: Optional[Union[str, int]] = None,
                      item_col: Optional[Union[str, int]] = None, rating_col: Optional[Union[str, int]] = None,
                      time_col: Optional[Union[str, int]] = None, sep: Optional[str] = None) -> "pandas.DataFrame":
    """Read an interaction log into canonical columns ``user``, ``item`` (+ ``rating``, ``time``).

    Formats, optionally gzip-compressed (``.gz``):

    * MovieLens-1M/10M ``ratings.dat``: ``user::item::rating::timestamp``, no header (any file
      whose first line contains ``::`` is read this way);
    * MovieLens-20M/25M ``ratings.csv``: header ``userId,movieId,rating,timestamp``;
    * MovieLens-100K ``u.data``: tab separated, no header, ``user item rating timestamp``;
    * RecBole atomic ``.inter`` files: tab separated, header ``name:type`` (e.g.
      ``user_id:token``); the ``:type`` suffixes are removed from the column names;
    * any CSV/TSV (separator from the suffix or the first line, or ``sep``) or Parquet table.

    A text file has a header unless it is named ``ratings.dat``/``u.data`` or its first line
    holds only numbers; a headerless file's columns are, by position, user, item, rating,
    time, and ``*_col`` may then be column positions (ints): the roles not given take the
    remaining positions in that order. Columns not named are found by
    their (case-insensitive) name: user ``user/userId/user_id/uid``, item
    ``item/itemId/movieId/item_id/iid/movie_id``, rating ``rating/score/value``, time
    ``timestamp/time/ts``; rating and time are optional, user and item are required.

    Ids keep the type pandas infers: integer ids stay integers, text ids stay strings (ids
    that look like numbers are read as numbers, so leading zeros are lost). Duplicate
    ``(user, item)`` pairs are kept (:func:`binarize` removes them).

    Parameters
    ----------
    path : str or Path
        The file.
    user_col, item_col, rating_col, time_col : str or int, optional
        Column names (with or without a RecBole ``:type`` suffix) or, for headerless files,
        0-based positions.
    sep : str, optional
        Field separator of a text file (e.g. ``","``, ``"\\t"``, ``"::"``); detected when
        ``None``.

    Returns
    -------
    DataFrame ``(N, 2..4)``
        Columns ``user``, ``item`` and, when present, ``rating`` (float64) and ``time``
        (int64 or float64; date strings become int64 seconds since 1970), index ``0 .. N-1``,
        rows in file order.

    Raises
    ------
    DataValidationError
        Missing, empty or unreadable file; a named column that does not exist; no user or
        item column; missing user/item ids (the rows are named); ratings or times that are
        missing or not numbers (the first offending row and value are named).
    MissingDependencyError
        A Parquet file without pyarrow (or fastparquet) installed.
    """
    pd = _pd()
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise DataValidationError(fmt_error(where, "file not found", str(path),
                                            f"Fix the path (relative paths are read from {Path.cwd()})."))
    name = path.name.lower()
    gz = name.endswith(".gz")
    base = name[:-3] if gz else name
    ext = Path(base).suffix
    if ext in PARQUET_SUFFIXES:
        if gz:
            raise DataValidationError(fmt_error(where, "a Parquet file cannot be gzip-compressed as a whole", name,
                                                "Decompress it (Parquet compresses its columns itself)."))
        df, headerless = _read_parquet(path, where), False
    else:
        df, headerless = _read_text(path, gz, base, ext, sep, where)
    if len(df) == 0:
        raise DataValidationError(fmt_error(where, "the file has no interaction rows", f"columns {list(df.columns)}",
                                            "Point it to a log with one row per interaction."))
    cols = list(df.columns)
    specs = (("user", user_col, USER_NAMES, True), ("item", item_col, ITEM_NAMES, True),
             ("rating", rating_col, RATING_NAMES, False), ("time", time_col, TIME_NAMES, False))
    picked: Dict[str, Any] = {}
    for role, given, aliases, required in specs:  # the columns named by the caller first
        if given is not None:
            col = _resolve_column(cols, role, given, aliases, required, headerless, where)
            if col in picked.values():
                other = next(r for r, c in picked.items() if c == col)
                raise DataValidationError(fmt_error(where, f"the {role} and {other} columns must differ", col,
                                                    f"Pass {role}_col / {other}_col naming different columns."))
            picked[role] = col
    free = [c for c in cols if c not in picked.values()]
    for role, given, aliases, required in specs:  # then the others among the columns left
        if given is not None:
            continue
        if headerless:  # the remaining roles take the remaining positions in order
            if free:
                picked[role] = free.pop(0)
            elif required:
                raise DataValidationError(fmt_error(where, "a headerless file needs a user and an item column",
                                                    f"{len(cols)} column(s)", "Check the separator (pass sep=...)."))
        else:
            col = _resolve_column(free, role, None, aliases, required, headerless, where)
            if col is not None:
                picked[role] = col
                free.remove(col)
    picked = {role: picked[role] for role in CANONICAL if role in picked}
    out = pd.DataFrame({role: df[col].to_numpy() for role, col in picked.items()})
    for role in ("user", "item"):
        missing = np.flatnonzero(out[role].isna().to_numpy())
        if len(missing):
            raise DataValidationError(fmt_error(
                where, f"every row needs a {role} id; column {picked[role]!r} is missing in {len(missing)} of "
                       f"{len(out)} rows", f"rows {_rows(missing)} (1 = first data row)",
                "Fill in the ids or remove those rows."))
    if "rating" in out:
        out["rating"] = _numeric(out["rating"], f"{where}: rating column {picked['rating']!r}", dates=False)
    if "time" in out:
        out["time"] = _numeric(out["time"], f"{where}: time column {picked['time']!r}", dates=True)
    return out


def _open(path: Path, gz: bool):
    return gzip.open(path, "rt", encoding="utf-8", errors="replace") if gz else open(
        path, "r", encoding="utf-8", errors="replace")


def _first_line(path: Path, gz: bool, where: str) -> Optional[str]:
    try:
        with _open(path, gz) as f:
            for line in f:
                if line.strip():
                    return line.rstrip("\r\n")
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise DataValidationError(fmt_error(where, "cannot be read" + (" as gzip" if gz else ""), str(exc),
                                            "Check the file (a .gz file must be gzip-compressed).")) from exc
    return None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _read_text(path: Path, gz: bool, base: str, ext: str, sep: Optional[str],
               where: str) -> Tuple["pandas.DataFrame", bool]:
    """A delimited text log and whether it is headerless (columns named by position)."""
    pd = _pd()
    line = _first_line(path, gz, where)
    if line is None:
        raise DataValidationError(fmt_error(where, "the file is empty", "0 non-blank lines",
                                            "Point it to a log with one row per interaction."))
    if sep is None:
        if "::" in line:
            sep = "::"
        elif ext in (".tsv", ".inter", ".data") or "\t" in line:
            sep = "\t"
        elif "," in line:
            sep = ","
        elif ";" in line:
            sep = ";"
        else:
            sep = r"\s+"
    regex = len(sep) > 1 and sep != "::"  # pandas reads such separators as regular expressions
    fields = [t.strip() for t in (re.split(sep, line.strip()) if regex else line.split(sep))]
    headerless = ext != ".inter" and (base in HEADERLESS_NAMES or all(_is_number(t) for t in fields))
    header = None if headerless else 0
    compression = "gzip" if gz else None
    try:
        if sep == "::" and ":" not in line.replace("::", ""):
            # The C parser takes one-character separators only; "a::b" split on ":" gives
            # "a", "", "b", so the fields are the even columns (fast for ML-10M's 10M rows).
            k = len(fields)
            df = pd.read_csv(path, sep=":", header=None, skiprows=0 if headerless else 1,
                             usecols=list(range(0, 2 * k - 1, 2)), compression=compression, low_memory=False)
            df.columns = list(range(k)) if headerless else fields
        else:
            engine = "python" if len(sep) > 1 and sep != r"\s+" else "c"
            kw = {"low_memory": False} if engine == "c" else {}
            df = pd.read_csv(path, sep=sep, header=header, compression=compression, engine=engine, **kw)
    except pd.errors.EmptyDataError:
        raise DataValidationError(fmt_error(where, "the file is empty", "no rows",
                                            "Point it to a log with one row per interaction.")) from None
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DataValidationError(fmt_error(where, f"cannot be read as a {sep!r}-separated table", str(exc),
                                            "Check the file, or pass sep=... for its separator.")) from exc
    if not headerless:
        names = [str(c).strip() for c in df.columns]
        typed = [RECBOLE_TYPE.match(n) for n in names]
        if all(typed):  # RecBole atomic header: user_id:token, rating:float, ...
            names = [m.group("name") for m in typed]
        df.columns = names
    return df, headerless


def _read_parquet(path: Path, where: str) -> "pandas.DataFrame":
    from ..tables import read_parquet

    return read_parquet(path, where)


def _resolve_column(cols: List[Any], role: str, given: Any, aliases: Sequence[str], required: bool,
                    headerless: bool, where: str) -> Any:
    """The column holding ``role``: the one named (or, headerless, numbered) ``given``, else found by alias."""
    shown = _show(cols, 20)
    if given is not None:
        if headerless:
            if isinstance(given, (int, np.integer)) and not isinstance(given, bool) and 0 <= given < len(cols):
                return int(given)
            raise DataValidationError(fmt_error(where, f"{role}_col must be a column position (0 .. "
                                                       f"{len(cols) - 1}) for this headerless file", given,
                                                "Pass the 0-based position of the column, or add a header row."))
        if given in cols:
            return given
        stripped = RECBOLE_TYPE.match(str(given))
        if stripped and stripped.group("name") in cols:
            return stripped.group("name")
        raise DataValidationError(fmt_error(where, f"{role}_col names a column that does not exist; the columns "
                                                   f"are {shown}", given,
                                            f"Fix {role}_col.{did_you_mean(str(given), [str(c) for c in cols])}"))
    found = [c for c in cols if str(c).strip().lower() in aliases]
    if len(found) > 1:
        raise DataValidationError(fmt_error(where, f"more than one column looks like the {role} column", found,
                                            f"Pass {role}_col to choose one."))
    if found:
        return found[0]
    if required:
        raise DataValidationError(fmt_error(where, f"no {role} column (names {', '.join(aliases)}, any case); the "
                                                   f"columns are {shown}", None,
                                            f"Pass {role}_col=<the column of {role} ids> (a headerless file's first "
                                            f"row must hold only numbers; else add a header row)."))
    return None


def _numeric(s: "pandas.Series", where: str, dates: bool) -> "pandas.Series":
    """A rating/time column as float64 (int64 for integer times), failing on its first bad row."""
    pd = _pd()
    ptypes = pd.api.types
    if ptypes.is_bool_dtype(s.dtype) or not ptypes.is_numeric_dtype(s.dtype):
        num = pd.to_numeric(s, errors="coerce")
        bad = np.flatnonzero((num.isna() & s.notna()).to_numpy())
        if len(bad) and dates:
            for fmt in (None, "mixed"):  # date strings: seconds since 1970 (one format, else any)
                try:
                    t = pd.to_datetime(s, utc=True, format=fmt)
                except (ValueError, TypeError, OverflowError):
                    continue
                if not t.isna().any():
                    return ((t - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).astype("int64")
        if len(bad):
            i = bad[0]
            raise DataValidationError(fmt_error(
                where, f"values must be numbers; {len(bad)} of {len(s)} rows are not, the first is data row {i + 1}",
                _plain(s.iloc[i]), "Fix those rows, or name the right column with rating_col / time_col."))
        s = num
    missing = np.flatnonzero(s.isna().to_numpy())
    if len(missing):
        raise DataValidationError(fmt_error(where, f"every row needs a value; {len(missing)} of {len(s)} are missing",
                                            f"rows {_rows(missing)} (1 = first data row)",
                                            "Fill them in or remove those rows."))
    if ptypes.is_integer_dtype(s.dtype) and dates:
        return s.astype("int64")
    s = s.astype("float64")
    inf = np.flatnonzero(~np.isfinite(s.to_numpy()))
    if len(inf):
        raise DataValidationError(fmt_error(where, "values must be finite", f"{s.iloc[inf[0]]} in data row "
                                                                            f"{inf[0] + 1}", "Fix those rows."))
    return s


# ====================================================================== binarise / filter
def _check_threshold(df: "pandas.DataFrame", threshold: Any, where: str) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)) \
            or not math.isfinite(threshold):
        raise ConfigError(fmt_error(where, "threshold must be a finite number or None", threshold,
                                    "Pass e.g. threshold=4.0, or None for implicit data."))
    if "rating" not in df.columns:
        raise ConfigError(fmt_error(where, "a rating threshold needs a 'rating' column", list(df.columns),
                                    "Pass threshold=None for implicit data (every row is a positive)."))


def binarize(df: "pandas.DataFrame", threshold: Optional[float] = 4.0) -> "pandas.DataFrame":
    """Positive interactions: rows with ``rating >= threshold``, once per ``(user, item)`` pair.

    Parameters
    ----------
    df : DataFrame ``(N, 2..4)``
        Columns ``user``, ``item`` (+ ``rating``, ``time``), e.g. from :func:`read_interactions`.
    threshold : float or None
        Keep ratings ``>= threshold`` (4.0: the 4- and 5-star ratings of MovieLens). ``None``
        keeps every row (the log is already implicit feedback).

    Returns
    -------
    DataFrame ``(M, same columns)``
        The first row of each kept ``(user, item)`` pair, in input order, index ``0 .. M-1``.

    Raises
    ------
    ConfigError
        ``threshold`` given but ``df`` has no ``rating`` column, or not a finite number.
    DataValidationError
        ``df`` is not a frame with ``user`` and ``item`` columns.
    """
    df = _check_frame(df, ("user", "item"), "binarize")
    if threshold is not None:
        _check_threshold(df, threshold, "binarize")
        df = df.loc[df["rating"].to_numpy() >= threshold]
    return df.loc[~df.duplicated(["user", "item"])].reset_index(drop=True)


def filter_min_counts(df: "pandas.DataFrame", min_user: int = 5, min_item: int = 0) -> "pandas.DataFrame":
    """Drop items with fewer than ``min_item`` rows, then users with fewer than ``min_user`` rows.

    One pass, items first, as ``filter_triplets`` of Liang et al. (2018): after it some items
    may have fewer than ``min_item`` rows again (the reference does not iterate). Counts are
    rows, so pass deduplicated positives (:func:`binarize`). What is removed is reported in
    one warning.

    Parameters
    ----------
    df : DataFrame ``(N, ...)`` with columns ``user`` and ``item``
    min_user : int
        Smallest number of rows a user keeps (0: no user filter).
    min_item : int
        Smallest number of rows an item keeps (0: no item filter).

    Returns
    -------
    DataFrame ``(M, same columns)``
        The kept rows in input order, index ``0 .. M-1``.
    """
    df = _check_frame(df, ("user", "item"), "filter_min_counts")
    min_user = _check_int(min_user, "min_user", "filter_min_counts")
    min_item = _check_int(min_item, "min_item", "filter_min_counts")
    n0 = len(df)
    parts = []
    if min_item > 0:
        counts = df["item"].value_counts()
        rare = counts.index[counts.to_numpy() < min_item]
        keep = ~df["item"].isin(rare).to_numpy()
        if len(rare):
            parts.append(f"{len(rare)} items with fewer than {min_item} rows ({int((~keep).sum())} rows)")
        df = df.loc[keep]
    if min_user > 0:
        counts = df["user"].value_counts()
        rare = counts.index[counts.to_numpy() < min_user]
        keep = ~df["user"].isin(rare).to_numpy()
        if len(rare):
            parts.append(f"{len(rare)} users with fewer than {min_user} rows ({int((~keep).sum())} rows)")
        df = df.loc[keep]
    if parts:
        warnings.warn(f"filter_min_counts: removed {n0 - len(df)} of {n0} rows: " + ", then ".join(parts) + ".",
                      stacklevel=2)
    return df.reset_index(drop=True)


# ====================================================================== the matrix
@dataclass(eq=False)
class Interactions:
    """Positive interactions as a users x items matrix with the original ids.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix ``(n_users, n_items)``, float32
        1.0 per positive ``(user, item)`` pair, no explicit zeros.
    user_ids : ndarray ``(n_users,)``
        Original user id of each row.
    item_ids : ndarray ``(n_items,)``
        Original item id of each column.
    """

    matrix: "scipy.sparse.csr_matrix"
    user_ids: np.ndarray
    item_ids: np.ndarray

    def __post_init__(self) -> None:
        sp = _sparse()
        if not sp.issparse(self.matrix):
            raise DataValidationError(fmt_error("Interactions", "matrix must be a scipy.sparse matrix",
                                                type(self.matrix).__name__, "Use Interactions.from_frame(df)."))
        if not (sp.isspmatrix_csr(self.matrix) and self.matrix.dtype == np.float32):
            self.matrix = sp.csr_matrix(self.matrix, dtype=np.float32)
        self.user_ids = np.asarray(self.user_ids)
        self.item_ids = np.asarray(self.item_ids)
        if self.matrix.shape != (len(self.user_ids), len(self.item_ids)):
            raise DataValidationError(fmt_error(
                "Interactions", "matrix shape must be (len(user_ids), len(item_ids))",
                f"{self.matrix.shape} vs ({len(self.user_ids)}, {len(self.item_ids)})",
                "Pass one id per row and one per column."))

    @property
    def n_users(self) -> int:
        """Number of rows (users)."""
        return int(self.matrix.shape[0])

    @property
    def n_items(self) -> int:
        """Number of columns (items)."""
        return int(self.matrix.shape[1])

    @property
    def nnz(self) -> int:
        """Number of positive ``(user, item)`` pairs."""
        return int(self.matrix.nnz)

    @classmethod
    def from_frame(cls, df: "pandas.DataFrame", item_ids: Optional[Sequence[Any]] = None,
                   user_ids: Optional[Sequence[Any]] = None) -> "Interactions":
        """The matrix of the ``(user, item)`` rows of ``df`` (every row is a positive).

        Parameters
        ----------
        df : DataFrame ``(N, ...)`` with columns ``user`` and ``item``
            Duplicate pairs give one 1.0.
        item_ids : sequence, optional
            Column index to map onto (e.g. the train items); rows whose item is not in it are
            dropped with a count in one warning. ``None``: the items in order of first
            appearance.
        user_ids : sequence, optional
            Row index, likewise (users without rows get empty rows). ``None``: the users in
            order of first appearance.

        Returns
        -------
        Interactions
        """
        pd = _pd()
        sp = _sparse()
        df = _check_frame(df, ("user", "item"), "Interactions.from_frame")
        users = df["user"].to_numpy()
        items = df["item"].to_numpy()
        idx = {}
        for role, ids, values in (("user", user_ids, users), ("item", item_ids, items)):
            index = pd.Index(pd.unique(values) if ids is None else np.asarray(ids))
            if ids is not None and not index.is_unique:
                dup = index[index.duplicated()].unique()
                raise DataValidationError(fmt_error("Interactions.from_frame", f"{role}_ids must be unique",
                                                    f"{_show(dup)} more than once", f"Pass each {role} once."))
            idx[role] = (index, index.get_indexer(values) if len(values) else np.zeros(0, dtype=np.intp))
        (u_index, rows), (i_index, cols) = idx["user"], idx["item"]
        keep = (rows >= 0) & (cols >= 0)
        if not keep.all():
            n_u, n_i = int((rows < 0).sum()), int((cols < 0).sum())
            what = []
            if n_i:
                what.append(f"{n_i} rows whose item is not in item_ids (e.g. {_show(pd.unique(items[cols < 0]), 3)})")
            if n_u:
                what.append(f"{n_u} rows whose user is not in user_ids (e.g. {_show(pd.unique(users[rows < 0]), 3)})")
            warnings.warn(f"Interactions.from_frame: dropped {int((~keep).sum())} of {len(keep)} rows: "
                          + "; ".join(what) + ".", stacklevel=2)
            rows, cols = rows[keep], cols[keep]
        m = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                          shape=(len(u_index), len(i_index)), dtype=np.float32)
        m.sum_duplicates()
        m.data[:] = 1.0
        return cls(m, u_index.to_numpy(), i_index.to_numpy())

    def to_frame(self) -> "pandas.DataFrame":
        """The positives as a DataFrame with columns ``user``, ``item`` (original ids), row-major order.

        Returns
        -------
        DataFrame ``(nnz, 2)``
        """
        pd = _pd()
        coo = self.matrix.tocoo()
        return pd.DataFrame({"user": self.user_ids[coo.row], "item": self.item_ids[coo.col]})


# ====================================================================== strong generalisation
@dataclass(eq=False)
class StrongGeneralizationSplit:
    """Users split into train, validation and test; held-out users' items into fold-in and target.

    Attributes
    ----------
    train : Interactions ``(n_train_users, n_items)``
        Every positive of the train users.
    val_foldin, val_target : Interactions ``(n_val_users, n_items)``
        The validation users' positives given to the model (fold-in) and to be predicted
        (target); same users, same row order. Users with fewer than 5 positives have empty
        target rows.
    test_foldin, test_target : Interactions ``(n_test_users, n_items)``
        Likewise for the test users.
    item_ids : ndarray ``(n_items,)``
        The train items (columns of every matrix), in order of first appearance.
    info : dict
        Counts of the preprocessing steps (see :meth:`summary`).
    """

    train: Interactions
    val_foldin: Interactions
    val_target: Interactions
    test_foldin: Interactions
    test_target: Interactions
    item_ids: np.ndarray
    info: Dict[str, int] = field(default_factory=dict)

    def summary(self) -> Dict[str, int]:
        """Counts: users and positives per part, items, and what preprocessing removed.

        Returns
        -------
        dict of str to int
        """
        out = {"n_items": len(self.item_ids), "n_train_users": self.train.n_users,
               "n_val_users": self.val_foldin.n_users, "n_test_users": self.test_foldin.n_users,
               "nnz_train": self.train.nnz, "nnz_val_foldin": self.val_foldin.nnz,
               "nnz_val_target": self.val_target.nnz, "nnz_test_foldin": self.test_foldin.nnz,
               "nnz_test_target": self.test_target.nnz,
               "n_val_users_without_target": int((np.diff(self.val_target.matrix.indptr) == 0).sum()),
               "n_test_users_without_target": int((np.diff(self.test_target.matrix.indptr) == 0).sum())}
        out.update(self.info)
        return out


def _split_proportion(users: np.ndarray, test_prop: float, seed: int) -> np.ndarray:
    """Target mask of ``split_train_test_proportion`` (Liang et al. 2018), rows in input order.

    Users are visited in sorted order (``groupby``), each user's rows in input order; a user
    with ``n >= 5`` rows gets ``int(test_prop * n)`` targets drawn by ``choice(n, size,
    replace=False)`` from one ``RandomState(seed)`` (the notebook seeds the global state with
    the same seed at the start of every call, so validation and test both start afresh).
    """
    pd = _pd()
    mask = np.zeros(len(users), dtype=bool)
    if len(users) == 0:
        return mask
    codes, _ = pd.factorize(users, sort=True)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rng = np.random.RandomState(seed)
    for start, n in zip(starts.tolist(), counts.tolist()):
        if n >= MIN_ITEMS_FOR_TARGET:
            pick = rng.choice(n, size=int(test_prop * n), replace=False).astype("int64")
            mask[order[start + pick]] = True
    return mask


def strong_generalization_split(df: "pandas.DataFrame", n_heldout_users: int, seed: int = 98765,
                                test_prop: float = 0.2, threshold: Optional[float] = 3.5, min_user: int = 5,
                                min_item: int = 0) -> StrongGeneralizationSplit:
    """Held-out-user split of Liang et al. (2018), step for step as their ML-20M notebook.

    Reproduces the "Data preprocessing" of ``VAE_ML20M_WWW2018.ipynb`` (github dawenl/vae_cf):

    1. keep ``rating > threshold`` (the notebook's ``rating > 3.5``, i.e. ``>= 4`` on the
       1-5 half-star scale; note: **strictly greater**, unlike :func:`binarize`'s ``>=``);
       ``threshold=None`` keeps every row (implicit data); then one row per ``(user, item)``
       pair (the first; MovieLens has no duplicate pairs, so this changes nothing there);
    2. ``filter_triplets(min_uc=min_user, min_sc=min_item)`` (:func:`filter_min_counts`);
    3. users sorted (``user_activity.index``), permuted by ``RandomState(seed).permutation``
       (= ``np.random.seed(98765); np.random.permutation``); the first ``n_users - 2 *
       n_heldout_users`` are train users, the next ``n_heldout_users`` validation users, the
       last ``n_heldout_users`` test users;
    4. the items are the train users' items in order of first appearance
       (``pd.unique(train_plays['movieId'])``); held-out users' rows on other items are
       dropped (counted in ``info['n_heldout_rows_unseen_items']``);
    5. ``split_train_test_proportion`` for validation and test separately, each from a fresh
       ``RandomState(seed)``: users in sorted order; a user with ``n >= 5`` rows gets
       ``int(test_prop * n)`` target rows drawn by ``choice(n, size, replace=False)``, the
       rest are fold-in; a user with fewer rows is all fold-in (empty target row).

    Rows of every matrix follow the permuted user order (the notebook's ``profile2id``),
    columns the train items (``show2id``). A held-out user left with no row by step 4 is
    dropped (one warning); the notebook would give it an empty row.

    Parameters
    ----------
    df : DataFrame ``(N, 2..4)``
        Columns ``user``, ``item`` and (unless ``threshold`` is None) ``rating``.
    n_heldout_users : int
        Users in each of validation and test (10,000 for ML-20M, 50,000 for MSD).
    seed : int
        Seed of the user permutation and of both fold-in/target draws (98765 in the paper).
    test_prop : float
        Fraction of a held-out user's positives that become targets, in (0, 1).
    threshold : float or None
        Keep ``rating > threshold``; ``None``: every row is a positive.
    min_user, min_item : int
        Minimum counts of :func:`filter_min_counts` (5 and 0 in the paper).

    Returns
    -------
    StrongGeneralizationSplit

    Raises
    ------
    ConfigError
        Bad ``n_heldout_users`` (below 1, or ``2 * n_heldout_users`` not below the number of
        users, which the message gives), ``test_prop``, ``seed``, or a threshold without
        ``rating`` column.
    DataValidationError
        ``df`` lacks ``user``/``item``; user ids that cannot be sorted.
    """
    pd = _pd()
    where = "strong_generalization_split"
    df = _check_frame(df, ("user", "item"), where)
    n_heldout_users = _check_int(n_heldout_users, "n_heldout_users", where, minimum=1)
    seed = _check_int(seed, "seed", where)
    if isinstance(test_prop, bool) or not isinstance(test_prop, (int, float, np.floating)) \
            or not 0.0 < float(test_prop) < 1.0:
        raise ConfigError(fmt_error(where, "test_prop must be a number in (0, 1)", test_prop,
                                    "Pass e.g. test_prop=0.2 (the paper's value)."))
    n_in = len(df)
    if threshold is not None:
        _check_threshold(df, threshold, where)
        df = df.loc[df["rating"].to_numpy() > threshold]
    n_pos = len(df)
    data = df.loc[~df.duplicated(["user", "item"]), ["user", "item"]]
    n_dedup = len(data)
    data = filter_min_counts(data, min_user=min_user, min_item=min_item)

    try:
        codes, uniq = pd.factorize(data["user"], sort=True)
    except TypeError as exc:
        raise DataValidationError(fmt_error(where, "user ids must be sortable (all numbers or all strings)",
                                            _show(pd.unique(data["user"])), "Convert the ids to one type.")) from exc
    uniq = np.asarray(uniq)
    n_users = len(uniq)
    if 2 * n_heldout_users >= n_users:
        raise ConfigError(fmt_error(where, f"2 * n_heldout_users must be below the number of users ({n_users} after "
                                           f"thresholding and the minimum counts), leaving train users",
                                    n_heldout_users, f"Pass n_heldout_users <= {max((n_users - 1) // 2, 0)}."))
    perm = np.random.RandomState(seed).permutation(n_users)
    n_train = n_users - 2 * n_heldout_users
    rank = np.empty(n_users, dtype=np.int64)
    rank[perm] = np.arange(n_users)  # position of each (sorted) user in the permuted order
    row_rank = rank[codes]
    users_in_order = uniq[perm]

    train_rows = data.loc[row_rank < n_train]
    item_ids = pd.unique(train_rows["item"])
    train = Interactions.from_frame(train_rows, item_ids=item_ids, user_ids=users_in_order[:n_train])
    info = {"n_rows_in": n_in, "n_rows_positive": n_pos, "n_duplicate_pairs_removed": n_pos - n_dedup,
            "n_rows_after_min_counts": len(data), "n_users_after_min_counts": n_users}
    parts = {}
    unseen = 0
    lost: List[str] = []
    n_lost = 0
    for name, lo, hi in (("val", n_train, n_train + n_heldout_users), ("test", n_train + n_heldout_users, n_users)):
        rows = data.loc[(row_rank >= lo) & (row_rank < hi)]
        known = rows["item"].isin(item_ids).to_numpy()
        unseen += int((~known).sum())
        rows = rows.loc[known]
        present = set(rows["user"].tolist())
        users = np.asarray([u for u in users_in_order[lo:hi] if u in present], dtype=uniq.dtype)
        if len(users) < hi - lo:
            n_lost += hi - lo - len(users)
            lost.append(f"{hi - lo - len(users)} {name}")
        target = _split_proportion(rows["user"].to_numpy(), float(test_prop), seed)
        parts[name] = (Interactions.from_frame(rows.loc[~target], item_ids=item_ids, user_ids=users),
                       Interactions.from_frame(rows.loc[target], item_ids=item_ids, user_ids=users))
    info["n_heldout_rows_unseen_items"] = unseen
    info["n_heldout_users_dropped"] = n_lost
    if lost:
        warnings.warn(f"{where}: dropped {' and '.join(lost)} users none of whose positives is on a train item "
                      f"(nothing to fold in or predict).", stacklevel=2)
    return StrongGeneralizationSplit(train=train, val_foldin=parts["val"][0], val_target=parts["val"][1],
                                     test_foldin=parts["test"][0], test_target=parts["test"][1],
                                     item_ids=np.asarray(item_ids), info=info)


# ====================================================================== leave-last-out
@dataclass(eq=False)
class LeaveLastOutSplit:
    """Temporal split: each user's last interactions are the test target, the ones before validation.

    Attributes
    ----------
    train, val, test : Interactions ``(n_users, n_items)``
        One user index and one item index (the train items) for all three.
    n_users_train_only : int
        Users with fewer than ``2 * n_last + 1`` interactions, kept wholly in train.
    info : dict
        Further counts (see :meth:`summary`).
    """

    train: Interactions
    val: Interactions
    test: Interactions
    n_users_train_only: int
    info: Dict[str, int] = field(default_factory=dict)

    def summary(self) -> Dict[str, int]:
        """Counts: users, items, positives per part, train-only users, dropped target rows."""
        out = {"n_users": self.train.n_users, "n_items": self.train.n_items, "nnz_train": self.train.nnz,
               "nnz_val": self.val.nnz, "nnz_test": self.test.nnz, "n_users_train_only": self.n_users_train_only}
        out.update(self.info)
        return out


def leave_last_out_split(df: "pandas.DataFrame", n_last: int = 1) -> LeaveLastOutSplit:
    """Per user, by time: last ``n_last`` -> test, the ``n_last`` before -> validation, rest -> train.

    Each user's rows are ordered by ``time``, ties by input row order. Users with fewer than
    ``2 * n_last + 1`` rows stay wholly in train (``n_users_train_only``). Items are the train
    part's items in order of first appearance; validation/test rows on other items are dropped
    with a count in one warning. Every row counts as an interaction: pass deduplicated
    positives (:func:`binarize`), otherwise a repeated item may be both train and target.

    Parameters
    ----------
    df : DataFrame ``(N, 3..4)``
        Columns ``user``, ``item``, ``time``.
    n_last : int
        Target interactions per user in each of validation and test.

    Returns
    -------
    LeaveLastOutSplit
        Users in order of first appearance.

    Raises
    ------
    DataValidationError
        No ``time`` column, or missing / non-numeric times.
    ConfigError
        ``n_last`` below 1.
    """
    pd = _pd()
    where = "leave_last_out_split"
    df = _check_frame(df, ("user", "item"), where)
    n_last = _check_int(n_last, "n_last", where, minimum=1)
    if "time" not in df.columns:
        raise DataValidationError(fmt_error(where, "a temporal split needs a 'time' column", list(df.columns),
                                            "Read a log with timestamps (time_col=...), or use "
                                            "strong_generalization_split."))
    t = _numeric(df["time"], f"{where}: column 'time'", dates=True).to_numpy()
    codes, users = pd.factorize(df["user"], sort=False)
    n = len(df)
    order = np.lexsort((np.arange(n), t, codes))  # by user, then time, then input row
    counts = np.bincount(codes, minlength=len(users))
    pos_sorted = np.arange(n) - np.repeat(np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    from_end = np.empty(n, dtype=np.int64)
    from_end[order] = np.repeat(counts, counts) - 1 - pos_sorted  # 0 = the user's last row
    eligible = counts[codes] >= 2 * n_last + 1
    part = np.zeros(n, dtype=np.int8)  # 0 train, 1 val, 2 test
    part[eligible & (from_end < 2 * n_last)] = 1
    part[eligible & (from_end < n_last)] = 2
    train_rows = df.loc[part == 0]
    item_ids = pd.unique(train_rows["item"])
    user_ids = np.asarray(users)
    known = df["item"].isin(item_ids).to_numpy()
    drop_val, drop_test = int(((part == 1) & ~known).sum()), int(((part == 2) & ~known).sum())
    if drop_val or drop_test:
        warnings.warn(f"{where}: dropped {drop_val} validation and {drop_test} test rows whose item never occurs in "
                      f"train (it has no column).", stacklevel=2)
    val = Interactions.from_frame(df.loc[(part == 1) & known], item_ids=item_ids, user_ids=user_ids)
    test = Interactions.from_frame(df.loc[(part == 2) & known], item_ids=item_ids, user_ids=user_ids)
    train = Interactions.from_frame(train_rows, item_ids=item_ids, user_ids=user_ids)
    return LeaveLastOutSplit(train=train, val=val, test=test, n_users_train_only=int((counts < 2 * n_last + 1).sum()),
                             info={"n_val_rows_unseen_items": drop_val, "n_test_rows_unseen_items": drop_test})


# ====================================================================== DiffRec splits
@dataclass(eq=False)
class DiffRecSplit:
    """DiffRec's fixed train/validation/test interactions on one ``(n_users, n_items)`` index.

    Attributes
    ----------
    train, valid, test : Interactions ``(n_users, n_items)``
        Ids are the 0-based indices (``user_ids = arange(n_users)``).
    """

    train: Interactions
    valid: Interactions
    test: Interactions

    def summary(self) -> Dict[str, int]:
        """Counts: users, items and positives per part."""
        return {"n_users": self.train.n_users, "n_items": self.train.n_items, "nnz_train": self.train.nnz,
                "nnz_valid": self.valid.nnz, "nnz_test": self.test.nnz}


def _load_pairs(root: Path, name: str) -> Tuple[np.ndarray, str]:
    for fname in (f"{name}_list.npy", f"{name}_list.npy.gz"):
        p = root / fname
        if p.is_file():
            break
    else:
        present = sorted(x.name for x in root.iterdir())
        raise DataValidationError(fmt_error(str(root), f"no {name}_list.npy or {name}_list.npy.gz",
                                            f"files {_show(present, 10)}",
                                            "Point root to DiffRec's data folder (e.g. datasets/ml-1m_clean)."))
    where = str(p)
    try:
        if fname.endswith(".gz"):
            with gzip.open(p, "rb") as f:
                arr = np.load(io.BytesIO(f.read()), allow_pickle=False)
        else:
            arr = np.load(p, allow_pickle=False)
    except (OSError, EOFError, ValueError) as exc:
        raise DataValidationError(fmt_error(where, "cannot be read as a numeric .npy array", str(exc),
                                            "Check the file (object arrays are not read: loading them would run "
                                            "pickled code).")) from exc
    arr = np.asarray(arr)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.dtype.kind not in "iu":
        raise DataValidationError(fmt_error(where, "must be an integer array of [user, item] rows, shape (N, 2)",
                                            f"shape {arr.shape}, dtype {arr.dtype}", "Check the file."))
    if len(arr) and arr.min() < 0:
        bad = np.flatnonzero((arr < 0).any(axis=1))
        raise DataValidationError(fmt_error(where, "ids must be 0-based (>= 0)", f"rows {_rows(bad)}",
                                            "Check the file."))
    return arr.astype(np.int64), where


def load_diffrec(root: Union[str, Path]) -> DiffRecSplit:
    """Read DiffRec's ``train_list.npy``, ``valid_list.npy``, ``test_list.npy`` (each optionally ``.gz``).

    Each file is an int64 array ``(N, 2)`` of 0-based ``[user, item]`` pairs (Wang et al. 2023,
    "Diffusion Recommender Model", github YiyanXu/DiffRec). The shape of every matrix is
    ``(max user id + 1, max item id + 1)`` over all three files.

    Parameters
    ----------
    root : str or Path
        The folder holding the three files.

    Returns
    -------
    DiffRecSplit

    Raises
    ------
    DataValidationError
        Missing folder or file, unreadable file, wrong shape or dtype, negative ids, empty
        train list.
    """
    sp = _sparse()
    root = Path(root)
    if not root.is_dir():
        raise DataValidationError(fmt_error(str(root), "folder not found", str(root),
                                            f"Fix the path (relative paths are read from {Path.cwd()})."))
    loaded = {name: _load_pairs(root, name) for name in ("train", "valid", "test")}
    if len(loaded["train"][0]) == 0:
        raise DataValidationError(fmt_error(loaded["train"][1], "the train list must not be empty", "0 rows",
                                            "Check the file."))
    allp = np.concatenate([a for a, _ in loaded.values()])
    n_users, n_items = int(allp[:, 0].max()) + 1, int(allp[:, 1].max()) + 1
    users, items = np.arange(n_users), np.arange(n_items)
    out = {}
    for name, (arr, _) in loaded.items():
        m = sp.csr_matrix((np.ones(len(arr), dtype=np.float32), (arr[:, 0], arr[:, 1])),
                          shape=(n_users, n_items), dtype=np.float32)
        m.sum_duplicates()
        m.data[:] = 1.0
        out[name] = Interactions(m, users, items)
    return DiffRecSplit(**out)


# ====================================================================== synthetic data
_ZIPF_EXPONENT = 1.0  # item popularity ~ 1 / rank (MovieLens' head is close to this)
_GENRE_ALPHA = 0.3  # Dirichlet concentration of an item's genre mixture (mostly 1-2 genres)
_TASTE_TEMPERATURE = 0.15  # how strongly taste beats popularity in the choice
_ACTIVITY_SIGMA = 0.8  # log-normal spread of user activity


def synthetic_interactions(n_users: int = 2000, n_items: int = 1000, n_genres: int = 12,
                           mean_items_per_user: float = 40, seed: int = 0) -> "pandas.DataFrame":
    """A seeded interaction log with real structure, in ``ratings.csv`` shape (the offline default).

    Generative story:

    * each item has a genre mixture ``g_i ~ Dirichlet(0.3)`` over ``n_genres`` genres and a
      Zipf popularity ``p_i ~ 1 / rank_i`` (ranks randomly assigned);
    * each user likes 1-3 genres (taste ``t_u``, a Dirichlet weighting of them, summing to 1)
      and has an activity ``k_u ~ LogNormal`` with mean ``mean_items_per_user``, clipped to
      ``[min(5, n_items), n_items]``;
    * the user's ``k_u`` items are drawn without replacement with probability proportional to
      ``p_i * exp(t_u . g_i / 0.15)`` (Gumbel top-k, exact for sequential sampling);
    * rating: 1-5 integers, higher for items closer to the user's taste (the affinity
      ``t_u . g_i`` standardised per user, plus noise, mean about 3.5);
    * times: increasing per user, from a user-specific start, in random order of the items.

    Parameters
    ----------
    n_users, n_items, n_genres : int
        Sizes (each >= 1).
    mean_items_per_user : float
        Mean of the activity distribution (> 0, at most ``n_items``).
    seed : int
        Seed of a ``numpy.random.default_rng``; equal seeds give equal frames.

    Returns
    -------
    DataFrame ``(N, 4)``
        Columns ``user`` (int64, 0-based), ``item`` (int64, 0-based), ``rating`` (float64,
        1-5), ``time`` (int64 seconds); sorted by user, then time; no duplicate pairs.
    """
    pd = _pd()
    where = "synthetic_interactions"
    n_users = _check_int(n_users, "n_users", where, minimum=1)
    n_items = _check_int(n_items, "n_items", where, minimum=1)
    n_genres = _check_int(n_genres, "n_genres", where, minimum=1)
    seed = _check_int(seed, "seed", where)
    if isinstance(mean_items_per_user, bool) or not isinstance(mean_items_per_user, (int, float, np.number)) \
            or not 0 < mean_items_per_user <= n_items:
        raise ConfigError(fmt_error(where, f"mean_items_per_user must be in (0, n_items={n_items}]",
                                    mean_items_per_user, "Pass e.g. mean_items_per_user=40."))
    rng = np.random.default_rng(seed)
    genres = rng.dirichlet(np.full(n_genres, _GENRE_ALPHA), size=n_items)  # (I, G)
    ranks = rng.permutation(n_items) + 1
    log_pop = -_ZIPF_EXPONENT * np.log(ranks)  # (I,)
    # taste: 1-3 liked genres per user with Dirichlet(1) weights
    n_liked = rng.integers(1, min(3, n_genres) + 1, size=n_users)
    keys = rng.random((n_users, n_genres))
    # argsort of uniform keys is a random permutation: the n_liked positions holding 0 .. n_liked-1
    liked = np.argsort(keys, axis=1) < n_liked[:, None]
    w = rng.gamma(1.0, size=(n_users, n_genres)) * liked
    taste = w / w.sum(axis=1, keepdims=True)  # (U, G)
    sigma = _ACTIVITY_SIGMA
    k = rng.lognormal(math.log(mean_items_per_user) - sigma ** 2 / 2, sigma, size=n_users)
    k = np.clip(np.round(k), min(5, n_items), n_items).astype(np.int64)
    # Gumbel top-k: the k largest of log-weight + Gumbel noise are a draw without replacement.
    # Blocks of users bound the memory (a 138k x 20k affinity matrix would need 22 GB); the
    # Gumbel draws fill row by row, so the result does not depend on the block size.
    block = max(1, 2 ** 22 // n_items)
    items_l, aff_l = [], []
    for lo in range(0, n_users, block):
        hi = min(n_users, lo + block)
        affinity = taste[lo:hi] @ genres.T  # (b, I), in [0, 1]
        score = log_pop[None, :] + affinity / _TASTE_TEMPERATURE + rng.gumbel(size=(hi - lo, n_items))
        order = np.argsort(-score, axis=1)
        take = np.arange(n_items)[None, :] < k[lo:hi, None]
        it = order[take].astype(np.int64)
        items_l.append(it)
        aff_l.append(affinity[np.repeat(np.arange(hi - lo), k[lo:hi]), it])
    users = np.repeat(np.arange(n_users, dtype=np.int64), k)
    items = np.concatenate(items_l)
    aff = np.concatenate(aff_l)
    mu = np.repeat(np.add.reduceat(aff, np.concatenate([[0], np.cumsum(k)[:-1]])) / k, k)
    sd = np.sqrt(np.repeat(np.add.reduceat((aff - mu) ** 2, np.concatenate([[0], np.cumsum(k)[:-1]])) / k, k))
    z = (aff - mu) / (sd + 1e-9)
    rating = np.clip(np.round(3.5 + 0.9 * z + rng.normal(0.0, 0.7, size=len(z))), 1, 5)
    # times: a random order of each user's items, increasing from a user-specific start
    shuffle = np.lexsort((rng.random(len(users)), users))
    items, rating = items[shuffle], rating[shuffle]
    start = rng.integers(946_684_800, 1_420_070_400, size=n_users)  # 2000-01-01 .. 2015-01-01
    gaps = rng.exponential(86_400.0, size=len(users)).astype(np.int64) + 1
    csum = np.cumsum(gaps)
    first = np.concatenate([[0], np.cumsum(k)[:-1]])
    time = np.repeat(start, k) + csum - np.repeat(csum[first] - gaps[first], k)
    return pd.DataFrame({"user": users, "item": items, "rating": rating.astype(np.float64),
                         "time": time.astype(np.int64)})
