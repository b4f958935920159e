"""MOSES benchmark metrics, computed natively on RDKit exactly as MOSES defines them.

Reference: Polykovskiy et al. (2020), "Molecular Sets (MOSES): A Benchmarking Platform for
Molecular Generation Models", Front. Pharmacol. 11:565644, and its reference implementation
(molecularsets/moses, ``moses/metrics/metrics.py`` and ``moses/metrics/utils.py``), which this
module follows definition by definition without importing it (``molsets`` no longer runs on
current pandas). ``G`` is the generated list, ``V`` its valid molecules as canonical SMILES
(duplicates kept, in generation order), ``R`` a reference set (test or scaffold-test):

* ``valid``: ``1 - #invalid / |G|``; a SMILES is valid when it is non-empty, parses with
  ``Chem.MolFromSmiles`` and survives ``Chem.SanitizeMol`` (MOSES ``get_mol``).
* ``unique@k``: ``|set(canonical(V[:k]))| / |V[:k]|`` on the first ``k`` *valid* molecules
  (MOSES warns, and uses all of ``V``, when ``|V| < k``).
* ``novelty``: fraction of the distinct canonical molecules of ``V`` not in the training set.
* ``intdiv1``, ``intdiv2``: ``1 - mean_i (mean_j T(i, j)^p)^(1/p)`` with ``p = 1, 2`` over
  *all* ordered pairs of ``V`` including ``i = j`` (MOSES ``average_agg_tanimoto(agg='mean')``);
  ``T`` is the Tanimoto similarity of Morgan fingerprints (radius 2, 1024 bits) and ``0/0 = 1``.
* ``filters``: fraction of ``V`` passing :func:`mol_passes_filters` (no ring of 8 or more
  atoms, no formal charge, atoms in {C, N, S, O, F, Cl, Br, H}, no MCF or PAINS match).
* ``snn/*``: ``mean_{g in V} max_{r in R} T(g, r)``.
* ``frag/*``, ``scaf/*``: cosine similarity of the count vectors of BRICS fragments, and of
  Bemis-Murcko scaffolds with at least two rings, of ``V`` and ``R``.
* ``fcd/*``: Frechet ChemNet Distance (Preuer et al. 2018) between Gaussians fitted to ChemNet
  activations, via ``fcd_torch`` (its ChemNet weights ship in its wheel).
* ``logp_w1``, ``sa_w1``, ``qed_w1``, ``mw_w1``: 1-D Wasserstein-1 distance
  (``scipy.stats.wasserstein_distance``) between the property values of ``V`` and ``R``.

The test-set statistics MOSES publishes (``test_stats.npz``, ``test_scaffolds_stats.npz``)
load with :meth:`ReferenceStats.from_moses`, so results are comparable with MOSES and the
176k-molecule test sets need not be featurised again.

Speed (not definitions) differs from MOSES: per-molecule RDKit work runs once per distinct
molecule (results are weighted by multiplicity, which is exact), in a process pool when
``n_jobs > 1``; fingerprint intersections are exact integer matrix products (8-bit quantised
GEMM on CPU where PyTorch provides it, float32 otherwise); the nearest-neighbour search sorts
the reference by fingerprint popcount so that only the largest intersection count per
(molecule, popcount) has to be kept, because ``c / (a + b - c)`` increases with ``c``; and the
filter SMARTS are tried only when an exact element-count screen says they could match.
Timings of each stage are logged at INFO level on this module's logger.
"""
from __future__ import annotations

import csv
import logging
import os
import time
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from vaekit.core.errors import ConfigError, DataValidationError, MissingDependencyError, fmt_error, require
from vaekit.domains.molecules.properties import PROPERTY_NAMES, compute_properties

logger = logging.getLogger(__name__)

MORGAN_RADIUS = 2
MORGAN_BITS = 1024
ALLOWED_ATOMS = frozenset({"C", "N", "S", "O", "F", "Cl", "Br", "H"})
UNIQUE_AT = (1000, 10000)
# vaekit property name -> key of the same property in MOSES's statistics files
MOSES_PROPERTY_KEYS = {"logp": "logP", "sa": "SA", "qed": "QED", "mw": "weight"}
REFERENCE_PARTS = ("fcd", "snn", "frag", "scaf", "props")
FILTERS_DIR = Path(__file__).resolve().parent / "filters"

MolLike = Union[str, Any]  # a SMILES string or an rdkit.Chem.Mol
StatsLike = Union["ReferenceStats", Mapping, str, os.PathLike]


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

def _as_list(molecules, where: str, allow_empty: bool = False) -> list:
    if isinstance(molecules, (str, bytes)):
        raise DataValidationError(fmt_error(where, "must be a sequence of SMILES strings, not one string",
                                            molecules[:60], "Wrap a single SMILES in a list."))
    out = list(molecules)
    if not out and not allow_empty:
        raise DataValidationError(fmt_error(where, "must hold at least one molecule", "an empty sequence",
                                            "Pass the SMILES to evaluate (e.g. the model's samples)."))
    return out


# --------------------------------------------------------------------------- validity, uniqueness, novelty

def fraction_valid(generated: Sequence[MolLike], n_jobs: int = 1) -> float:
    """Fraction of entries MOSES's ``get_mol`` accepts (empty strings and ``None`` are invalid)."""
    gen = _as_list(generated, "fraction_valid: generated")
    distinct, counts, _ = _distinct(gen)
    with _quiet_rdkit(), _mapper(n_jobs, "fraction_valid") as pmap:
        ok = np.array([m is not None for m in pmap(get_mol, distinct)])
    return float(1.0 - counts[~ok].sum() / len(gen))


