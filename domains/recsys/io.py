"""Read interaction logs (implicit feedback) into canonical columns ``user``, ``item`` (+ ``rating``, ``time``).

:func:`read_interactions` detects the format by file name and first line (optionally ``.gz``):
MovieLens-1M/10M ``ratings.dat`` (``user::item::rating::timestamp``, no header), MovieLens-20M/25M
``ratings.csv`` (header ``userId,movieId,rating,timestamp``), MovieLens-100K ``u.data`` (tab, no
header), RecBole atomic ``.inter`` files (tab, header ``name:type``) and any CSV/TSV/Parquet
table with configurable or commonly named columns.

Rows are never dropped silently: a read error names the file, the column, the first offending
rows and the fix (DESIGN.md section 8). Also here: the checks of frames and integer arguments
the other recsys data modules share.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, fmt_error, require
from vaekit.core.registry import did_you_mean

from ..io import PARQUET_SUFFIXES, check_file, find_column, format_of, open_text, plain, show, strip_gz
from ..tables import read_parquet

if TYPE_CHECKING:  # pragma: no cover
    import pandas

# Column names recognised without user_col / item_col / rating_col / time_col (any case).
USER_NAMES = ("user", "userid", "user_id", "uid")
ITEM_NAMES = ("item", "itemid", "movieid", "item_id", "iid", "movie_id")
RATING_NAMES = ("rating", "score", "value")
TIME_NAMES = ("timestamp", "time", "ts")
CANONICAL = ("user", "item", "rating", "time")
# Headerless files hold, by position: user, item, rating, time (ratings.dat, u.data).
HEADERLESS_NAMES = ("ratings.dat", "u.data")
RECBOLE_TYPE = re.compile(r"^(?P<name>.+):(?:token|token_seq|float|float_seq)$")
#: The config key (``data.*``) of each Python argument that a fix may ask the user to change:
#: a CLI user sets the key, a Python user the argument, so a fix names both (:func:`option`).
CONFIG_KEYS = {"user_col": "data.user_column", "item_col": "data.item_column", "rating_col": "data.rating_column",
               "time_col": "data.time_column", "sep": "data.sep", "threshold": "data.threshold",
               "min_user": "data.min_user_count", "n_heldout_users": "data.n_heldout_users",
               "test_prop": "data.test_prop"}
_UNSET = object()


def _pd():
    return require("pandas", "recsys")


def _sparse():
    require("scipy", "recsys")
    import scipy.sparse as sp

    return sp


def _yaml(value: Any) -> str:
    """``value`` as a user writes it after ``--set key=`` (``null``, ``true``, numbers, text)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def option(arg: str, value: Any = _UNSET, op: str = "=") -> str:
    """How a fix names a setting: the config key, then the Python argument.

    ``option("sep")`` -> ``"data.sep (sep in Python)"``; ``option("threshold", None)`` ->
    ``"data.threshold=null (threshold=None in Python)"``; ``option("n_heldout_users", 4, " <= ")``
    -> ``"data.n_heldout_users <= 4 (n_heldout_users <= 4 in Python)"``.

    Parameters
    ----------
    arg : str
        A key of :data:`CONFIG_KEYS` (the Python argument's name).
    value : optional
        The value to suggest.
    op : str
        What joins the name and the value.
    """
    key = CONFIG_KEYS[arg]
    if value is _UNSET:
        return f"{key} ({arg} in Python)"
    return f"{key}{op}{_yaml(value)} ({arg}{op}{value!r} in Python)"


def _rows(positions: np.ndarray) -> str:
    """0-based positions as the message's 1-based data-row numbers."""
    return show((np.asarray(positions) + 1).tolist())


def _check_int(value: Any, name: str, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        fix = f"Set e.g. {option(name, max(minimum, 1))}." if name in CONFIG_KEYS else \
            f"Pass e.g. {name}={max(minimum, 1)}."
        raise ConfigError(fmt_error(where, f"{name} must be an integer >= {minimum}", value, fix))
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
                      time_col: Optional[Union[str, int]] = None, sep: Optional[str] = None,
                      ids_as_text: bool = False) -> "pandas.DataFrame":
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
    that look like numbers are read as numbers, so leading zeros are lost), unless
    ``ids_as_text``. Duplicate ``(user, item)`` pairs are kept (:func:`binarize` removes them).

    Fixes in messages name the config key of each argument and then the argument
    (``data.item_column (item_col in Python)``; :data:`CONFIG_KEYS`).

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
    ids_as_text : bool
        Text files: read the user and item ids as the file writes them (strings, no type
        inference), so that they can be compared with ids of another type
        (:func:`~vaekit.domains.recsys.interactions.match_ids`). Parquet columns keep their
        stored types.

    Returns
    -------
    DataFrame ``(N, 2..4)``
        Columns ``user``, ``item`` and, when present, ``rating`` (float64) and ``time``
        (int64 or float64; date strings become int64 seconds since 1970), index ``0 .. N-1``,
        rows in file order. ``attrs["source_columns"]``: the file's column names.

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
    where = str(path)
    path = check_file(Path(path), where)
    name = path.name.lower()
    ext, gz = format_of(path)
    base = strip_gz(name)
    if ext in PARQUET_SUFFIXES:
        if gz:
            raise DataValidationError(fmt_error(where, "a Parquet file cannot be gzip-compressed as a whole", name,
                                                "Decompress it (Parquet compresses its columns itself)."))
        df, headerless = read_parquet(path, where), False
    else:
        df, headerless = _read_text(path, gz, base, ext, sep, where, ids_as_text)
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
                                                    f"Set {option(role + '_col')} and {option(other + '_col')} to "
                                                    f"different columns."))
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
                                                    f"{len(cols)} column(s)",
                                                    f"Check the separator (set {option('sep')})."))
        else:
            col = _resolve_column(free, role, None, aliases, required, headerless, where, all_columns=cols,
                                  taken=picked)
            if col is not None:
                picked[role] = col
                free.remove(col)
    picked = {role: picked[role] for role in CANONICAL if role in picked}
    out = pd.DataFrame({role: df[col].to_numpy() for role, col in picked.items()})
    out.attrs["source_columns"] = [str(c) for c in cols]  # the file's own names, for later messages
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


