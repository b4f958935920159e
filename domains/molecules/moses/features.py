"""One-pass featuriser of the MOSES metrics: each distinct molecule is parsed once and yields the
canonical SMILES, fingerprint, fragments, scaffold, filter verdict and properties the metrics need
(results are weighted by multiplicity, which is exact)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from vaekit.core.errors import DataValidationError, fmt_error
from ..limits import MAX_SMILES_CHARS, parsable_length, shown_smiles
from ..properties import PROPERTY_NAMES, compute_properties

from .chem import MORGAN_BITS, compute_scaffold, fragmenter, get_mol, morgan_fingerprint
from .filters import mol_passes_filters

# --------------------------------------------------------------------------- one-pass featuriser

class MolFeatures(NamedTuple):
    """What the metrics need from one valid molecule (``None`` for parts not asked for)."""

    canonical: Optional[str]
    fingerprint: Optional[bytes]  # np.packbits of the 1024-bit Morgan fingerprint (128 bytes)
    fragments: Optional[List[str]]
    scaffold: Optional[str]
    passes_filters: Optional[bool]
    properties: Optional[Tuple[float, ...]]  # in PROPERTY_NAMES order


FEATURE_PARTS = ("canonical", "fingerprint", "fragments", "scaffold", "filters", "properties")


def featurize(smiles_or_mol, parts: Sequence[str] = FEATURE_PARTS) -> Optional[MolFeatures]:
    """All per-molecule quantities of the MOSES metrics in one parse, or ``None`` if invalid.

    A top-level function so that a process pool can run it.
    """
    mol = get_mol(smiles_or_mol)
    if mol is None:
        return None
    from rdkit import Chem

    return MolFeatures(
        canonical=Chem.MolToSmiles(mol) if "canonical" in parts else None,
        fingerprint=np.packbits(morgan_fingerprint(mol)).tobytes() if "fingerprint" in parts else None,
        fragments=fragmenter(mol) if "fragments" in parts else None,
        scaffold=compute_scaffold(mol) if "scaffold" in parts else None,
        passes_filters=mol_passes_filters(mol) if "filters" in parts else None,
        properties=tuple(float(v) for v in compute_properties([mol], PROPERTY_NAMES)[0])
        if "properties" in parts else None,
    )


@dataclass
class _SetFeatures:
    """Features of the distinct molecules of a set, with multiplicities ``counts`` (U,)."""

    counts: np.ndarray
    features: List[MolFeatures]

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def fingerprints(self) -> np.ndarray:
        """``(U, 1024)`` uint8 fingerprints of the distinct molecules."""
        packed = np.frombuffer(b"".join(f.fingerprint for f in self.features), dtype=np.uint8)
        return np.unpackbits(packed.reshape(len(self.features), MORGAN_BITS // 8), axis=1)

    def counter(self, attr: str) -> Counter:
        """Multiplicity-weighted counts of fragments (a list per molecule) or scaffolds (one each)."""
        out: Counter = Counter()
        for f, c in zip(self.features, self.counts.tolist()):
            value = getattr(f, attr)
            for item in (value if isinstance(value, list) else [value]):
                if item is not None:
                    out[item] += c
        return out

    def property_values(self, name: str) -> np.ndarray:
        """``(n,)`` values of one property, duplicates repeated as MOSES sees them."""
        j = PROPERTY_NAMES.index(name)
        return np.repeat(np.array([f.properties[j] for f in self.features], dtype=np.float64), self.counts)


def _distinct(items: Sequence) -> Tuple[list, np.ndarray, np.ndarray]:
    """Distinct items in first-seen order, their counts (U,) and each item's index (N,)."""
    index: Dict = {}
    inverse = np.empty(len(items), dtype=np.int64)
    for i, x in enumerate(items):
        key = x if isinstance(x, str) or x is None else id(x)
        inverse[i] = index.setdefault(key, len(index))
    keys = list(index)
    first = {}
    for i, x in enumerate(items):
        first.setdefault(inverse[i], x)
    return [first[k] for k in range(len(keys))], np.bincount(inverse, minlength=len(keys)), inverse


def _featurize_set(molecules: Sequence, parts: Sequence[str], pmap, where: str) -> _SetFeatures:
    """Featurise valid molecules once per distinct input; raise on any invalid one."""
    distinct, counts, _ = _distinct(molecules)
    feats = pmap(partial(featurize, parts=tuple(parts)), distinct)
    bad = [i for i, f in enumerate(feats) if f is None]
    if bad:
        raise DataValidationError(fmt_error(
            where, "every molecule must be a valid SMILES or RDKit molecule", distinct[bad[0]],
            f"{len(bad)} distinct entries are invalid; drop them first (remove_invalid) or use moses_metrics, "
            f"which counts them in 'valid'."))
    return _SetFeatures(counts=counts, features=feats)


# --------------------------------------------------------------------------- input checks

def _as_list(molecules, where: str, allow_empty: bool = False, none_ok: bool = False) -> list:
    """``molecules`` as a list, each entry checked by :func:`_check_entries`.

    ``none_ok`` for generated molecules: ``None`` (a failed generation) is an invalid molecule,
    as for MOSES's ``get_mol``; in training and reference sets it is an error.
    """
    if isinstance(molecules, (str, bytes)):
        raise DataValidationError(fmt_error(where, "must be a sequence of SMILES strings, not one string",
                                            molecules[:60], "Wrap a single SMILES in a list."))
    out = list(molecules)
    if not out and not allow_empty:
        raise DataValidationError(fmt_error(where, "must hold at least one molecule", "an empty sequence",
                                            "Pass the SMILES to evaluate (e.g. the model's samples)."))
    _check_entries(out, where, none_ok)
    return out


def _check_entries(items: list, where: str, none_ok: bool) -> None:
    """Raise on the first entry that is neither a SMILES string RDKit may parse nor an RDKit
    molecule (nor ``None`` when ``none_ok``), before any RDKit call.

    Non-strings otherwise reach Boost.Python as an ``ArgumentError``, and a string longer than
    :data:`~vaekit.domains.molecules.limits.MAX_SMILES_CHARS` crashes or hangs RDKit.
    """
    suspects = [i for i, x in enumerate(items) if not parsable_length(x)]  # one pass of isinstance + len
    if not suspects:
        return
    from rdkit import Chem

    bad = [i for i in suspects if not (isinstance(items[i], Chem.Mol) or (none_ok and items[i] is None))]
    if not bad:
        return
    i, x = bad[0], items[bad[0]]
    also = f" ({len(bad)} of {len(items)} entries are, the first at index {i})" if len(bad) > 1 else ""
    if isinstance(x, str):
        rule = (f"a SMILES may have at most {MAX_SMILES_CHARS} characters, since RDKit crashes or hangs on longer "
                f"strings{also}")
        got = f"{shown_smiles(x)}"
        fix = ("Drop it, or replace it with None, which counts as an invalid molecule." if none_ok else
               "Drop it from the set (no drug-like molecule has such a SMILES).")
    else:
        rule = ("every entry must be a SMILES string or an RDKit molecule" + (" (or None, counted as an invalid "
                "molecule)" if none_ok else "") + also)
        got = f"{shown_smiles(x)} of type {type(x).__name__}"
        fix = ("Pass the SMILES as str (decode bytes; None marks a failed generation)." if none_ok else
               "Pass the SMILES as str, with missing rows dropped first.")
    # fmt_error's layout, with the value already cut to its first characters by shown_smiles
    raise DataValidationError(f"{where}[{i}]: {rule}; got {got}. {fix}")