def remove_invalid(generated: Sequence[MolLike], canonize: bool = True, n_jobs: int = 1) -> List[str]:
    """Valid entries in order, as canonical SMILES (``canonize=True``) or as given."""
    gen = _as_list(generated, "remove_invalid: generated", allow_empty=True)
    distinct, _, inverse = _distinct(gen)
    with _quiet_rdkit(), _mapper(n_jobs, "remove_invalid") as pmap:
        canon = pmap(canonic_smiles, distinct)
    if canonize:
        return [canon[j] for j in inverse if canon[j] is not None]
    return [x for x, j in zip(gen, inverse) if canon[j] is not None]


def fraction_unique(generated: Sequence[MolLike], k: Optional[int] = None, n_jobs: int = 1,
                    check_validity: bool = True) -> float:
    """unique@k: distinct canonical molecules among the first ``k`` entries, over their number.

    Warns (as MOSES) when there are fewer than ``k`` entries and then uses all of them; raises
    :class:`DataValidationError` on an invalid entry when ``check_validity``.
    """
    gen = _as_list(generated, "fraction_unique: generated")
    if k is not None:
        if len(gen) < k:
            warnings.warn(f"unique@{k}: only {len(gen)} molecules were given, so it is computed on all of them "
                          f"(as MOSES does); generate at least {k} valid molecules for a comparable value.")
        gen = gen[:k]
    distinct, _, _ = _distinct(gen)
    with _quiet_rdkit(), _mapper(n_jobs, "fraction_unique") as pmap:
        canon = set(pmap(canonic_smiles, distinct))
    if None in canon and check_validity:
        raise DataValidationError(fmt_error("fraction_unique: generated", "must hold valid molecules only",
                                            "an invalid SMILES", "Apply remove_invalid first."))
    return len(canon) / len(gen)


class CanonicalSet(frozenset):
    """A frozenset of canonical SMILES, marking a training set that is already canonicalised.

    Build it once with :func:`canonical_set` (1.6M MOSES training SMILES take minutes) and pass it
    as ``train`` to :func:`novelty` / :func:`moses_metrics` for every evaluated model.
    """


def canonical_set(smiles: Sequence[MolLike], n_jobs: int = 1) -> CanonicalSet:
    """Canonical SMILES of the valid entries of ``smiles`` (invalid ones are dropped)."""
    items = _as_list(smiles, "canonical_set: smiles", allow_empty=True)
    with _quiet_rdkit(), _mapper(n_jobs, "canonical_set") as pmap:
        canon = pmap(canonic_smiles, items)
    return CanonicalSet(c for c in canon if c is not None)


def _train_set(train, n_jobs: int, where: str) -> CanonicalSet:
    if isinstance(train, CanonicalSet):
        out = train
    else:
        out = canonical_set(_as_list(train, where), n_jobs)
    if not out:
        raise DataValidationError(fmt_error(where, "must hold at least one valid molecule", "none",
                                            "Pass the training SMILES the model was fitted on."))
    return out


def _novelty_of(canonical: Iterable[Optional[str]], train: CanonicalSet) -> float:
    gen_set = set(canonical) - {None}
    if not gen_set:
        return float("nan")
    return len(gen_set - train) / len(gen_set)


def novelty(generated: Sequence[MolLike], train: Union[Sequence[str], CanonicalSet], n_jobs: int = 1) -> float:
    """Fraction of the distinct valid canonical generated molecules absent from ``train``.

    ``train`` is canonicalised with the same RDKit first (MOSES compares with the raw training
    SMILES, which were canonical for the RDKit of 2019); pass a :class:`CanonicalSet` to skip that.
    """
    gen = _as_list(generated, "novelty: generated")
    train_set = _train_set(train, n_jobs, "novelty: train")
    distinct, _, _ = _distinct(gen)
    with _quiet_rdkit(), _mapper(n_jobs, "novelty") as pmap:
        canon = pmap(canonic_smiles, distinct)
    return _novelty_of(canon, train_set)


# --------------------------------------------------------------------------- fingerprints and Tanimoto

def fingerprints(molecules: Sequence[MolLike], n_jobs: int = 1) -> np.ndarray:
    """Morgan fingerprints (radius 2, 1024 bits), ``(N, 1024)`` uint8; raises on an invalid molecule."""
    mols = _as_list(molecules, "fingerprints: molecules", allow_empty=True)
    with _quiet_rdkit(), _mapper(n_jobs, "fingerprints") as pmap:
        feats = _featurize_set(mols, ("fingerprint",), pmap, "fingerprints: molecules") if mols else None
    if feats is None:
        return np.zeros((0, MORGAN_BITS), dtype=np.uint8)
    _, _, inverse = _distinct(mols)
    return feats.fingerprints()[inverse]


def _is_binary(a: np.ndarray) -> bool:
    if a.dtype in (np.uint8, np.bool_):
        return bool(a.max() <= 1)  # one pass instead of np.isin on 180M test-set bits
    return bool(np.isin(a, (0, 1)).all())


def _check_fps(fps: np.ndarray, where: str) -> np.ndarray:
    fps = np.asarray(fps)
    if fps.ndim != 2 or fps.shape[1] != MORGAN_BITS or (fps.size and not _is_binary(fps)):
        raise DataValidationError(fmt_error(
            where, f"must be a (N, {MORGAN_BITS}) array of 0/1 Morgan bits", f"shape {fps.shape}, dtype {fps.dtype}",
            "Compute it with fingerprints(); rows of invalid molecules must be dropped."))
    return fps.astype(np.uint8, copy=False)


