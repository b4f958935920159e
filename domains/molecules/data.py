"""Molecule data: read SMILES/SDF files, clean, split, tokenise and batch them.

Pipeline of :func:`load_molecules`:

1. **Read** each file (:func:`read_molecule_file`): ``.smi``/``.txt``/``.smiles`` (one SMILES
   per line, an optional whitespace-separated name column, an optional header line whose
   first field contains "smiles"), ``.csv``/``.tsv`` (pandas; the SMILES column is
   ``smiles_column`` or the column named ``smiles`` in any case), ``.sdf`` (RDKit; SD
   properties become columns), each optionally gzipped (``.gz``).
2. **Subsample** the training file to ``max_molecules`` rows (seeded, before parsing, so a
   1.58M-row MOSES file costs only the rows kept).
3. **Clean**: parse with RDKit (its stderr logging blocked; we report counts instead),
   canonicalise, tokenise, drop molecules longer than ``max_len`` tokens, compute
   properties and graphs (optionally in ``num_workers`` processes: RDKit's per-atom Python
   calls dominate). Every dropped row is counted and reported in one ``warnings.warn`` per
   file and reason, naming the first rows (never silent, never a crash).
4. **Split** ``path`` into train/val/test (random, or Bemis-Murcko scaffold groups) unless
   explicit ``val_path``/``test_path`` files are given.
5. **Encode**: the vocabulary comes from the training tokens only (val/test tokens outside
   it become ``<unk>``, counted and warned); properties and conditions are standardised with
   the training mean and standard deviation.

Each item is ``(index, tokens (L,) long ending with <eos>, cond (k,) float | None,
y (k,) float | None, graph | None)``; :class:`MoleculeCollate` pads the tokens and batches
the graphs into :attr:`Batch.inputs <vaekit.core.types.Batch.inputs>`. No ``<bos>`` is stored:
the GRU decoder (:class:`vaekit.core.decoders.GRUDecoder`) prepends it itself.
"""
from __future__ import annotations

import gzip
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from vaekit.core.data import PadCollate, SequenceDataset
from vaekit.core.errors import ConfigError, DataValidationError, require
from vaekit.core.types import Batch, DataBundle, DataInfo
from vaekit.core.vocab import Vocabulary

from .properties import PROPERTY_NAMES, compute_properties
from .tokenizers import get_tokenizer

DEFAULT_DATA = ("NCI", "first_5K.smi")  # under rdkit.RDConfig.RDDataDir: 4999 NCI molecules
_SMI_SUFFIXES = (".smi", ".smiles", ".txt")
_TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}
_SDF_SUFFIXES = (".sdf", ".sd")
_N_EXAMPLES = 5  # rows named in a skip warning
_MIN_ROWS_FOR_POOL = 2000  # below this a worker pool costs more than it saves
_TOKENIZE_FIX = {
    "smiles": "The SMILES regex reads only bracket atoms and the organic subset outside brackets; set "
              "data.canonicalize: true (RDKit writes other elements in brackets) or fix those SMILES.",
    "selfies": "SELFIES cannot encode them (e.g. a valence above its semantic constraints); use representation: "
               "smiles to keep them.",
}


