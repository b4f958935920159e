"""Per-molecule RDKit helpers of the MOSES metrics (MOSES ``metrics/utils.py``): parsing, canonical
SMILES, Morgan fingerprints, BRICS fragments, Bemis-Murcko scaffolds; RDKit log silencing and the
process-pool map the set metrics use."""
from __future__ import annotations

import os
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Callable, Iterator, List, Optional, Sequence, Union

import numpy as np

from vaekit.core.errors import ConfigError, fmt_error

MORGAN_RADIUS = 2
MORGAN_BITS = 1024

MolLike = Union[str, Any]  # a SMILES string or an rdkit.Chem.Mol

# --------------------------------------------------------------------------- RDKit logging

def _silence_rdkit() -> None:
    """Pool initializer: invalid SMILES are expected and counted, not worth a log line each."""
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")


@contextmanager
def _quiet_rdkit() -> Iterator[None]:
    """Block RDKit's per-molecule log lines in this process, restoring the previous state."""
    from rdkit import rdBase

    blocker = rdBase.BlockLogs()
    try:
        yield
    finally:
        del blocker


# --------------------------------------------------------------------------- parallel map

def _check_n_jobs(n_jobs: int, where: str) -> int:
    if n_jobs == -1:
        return max(1, os.cpu_count() or 1)
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ConfigError(fmt_error(f"{where}: n_jobs", "must be a positive int (or -1 for all cores)", n_jobs,
                                    "Use n_jobs=1 to compute in this process."))
    return n_jobs


@contextmanager
def _mapper(n_jobs: int, where: str) -> Iterator[Callable[[Callable, Sequence], list]]:
    """Yield ``map(f, items) -> list``: in-process for ``n_jobs == 1``, else over a process pool."""
    n_jobs = _check_n_jobs(n_jobs, where)
    if n_jobs == 1:
        yield lambda f, items: [f(x) for x in items]
        return
    import multiprocessing

    pool = multiprocessing.Pool(n_jobs, initializer=_silence_rdkit)
    try:
        # large chunks: each task is ~0.1-5 ms, so per-task IPC would dominate otherwise
        yield lambda f, items: pool.map(f, items, chunksize=max(1, min(2048, len(items) // (8 * n_jobs) + 1)))
    finally:
        pool.terminate()
        pool.join()


# --------------------------------------------------------------------------- per molecule (MOSES utils)

def get_mol(smiles_or_mol):
    """Parse a SMILES string as MOSES does; molecules pass through, unparsable input gives ``None``.

    An empty string or ``None`` is invalid; otherwise ``Chem.MolFromSmiles`` followed by
    ``Chem.SanitizeMol`` (MOSES sanitises a second time; it is kept for identical results).
    """
    if smiles_or_mol is None:
        return None
    if isinstance(smiles_or_mol, str):
        if len(smiles_or_mol) == 0:
            return None
        from rdkit import Chem

        mol = Chem.MolFromSmiles(smiles_or_mol)
        if mol is None:
            return None
        try:
            Chem.SanitizeMol(mol)
        except ValueError:
            return None
        return mol
    return smiles_or_mol


def canonic_smiles(smiles_or_mol) -> Optional[str]:
    """RDKit canonical SMILES (``Chem.MolToSmiles``) or ``None`` for an invalid input."""
    mol = get_mol(smiles_or_mol)
    if mol is None:
        return None
    from rdkit import Chem

    return Chem.MolToSmiles(mol)


@lru_cache(maxsize=1)
def _morgan_generator():
    from rdkit.Chem import rdFingerprintGenerator

    # identical bits to MOSES's AllChem.GetMorganFingerprintAsBitVect(mol, 2, nBits=1024)
    return rdFingerprintGenerator.GetMorganGenerator(radius=MORGAN_RADIUS, fpSize=MORGAN_BITS)


def morgan_fingerprint(mol) -> np.ndarray:
    """Morgan fingerprint (radius 2, 1024 bits) of a valid molecule, ``(1024,)`` uint8 of 0/1."""
    return _morgan_generator().GetFingerprintAsNumPy(get_mol(mol)).astype(np.uint8, copy=False)


def fragmenter(mol) -> List[str]:
    """BRICS fragments of a molecule as canonical SMILES (with their ``[n*]`` attachment atoms)."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    return Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(get_mol(mol))).split(".")


def compute_scaffold(mol, min_rings: int = 2) -> Optional[str]:
    """Bemis-Murcko scaffold SMILES, or ``None`` when it is empty or has fewer than ``min_rings`` rings.

    MOSES counts only scaffolds with at least two rings in the Scaf metric.
    """
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    try:
        scaffold = MurckoScaffold.GetScaffoldForMol(get_mol(mol))
    except (ValueError, RuntimeError):
        return None
    n_rings = scaffold.GetRingInfo().NumRings()
    smiles = Chem.MolToSmiles(scaffold)
    if smiles == "" or n_rings < min_rings:
        return None
    return smiles
