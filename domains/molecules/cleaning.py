"""Clean raw molecule rows: parse with RDKit, canonicalise, tokenise, drop those longer than
``max_len``, compute properties and graphs (optionally in worker processes). Every dropped row is
counted and reported in one warning per file and reason, naming the first rows."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from vaekit.core.errors import DataValidationError, require

from .io import MoleculeTable
from .limits import shown_smiles
from .properties import PROPERTY_NAMES, compute_properties
from .tokenizers import get_tokenizer

if TYPE_CHECKING:  # pragma: no cover - annotations only (loading imports this module)
    from .loading import MoleculesDataConfig

_N_EXAMPLES = 5  # rows named in a skip warning
_MIN_ROWS_FOR_POOL = 2000  # below this a worker pool costs more than it saves
_TOKENIZE_FIX = {
    "smiles": "The SMILES regex reads only bracket atoms and the organic subset outside brackets; set "
              "data.canonicalize: true (RDKit writes other elements in brackets) or fix those SMILES.",
    "selfies": "SELFIES cannot encode them (e.g. a valence above its semantic constraints); use representation: "
               "smiles to keep them.",
}


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
            shown = ", ".join(f"{self.unit} {r} {shown_smiles(v)}" for r, v in items[:_N_EXAMPLES])
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
    max_chars: int  # longest raw string handed to RDKit (data.max_smiles_chars)
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
    too_many_chars = (f"longer than max_smiles_chars={spec.max_chars} characters",
                      f"RDKit crashes or hangs on very long strings, so they are rejected before parsing; raise "
                      f"data.max_smiles_chars (now {spec.max_chars}, at most 10000) only if they are real molecules.")
    out: List[tuple] = []
    with BlockLogs():  # RDKit would print one line per bad SMILES; we report counts instead
        for raw in smiles:
            # By length first: RDKit's recursive parser/canonicaliser segfaults or hangs on a
            # string of tens of thousands of atoms, and no check after the call can catch that.
            if isinstance(raw, str) and len(raw.strip()) > spec.max_chars:
                out.append(("skip",) + too_many_chars)
                continue
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
    spec = _RowSpec(cfg.canonicalize, cfg.isomeric, cfg.max_len, cfg.max_smiles_chars, tokenizer.name, computed,
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