# ====================================================================== config
@dataclass(frozen=True)
class MoleculesDataConfig:
    """The ``data`` section for ``domain: molecules``.

    Attributes
    ----------
    path : str, optional
        Training molecules (``.smi``/``.txt``, ``.csv``/``.tsv``, ``.sdf``, each optionally
        ``.gz``). ``null``: RDKit's bundled ``Data/NCI/first_5K.smi`` (4999 NCI molecules).
        Relative paths are read from the ``root`` given to :func:`load_molecules` (else the
        working directory).
    val_path, test_path : str, optional
        Explicit validation / test files (e.g. MOSES ``test.csv.gz``); a split without a file
        is cut from ``path`` (``val_fraction`` / ``test_fraction`` of it).
    smiles_column : str, optional
        SMILES column of ``.csv``/``.tsv`` files; ``null``: the column named ``smiles`` in any
        case.
    representation : {"smiles", "selfies", "graph"}
        What the encoder reads: SMILES tokens, SELFIES tokens, or a PyG molecular graph
        (``Batch.inputs``, with SMILES tokens as the decoder target).
    canonicalize : bool
        Rewrite every SMILES as RDKit's canonical SMILES (one string per molecule).
    isomeric : bool
        Keep stereochemistry (``@``, ``/``, ``\\``); ``false`` removes it (needs canonicalize).
    max_len : int
        Longest token sequence *including* the final ``<eos>``; longer molecules are skipped
        (counted and warned). Also the decoder's generation length (``DataInfo.shape``).
    max_molecules : int, optional
        Use a seeded random subset of at most this many rows of ``path`` (before it is split).
    max_eval_molecules : int, optional
        Likewise for each of ``val_path`` and ``test_path``.
    split : {"random", "scaffold"}
        How ``path`` is split: uniformly at random, or by Bemis-Murcko scaffold groups
        (chemprop's balanced scaffold split, see :func:`scaffold_split`).
    val_fraction, test_fraction : float
        Fractions of ``path`` cut out for validation and test (when there is no file).
    properties : list of str
        Per-molecule float targets carried as ``Batch.y`` (standardised with the training mean
        and std; raw values in ``dataset.y_raw``): computed ``logp``, ``qed``, ``sa``, ``mw``
        (these names are always computed with RDKit) or numeric columns of the files
        (missing values stay NaN; the property head ignores them).
    condition : list of str
        Names likewise, carried as the cVAE condition ``Batch.cond`` ``(B, k)``
        (standardised; rows with a missing value are skipped).
    data_seed : int, optional
        Seed of the subsets and the split; ``null``: the run's seed.
    num_workers : int
        Processes that parse and featurise molecules (0: the main process). RDKit's Python
        API costs about 0.3 ms per molecule for SMILES and 1 ms with graphs, so 10^5-10^6
        molecules load much faster with several workers; the result does not depend on it.
    """

    path: Optional[str] = None
    val_path: Optional[str] = None
    test_path: Optional[str] = None
    smiles_column: Optional[str] = None
    representation: Literal["smiles", "selfies", "graph"] = "smiles"
    canonicalize: bool = True
    isomeric: bool = True
    max_len: int = 100
    max_molecules: Optional[int] = None
    max_eval_molecules: Optional[int] = None
    split: Literal["random", "scaffold"] = "random"
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    properties: Tuple[str, ...] = ()
    condition: Tuple[str, ...] = ()
    data_seed: Optional[int] = None
    num_workers: int = 0

    def validate(self, path: str = "data") -> None:
        """Check values and combinations; raise :class:`ConfigError` naming the key."""
        _one_of(self.representation, ("smiles", "selfies", "graph"), f"{path}.representation")
        _one_of(self.split, ("random", "scaffold"), f"{path}.split")
        if isinstance(self.max_len, bool) or not isinstance(self.max_len, int) or self.max_len < 2:
            raise ConfigError(f"{path}.max_len: must be an integer >= 2 (one token and <eos>); got "
                              f"{self.max_len!r}. MOSES molecules need about 60; 100 is a safe default.")
        for key in ("max_molecules", "max_eval_molecules"):
            v = getattr(self, key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ConfigError(f"{path}.{key}: must be a positive integer or null (all rows); got {v!r}.")
        for key in ("val_fraction", "test_fraction"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 < v < 1.0:
                raise ConfigError(f"{path}.{key}: must be a fraction in (0, 1); got {v!r}. It is the share of "
                                  f"{path}.path cut out for that split.")
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ConfigError(f"{path}.val_fraction + {path}.test_fraction: must be < 1 to leave training data; got "
                              f"{self.val_fraction} + {self.test_fraction}. Lower them (e.g. 0.1 each).")
        if not self.canonicalize and not self.isomeric:
            raise ConfigError(f"{path}.isomeric: false only takes effect with {path}.canonicalize: true (RDKit "
                              f"rewrites the SMILES without stereo); got canonicalize=false, isomeric=false. Set "
                              f"canonicalize: true or isomeric: true.")
        if self.val_path is not None and self.test_path is not None and self.split != "random":
            raise ConfigError(f"{path}.split: nothing is split when both {path}.val_path and {path}.test_path are "
                              f"given; got split={self.split!r}. Remove split, or one of the split files.")
        if self.smiles_column is not None and not str(self.smiles_column).strip():
            raise ConfigError(f"{path}.smiles_column: must be a column name or null (auto-detect); got "
                              f"{self.smiles_column!r}.")
        for key in ("properties", "condition"):
            names = list(getattr(self, key))
            for i, n in enumerate(names):
                if not isinstance(n, str) or not n.strip():
                    raise ConfigError(f"{path}.{key}[{i}]: must be a property name (logp, qed, sa, mw or a numeric "
                                      f"column); got {n!r}.")
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ConfigError(f"{path}.{key}: names must be unique; got {dup} more than once. List each once.")
        if isinstance(self.num_workers, bool) or not isinstance(self.num_workers, int) or self.num_workers < 0:
            raise ConfigError(f"{path}.num_workers: must be an integer >= 0 (0: parse in the main process); got "
                              f"{self.num_workers!r}.")
        if self.data_seed is not None and (isinstance(self.data_seed, bool) or not isinstance(self.data_seed, int)):
            raise ConfigError(f"{path}.data_seed: must be an integer or null (the run's seed); got {self.data_seed!r}.")


def _one_of(value: Any, allowed: Sequence[str], where: str) -> None:
    if value not in allowed:
        raise ConfigError(f"{where}: must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}.")


# ====================================================================== reading
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


def _suffixes(path: Path) -> Tuple[str, bool]:
    """(format suffix, gzipped) of ``path``, e.g. ``train.csv.gz`` -> (".csv", True)."""
    sfx = [s.lower() for s in path.suffixes]
    gz = bool(sfx) and sfx[-1] == ".gz"
    if gz:
        sfx = sfx[:-1]
    return (sfx[-1] if sfx else ""), gz


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
    fmt, gz = _suffixes(path)
    if smiles_column is not None and fmt not in _TABLE_SUFFIXES:
        raise DataValidationError(f"{where}: smiles_column applies to .csv/.tsv files only; got "
                                  f"smiles_column={smiles_column!r} for a {fmt or 'suffix-less'} file. Remove "
                                  f"smiles_column (SMILES files have the SMILES first; SDF files hold structures).")
    if fmt in _SMI_SUFFIXES:
        table = _read_smi(path, gz, where)
    elif fmt in _TABLE_SUFFIXES:
        table = _read_table(path, _TABLE_SUFFIXES[fmt], smiles_column, where)
    elif fmt in _SDF_SUFFIXES:
        table = _read_sdf(path, gz, where)
    else:
        raise DataValidationError(f"{where}: unknown file type {fmt or '(no suffix)'!r}; expected one of "
                                  f"{', '.join(_SMI_SUFFIXES + tuple(_TABLE_SUFFIXES) + _SDF_SUFFIXES)} "
                                  f"(optionally + .gz). Rename the file or convert it.")
    if len(table) == 0 and not table.skipped:
        raise DataValidationError(f"{where}: the file has no molecules (it is empty or has only a header). Point "
                                  f"it to a file with one SMILES per line or a table with a SMILES column.")
    return table


def _open_text(path: Path, gz: bool):
    return gzip.open(path, "rt", encoding="utf-8") if gz else open(path, "r", encoding="utf-8")


def _read_smi(path: Path, gz: bool, where: str) -> MoleculeTable:
    """SMILES per line; an optional name after whitespace; blank and ``#`` lines ignored.

    The first data line is a header when its first field contains "smiles" (any case),
    e.g. ``SMILES`` or ``canonical_smiles``; anything else is data (so a bad first row is
    reported, never silently eaten as a header).
    """
    smiles: List[str] = []
    rows: List[int] = []
    names: List[Optional[str]] = []
    with _open_text(path, gz) as fh:
        first = True
        for ln, line in enumerate(fh, start=1):
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
    pd = require("pandas", "molecules")
    try:
        df = pd.read_csv(path, sep=sep, compression="infer")
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{where}: the file is empty (no header, no rows). Point it to a table with a "
                                  f"SMILES column.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"{where}: cannot be read as a {'comma' if sep == ',' else 'tab'}-separated table "
                                  f"({exc}). Check the separator matches the suffix (.csv: comma, .tsv: tab).") from exc
    col = _smiles_column(list(df.columns), smiles_column, where)
    # Missing cells -> None; non-string cells stay as they are and are reported as unparsable later.
    smiles = df[col].astype(object).where(df[col].notna(), None).to_numpy(dtype=object)
    cols = {str(c): df[c].to_numpy() for c in df.columns if c != col}
    # Rows are numbered as data rows (1 = the row after the header).
    return MoleculeTable(smiles, np.arange(1, len(df) + 1, dtype=np.int64), cols, where, "row")


def _smiles_column(columns: List[Any], smiles_column: Optional[str], where: str) -> Any:
    """The SMILES column: ``smiles_column`` if given, else the one named 'smiles' in any case."""
    if smiles_column is not None:
        if smiles_column not in columns:
            raise DataValidationError(f"{where}: no column {smiles_column!r} (data.smiles_column); the columns are "
                                      f"{[str(c) for c in columns]}. Set data.smiles_column to one of them.")
        return smiles_column
    found = [c for c in columns if str(c).strip().lower() == "smiles"]
    if len(found) == 1:
        return found[0]
    if not found:
        raise DataValidationError(f"{where}: no SMILES column (looked for a column named 'smiles' in any case); "
                                  f"the columns are {[str(c) for c in columns]}. Set data.smiles_column to the "
                                  f"column that holds the SMILES.")
    raise DataValidationError(f"{where}: more than one SMILES column: {[str(c) for c in found]}. Set "
                              f"data.smiles_column to the one to use.")


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
        handle = gzip.open(path, "rb") if gz else open(path, "rb")
        with handle:
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


# ====================================================================== cleaning
class _Skips:
    """Rows dropped while cleaning one file, grouped by reason, reported in one warning each."""

    def __init__(self, where: str, unit: str, total: int):
        self.where, self.unit, self.total = where, unit, total
        self.by_reason: Dict[str, List[Tuple[int, str]]] = {}
        self.fixes: Dict[str, str] = {}

    def add(self, reason: str, row: int, value: Any, fix: str = "") -> None:
        self.by_reason.setdefault(reason, []).append((int(row), str(value)))
        if fix:
            self.fixes[reason] = fix

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.by_reason.values())

    def summary(self) -> str:
        return "; ".join(f"{len(v)} {reason}" for reason, v in self.by_reason.items())

    def warn(self) -> None:
        for reason, items in self.by_reason.items():
            shown = ", ".join(f"{self.unit} {r} {v!r}" for r, v in items[:_N_EXAMPLES])
            more = ", ..." if len(items) > _N_EXAMPLES else ""
            fix = f" {self.fixes[reason]}" if reason in self.fixes else ""
            warnings.warn(f"{self.where}: skipped {len(items)} of {self.total} molecules ({reason}): "
                          f"{shown}{more}.{fix}", UserWarning, stacklevel=4)


