"""Tanimoto similarity of Morgan fingerprints as exact integer matrix products (8-bit quantised
GEMM on CPU where PyTorch provides it, float32 otherwise): nearest-neighbour similarity (SNN),
internal diversity, and the cosine similarity of fragment / scaffold count vectors."""
from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Dict, Mapping, Sequence, Tuple, Union

import numpy as np
import torch

from vaekit.core.errors import ConfigError, DataValidationError, fmt_error

from .chem import MORGAN_BITS, MolLike, _mapper, _quiet_rdkit
from .features import _as_list, _distinct, _featurize_set

# --------------------------------------------------------------------------- fingerprints and Tanimoto

def fingerprints(molecules: Sequence[MolLike], n_jobs: int = 1) -> np.ndarray:
    """Morgan fingerprints (radius 2, 1024 bits), ``(N, 1024)`` uint8; raises on an invalid molecule."""
    mols = _as_list(molecules, "fingerprints: molecules", allow_empty=True, none_ok=True)
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
        mols = _as_list(generated, "internal_diversity: generated", none_ok=True)
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
