"""Reference-set statistics (:class:`ReferenceStats`): what the set-vs-reference metrics need of a
test set, computed once (:func:`precalc`) or loaded from MOSES's published ``test_stats.npz``."""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, fmt_error
from ..properties import PROPERTY_NAMES

from .chem import MolLike, _mapper, _quiet_rdkit
from .fcd import _fcd_moments, chemnet_activations
from .features import _as_list, _distinct, _featurize_set
from .safe_npz import load_npz_member
from .similarity import _NearestIndex, _check_fps

# vaekit property name -> key of the same property in MOSES's statistics files
MOSES_PROPERTY_KEYS = {"logp": "logP", "sa": "SA", "qed": "QED", "mw": "weight"}
REFERENCE_PARTS = ("fcd", "snn", "frag", "scaf", "props")

StatsLike = Union["ReferenceStats", Mapping, str, os.PathLike]

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

        The pickle is read by a restricted unpickler (:mod:`.safe_npz`) that builds only numpy
        arrays, dicts, lists, Counters, strings and numbers; a file naming any other global (one
        that would run code, as ``np.load(allow_pickle=True)`` would let it) is refused with a
        :class:`DataValidationError` before anything is called.
        """
        if not isinstance(stats, Mapping):
            path = Path(stats)
            if not path.exists():
                raise DataValidationError(fmt_error("ReferenceStats.from_moses", "the statistics file must exist",
                                                    str(path), "Pass the path of test_stats.npz from MOSES."))
            array = load_npz_member(path, "stats")
            stats = array.item() if array.shape == () else None
            if not isinstance(stats, Mapping):
                raise DataValidationError(fmt_error(f"ReferenceStats.from_moses: {path}",
                                                    "'stats' must hold one dict (MOSES's format)",
                                                    f"an array of shape {array.shape}",
                                                    "Pass MOSES's test_stats.npz or test_scaffolds_stats.npz."))
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
