"""vaekit.domains.molecules.moses: the MOSES benchmark metrics, computed natively on RDKit exactly
as MOSES defines them.

Reference: Polykovskiy et al. (2020), "Molecular Sets (MOSES): A Benchmarking Platform for
Molecular Generation Models", Front. Pharmacol. 11:565644, and its reference implementation
(molecularsets/moses, ``moses/metrics/metrics.py`` and ``moses/metrics/utils.py``), which this
package follows definition by definition without importing it (``molsets`` no longer runs on
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
176k-molecule test sets need not be featurised again. Their pickles are read by a restricted
unpickler (:mod:`.safe_npz`) that builds only numpy arrays, dicts, lists, Counters, strings and
numbers, so a crafted statistics file is refused instead of running its payload.

Inputs: generated lists hold SMILES strings, RDKit molecules or ``None`` (a failed generation,
counted as invalid, as MOSES's ``get_mol`` does); training and reference lists hold SMILES or
molecules. Any other entry, or a SMILES longer than ``MAX_SMILES_CHARS`` (RDKit crashes on very
long strings), raises :class:`~vaekit.core.errors.DataValidationError` naming the argument and index.

Speed (not definitions) differs from MOSES: per-molecule RDKit work runs once per distinct
molecule (results are weighted by multiplicity, which is exact), in a process pool when
``n_jobs > 1``; fingerprint intersections are exact integer matrix products (8-bit quantised
GEMM on CPU where PyTorch provides it, float32 otherwise); the nearest-neighbour search sorts
the reference by fingerprint popcount so that only the largest intersection count per
(molecule, popcount) has to be kept, because ``c / (a + b - c)`` increases with ``c``; and the
filter SMARTS are tried only when an exact element-count screen says they could match.
Timings of each stage are logged at INFO level on the logger of :mod:`.metrics`.

Modules: :mod:`.chem` (per-molecule RDKit helpers), :mod:`.filters`, :mod:`.features` (the
one-pass featuriser), :mod:`.sets` (validity, uniqueness, novelty), :mod:`.similarity`
(Tanimoto kernels, SNN, internal diversity, cosine), :mod:`.fcd`, :mod:`.reference`
(:class:`ReferenceStats`), :mod:`.safe_npz` (reading the statistics files) and :mod:`.metrics`
(the set-vs-reference metrics and :func:`moses_metrics`).
"""
from .chem import MORGAN_BITS, MORGAN_RADIUS, canonic_smiles, compute_scaffold, fragmenter, get_mol, morgan_fingerprint
from .fcd import chemnet_activations, frechet_distance
from .features import FEATURE_PARTS, MolFeatures, featurize
from .filters import ALLOWED_ATOMS, mol_passes_filters
from .metrics import (UNIQUE_AT, fcd, fraction_passes_filters, frag_similarity, moses_metrics, property_w1,
                      scaf_similarity, snn)
from .reference import MOSES_PROPERTY_KEYS, REFERENCE_PARTS, ReferenceStats, precalc
from .sets import CanonicalSet, canonical_set, fraction_unique, fraction_valid, novelty, remove_invalid
from .similarity import cos_similarity, fingerprints, internal_diversity

__all__ = [
    "ALLOWED_ATOMS", "CanonicalSet", "FEATURE_PARTS", "MORGAN_BITS", "MORGAN_RADIUS", "MOSES_PROPERTY_KEYS",
    "MolFeatures", "REFERENCE_PARTS", "ReferenceStats", "UNIQUE_AT", "canonic_smiles", "canonical_set",
    "chemnet_activations", "compute_scaffold", "cos_similarity", "fcd", "featurize", "fingerprints",
    "fraction_passes_filters", "fraction_unique", "fraction_valid", "frag_similarity", "fragmenter",
    "frechet_distance", "get_mol", "internal_diversity", "mol_passes_filters", "morgan_fingerprint", "moses_metrics",
    "novelty", "precalc", "property_w1", "remove_invalid", "scaf_similarity", "snn",
]