@lru_cache(maxsize=1)
def _quantized_gemm_ok() -> bool:
    """Whether PyTorch's 8-bit CPU GEMM exists here and multiplies 0/1 matrices exactly."""
    try:
        x = torch.tensor([[1, 0, 1, 1], [0, 1, 1, 0]], dtype=torch.uint8)
        w = torch.tensor([[1, 1, 1, 1], [0, 0, 1, 0], [1, 0, 0, 1]], dtype=torch.uint8)
        got = _quantized_counts(x, _pack_weight(w, "quantized"))
        return bool((got.long() == (x.long() @ w.long().T)).all())
    except Exception:  # noqa: BLE001 - any failure (op removed, no fbgemm) means "use float32"
        return False


def _pack_weight(rows: torch.Tensor, backend: str, device: str = "cpu"):
    """Prepare the right-hand operand ``(m, 1024)`` 0/1 rows for :func:`_count_matrix`."""
    if backend == "quantized":
        with warnings.catch_warnings():
            # quantised tensor creation is deprecated in recent PyTorch; the float32 path takes over once removed
            warnings.simplefilter("ignore")
            w = torch.quantize_per_tensor(rows.float(), 1.0, 0, torch.qint8)
            return torch.ops.quantized.linear_prepack(w, None)
    return rows.to(device=device, dtype=torch.float32).T.contiguous()


def _quantized_counts(x: torch.Tensor, packed) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xq = torch.quantize_per_tensor(x.float(), 1.0, 0, torch.quint8)
        # scale 1, zero point 0 throughout: the uint8 output is the exact integer dot product
        # (callers guarantee every count fits, i.e. popcounts <= 255)
        return torch.ops.quantized.linear(xq, packed, 1.0, 0).int_repr()


def _count_matrix(x: torch.Tensor, packed, backend: str, device: str = "cpu") -> torch.Tensor:
    """Intersection counts ``(n, m)`` of 0/1 rows ``x`` (n, 1024) with the packed operand."""
    if backend == "quantized":
        return _quantized_counts(x, packed)
    return x.to(device=device, dtype=torch.float32) @ packed


def _backend(device: str, max_popcount: int) -> str:
    if str(device) == "cpu" and max_popcount <= 255 and _quantized_gemm_ok():
        return "quantized"
    return "float"


