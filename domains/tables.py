"""Table files the domains share: Parquet read with a clear error when no engine is installed,
and CSV/TSV/Parquet written atomically (a crash never leaves half a file)."""
from __future__ import annotations

from pathlib import Path

from vaekit.core.checkpoint import atomic_path
from vaekit.core.errors import DataValidationError, MissingDependencyError, fmt_error

# The suffixes tables are *written* as; what the readers accept is domains/io.py's DELIMITED_SUFFIXES and
# PARQUET_SUFFIXES (also .tab, .pq and .gz).
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet")


def read_parquet(path: Path, where: str):
    """``pandas.read_parquet(path)``; a missing engine or an unreadable file raise vaekit errors."""
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except ImportError as exc:
        raise MissingDependencyError(f"{where}: reading .parquet files needs pyarrow (or fastparquet), which is not "
                                     f"installed. Install it with: pip install pyarrow") from exc
    except (OSError, ValueError) as exc:
        raise DataValidationError(fmt_error(where, "cannot be read as a Parquet file", str(exc),
                                            "Check the file.")) from exc


def check_table_suffix(path: Path, what: str) -> Path:
    """``Path(path)`` if its suffix is a table format; else a :class:`DataValidationError`."""
    path = Path(path)
    if path.suffix not in TABLE_SUFFIXES:
        raise DataValidationError(f"--out {path}: {what} are written as .csv, .tsv or .parquet; got suffix "
                                  f"{path.suffix!r}.")
    return path


def write_table(df, path: Path, what: str) -> Path:
    """Write ``df`` as ``.csv``, ``.tsv`` or ``.parquet`` (by suffix), atomically.

    ``what`` names the content in the error for another suffix (e.g. ``"recommendations"``).
    """
    path = check_table_suffix(path, what)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False, sep="\t" if path.suffix == ".tsv" else ",")
    return path
