"""Read molecule files: SMILES lines, CSV/TSV tables, SDF records (each optionally ``.gz``) into a
:class:`MoleculeTable` of raw rows, before any cleaning."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from vaekit.core.errors import DataValidationError, require

from ..io import DELIMITED_SUFFIXES, delimiter_of, find_column, format_of, open_binary, read_delimited, text_lines

_SMI_SUFFIXES = (".smi", ".smiles", ".txt")
_SDF_SUFFIXES = (".sdf", ".sd")


@dataclass
class MoleculeTable:
    """Raw rows of one molecule file, before cleaning.

    Attributes
    ----------
    smiles : ndarray of object, ``(N,)``
        The SMILES as read (may be invalid; ``None`` for a missing value).
    rows : ndarray of int, ``(N,)``
        1-based line / row / record numbers, for messages.
    columns : dict of str -> ndarray ``(N,)``
        The other columns (names, SD properties, CSV columns).
    where : str
        The file as named in messages (config key and path).
    unit : str
        What ``rows`` count: ``"line"``, ``"row"`` (CSV data rows) or ``"record"`` (SDF).
    skipped : list of (reason, row, value)
        Rows the reader could not read at all (unparsable SDF records).
    """

    smiles: np.ndarray
    rows: np.ndarray
    columns: Dict[str, np.ndarray]
    where: str
    unit: str
    skipped: List[Tuple[str, int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.smiles)

    def take(self, idx: np.ndarray) -> "MoleculeTable":
        """The rows ``idx`` (in that order)."""
        return MoleculeTable(self.smiles[idx], self.rows[idx], {k: v[idx] for k, v in self.columns.items()},
                             self.where, self.unit, list(self.skipped))


def read_molecule_file(path: Union[str, Path], smiles_column: Optional[str] = None,
                       where: Optional[str] = None) -> MoleculeTable:
    """Read the raw rows of a SMILES, CSV/TSV or SDF file (optionally gzipped).

    Parameters
    ----------
    path : str or Path
    smiles_column : str, optional
        CSV/TSV only: the SMILES column (default: the column named ``smiles`` in any case).
    where : str, optional
        How messages name the file (default: the path).

    Raises
    ------
    DataValidationError
        Missing or empty file, unknown suffix, no SMILES column.
    """
    path = Path(path)
    where = where or str(path)
    if not path.is_file():
        raise DataValidationError(f"{where}: file not found ({path}); expected a .smi, .csv, .tsv or .sdf file "
                                  f"(optionally .gz). Fix the path (relative paths are read from "
                                  f"{Path.cwd()} unless a root is given).")
    fmt, gz = format_of(path)
    if smiles_column is not None and delimiter_of(fmt) is None:
        raise DataValidationError(f"{where}: smiles_column applies to .csv/.tsv files only; got "
                                  f"smiles_column={smiles_column!r} for a {fmt or 'suffix-less'} file. Remove "
                                  f"smiles_column (SMILES files have the SMILES first; SDF files hold structures).")
    if fmt in _SMI_SUFFIXES:
        table = _read_smi(path, gz, where)
    elif delimiter_of(fmt) is not None:
        table = _read_table(path, delimiter_of(fmt), smiles_column, where)
    elif fmt in _SDF_SUFFIXES:
        table = _read_sdf(path, gz, where)
    else:
        raise DataValidationError(f"{where}: unknown file type {fmt or '(no suffix)'!r}; expected one of "
                                  f"{', '.join(_SMI_SUFFIXES + tuple(DELIMITED_SUFFIXES) + _SDF_SUFFIXES)} "
                                  f"(optionally + .gz). Rename the file or convert it.")
    if len(table) == 0 and not table.skipped:
        raise DataValidationError(f"{where}: the file has no molecules (it is empty or has only a header). Point "
                                  f"it to a file with one SMILES per line or a table with a SMILES column.")
    return table


def _read_smi(path: Path, gz: bool, where: str) -> MoleculeTable:
    """SMILES per line; an optional name after whitespace; blank and ``#`` lines ignored.

    The first data line is a header when its first field contains "smiles" (any case),
    e.g. ``SMILES`` or ``canonical_smiles``; anything else is data (so a bad first row is
    reported, never silently eaten as a header).
    """
    smiles: List[str] = []
    rows: List[int] = []
    names: List[Optional[str]] = []
    first = True
    for ln, line in text_lines(path, where, gz):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        if first:
            first = False
            if "smiles" in parts[0].lower():
                continue
        smiles.append(parts[0])
        names.append(parts[1].strip() if len(parts) > 1 else None)
        rows.append(ln)
    cols = {"name": np.asarray(names, dtype=object)} if any(n is not None for n in names) else {}
    return MoleculeTable(np.asarray(smiles, dtype=object), np.asarray(rows, dtype=np.int64), cols, where, "line")


def _read_table(path: Path, sep: str, smiles_column: Optional[str], where: str) -> MoleculeTable:
    df = read_delimited(path, sep, where, extra="molecules", what="a SMILES column")
    col = _smiles_column(list(df.columns), smiles_column, where)
    # Missing cells -> None; non-string cells stay as they are and are reported as unparsable later.
    smiles = df[col].astype(object).where(df[col].notna(), None).to_numpy(dtype=object)
    cols = {str(c): df[c].to_numpy() for c in df.columns if c != col}
    # Rows are numbered as data rows (1 = the row after the header).
    return MoleculeTable(smiles, np.arange(1, len(df) + 1, dtype=np.int64), cols, where, "row")


def _smiles_column(columns: List[Any], smiles_column: Optional[str], where: str) -> Any:
    """The SMILES column: ``smiles_column`` if given, else the one named 'smiles' in any case."""
    if smiles_column is not None and smiles_column not in columns:
        raise DataValidationError(f"{where}: no column {smiles_column!r} (data.smiles_column); the columns are "
                                  f"{[str(c) for c in columns]}. Set data.smiles_column to one of them.")
    return find_column(columns, ("smiles",), role="SMILES", key="data.smiles_column", where=where,
                       given=smiles_column)


def _read_sdf(path: Path, gz: bool, where: str) -> MoleculeTable:
    """SDF records -> isomeric SMILES (re-canonicalised later) and SD properties as columns."""
    require("rdkit", "molecules")
    from rdkit import Chem
    from rdkit.rdBase import BlockLogs

    smiles: List[Optional[str]] = []
    rows: List[int] = []
    props: List[Dict[str, str]] = []
    skipped: List[Tuple[str, int, str]] = []
    with BlockLogs():  # bad records are counted and reported by us instead
        with open_binary(path, gz) as handle:
            for rec, mol in enumerate(Chem.ForwardSDMolSupplier(handle), start=1):
                if mol is None or mol.GetNumAtoms() == 0:
                    skipped.append(("unparsable SDF record", rec, f"<record {rec}>"))
                    continue
                p = {k: mol.GetProp(k) for k in mol.GetPropNames()}
                if mol.HasProp("_Name") and mol.GetProp("_Name").strip():
                    p.setdefault("name", mol.GetProp("_Name").strip())
                smiles.append(Chem.MolToSmiles(mol, isomericSmiles=True))
                rows.append(rec)
                props.append(p)
    keys = sorted({k for p in props for k in p})
    cols = {k: np.asarray([p.get(k) for p in props], dtype=object) for k in keys}
    return MoleculeTable(np.asarray(smiles, dtype=object), np.asarray(rows, dtype=np.int64), cols, where, "record",
                         skipped)


__all__ = ["MoleculeTable", "read_molecule_file"]