@dataclass
class _Clean:
    """Kept molecules of one file (all lists aligned)."""

    smiles: List[str]
    tokens: List[List[str]]
    graphs: Optional[list]
    y_raw: Optional[np.ndarray]  # (N, n_properties) float64, NaN = unknown
    cond_raw: Optional[np.ndarray]  # (N, n_condition) float64
    scaffolds: Optional[List[str]]


def _numeric_column(table: MoleculeTable, name: str, what: str) -> np.ndarray:
    """Column ``name`` as float64 ``(N,)`` (missing -> NaN); error on a non-numeric value."""
    pd = require("pandas", "molecules")
    if name not in table.columns:
        raise DataValidationError(f"data.{what}: {name!r} is neither a computed property ({', '.join(PROPERTY_NAMES)}) "
                                  f"nor a column of {table.where} (columns: {sorted(table.columns)}). Fix the name, "
                                  f"or add the column to that file.")
    raw = pd.Series(table.columns[name], dtype=object)
    blank = raw.isna() | raw.map(lambda v: isinstance(v, str) and not v.strip())
    vals = pd.to_numeric(raw.where(~blank, None), errors="coerce")
    bad = np.flatnonzero((vals.isna() & ~blank).to_numpy())
    if len(bad):
        i = bad[0]
        raise DataValidationError(f"{table.where}: column {name!r} (data.{what}) must be numeric; got "
                                  f"{raw.iloc[i]!r} at {table.unit} {table.rows[i]} ({len(bad)} non-numeric values). "
                                  f"Fix those values or remove {name!r} from data.{what}.")
    return vals.to_numpy(dtype=np.float64)