def _tanimoto(c: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``c / (a + b - c)`` in float32 as MOSES computes it, with ``0/0`` (two empty fingerprints) = 1."""
    c = c.float()
    t = c / (a + b - c)
    return torch.nan_to_num(t, nan=1.0)


class _NearestIndex:
    """Reference fingerprints sorted by popcount, in blocks ready for the count GEMM.

    For a generated molecule with popcount ``a`` and references with popcount ``b``, the
    Tanimoto ``c / (a + b - c)`` grows with the intersection ``c``, so the best reference of
    each popcount group is the one with the largest ``c``: only per-group maxima of the count
    matrix are kept, never the float similarity matrix.
    """

    def __init__(self, fps: np.ndarray, device: str = "cpu", block: int = 16384):
        fps = _check_fps(fps, "SNN reference fingerprints")
        pop = fps.sum(1).astype(np.int64)
        order = np.argsort(pop, kind="stable")
        pop_sorted = pop[order]
        self.group_pop, starts = np.unique(pop_sorted, return_index=True)
        ends = np.append(starts[1:], len(pop_sorted))
        self.max_pop = int(pop.max()) if len(pop) else 0
        self.device = device
        sorted_fps = torch.from_numpy(fps[order])
        self.blocks = []  # (packed operand, [(group, local_start, local_end)], rows tensor)
        for s in range(0, len(fps), block):
            e = min(s + block, len(fps))
            segs = [(g, max(gs, s) - s, min(ge, e) - s) for g, (gs, ge) in enumerate(zip(starts, ends))
                    if gs < e and ge > s]
            self.blocks.append((sorted_fps[s:e], segs))
        self._packed: Dict[str, list] = {}

    def packed(self, backend: str) -> list:
        if backend not in self._packed:
            self._packed[backend] = [_pack_weight(rows, backend, self.device) for rows, _ in self.blocks]
        return self._packed[backend]

    def max_similarity(self, gen_fps: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """``(n_gen,)`` float32 maximum Tanimoto of each generated fingerprint to the reference."""
        gen_fps = _check_fps(gen_fps, "SNN generated fingerprints")
        a = gen_fps.sum(1).astype(np.int64)
        backend = _backend(self.device, max(self.max_pop, int(a.max()) if len(a) else 0))
        packed = self.packed(backend)
        best_c = torch.zeros((len(gen_fps), len(self.group_pop)), dtype=torch.int32)
        x_all = torch.from_numpy(gen_fps)
        for (rows, segs), w in zip(self.blocks, packed):
            for i in range(0, len(gen_fps), chunk):
                counts = _count_matrix(x_all[i:i + chunk], w, backend, self.device)
                for g, s, e in segs:
                    seg_max = counts[:, s:e].amax(1).to("cpu", torch.int32)
                    best_c[i:i + chunk, g] = torch.maximum(best_c[i:i + chunk, g], seg_max)
        sim = _tanimoto(best_c, torch.from_numpy(a).float()[:, None], torch.from_numpy(self.group_pop).float()[None, :])
        return sim.max(1).values.numpy()


def _pairwise_sums(fps: np.ndarray, weights: np.ndarray, device: str = "cpu",
                   block: int = 2048) -> Tuple[np.ndarray, np.ndarray]:
    """Weighted row sums of ``T`` and ``T**2`` over all pairs, ``(U,)`` float64 each.

    ``S_p[i] = sum_j w_j T(i, j)^p`` including ``j = i``; computed on the upper block triangle
    only, since ``T`` is symmetric.
    """
    n = len(fps)
    pop = torch.from_numpy(fps.sum(1).astype(np.float32))
    w = torch.from_numpy(weights.astype(np.float32))
    backend = _backend(device, int(pop.max()) if n else 0)
    x_all = torch.from_numpy(fps)
    s1 = np.zeros(n)
    s2 = np.zeros(n)
    for i in range(0, n, block):
        wi = w[i:i + block]
        packed = _pack_weight(x_all[i:i + block], backend, device)
        for j in range(i, n, block):
            t = _tanimoto(_count_matrix(x_all[j:j + block], packed, backend, device).to("cpu"),
                          pop[j:j + block, None], pop[None, i:i + block])  # (rows j, cols i)
            t2 = t * t
            s1[j:j + block] += (t @ wi).double().numpy()
            s2[j:j + block] += (t2 @ wi).double().numpy()
            if j != i:
                wj = w[j:j + block]
                s1[i:i + block] += (wj @ t).double().numpy()
                s2[i:i + block] += (wj @ t2).double().numpy()
    return s1, s2


def _internal_diversity_from(fps: np.ndarray, counts: np.ndarray, device: str = "cpu") -> Tuple[float, float]:
    """(IntDiv1, IntDiv2) of the multiset with distinct fingerprints ``fps`` and multiplicities ``counts``."""
    n = counts.sum()
    if n == 0:
        return float("nan"), float("nan")
    s1, s2 = _pairwise_sums(fps, counts, device)
    v1 = s1 / n  # mean_j T(i, j)
    v2 = np.sqrt(s2 / n)  # (mean_j T(i, j)^2)^(1/2)
    return float(1 - (counts * v1).sum() / n), float(1 - (counts * v2).sum() / n)


def internal_diversity(generated: Union[Sequence[MolLike], np.ndarray], p: int = 1, n_jobs: int = 1,
                       device: str = "cpu") -> float:
    """IntDiv_p = ``1 - mean_i (mean_j T(i, j)^p)^(1/p)`` over all ordered pairs, self-pairs included.

    Parameters
    ----------
    generated : sequence of SMILES / RDKit molecules, or ``(N, 1024)`` array of Morgan bits
        Valid molecules (duplicates count, as in MOSES).
    p : {1, 2}
        IntDiv1 or IntDiv2.
    """
    if p not in (1, 2):
        raise ConfigError(fmt_error("internal_diversity: p", "must be 1 or 2 (IntDiv1, IntDiv2)", p, "Use p=1 or p=2."))
    if isinstance(generated, np.ndarray):
        fps = _check_fps(generated, "internal_diversity: generated")
        uniq, inverse = np.unique(fps, axis=0, return_inverse=True)
        counts = np.bincount(inverse.ravel(), minlength=len(uniq))
    else:
        mols = _as_list(generated, "internal_diversity: generated")
        with _quiet_rdkit(), _mapper(n_jobs, "internal_diversity") as pmap:
            feats = _featurize_set(mols, ("fingerprint",), pmap, "internal_diversity: generated")
        uniq, counts = feats.fingerprints(), feats.counts
    return _internal_diversity_from(uniq, counts, device)[p - 1]


# --------------------------------------------------------------------------- cosine similarity

def cos_similarity(ref_counts: Mapping[str, int], gen_counts: Mapping[str, int]) -> float:
    """Cosine similarity of two count dictionaries (absent keys count 0); NaN if either is empty."""
    if len(ref_counts) == 0 or len(gen_counts) == 0:
        return float("nan")
    from scipy.spatial.distance import cosine

    keys = np.unique(list(ref_counts.keys()) + list(gen_counts.keys()))
    # float64: with integer vectors, current scipy multiplies int64 norms and overflows on test-set
    # counts (MOSES ran on a scipy that averaged in floating point)
    ref_vec = np.array([ref_counts.get(k, 0) for k in keys], dtype=np.float64)
    gen_vec = np.array([gen_counts.get(k, 0) for k in keys], dtype=np.float64)
    return float(1 - cosine(ref_vec, gen_vec))


# --------------------------------------------------------------------------- FCD

@lru_cache(maxsize=4)
def _chemnet(device: str, batch_size: int):
    require("fcd_torch", "molecules")
    from fcd_torch import FCD

    # n_jobs=1: SMILES are one-hot encoded in this process; ChemNet's LSTMs dominate the time
    return FCD(device=device, n_jobs=1, batch_size=batch_size)


def chemnet_activations(smiles: Sequence[str], device: str = "cpu", batch_size: int = 512) -> np.ndarray:
    """ChemNet penultimate activations, ``(N, 512)`` float32 (``fcd_torch`` canonicalises the SMILES)."""
    smiles = list(smiles)
    if not smiles:
        return np.zeros((0, 512), dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # np.row_stack inside fcd_torch
        return _chemnet(str(device), int(batch_size)).get_predictions(smiles)


def _fcd_moments(activations: np.ndarray,
                 counts: Optional[np.ndarray] = None) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """Mean ``(512,)`` and covariance ``(512, 512)`` of activations (rows repeated ``counts`` times)."""
    if counts is not None:
        activations = np.repeat(activations, counts, axis=0)
    if len(activations) < 2:
        warnings.warn(f"FCD needs at least 2 molecules, got {len(activations)}; it is reported as NaN.")
        return None
    return activations.mean(0), np.cov(activations.T)


def _openblas_thread_controls() -> List[Tuple[Callable[[], int], Callable[[int], None]]]:
    """(get, set) thread-count functions of every OpenBLAS loaded in this process (Linux; else none)."""
    import ctypes
    import re

    try:
        with open("/proc/self/maps") as fh:
            paths = sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", fh.read())))
    except OSError:
        return []
    controls = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                get, put = f"{prefix}_get_num_threads{suffix}", f"{prefix}_set_num_threads{suffix}"
                if hasattr(lib, get) and hasattr(lib, put):
                    controls.append((getattr(lib, get), getattr(lib, put)))
    return controls


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Run LAPACK single-threaded: OpenBLAS's threaded Schur decomposition inside ``sqrtm`` was
    10-20x slower than one thread for 512 x 512 matrices on a busy 2-core machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
        return
    controls = _openblas_thread_controls()
    previous = [get() for get, _ in controls]
    for _, put in controls:
        put(1)
    try:
        yield
    finally:
        for (_, put), n in zip(controls, previous):
            put(n)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """``||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))``, via ``fcd_torch`` exactly as MOSES."""
    require("fcd_torch", "molecules")
    from fcd_torch.utils import calculate_frechet_distance

    with warnings.catch_warnings(), _single_threaded_blas():
        warnings.simplefilter("ignore", DeprecationWarning)  # scipy's sqrtm(disp=...) inside fcd_torch
        return float(calculate_frechet_distance(mu1, sigma1, mu2, sigma2))


# --------------------------------------------------------------------------- reference statistics

@dataclass
class ReferenceStats:
    """Precomputed statistics of a reference set (MOSES ``compute_intermediate_statistics``).

    Attributes
    ----------
    fcd_mu, fcd_sigma : ndarray ``(512,)``, ``(512, 512)``
        ChemNet activation moments (FCD).
    fps : ndarray ``(N, 1024)`` uint8
        Morgan fingerprints (SNN).
    frag, scaf : Counter
        BRICS fragment and (>= 2-ring) scaffold counts (Frag, Scaf).
    props : dict of str to ndarray ``(N,)``
        ``logp``, ``sa``, ``qed``, ``mw`` values (Wasserstein-1 distances).
    """

    fcd_mu: Optional[np.ndarray] = None
    fcd_sigma: Optional[np.ndarray] = None
    fps: Optional[np.ndarray] = None
    frag: Optional[Counter] = None
    scaf: Optional[Counter] = None
    props: Dict[str, np.ndarray] = field(default_factory=dict)
    _index: Optional[_NearestIndex] = field(default=None, repr=False, compare=False)

    def missing(self) -> List[str]:
        """Parts (of :data:`REFERENCE_PARTS`) not present."""
        have = {"fcd": self.fcd_mu is not None and self.fcd_sigma is not None, "snn": self.fps is not None,
                "frag": self.frag is not None, "scaf": self.scaf is not None,
                "props": all(n in self.props for n in PROPERTY_NAMES)}
        return [p for p in REFERENCE_PARTS if not have[p]]

    def nearest_index(self, device: str = "cpu") -> _NearestIndex:
        """The popcount-sorted SNN index of :attr:`fps`, built once and cached."""
        if self.fps is None:
            raise DataValidationError(fmt_error("ReferenceStats.fps", "SNN needs reference fingerprints", None,
                                                "Build the statistics with ReferenceStats.from_smiles."))
        if self._index is None or self._index.device != device:
            self._index = _NearestIndex(self.fps, device)
        return self._index

    @classmethod
    def from_smiles(cls, smiles: Sequence[MolLike], n_jobs: int = 1, device: str = "cpu", batch_size: int = 512,
                    parts: Sequence[str] = REFERENCE_PARTS) -> "ReferenceStats":
        """Compute the statistics of a reference set of valid SMILES (invalid ones raise)."""
        return cls()._fill(smiles, parts, n_jobs, device, batch_size)

    def _fill(self, smiles, parts, n_jobs, device, batch_size) -> "ReferenceStats":
        where = "ReferenceStats.from_smiles: smiles"
        items = _as_list(smiles, where)
        unknown = set(parts) - set(REFERENCE_PARTS)
        if unknown:
            raise ConfigError(fmt_error("ReferenceStats parts", f"must be among {REFERENCE_PARTS}", sorted(unknown),
                                        "Drop the unknown names."))
        feature_parts = {"snn": "fingerprint", "frag": "fragments", "scaf": "scaffold", "props": "properties"}
        wanted = [feature_parts[p] for p in parts if p in feature_parts]
        with _quiet_rdkit(), _mapper(n_jobs, "ReferenceStats.from_smiles") as pmap:
            feats = _featurize_set(items, wanted + ["canonical"], pmap, where)
        _, _, inverse = _distinct(items)
        if "snn" in parts:
            self.fps = feats.fingerprints()[inverse]
            self._index = None
        if "frag" in parts:
            self.frag = feats.counter("fragments")
        if "scaf" in parts:
            self.scaf = feats.counter("scaffold")
        if "props" in parts:
            self.props = {n: feats.property_values(n) for n in PROPERTY_NAMES}
        if "fcd" in parts:
            # the SMILES as given, as MOSES passes them (fcd_torch canonicalises them itself)
            distinct = [x if isinstance(x, str) else f.canonical for x, f in zip(_distinct(items)[0], feats.features)]
            moments = _fcd_moments(chemnet_activations(distinct, device, batch_size), feats.counts)
            self.fcd_mu, self.fcd_sigma = moments if moments is not None else (None, None)
        return self

    @classmethod
    def from_moses(cls, stats: Union[Mapping, str, os.PathLike]) -> "ReferenceStats":
        """Load MOSES statistics: a ``.npz`` path holding a pickled dict under ``stats``, or that dict.

        The file is unpickled (``allow_pickle=True``), so load only files from a trusted source
        such as the MOSES release.
        """
        if not isinstance(stats, Mapping):
            path = Path(stats)
            if not path.exists():
                raise DataValidationError(fmt_error("ReferenceStats.from_moses", "the statistics file must exist",
                                                    str(path), "Pass the path of test_stats.npz from MOSES."))
            with np.load(path, allow_pickle=True) as z:
                if "stats" not in z.files:
                    raise DataValidationError(fmt_error(f"ReferenceStats.from_moses: {path}",
                                                        "a MOSES statistics file holds the key 'stats'", z.files,
                                                        "Pass MOSES's test_stats.npz or test_scaffolds_stats.npz."))
                stats = z["stats"].item()
        out = cls()
        if "FCD" in stats and "mu" in stats["FCD"]:
            out.fcd_mu, out.fcd_sigma = np.asarray(stats["FCD"]["mu"]), np.asarray(stats["FCD"]["sigma"])
        if "SNN" in stats:
            out.fps = _check_fps(stats["SNN"]["fps"], "MOSES stats['SNN']['fps']")
        if "Frag" in stats:
            out.frag = Counter(stats["Frag"]["frag"])
        if "Scaf" in stats:
            out.scaf = Counter(stats["Scaf"]["scaf"])
        for name, key in MOSES_PROPERTY_KEYS.items():
            if key in stats:
                out.props[name] = np.asarray(stats[key]["values"], dtype=np.float64)
        return out

    def to_moses(self) -> dict:
        """The statistics as MOSES's dict (keys FCD, SNN, Frag, Scaf, logP, SA, QED, weight)."""
        out: dict = {}
        if self.fcd_mu is not None:
            out["FCD"] = {"mu": self.fcd_mu, "sigma": self.fcd_sigma}
        if self.fps is not None:
            out["SNN"] = {"fps": self.fps}
        if self.frag is not None:
            out["Frag"] = {"frag": Counter(self.frag)}
        if self.scaf is not None:
            out["Scaf"] = {"scaf": Counter(self.scaf)}
        for name, key in MOSES_PROPERTY_KEYS.items():
            if name in self.props:
                out[key] = {"values": list(map(float, self.props[name]))}
        return out

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write a MOSES-format ``.npz`` (``np.savez(path, stats=dict)``)."""
        np.savez(path, stats=np.array(self.to_moses(), dtype=object))


def precalc(smiles: Sequence[MolLike], n_jobs: int = 1, device: str = "cpu", batch_size: int = 512) -> ReferenceStats:
    """Alias of :meth:`ReferenceStats.from_smiles` (MOSES ``compute_intermediate_statistics``)."""
    return ReferenceStats.from_smiles(smiles, n_jobs=n_jobs, device=device, batch_size=batch_size)


def _resolve_reference(smiles, stats, where: str, n_jobs: int, device: str,
                       batch_size: int) -> Optional[ReferenceStats]:
    """Statistics from ``stats`` (object, dict or path) when given, completed or computed from ``smiles``."""
    if stats is None and smiles is None:
        return None
    if stats is None:
        return ReferenceStats.from_smiles(smiles, n_jobs, device, batch_size)
    ref = stats if isinstance(stats, ReferenceStats) else ReferenceStats.from_moses(stats)
    missing = ref.missing()
    if missing:
        if smiles is None:
            raise DataValidationError(fmt_error(where, "statistics must hold every part the metrics need",
                                                f"missing {missing}",
                                                "Also pass the reference SMILES so the missing parts are computed."))
        ref._fill(smiles, missing, n_jobs, device, batch_size)
    return ref


def _reference_arg(reference, where: str, parts: Sequence[str], n_jobs: int, device: str = "cpu",
                   batch_size: int = 512) -> ReferenceStats:
    """A :class:`ReferenceStats` for the individual metric functions (SMILES are featurised)."""
    if isinstance(reference, ReferenceStats):
        ref = reference
        lacking = [p for p in parts if p in ref.missing()]
        if lacking:
            raise DataValidationError(fmt_error(
                where, "the reference statistics must hold what this metric needs", f"missing {lacking}",
                "Recompute them with ReferenceStats.from_smiles."))
        return ref
    return ReferenceStats.from_smiles(_as_list(reference, where), n_jobs, device, batch_size, parts=parts)


# --------------------------------------------------------------------------- set-vs-reference metrics

def snn(generated: Sequence[MolLike], reference, n_jobs: int = 1, device: str = "cpu") -> float:
    """Mean over generated molecules of the maximum Tanimoto similarity to the reference (SNN)."""
    ref = _reference_arg(reference, "snn: reference", ("snn",), n_jobs)
    fps = fingerprints(_as_list(generated, "snn: generated"), n_jobs)
    return float(np.mean(ref.nearest_index(device).max_similarity(fps)))


def frag_similarity(generated: Sequence[MolLike], reference, n_jobs: int = 1) -> float:
    """Cosine similarity of BRICS fragment counts (Frag)."""
    ref = _reference_arg(reference, "frag_similarity: reference", ("frag",), n_jobs)
    with _quiet_rdkit(), _mapper(n_jobs, "frag_similarity") as pmap:
        gen = _featurize_set(_as_list(generated, "frag_similarity: generated"), ("fragments",), pmap,
                             "frag_similarity: generated")
    return cos_similarity(ref.frag, gen.counter("fragments"))


def scaf_similarity(generated: Sequence[MolLike], reference, n_jobs: int = 1) -> float:
    """Cosine similarity of Bemis-Murcko scaffold (>= 2 rings) counts (Scaf)."""
    ref = _reference_arg(reference, "scaf_similarity: reference", ("scaf",), n_jobs)
    with _quiet_rdkit(), _mapper(n_jobs, "scaf_similarity") as pmap:
        gen = _featurize_set(_as_list(generated, "scaf_similarity: generated"), ("scaffold",), pmap,
                             "scaf_similarity: generated")
    return cos_similarity(ref.scaf, gen.counter("scaffold"))


def fcd(generated: Sequence[str], reference, device: str = "cpu", batch_size: int = 512) -> float:
    """Frechet ChemNet Distance between generated SMILES and a reference (SMILES or statistics)."""
    ref = _reference_arg(reference, "fcd: reference", ("fcd",), 1, device, batch_size)
    with _quiet_rdkit():
        gen = _featurize_set(_as_list(generated, "fcd: generated"), ("canonical",), lambda f, xs: [f(x) for x in xs],
                             "fcd: generated")
        moments = _fcd_moments(chemnet_activations([f.canonical for f in gen.features], device, batch_size),
                               gen.counts)
    if moments is None or ref.fcd_mu is None:
        return float("nan")
    return frechet_distance(ref.fcd_mu, ref.fcd_sigma, *moments)


def property_w1(generated: Sequence[MolLike], reference, name: str, n_jobs: int = 1) -> float:
    """Wasserstein-1 distance of one property (``logp``, ``sa``, ``qed``, ``mw``) to the reference."""
    if name not in PROPERTY_NAMES:
        raise ConfigError(fmt_error("property_w1: name", f"must be one of {PROPERTY_NAMES}", name,
                                    "Pick a property MOSES compares."))
    ref = _reference_arg(reference, "property_w1: reference", ("props",), n_jobs)
    with _quiet_rdkit(), _mapper(n_jobs, "property_w1") as pmap:
        gen = _featurize_set(_as_list(generated, "property_w1: generated"), ("properties",), pmap,
                             "property_w1: generated")
    return _w1(ref.props[name], gen.property_values(name))


def _w1(ref_values: np.ndarray, gen_values: np.ndarray) -> float:
    from scipy.stats import wasserstein_distance

    if len(gen_values) == 0:
        return float("nan")
    return float(wasserstein_distance(ref_values, gen_values))


def fraction_passes_filters(generated: Sequence[MolLike], n_jobs: int = 1) -> float:
    """Fraction of (valid) molecules passing :func:`mol_passes_filters`."""
    with _quiet_rdkit(), _mapper(n_jobs, "fraction_passes_filters") as pmap:
        gen = _featurize_set(_as_list(generated, "fraction_passes_filters: generated"), ("filters",), pmap,
                             "fraction_passes_filters: generated")
    return _filters_of(gen)


def _filters_of(gen: _SetFeatures) -> float:
    passes = np.array([f.passes_filters for f in gen.features], dtype=np.float64)
    return float((passes * gen.counts).sum() / gen.n)


# --------------------------------------------------------------------------- everything at once

@contextmanager
def _timed(stage: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    logger.info("moses_metrics: %s took %.1f s", stage, time.perf_counter() - t0)


def _against(gen: _SetFeatures, gen_fcd: Optional[Tuple[np.ndarray, np.ndarray]], gen_fps: np.ndarray,
             ref: ReferenceStats, suffix: str, device: str) -> Dict[str, float]:
    """FCD, SNN, Frag and Scaf of the generated set against one reference."""
    out: Dict[str, float] = {}
    with _timed(f"fcd/{suffix}"):
        out[f"fcd/{suffix}"] = (frechet_distance(ref.fcd_mu, ref.fcd_sigma, *gen_fcd)
                                if gen_fcd is not None and ref.fcd_mu is not None else float("nan"))
    with _timed(f"snn/{suffix}"):
        best = ref.nearest_index(device).max_similarity(gen_fps) if len(gen_fps) else np.zeros(0)
        out[f"snn/{suffix}"] = float((best * gen.counts).sum() / gen.n) if gen.n else float("nan")
    with _timed(f"frag/{suffix} + scaf/{suffix}"):
        out[f"frag/{suffix}"] = cos_similarity(ref.frag, gen.counter("fragments"))
        out[f"scaf/{suffix}"] = cos_similarity(ref.scaf, gen.counter("scaffold"))
    return out


def _unique_at(valid_canonical: List[str], recanon: Dict[str, str], k: int) -> float:
    if not valid_canonical:
        return float("nan")
    if len(valid_canonical) < k:
        warnings.warn(f"unique@{k}: only {len(valid_canonical)} valid molecules, so it is computed on all of them "
                      f"(as MOSES does); generate more molecules for a comparable value.")
    head = valid_canonical[:k]
    # MOSES canonicalises the canonical SMILES once more before counting
    return len({recanon[s] for s in head}) / len(head)


def moses_metrics(generated: Sequence[Optional[str]], train: Union[Sequence[str], CanonicalSet],
                  test: Optional[Sequence[str]] = None, test_scaffolds: Optional[Sequence[str]] = None,
                  n_jobs: int = 1, device: str = "cpu", batch_size: int = 512,
                  test_stats: Optional[StatsLike] = None,
                  test_scaffolds_stats: Optional[StatsLike] = None) -> Dict[str, float]:
    """All MOSES metrics of generated SMILES (MOSES ``get_all_metrics``).

    Parameters
    ----------
    generated : sequence of str (or None)
        Generated SMILES, ``(N,)``; invalid and empty entries count against ``valid``.
    train : sequence of str or CanonicalSet
        Training SMILES for ``novelty``; a :class:`CanonicalSet` skips canonicalising them.
    test, test_scaffolds : sequence of str, optional
        Reference SMILES; used to compute statistics that ``test_stats`` /
        ``test_scaffolds_stats`` do not provide (statistics take precedence, as in MOSES).
    n_jobs : int
        Worker processes for per-molecule RDKit work (1 = in this process, -1 = all cores).
    device : str
        Torch device for ChemNet and the fingerprint products.
    batch_size : int
        ChemNet batch size.
    test_stats, test_scaffolds_stats : ReferenceStats, dict or path, optional
        Precomputed statistics, e.g. MOSES's ``test_stats.npz`` / ``test_scaffolds_stats.npz``.

    Returns
    -------
    dict of str to float
        ``valid``, ``unique@1000``, ``unique@10000``, ``novelty``, ``intdiv1``, ``intdiv2``,
        ``filters``; with a test reference also ``fcd/test``, ``snn/test``, ``frag/test``,
        ``scaf/test``, ``logp_w1``, ``sa_w1``, ``qed_w1``, ``mw_w1``; with a scaffold-test
        reference also ``fcd/testsf``, ``snn/testsf``, ``frag/testsf``, ``scaf/testsf``.
        Metrics undefined for zero valid molecules are NaN.
    """
    gen = _as_list(generated, "moses_metrics: generated")
    n_jobs = _check_n_jobs(n_jobs, "moses_metrics")
    out: Dict[str, float] = {}
    # references and the training set first: they open their own process pools
    with _timed("train canonical set"):
        train_set = _train_set(train, n_jobs, "moses_metrics: train")
    with _timed("test statistics"):
        ref_test = _resolve_reference(test, test_stats, "moses_metrics: test_stats", n_jobs, device, batch_size)
        ref_sf = _resolve_reference(test_scaffolds, test_scaffolds_stats, "moses_metrics: test_scaffolds_stats",
                                    n_jobs, device, batch_size)
    with _quiet_rdkit(), _mapper(n_jobs, "moses_metrics") as pmap:
        with _timed("validity"):
            raw, raw_counts, raw_inverse = _distinct(gen)
            canon = pmap(canonic_smiles, raw)
            out["valid"] = float(1.0 - sum(c for s, c in zip(canon, raw_counts.tolist()) if s is None) / len(gen))
            valid = [canon[j] for j in raw_inverse if canon[j] is not None]  # MOSES remove_invalid(canonize=True)
        if not valid:
            warnings.warn("moses_metrics: no generated molecule is valid; every metric but 'valid' is NaN.")
        with _timed("featurise generated"):
            feats = _featurize_set(valid, FEATURE_PARTS, pmap, "moses_metrics: generated") if valid else \
                _SetFeatures(np.zeros(0, dtype=np.int64), [])
            distinct_valid = _distinct(valid)[0]
            recanon = {s: f.canonical for s, f in zip(distinct_valid, feats.features)}
            gen_fps = feats.fingerprints() if valid else np.zeros((0, MORGAN_BITS), np.uint8)
    for k in UNIQUE_AT:
        out[f"unique@{k}"] = _unique_at(valid, recanon, k)
    out["novelty"] = _novelty_of(recanon.values(), train_set)
    with _timed("intdiv"):
        out["intdiv1"], out["intdiv2"] = _internal_diversity_from(gen_fps, feats.counts, device)
    out["filters"] = _filters_of(feats) if valid else float("nan")
    if ref_test is None and ref_sf is None:
        return {k: float(v) for k, v in out.items()}
    with _timed("chemnet activations"), _quiet_rdkit():
        gen_fcd = _fcd_moments(chemnet_activations(distinct_valid, device, batch_size), feats.counts) \
            if valid else None
    for ref, suffix in ((ref_test, "test"), (ref_sf, "testsf")):
        if ref is not None:
            out.update(_against(feats, gen_fcd, gen_fps, ref, suffix, device))
    if ref_test is not None:
        for name in PROPERTY_NAMES:
            out[f"{name}_w1"] = _w1(ref_test.props[name], feats.property_values(name)) if valid else float("nan")
    return {k: float(v) for k, v in out.items()}


__all__ = [
    "ALLOWED_ATOMS", "CanonicalSet", "FEATURE_PARTS", "MOSES_PROPERTY_KEYS", "MolFeatures", "REFERENCE_PARTS",
    "ReferenceStats", "UNIQUE_AT", "canonic_smiles", "canonical_set", "chemnet_activations", "compute_scaffold",
    "cos_similarity", "fcd", "featurize", "fingerprints", "fraction_passes_filters", "fraction_unique",
    "fraction_valid", "frag_similarity", "fragmenter", "frechet_distance", "get_mol", "internal_diversity",
    "mol_passes_filters", "morgan_fingerprint", "moses_metrics", "novelty", "precalc", "property_w1",
    "remove_invalid", "scaf_similarity", "snn",
]
