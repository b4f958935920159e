"""Deprecated module path: the MOSES metrics now live in the subpackage :mod:`.moses`
(``chem``, ``filters``, ``features``, ``sets``, ``similarity``, ``fcd``, ``reference``,
``metrics``). This re-export keeps ``vaekit.domains.molecules.metrics`` importable while the
other modules move to the new home; it is to be removed.
"""
from .moses import (ALLOWED_ATOMS, FEATURE_PARTS, MORGAN_BITS, MORGAN_RADIUS, MOSES_PROPERTY_KEYS, REFERENCE_PARTS,
                    UNIQUE_AT, CanonicalSet, MolFeatures, ReferenceStats, canonic_smiles, canonical_set,
                    chemnet_activations, compute_scaffold, cos_similarity, fcd, featurize, fingerprints,
                    fraction_passes_filters, fraction_unique, fraction_valid, frag_similarity, fragmenter,
                    frechet_distance, get_mol, internal_diversity, mol_passes_filters, morgan_fingerprint,
                    moses_metrics, novelty, precalc, property_w1, remove_invalid, scaf_similarity, snn)

__all__ = [
    "ALLOWED_ATOMS", "CanonicalSet", "FEATURE_PARTS", "MORGAN_BITS", "MORGAN_RADIUS", "MOSES_PROPERTY_KEYS",
    "MolFeatures", "REFERENCE_PARTS", "ReferenceStats", "UNIQUE_AT", "canonic_smiles", "canonical_set",
    "chemnet_activations", "compute_scaffold", "cos_similarity", "fcd", "featurize", "fingerprints",
    "fraction_passes_filters", "fraction_unique", "fraction_valid", "frag_similarity", "fragmenter",
    "frechet_distance", "get_mol", "internal_diversity", "mol_passes_filters", "morgan_fingerprint", "moses_metrics",
    "novelty", "precalc", "property_w1", "remove_invalid", "scaf_similarity", "snn",
]
