"""The MOSES medicinal-chemistry filters (:func:`mol_passes_filters`): ring size, charge, allowed
atoms, and no match of the MCF and PAINS SMARTS lists shipped in ``molecules/filters/``, tried
only when an exact element-count screen says a pattern could match."""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

import numpy as np

from vaekit.core.errors import DataValidationError, MissingDependencyError, fmt_error

from .chem import get_mol

ALLOWED_ATOMS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})

FILTERS_DIR = Path(__file__).resolve().parent.parent / "filters"  # molecules/filters, shipped as package data

def _read_smarts(path: Path, smarts_column: int, has_header: bool) -> List[str]:
    if not path.exists():
        raise MissingDependencyError(
            f"MOSES filters: the SMARTS list {path} is missing from the installed package. Reinstall vaekit "
            f"from the repository (pip install -e '.[molecules]'); the file is domains/molecules/filters/{path.name}.")
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    # MOSES reads these with pandas, which keeps the blanks that pad the quoted PAINS SMARTS;
    # RDKit parses the stripped and unstripped strings to the same query
    return [r[smarts_column].strip() for r in rows[1 if has_header else 0:] if r]


@lru_cache(maxsize=1)
def _filter_patterns() -> tuple:
    """The 22 MCF + 480 PAINS queries MOSES applies, parsed once per process."""
    from rdkit import Chem

    smarts = _read_smarts(FILTERS_DIR / "mcf.csv", 1, True) + _read_smarts(FILTERS_DIR / "wehi_pains.csv", 0, False)
    patterns = tuple(Chem.MolFromSmarts(s) for s in smarts)
    bad = [s for s, p in zip(smarts, patterns) if p is None]
    if bad:
        raise DataValidationError(fmt_error("MOSES filters", "every SMARTS must parse", bad[0],
                                            f"Restore the packaged lists in {FILTERS_DIR} from MOSES."))
    return patterns


# An atom's screening key: atomic number, plus 1000 when aromatic (RDKit's own AtomType encoding).
_AROMATIC = 1000


def _query_atom_keys(description: str) -> Optional[frozenset]:
    """Keys an atom must have to match a SMARTS query atom, from ``Atom.DescribeQuery()``; ``None`` = any.

    Only positive atomic-number (``AtomAtomicNum k = val``) and atom-type (``AtomType k = val``)
    leaves restrict; AND intersects, OR unites; negations, recursive SMARTS and every other
    primitive are read as "any key". The result can therefore only be too permissive, never too
    strict, which is what keeps the screen in :func:`_smarts_screen` exact.
    """
    lines = description.rstrip("\n").split("\n")

    def depth(line: str) -> int:
        return len(line) - len(line.lstrip(" "))

    def node(i: int) -> Tuple[Optional[frozenset], int]:
        text, j, children = lines[i].strip(), i + 1, []
        while j < len(lines) and depth(lines[j]) > depth(lines[i]):
            child, j = node(j)
            children.append(child)
        words = text.split(" ")
        if "!=" in words:
            return None, j
        if words[0] == "AtomAnd":
            known = [c for c in children if c is not None]
            return (frozenset.intersection(*known) if known else None), j
        if words[0] == "AtomOr":
            return (None if any(c is None for c in children) else frozenset().union(*children)), j
        if not children and len(words) == 4 and words[2:] == ["=", "val"]:
            if words[0] == "AtomAtomicNum":
                return frozenset({int(words[1]), int(words[1]) + _AROMATIC}), j
            if words[0] == "AtomType":
                return frozenset({int(words[1])}), j
        return None, j

    return node(0)[0]


@lru_cache(maxsize=1)
def _smarts_screen() -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Necessary conditions for each filter SMARTS to match, as count requirements on atom keys.

    For every distinct key set ``S`` of a pattern's query atoms, a match maps all query atoms
    whose keys lie inside ``S`` to distinct target atoms with keys in ``S`` (Hall's condition), so
    the target needs at least that many such atoms. Returns ``keys`` (K,) of the keys used,
    ``masks`` (C, K+1) 0/1 over them plus a column for "any other key", ``required`` (C,) and
    ``pattern_of`` (C,) the pattern each condition belongs to.
    """
    per_pattern = []
    for pattern in _filter_patterns():
        sets = [_query_atom_keys(a.DescribeQuery()) for a in pattern.GetAtoms()]
        sets = [x for x in sets if x is not None]
        per_pattern.append([(x, sum(y <= x for y in sets)) for x in set(sets)])
    keys = np.array(sorted({k for conds in per_pattern for x, _ in conds for k in x}), dtype=np.int64)
    column = {k: i for i, k in enumerate(keys.tolist())}
    masks, required, pattern_of = [], [], []
    for p, conds in enumerate(per_pattern):
        for x, n in conds:
            row = np.zeros(len(keys) + 1, dtype=np.int64)
            row[[column[k] for k in x]] = 1
            masks.append(row)
            required.append(n)
            pattern_of.append(p)
    return keys, np.array(masks).reshape(-1, len(keys) + 1), np.array(required), np.array(pattern_of)


def _candidate_patterns(h_mol) -> np.ndarray:
    """Indices of the filter patterns that pass the exact count screen for an explicit-H molecule."""
    keys, masks, required, pattern_of = _smarts_screen()
    atom_keys = np.array([a.GetAtomicNum() + (_AROMATIC if a.GetIsAromatic() else 0) for a in h_mol.GetAtoms()])
    counts = np.append((atom_keys[:, None] == keys[None, :]).sum(0), 0)
    n_failed = np.bincount(pattern_of, weights=masks @ counts < required, minlength=len(_filter_patterns()))
    return np.flatnonzero(n_failed == 0)


def mol_passes_filters(mol, allowed: Optional[Iterable[str]] = None) -> bool:
    """Whether a molecule passes the MOSES structural filters.

    It fails when invalid, when a ring has 8 or more atoms, when an atom carries a formal
    charge or is not in ``allowed`` (default C, N, S, O, F, Cl, Br, H), when the hydrogen-added
    molecule matches an MCF or PAINS SMARTS, or when its non-isomeric SMILES does not parse back.
    """
    from rdkit import Chem

    allowed = set(allowed) if allowed is not None else ALLOWED_ATOMS
    mol = get_mol(mol)
    if mol is None:
        return False
    ring_info = mol.GetRingInfo()
    if ring_info.NumRings() != 0 and any(len(ring) >= 8 for ring in ring_info.AtomRings()):
        return False
    if any(atom.GetFormalCharge() != 0 for atom in mol.GetAtoms()):
        return False
    if any(atom.GetSymbol() not in allowed for atom in mol.GetAtoms()):
        return False
    # the PAINS SMARTS spell hydrogens out ([#1]), so they are matched on explicit-H molecules
    h_mol = Chem.AddHs(mol)
    patterns = _filter_patterns()
    # the screen skips only patterns that provably cannot match (MOSES tries all 502); it cuts the
    # number of substructure searches, the bulk of this metric's time, by about 3x
    if any(h_mol.HasSubstructMatch(patterns[i]) for i in _candidate_patterns(h_mol)):
        return False
    smiles = Chem.MolToSmiles(mol, isomericSmiles=False)
    if smiles is None or len(smiles) == 0:
        return False
    return Chem.MolFromSmiles(smiles) is not None
