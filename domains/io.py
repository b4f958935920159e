"""File reading the domains share: format by suffix, transparent ``.gz``, delimited tables,
column lookup by candidate names and the short value lists of error messages.

Every domain reader (anomaly tables, molecule files, interaction logs, sentence files) goes
through these, so a ``.csv.gz`` is a ``.csv`` everywhere, the same suffixes mean the same
separators, and a column that is not found is reported the same way (DESIGN.md section 8:
where, rule, value, fix).
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import IO, Any, Hashable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from vaekit.core.errors import DataValidationError, fmt_error, require
from vaekit.core.registry import did_you_mean

# Delimited text tables by (lower-case) suffix: the separator pandas reads them with. Every
# domain accepts all of them (``.tab`` is the TSV spelling of some corpora).
DELIMITED_SUFFIXES = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET_SUFFIXES = (".parquet", ".pq")
N_SHOWN = 5  # values / rows / columns a message names before "... (n in all)"


def plain(v: Any) -> Any:
    """numpy scalars as Python scalars, so messages read ``1`` rather than ``np.int64(1)``."""
    return v.item() if isinstance(v, np.generic) else v


def show(items: Sequence[Any], n: int = N_SHOWN) -> str:
    """``[a, b, c, ...]`` with at most ``n`` items (their ``repr``) and the total when some are left out."""
    items = list(items)
    shown = ", ".join(repr(plain(v)) for v in items[:n])
    return f"[{shown}, ... ({len(items)} in all)]" if len(items) > n else f"[{shown}]"


def close_names(name: Any, options: Sequence[Any]) -> str:
    """``Did you mean 'x'?`` for the closest of ``options``, else ``the columns are [...]``."""
    strs = [str(o) for o in options]
    hint = did_you_mean(str(name), strs)
    return hint.strip() if hint else f"the columns are {show(strs, 20)}."


# ====================================================================== suffixes and .gz
def strip_gz(name: str) -> str:
    """``name`` without a trailing ``.gz`` (any case); the rest keeps its case."""
    return name[:-3] if name.lower().endswith(".gz") else name


def format_of(path: Path) -> Tuple[str, bool]:
    """(format suffix in lower case, gzipped) of ``path``: ``a.CSV.gz`` -> ``(".csv", True)``.

    The format is the last suffix once a ``.gz`` is removed; ``""`` when there is none
    (``data.gz`` -> ``("", True)``).
    """
    base = strip_gz(Path(path).name)
    return Path(base).suffix.lower(), len(base) < len(Path(path).name)


def open_text(path: Path, gz: Optional[bool] = None, errors: str = "strict") -> IO[str]:
    """``path`` opened for reading as UTF-8 text, through gzip when ``gz`` (default: the name ends in ``.gz``)."""
    path = Path(path)
    if gz is None:
        gz = format_of(path)[1]
    return gzip.open(path, "rt", encoding="utf-8", errors=errors) if gz else open(path, "r", encoding="utf-8",
                                                                                   errors=errors)


def open_binary(path: Path, gz: Optional[bool] = None) -> IO[bytes]:
    """``path`` opened for reading as bytes, through gzip when ``gz`` (default: the name ends in ``.gz``)."""
    path = Path(path)
    if gz is None:
        gz = format_of(path)[1]
    return gzip.open(path, "rb") if gz else open(path, "rb")


def text_lines(path: Path, where: str, gz: Optional[bool] = None) -> Iterator[Tuple[int, str]]:
    """``(line number, line)`` of a UTF-8 text file (1-based; newline removed), through gzip when ``gz``.

    Lines are decoded one by one from bytes, so a file that is not UTF-8 text (a binary file
    under a text suffix, another encoding) is reported as a :class:`DataValidationError` naming
    the line and byte offset where decoding failed, instead of a ``UnicodeDecodeError``
    traceback; a truncated or corrupt ``.gz`` is reported the same way.
    """
    path = Path(path)
    if gz is None:
        gz = format_of(path)[1]
    fix = ("Point the path to a UTF-8 text file (convert other encodings, e.g. `iconv -f latin1 -t utf-8`), "
           "and check a .gz file is complete.")
    offset, ln = 0, 0
    try:
        with open_binary(path, gz) as fh:
            for ln, raw in enumerate(fh, start=1):
                try:
                    line = raw.decode("utf-8-sig" if ln == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise DataValidationError(fmt_error(
                        f"{where}, line {ln}", "the file must be UTF-8 text",
                        f"undecodable byte 0x{raw[exc.start]:02x} at byte offset {offset + exc.start}", fix)) from None
                offset += len(raw)
                yield ln, line.rstrip("\r\n")
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DataValidationError(fmt_error(f"{where}, line {ln + 1}", "the file must be readable "
                                            f"{'gzip-compressed ' if gz else ''}UTF-8 text",
                                            f"{type(exc).__name__}: {exc}", fix)) from exc


def check_file(path: Path, where: str, expected: str = "") -> Path:
    """``Path(path)`` if it is a file; else a :class:`DataValidationError` naming it and the working directory.

    ``expected`` (e.g. ``"a .csv or .tsv file"``) is added to the rule.
    """
    path = Path(path)
    if not path.is_file():
        rule = "file not found" + (f"; expected {expected}" if expected else "")
        raise DataValidationError(fmt_error(where, rule, str(path),
                                            f"Fix the path (relative paths are read from {Path.cwd()})."))
    return path


def delimiter_of(fmt: str) -> Optional[str]:
    """The separator of a delimited-table suffix (:data:`DELIMITED_SUFFIXES`), or ``None``."""
    return DELIMITED_SUFFIXES.get(fmt)


def read_delimited(path: Path, sep: str, where: str, *, extra: str, what: str = "", **read_csv_kw):
    """``pandas.read_csv(path, sep=sep, compression="infer", **read_csv_kw)`` with vaekit errors.

    Parameters
    ----------
    path : Path
    sep : str
        The separator (:func:`delimiter_of` the suffix).
    where : str
        How messages name the file.
    extra : str
        The vaekit extra that installs pandas (named when it is missing).
    what : str
        What the table must hold, for the empty-file message (e.g. ``"a SMILES column"``).
    **read_csv_kw
        Further ``pandas.read_csv`` arguments (``na_values``, ``dtype``, ...).

    Raises
    ------
    DataValidationError
        An empty file (no header), or one pandas cannot parse or decode.
    """
    pd = require("pandas", extra)
    try:
        return pd.read_csv(path, sep=sep, compression="infer", **read_csv_kw)
    except pd.errors.EmptyDataError:
        holds = f"a table with {what}" if what else "a table with a header row and one row per record"
        raise DataValidationError(f"{where}: the file is empty (no header, no rows). Point it to {holds}.") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError, zlib.error) as exc:
        raise DataValidationError(f"{where}: cannot be read as a {'comma' if sep == ',' else 'tab'}-separated table "
                                  f"({exc}). Check the separator matches the suffix (.csv: comma, .tsv/.tab: tab) "
                                  f"and that a .gz file is gzip-compressed.") from exc


# ====================================================================== columns
def find_column(columns: Sequence[Hashable], names: Sequence[str], *, role: str, key: str, where: str,
                given: Optional[Hashable] = None, required: bool = True, several: str = "error",
                hint: str = "") -> Optional[Hashable]:
    """The column that holds ``role``: ``given`` if named, else the one named like ``names``.

    A column matches a candidate name when its name, stripped and in lower case, equals it.

    Parameters
    ----------
    columns : sequence of column names
        The columns to choose from (leave out those already taken).
    names : sequence of str
        Lower-case candidate names, most preferred first.
    role : str
        What the column holds, for messages (``"label"``, ``"SMILES"``, ``"user"``).
    key : str
        The setting that names the column (``"label_column"``, ``"data.smiles_column"``).
    where : str
        How messages name the table (its file).
    given : column name, optional
        The column the user named: it must exist.
    required : bool
        Whether finding no column is an error (else ``None`` is returned).
    several : {"error", "first"}
        Several matching columns: an error, or the one matching the earliest of ``names``.
    hint : str
        A sentence added to the message when no column matches (e.g. how headers are detected).

    Returns
    -------
    column name or None

    Raises
    ------
    DataValidationError
        ``given`` is not a column; no column matches and ``required``; several match and
        ``several="error"``.
    """
    cols = list(columns)
    if given is not None:
        if given not in cols:
            raise DataValidationError(f"{where}: no {role} column {given!r}; the columns are {show(cols, 20)}. Set "
                                      f"{key} to one of them instead of {given!r}."
                                      f"{did_you_mean(str(given), [str(c) for c in cols])}")
        return given
    lowered = [str(c).strip().lower() for c in cols]
    found: List[Hashable] = [c for c, low in zip(cols, lowered) if low in names]
    if len(found) > 1 and several == "error":
        raise DataValidationError(f"{where}: more than one column looks like the {role} column: {show(found)} "
                                  f"(names {', '.join(names)}, any case). Set {key} to the one to use.")
    if len(found) > 1:
        rank = {n: i for i, n in enumerate(names)}
        found.sort(key=lambda c: rank[str(c).strip().lower()])
    if found:
        return found[0]
    if required:
        raise DataValidationError(f"{where}: no {role} column found (looked for a column named "
                                  f"{', '.join(repr(n) for n in names)}, any case); the columns are "
                                  f"{show(cols, 20)}. Set {key} to the column that holds the {role}."
                                  + (f" {hint}" if hint else ""))
    return None


__all__ = ["DELIMITED_SUFFIXES", "PARQUET_SUFFIXES", "N_SHOWN", "plain", "show", "close_names", "strip_gz",
           "format_of", "open_text", "open_binary", "text_lines", "check_file", "delimiter_of", "read_delimited",
           "find_column"]