def _first_line(path: Path, gz: bool, where: str) -> Optional[str]:
    try:
        with open_text(path, gz, errors="replace") as f:
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
               where: str, as_text: bool = False) -> Tuple["pandas.DataFrame", bool]:
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
    # As text: no column's type is inferred (ids as written); _numeric converts rating and time.
    dtype = {"dtype": str} if as_text else {}
    try:
        if sep == "::" and ":" not in line.replace("::", ""):
            # The C parser takes one-character separators only; "a::b" split on ":" gives
            # "a", "", "b", so the fields are the even columns (fast for ML-10M's 10M rows).
            k = len(fields)
            df = pd.read_csv(path, sep=":", header=None, skiprows=0 if headerless else 1,
                             usecols=list(range(0, 2 * k - 1, 2)), compression=compression, low_memory=False,
                             **dtype)
            df.columns = list(range(k)) if headerless else fields
        else:
            engine = "python" if len(sep) > 1 and sep != r"\s+" else "c"
            kw = {"low_memory": False} if engine == "c" else {}
            df = pd.read_csv(path, sep=sep, header=header, compression=compression, engine=engine, **kw, **dtype)
    except pd.errors.EmptyDataError:
        raise DataValidationError(fmt_error(where, "the file is empty", "no rows",
                                            "Point it to a log with one row per interaction.")) from None
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DataValidationError(fmt_error(where, f"cannot be read as a {sep!r}-separated table", str(exc),
                                            f"Check the file, or set {option('sep')} to its separator.")) from exc
    if not headerless:
        names = [str(c).strip() for c in df.columns]
        typed = [RECBOLE_TYPE.match(n) for n in names]
        if all(typed):  # RecBole atomic header: user_id:token, rating:float, ...
            names = [m.group("name") for m in typed]
        df.columns = names
    return df, headerless


def _resolve_column(cols: List[Any], role: str, given: Any, aliases: Sequence[str], required: bool,
                    headerless: bool, where: str, all_columns: Optional[List[Any]] = None,
                    taken: Optional[Dict[str, Any]] = None) -> Any:
    """The column holding ``role``: the one named (or, headerless, numbered) ``given``, else found by alias
    among ``cols`` (the columns no other role has taken; a message lists ``all_columns``)."""
    key = option(f"{role}_col")
    if given is not None and headerless:
        if isinstance(given, (int, np.integer)) and not isinstance(given, bool) and 0 <= given < len(cols):
            return int(given)
        raise DataValidationError(fmt_error(where, f"{role}_col must be a column position (0 .. "
                                                   f"{len(cols) - 1}) for this headerless file", given,
                                            f"Set {key} to the 0-based position of the column, or add a header "
                                            f"row."))
    if given is not None and given not in cols:
        stripped = RECBOLE_TYPE.match(str(given))  # "user_id:token" names the column "user_id"
        if stripped and stripped.group("name") in cols:
            given = stripped.group("name")
    found = find_column(cols, aliases, role=role, key=key, where=where, given=given,
                        required=required and given is not None)
    if found is not None or not required or given is not None:
        return found
    # Not found by name: the message lists every column of the file (the ones other roles
    # took too, naming them), and says when the whole line was read as one column.
    every = list(all_columns if all_columns is not None else cols)
    taken_by = [f"{c!r} is the {r} column" for r, c in (taken or {}).items()]
    if len(every) == 1:
        hint = (f" The file was read as one column: set {option('sep')} to its separator (e.g. '|' or ';').")
    else:
        hint = " (A headerless file's first row must hold only numbers; else add a header row.)"
    raise DataValidationError(
        f"{where}: no {role} column found (looked for a column named {', '.join(repr(n) for n in aliases)}, any "
        f"case); the columns are {show(every, 20)}" + (f" ({'; '.join(taken_by)})" if taken_by else "")
        + f". Set {key} to the column that holds the {role}.{hint}")


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
                plain(s.iloc[i]), f"Fix those rows, or name the right column with {option('rating_col')} / "
                                  f"{option('time_col')}."))
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


__all__ = ["USER_NAMES", "ITEM_NAMES", "RATING_NAMES", "TIME_NAMES", "CANONICAL", "HEADERLESS_NAMES",
           "read_interactions"]
