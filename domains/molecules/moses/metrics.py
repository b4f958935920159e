"""The set-vs-reference MOSES metrics (SNN, fragment and scaffold similarity, FCD, property
Wasserstein-1 distances, filters) and :func:`moses_metrics`, everything at once with per-stage
timings logged at INFO level."""
from __future__ import annotations

import logging
import time
import warnings
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from vaekit.core.errors import ConfigError, fmt_error
from ..properties import PROPERTY_NAMES

from .chem import MORGAN_BITS, MolLike, _check_n_jobs, _mapper, _quiet_rdkit, canonic_smiles
from .fcd import _fcd_moments, chemnet_activations, frechet_distance
from .features import FEATURE_PARTS, _SetFeatures, _as_list, _distinct, _featurize_set
from .reference import ReferenceStats, StatsLike, _reference_arg, _resolve_reference
from .sets import CanonicalSet, _novelty_of, _train_set
from .similarity import _internal_diversity_from, cos_similarity, fingerprints

logger = logging.getLogger(__name__)

UNIQUE_AT = (1000, 10000)

# --------------------------------------------------------------------------- set-vs-reference metrics

def snn(generated: Sequence[MolLike], reference, n_jobs: int = 1, device: str = "cpu") -> float:
    """Mean over generated molecules of the maximum Tanimoto similarity to the reference (SNN)."""
    ref = _reference_arg(reference, "snn: reference", ("snn",), n_jobs)
    fps = fingerprints(_as_list(generated, "snn: generated", none_ok=True), n_jobs)
    return float(np.mean(ref.nearest_index(device).max_similarity(fps)))


def _count_similarity(generated: Sequence[MolLike], reference, where: str, part: str, feature: str,
                      n_jobs: int) -> float:
    """Cosine similarity of the ``feature`` counts of ``generated`` and the reference's ``part`` counts."""
    ref = _reference_arg(reference, f"{where}: reference", (part,), n_jobs)
    with _quiet_rdkit(), _mapper(n_jobs, where) as pmap:
        gen = _featurize_set(_as_list(generated, f"{where}: generated", none_ok=True), (feature,), pmap,
                             f"{where}: generated")
    return cos_similarity(getattr(ref, part), gen.counter(feature))


def frag_similarity(generated: Sequence[MolLike], reference, n_jobs: int = 1) -> float:
    """Cosine similarity of BRICS fragment counts (Frag)."""
    return _count_similarity(generated, reference, "frag_similarity", "frag", "fragments", n_jobs)


def scaf_similarity(generated: Sequence[MolLike], reference, n_jobs: int = 1) -> float:
    """Cosine similarity of Bemis-Murcko scaffold (>= 2 rings) counts (Scaf)."""
    return _count_similarity(generated, reference, "scaf_similarity", "scaf", "scaffold", n_jobs)


def fcd(generated: Sequence[str], reference, device: str = "cpu", batch_size: int = 512) -> float:
    """Frechet ChemNet Distance between generated SMILES and a reference (SMILES or statistics)."""
    ref = _reference_arg(reference, "fcd: reference", ("fcd",), 1, device, batch_size)
    with _quiet_rdkit():
        gen = _featurize_set(_as_list(generated, "fcd: generated", none_ok=True), ("canonical",),
                             lambda f, xs: [f(x) for x in xs], "fcd: generated")
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
        gen = _featurize_set(_as_list(generated, "property_w1: generated", none_ok=True), ("properties",), pmap,
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
        gen = _featurize_set(_as_list(generated, "fraction_passes_filters: generated", none_ok=True), ("filters",),
                             pmap, "fraction_passes_filters: generated")
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
        Generated SMILES, ``(N,)``; invalid and empty entries, and ``None`` (a failed
        generation, as MOSES's ``get_mol`` treats it), count against ``valid``. Any other
        non-string, or a string longer than ``MAX_SMILES_CHARS`` (2000), raises
        :class:`DataValidationError` naming its index.
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
    gen = _as_list(generated, "moses_metrics: generated", none_ok=True)
    # every list checked before the first (minutes-long) stage, each error naming its argument
    test = None if test is None else _as_list(test, "moses_metrics: test")
    test_scaffolds = None if test_scaffolds is None else _as_list(test_scaffolds, "moses_metrics: test_scaffolds")
    if not isinstance(train, CanonicalSet):
        train = _as_list(train, "moses_metrics: train")
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