@dataclass(frozen=True)
class _RowSpec:
    """What to do with each SMILES (picklable: sent to worker processes)."""

    canonicalize: bool
    isomeric: bool
    max_len: int
    tokenizer: str
    computed: Tuple[str, ...]  # properties computed with RDKit
    required: Tuple[str, ...]  # computed names that must not be NaN (conditions)
    graph: bool
    scaffold: bool


_GRAPH_FIX = ("PyG's atom/bond categories do not cover them (see vaekit.domains.molecules.graphs); use "
              "representation: smiles to keep them.")


def _clean_rows(spec: _RowSpec, smiles: Sequence[Any]) -> List[tuple]:
    """Clean a chunk of raw SMILES (runs in the main process or a worker).

    Returns one tuple per input: ``("skip", reason, fix)`` or ``("ok", smiles, tokens,
    computed values, graph arrays | None, scaffold | None)``.
    """
    from rdkit import Chem
    from rdkit.rdBase import BlockLogs

    if spec.graph:
        from .graphs import mol_to_arrays
    if spec.scaffold:
        from rdkit.Chem.Scaffolds import MurckoScaffold
    tokenizer = get_tokenizer(spec.tokenizer)
    too_long = (f"longer than max_len={spec.max_len} tokens with <eos>",
                f"Raise data.max_len (now {spec.max_len}) to keep them.")
    out: List[tuple] = []
    with BlockLogs():  # RDKit would print one line per bad SMILES; we report counts instead
        for raw in smiles:
            mol = Chem.MolFromSmiles(raw) if isinstance(raw, str) and raw.strip() else None
            if mol is None or mol.GetNumAtoms() == 0:
                out.append(("skip", "unparsable SMILES", "Fix them (check with rdkit.Chem.MolFromSmiles) or remove "
                                                         "them."))
                continue
            if not spec.isomeric:
                Chem.RemoveStereochemistry(mol)
            smi = Chem.MolToSmiles(mol, isomericSmiles=spec.isomeric) if spec.canonicalize else raw.strip()
            try:
                toks = tokenizer.tokenize(smi)
            except DataValidationError:
                out.append(("skip", f"not {spec.tokenizer}-tokenisable", _TOKENIZE_FIX[spec.tokenizer]))
                continue
            if len(toks) + 1 > spec.max_len:
                out.append(("skip",) + too_long)
                continue
            values = _compute(mol, list(spec.computed)) if spec.computed else []
            bad = [n for n, v in zip(spec.computed, values) if n in spec.required and np.isnan(v)]
            if bad:
                out.append(("skip", f"condition {bad[0]} not computable", "Remove it from data.condition or drop "
                                                                          "those molecules."))
                continue
            arrays = None
            if spec.graph:
                try:
                    arrays = mol_to_arrays(mol)
                except DataValidationError:
                    out.append(("skip", "graph features out of range", _GRAPH_FIX))
                    continue
            scaffold = MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False) if spec.scaffold else None
            out.append(("ok", smi, toks, values, arrays, scaffold))
    return out


