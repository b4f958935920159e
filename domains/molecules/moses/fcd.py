"""Frechet ChemNet Distance (Preuer et al. 2018, "Frechet ChemNet Distance: A Metric for
Generative Models for Molecules in Drug Discovery", J. Chem. Inf. Model. 58:1736): ChemNet
activations via ``fcd_torch`` and the Frechet distance of the Gaussians fitted to them."""
from __future__ import annotations

import warnings
from contextlib import contextmanager
from functools import lru_cache
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from vaekit.core.errors import require

# --------------------------------------------------------------------------- FCD

@lru_cache(maxsize=4)
def _chemnet(device: str, batch_size: int):
    require("fcd_torch", "molecules")
    from fcd_torch import FCD

    # n_jobs=1: SMILES are one-hot encoded in this process; ChemNet's LSTMs dominate the time
    return FCD(device=device, n_jobs=1, batch_size=batch_size)


CHEMNET_DIM = 512


def chemnet_activations(smiles: Sequence[str], device: str = "cpu", batch_size: int = 512) -> np.ndarray:
    """ChemNet penultimate activations, ``(N, 512)`` float32 (``fcd_torch`` canonicalises the SMILES).

    The loop of ``fcd_torch.FCD.get_predictions`` (same dataset, batches and model call, so the
    same values), except that each batch's activations are copied into one preallocated array.
    ``get_predictions`` keeps ``output.numpy()`` per batch, and that output is the last time step
    of the final LSTM, a view whose storage is the whole ``(batch, 88, 512)`` sequence: 180 kB
    kept per molecule, 32 GB for MOSES's 176k-molecule test set instead of its 360 MB.
    """
    smiles = list(smiles)
    out = np.empty((len(smiles), CHEMNET_DIM), dtype=np.float32)
    if not smiles:
        return out
    import torch
    from fcd_torch.utils import SmilesDataset, todevice
    from torch.utils.data import DataLoader

    chemnet = _chemnet(str(device), int(batch_size))
    loader = DataLoader(SmilesDataset(smiles, canonize=chemnet.canonize), batch_size=chemnet.batch_size,
                        num_workers=chemnet.n_jobs)
    start = 0
    with todevice(chemnet.model, chemnet.device), torch.no_grad():
        for batch in loader:
            acts = chemnet.model(batch.transpose(1, 2).float().to(chemnet.device)).to("cpu")
            out[start:start + len(acts)] = acts.numpy()  # a copy: the view's storage is freed with acts
            start += len(acts)
    return out


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
