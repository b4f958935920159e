"""Molecular properties used as conditions, prediction targets and in the MOSES metrics.

All are RDKit's own implementations, as MOSES uses them:

* ``logp``: Wildman-Crippen logP (``Crippen.MolLogP``; Wildman & Crippen 1999);
* ``qed``: quantitative estimate of drug-likeness (``QED.qed``; Bickerton et al. 2012);
* ``sa``: synthetic accessibility score, 1 (easy) to 10 (hard), from RDKit's Contrib
  ``SA_Score/sascorer.py`` (Ertl & Schuffenhauer 2009), shipped inside the rdkit wheel;
* ``mw``: molecular weight (``Descriptors.MolWt``).
"""
from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from typing import Callable, Dict, Iterable, List, Sequence

import numpy as np

from vaekit.core.errors import ConfigError, MissingDependencyError

from .limits import parsable_length

PROPERTY_NAMES = ("logp", "qed", "sa", "mw")


@lru_cache(maxsize=1)
def _sascorer():
    """RDKit's Contrib SA scorer, loaded from the installed rdkit (it is not an importable module)."""
    from rdkit import RDConfig

    path = os.path.join(RDConfig.RDContribDir, "SA_Score", "sascorer.py")
    if not os.path.exists(path):
        raise MissingDependencyError(f"the SA score needs RDKit's Contrib/SA_Score/sascorer.py, which is not at "
                                     f"{path}. Install the rdkit wheel from PyPI (pip install rdkit), which ships it.")
    spec = importlib.util.spec_from_file_location("vaekit_sascorer", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _funcs() -> Dict[str, Callable]:
    from rdkit.Chem import QED, Crippen, Descriptors

    return {"logp": Crippen.MolLogP, "qed": QED.qed, "sa": lambda m: _sascorer().calculateScore(m),
            "mw": Descriptors.MolWt}


def check_property_names(names: Sequence[str], where: str) -> None:
    """Raise :class:`ConfigError` for a name that is not a computed property."""
    for n in names:
        if n not in PROPERTY_NAMES:
            raise ConfigError(f"{where}: unknown computed property {n!r}; valid: {', '.join(PROPERTY_NAMES)} "
                              f"(or a numeric column of the input file).")


def mol_property(mol, name: str) -> float:
    """One property of one RDKit molecule."""
    check_property_names([name], "property")
    return float(_funcs()[name](mol))


def compute_properties(mols: Iterable, names: Sequence[str] = PROPERTY_NAMES) -> np.ndarray:
    """Properties of RDKit molecules, ``(N, len(names))`` float64.

    Parameters
    ----------
    mols : iterable of rdkit.Chem.Mol
        Parsed molecules (``None`` entries give NaN rows).
    names : sequence of str
        Any of ``logp``, ``qed``, ``sa``, ``mw``.
    """
    check_property_names(names, "properties")
    funcs = _funcs()
    rows: List[List[float]] = []
    for m in mols:
        rows.append([float("nan")] * len(names) if m is None else [float(funcs[n](m)) for n in names])
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(names))


def smiles_properties(smiles: Iterable[str], names: Sequence[str] = PROPERTY_NAMES) -> np.ndarray:
    """:func:`compute_properties` of SMILES strings (unparsable ones give NaN rows)."""
    from rdkit import Chem
    from rdkit.rdBase import BlockLogs

    with BlockLogs():  # unparsable SMILES give NaN rows; RDKit need not print each one
        # Strings too long for RDKit (it crashes on them) are NaN rows like unparsable ones.
        mols = [Chem.MolFromSmiles(s) if s and parsable_length(s) else None for s in smiles]
    return compute_properties(mols, names)


__all__ = ["PROPERTY_NAMES", "compute_properties", "smiles_properties", "mol_property", "check_property_names"]