def _map_rows(spec: _RowSpec, smiles: List[Any], num_workers: int) -> List[tuple]:
    """:func:`_clean_rows` over all ``smiles``, in chunks over ``num_workers`` processes (0: here)."""
    if num_workers <= 0 or len(smiles) < _MIN_ROWS_FOR_POOL:
        return _clean_rows(spec, smiles)
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    # fork where available (no re-import of torch/RDKit per worker); the workers only run
    # RDKit and numpy and return plain tuples, never torch tensors.
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    size = max(500, -(-len(smiles) // (4 * num_workers)))
    chunks = [smiles[i:i + size] for i in range(0, len(smiles), size)]
    with ProcessPoolExecutor(max_workers=num_workers, mp_context=ctx) as pool:
        return [r for part in pool.map(partial(_clean_rows, spec), chunks) for r in part]


def _clean(table: MoleculeTable, cfg: MoleculesDataConfig, tokenizer, need_graph: bool,
           need_scaffold: bool) -> _Clean:
    """Parse, canonicalise, tokenise and featurise the rows of ``table``; warn about skipped rows."""
    require("rdkit", "molecules")
    skips = _Skips(table.where, table.unit, len(table) + len(table.skipped))
    for reason, row, value in table.skipped:
        skips.add(reason, row, value, "Fix or remove those records.")
    props, cond = list(cfg.properties), list(cfg.condition)
    computed = tuple(n for n in dict.fromkeys(props + cond) if n in PROPERTY_NAMES)
    columns = {n: _numeric_column(table, n, "properties" if n in props else "condition")
               for n in dict.fromkeys(props + cond) if n not in PROPERTY_NAMES}
    # Rows missing a condition value read from a column are dropped before the costly parsing.
    keep: List[int] = []
    for i in range(len(table)):
        missing = [n for n in cond if n in columns and np.isnan(columns[n][i])]
        if missing:
            skips.add(f"missing condition value ({missing[0]})", table.rows[i], table.smiles[i],
                      "Fill those values or remove the name from data.condition.")
        else:
            keep.append(i)
    spec = _RowSpec(cfg.canonicalize, cfg.isomeric, cfg.max_len, tokenizer.name, computed,
                    tuple(n for n in computed if n in cond), need_graph, need_scaffold)
    results = _map_rows(spec, [table.smiles[i] for i in keep], cfg.num_workers)

    if need_graph:
        from .graphs import arrays_to_graph
    out = _Clean([], [], [] if need_graph else None, None, None, [] if need_scaffold else None)
    y_rows: List[List[float]] = []
    c_rows: List[List[float]] = []
    for i, res in zip(keep, results):
        if res[0] == "skip":
            skips.add(res[1], table.rows[i], table.smiles[i], res[2])
            continue
        _, smi, toks, vals, arrays, scaffold = res
        values = dict(zip(computed, vals))
        values.update((n, float(col[i])) for n, col in columns.items())
        out.smiles.append(smi)
        out.tokens.append(toks)
        if need_graph:
            out.graphs.append(arrays_to_graph(*arrays))
        if need_scaffold:
            out.scaffolds.append(scaffold)
        y_rows.append([values[n] for n in props])
        c_rows.append([values[n] for n in cond])
    skips.warn()
    if not out.smiles:
        raise DataValidationError(f"{table.where}: no valid molecules: all {skips.total} were skipped "
                                  f"({skips.summary()}). Check the file format, data.smiles_column and "
                                  f"data.max_len.")
    if props:
        out.y_raw = np.asarray(y_rows, dtype=np.float64).reshape(len(y_rows), len(props))
    if cond:
        out.cond_raw = np.asarray(c_rows, dtype=np.float64).reshape(len(c_rows), len(cond))
    return out


def _compute(mol, names: List[str]) -> List[float]:
    """Computed properties of one molecule; NaN where RDKit fails (e.g. the SA scorer)."""
    try:
        return [float(v) for v in compute_properties([mol], names)[0]]
    except Exception:  # noqa: BLE001 - a property failure marks the value unknown, reported by the caller
        return [float("nan")] * len(names)


# ====================================================================== splitting
def random_split(n: int, n_val: int, n_test: int, rng: np.random.Generator) -> Tuple[np.ndarray, ...]:
    """Sorted (train, val, test) indices of a uniform random split of ``range(n)``."""
    perm = rng.permutation(n)
    test, val, train = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
    return np.sort(train), np.sort(val), np.sort(test)


def scaffold_split(scaffolds: Sequence[str], n_val: int, n_test: int,
                   rng: np.random.Generator) -> Tuple[np.ndarray, ...]:
    """Balanced Bemis-Murcko scaffold split, as chemprop's ``scaffold_split(balanced=True)``.

    Molecules sharing a scaffold (Bemis & Murcko 1996, RDKit ``MurckoScaffoldSmiles``
    without chirality; acyclic molecules share the empty scaffold) form a group; every
    group goes to one split whole. Groups larger than half of the val or test size ("big")
    come first, in random order, then the other groups in random order, so big groups land
    in train and val/test get many small, diverse scaffolds. Each group goes to train while
    it fits, else to val while it fits, else to test; the split sizes are therefore close
    to, not exactly, ``n_val`` and ``n_test``. Deterministic given ``rng``.

    Returns
    -------
    tuple of ndarray
        Sorted ``(train, val, test)`` indices.
    """
    groups: Dict[str, List[int]] = {}
    for i, s in enumerate(scaffolds):
        groups.setdefault(s, []).append(i)
    sets = [groups[k] for k in sorted(groups)]  # sorted keys: independent of dict/file order
    big = [g for g in sets if len(g) > n_val / 2 or len(g) > n_test / 2]
    small = [g for g in sets if not (len(g) > n_val / 2 or len(g) > n_test / 2)]
    order = [big[i] for i in rng.permutation(len(big))] + [small[i] for i in rng.permutation(len(small))]
    n_train = len(scaffolds) - n_val - n_test
    train: List[int] = []
    val: List[int] = []
    test: List[int] = []
    for g in order:
        if len(train) + len(g) <= n_train:
            train += g
        elif len(val) + len(g) <= n_val:
            val += g
        else:
            test += g
    return (np.sort(np.asarray(train, dtype=np.int64)), np.sort(np.asarray(val, dtype=np.int64)),
            np.sort(np.asarray(test, dtype=np.int64)))


def _subset(c: _Clean, idx: np.ndarray) -> _Clean:
    take = idx.tolist()
    return _Clean([c.smiles[i] for i in take], [c.tokens[i] for i in take],
                  None if c.graphs is None else [c.graphs[i] for i in take],
                  None if c.y_raw is None else c.y_raw[idx], None if c.cond_raw is None else c.cond_raw[idx],
                  None if c.scaffolds is None else [c.scaffolds[i] for i in take])


# ====================================================================== datasets
class MoleculeDataset(SequenceDataset):
    """One split: token sequences plus SMILES, raw properties and (optionally) graphs.

    Items are ``(index, tokens (L,) long, cond (k,) float | None, y (k,) float | None,
    graph | None)``.

    Attributes
    ----------
    smiles : list of str
        The (canonical) SMILES of the split, in item order (metrics use the training SMILES
        for novelty).
    graphs : list of torch_geometric.data.Data, optional
        Precomputed once (``representation: graph``).
    y_raw, cond_raw : ndarray ``(N, k)`` float64, optional
        Unstandardised property / condition values (``y`` and ``cond`` are standardised).
    property_names, condition_names : list of str
    """

    def __init__(self, seqs: Sequence[Sequence[int]], smiles: Sequence[str], cond=None, y=None, graphs=None,
                 y_raw: Optional[np.ndarray] = None, cond_raw: Optional[np.ndarray] = None,
                 property_names: Sequence[str] = (), condition_names: Sequence[str] = (), where: str = "molecules"):
        super().__init__(seqs, cond=cond, y=y, where=where)
        self.smiles: List[str] = list(smiles)
        self.graphs = graphs
        self.y_raw, self.cond_raw = y_raw, cond_raw
        self.property_names, self.condition_names = list(property_names), list(condition_names)
        if len(self.smiles) != len(self.seqs) or (graphs is not None and len(graphs) != len(self.seqs)):
            raise DataValidationError(f"{where}: smiles/graphs must have one entry per sequence; got "
                                      f"{len(self.smiles)} SMILES, {None if graphs is None else len(graphs)} graphs "
                                      f"for {len(self.seqs)} sequences.")

    def __getitem__(self, i: int):
        idx, seq, c, y = super().__getitem__(i)
        return idx, seq, c, y, (None if self.graphs is None else self.graphs[i])


class MoleculeCollate:
    """Pad token sequences (:class:`~vaekit.core.data.PadCollate`) and batch the graphs.

    Returns a :class:`~vaekit.core.types.Batch` with ``x`` long ``(B, T)``, ``mask`` bool
    ``(B, T)``, ``cond`` / ``y`` float ``(B, k)`` or None, ``index`` ``(B,)`` and, with
    graphs, ``inputs`` = a ``torch_geometric.data.Batch`` of the ``B`` graphs.
    """

    def __init__(self, pad_id: int, graphs: bool = False):
        self.pad = PadCollate(pad_id)
        self.graphs = graphs

    def __call__(self, items: Sequence) -> Batch:
        batch = self.pad([it[:4] for it in items])
        if self.graphs:
            from torch_geometric.data import Batch as GraphBatch

            batch.inputs = GraphBatch.from_data_list([it[4] for it in items])
        return batch


# ====================================================================== loading
def default_data_path() -> Path:
    """RDKit's bundled ``Data/NCI/first_5K.smi`` (the default ``data.path``)."""
    require("rdkit", "molecules")
    from rdkit import RDConfig

    return Path(RDConfig.RDDataDir).joinpath(*DEFAULT_DATA)


def _resolve(p: str, root: Optional[Union[str, Path]]) -> Path:
    path = Path(p).expanduser()
    return path if path.is_absolute() or root is None else Path(root) / path


def _locate(p: Optional[str], key: str, root) -> Tuple[Path, str]:
    """(path, how messages name it) of one configured file; error now if it does not exist."""
    if p is None:
        path, where = default_data_path(), f"data.{key} (default: RDKit's NCI first_5K.smi)"
    else:
        path = _resolve(p, root)
        where = f"data.{key} ({path})"
    if not path.is_file():
        raise DataValidationError(f"{where}: file not found; expected a .smi, .csv, .tsv or .sdf file (optionally "
                                  f".gz). Fix the path (relative paths are read from "
                                  f"{Path(root) if root is not None else Path.cwd()}).")
    return path, where


def _read(located: Tuple[Path, str], cfg: MoleculesDataConfig, cap: Optional[int],
          rng: np.random.Generator) -> MoleculeTable:
    """Read one configured file and draw its seeded subset of at most ``cap`` rows."""
    path, where = located
    table = read_molecule_file(path, cfg.smiles_column, where=where)
    if cap is not None and len(table) > cap:
        table = table.take(np.sort(rng.choice(len(table), size=cap, replace=False)))
    return table


def _standardise(train: Optional[np.ndarray], names: List[str], what: str) -> Tuple[np.ndarray, np.ndarray]:
    """Training mean and std ``(k,)`` (NaN-aware; a constant column gets std 1 so it stays finite)."""
    if train is None:
        return np.zeros(0), np.ones(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns are reported below
        mean, std = np.nanmean(train, axis=0), np.nanstd(train, axis=0)
    for j, n in enumerate(names):
        if np.isnan(mean[j]):
            raise DataValidationError(f"data.{what}: {n!r} has no value in any training molecule. Fill the column "
                                      f"or remove {n!r} from data.{what}.")
    std = np.where(std > 0, std, 1.0)
    return mean, std


def _encode(c: _Clean, vocab: Vocabulary, split: str, where: str) -> List[List[int]]:
    """Token ids per molecule; warn about tokens unseen in training (they become ``<unk>``)."""
    seqs = [vocab.encode(t) for t in c.tokens]
    bad = [i for i, s in enumerate(seqs) if vocab.unk_id in s]
    if bad:
        unk = [tok for i in bad for tok in c.tokens[i] if tok not in vocab]
        n_mol = len(bad)
        examples = sorted(set(unk))[:_N_EXAMPLES]
        warnings.warn(f"{where}: {len(unk)} tokens in {n_mol} of {len(seqs)} {split} molecules are not in the "
                      f"training vocabulary and map to <unk> (e.g. {examples}). They cannot be reconstructed; "
                      f"use more training data or drop those molecules.", UserWarning, stacklevel=3)
    return seqs


def _dataset(c: _Clean, seqs, stats, cfg: MoleculesDataConfig, where: str) -> MoleculeDataset:
    (pm, ps), (cm, cs) = stats
    y = None if c.y_raw is None else ((c.y_raw - pm) / ps).astype(np.float32)
    cond = None if c.cond_raw is None else ((c.cond_raw - cm) / cs).astype(np.float32)
    return MoleculeDataset(seqs, c.smiles, cond=cond, y=y, graphs=c.graphs, y_raw=c.y_raw, cond_raw=c.cond_raw,
                           property_names=cfg.properties, condition_names=cfg.condition, where=where)


def load_molecules(cfg: MoleculesDataConfig, seed: int = 0, root: Optional[Union[str, Path]] = None) -> DataBundle:
    """Read, clean, split and encode the molecules described by ``cfg``.

    Parameters
    ----------
    cfg : MoleculesDataConfig
    seed : int
        Seed of the subsets and the split when ``cfg.data_seed`` is null.
    root : str or Path, optional
        Directory that relative paths in ``cfg`` are read from (default: the working
        directory).

    Returns
    -------
    DataBundle
        ``train``/``val``/``test`` :class:`MoleculeDataset`, ``collate`` a
        :class:`MoleculeCollate`, and ``info`` a sequence :class:`DataInfo` whose ``extra``
        holds ``representation``, ``tokenizer``, ``vocab`` (token list), ``canonicalize`` and
        ``isomeric``, ``properties`` and ``condition`` (``{"names", "mean", "std"}``) and, for
        graphs, ``graph`` (see :func:`~vaekit.domains.molecules.graphs.feature_cardinalities`).

    Raises
    ------
    DataValidationError
        Missing/empty files, missing columns, non-numeric property columns, no valid
        molecules, or a split that came out empty.
    """
    cfg.validate()
    require("rdkit", "molecules")
    graph = cfg.representation == "graph"
    if graph:
        require("torch_geometric", "molecules")
    tokenizer = get_tokenizer("selfies" if cfg.representation == "selfies" else "smiles")
    s = cfg.data_seed if cfg.data_seed is not None else seed
    rngs = [np.random.default_rng([int(s), k]) for k in range(4)]  # independent streams: train/val/test subsets, split

    # Every file is located first, so a typo in test_path fails before minutes of parsing.
    files = {"path": _locate(cfg.path, "path", root)}
    files.update({k: _locate(p, f"{k}_path", root) for k, p in (("val", cfg.val_path), ("test", cfg.test_path))
                  if p is not None})
    need_split = "val" not in files or "test" not in files
    main = _clean(_read(files["path"], cfg, cfg.max_molecules, rngs[0]), cfg, tokenizer, graph,
                  need_scaffold=need_split and cfg.split == "scaffold")
    explicit = {k: _clean(_read(files[k], cfg, cfg.max_eval_molecules, rngs[i]), cfg, tokenizer, graph,
                          need_scaffold=False)
                for i, k in enumerate(("val", "test"), start=1) if k in files}
    parts = _split(main, cfg, explicit, rngs[3])

    vocab = Vocabulary.build(parts["train"].tokens)
    stats = (_standardise(parts["train"].y_raw, list(cfg.properties), "properties"),
             _standardise(parts["train"].cond_raw, list(cfg.condition), "condition"))
    datasets = {}
    for name, c in parts.items():
        where = f"molecules {name} split"
        datasets[name] = _dataset(c, _encode(c, vocab, name, where), stats, cfg, where)
    (pm, ps), (cm, cs) = stats
    extra: Dict[str, Any] = {
        "representation": cfg.representation, "tokenizer": tokenizer.name, "vocab": vocab.to_list(),
        # how SMILES were written, so new molecules (e.g. design seeds) are encoded the same way
        "canonicalize": cfg.canonicalize, "isomeric": cfg.isomeric,
        "properties": {"names": list(cfg.properties), "mean": pm.tolist(), "std": ps.tolist()},
        "condition": {"names": list(cfg.condition), "mean": cm.tolist(), "std": cs.tolist()},
    }
    if graph:
        from .graphs import feature_cardinalities

        extra["graph"] = feature_cardinalities()
    info = DataInfo(kind="sequence", shape=(cfg.max_len,), vocab_size=len(vocab), pad_id=vocab.pad_id,
                    bos_id=vocab.bos_id, eos_id=vocab.eos_id, unk_id=vocab.unk_id, likelihood="categorical",
                    cond_dim=len(cfg.condition), y_dim=len(cfg.properties), n_train=len(datasets["train"]),
                    extra=extra)
    return DataBundle(datasets["train"], datasets["val"], datasets["test"], info=info,
                      collate=MoleculeCollate(vocab.pad_id, graphs=graph))


def _split(main: _Clean, cfg: MoleculesDataConfig, explicit: Dict[str, _Clean],
           rng: np.random.Generator) -> Dict[str, _Clean]:
    """train/val/test: explicit files where given, the rest cut from ``main``."""
    if "val" in explicit and "test" in explicit:
        return {"train": main, "val": explicit["val"], "test": explicit["test"]}
    n = len(main.smiles)
    n_val = 0 if "val" in explicit else int(round(cfg.val_fraction * n))
    n_test = 0 if "test" in explicit else int(round(cfg.test_fraction * n))
    if cfg.split == "scaffold":
        tr, va, te = scaffold_split(main.scaffolds, n_val, n_test, rng)
    else:
        tr, va, te = random_split(n, n_val, n_test, rng)
    parts = {"train": _subset(main, tr),
             "val": explicit["val"] if "val" in explicit else _subset(main, va),
             "test": explicit["test"] if "test" in explicit else _subset(main, te)}
    for name, c in parts.items():
        if not c.smiles:
            raise DataValidationError(f"data.path: the {cfg.split} split of {n} valid molecules left the {name} split "
                                      f"empty (val_fraction={cfg.val_fraction}, test_fraction={cfg.test_fraction}). "
                                      f"Use more molecules, larger fractions, or split: random.")
    return parts


# ====================================================================== decoding
def decode_tokens(ids: Union[torch.Tensor, Sequence[Sequence[int]]], info: DataInfo) -> List[str]:
    """SMILES strings of token id rows, e.g. model samples.

    Parameters
    ----------
    ids : Tensor ``(N, T)`` long or list of lists
        Token ids; each row is read up to its first ``<eos>`` (``<pad>``/``<bos>`` skipped).
    info : DataInfo
        From :func:`load_molecules` (its ``extra`` holds the vocabulary and tokenizer).

    Returns
    -------
    list of str
        ``N`` SMILES, not re-canonicalised (SELFIES decode to valid but non-canonical
        SMILES). A row that cannot be decoded (a SELFIES row with ``<unk>``) gives ``""``,
        which RDKit-based metrics count as invalid; SMILES rows are joined as generated and
        may be invalid SMILES.
    """
    for key in ("vocab", "tokenizer"):
        if key not in info.extra:
            raise DataValidationError(f"decode_tokens: info.extra has no {key!r}; got keys {sorted(info.extra)}. Pass "
                                      f"the DataInfo returned by load_molecules (or saved in the run directory).")
    vocab = Vocabulary.from_list(info.extra["vocab"])
    tokenizer = get_tokenizer(info.extra["tokenizer"])
    rows = ids.tolist() if hasattr(ids, "tolist") else [list(r) for r in ids]
    out: List[str] = []
    for row in rows:
        tokens = vocab.decode(row)
        try:
            out.append(tokenizer.detokenize(tokens))
        except DataValidationError:
            out.append("")
    return out


__all__ = ["MoleculesDataConfig", "MoleculeTable", "MoleculeDataset", "MoleculeCollate", "read_molecule_file",
           "load_molecules", "decode_tokens", "random_split", "scaffold_split", "default_data_path"]
