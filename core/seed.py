"""Deterministic seeds derived from (run seed, step, slot).

The trainer reseeds torch before every micro-batch with ``derive_seed(seed, step, slot)``
where ``slot = rank * grad_accum + micro_index``. Randomness (reparameterisation noise,
dropout) is then a pure function of *where* in training a computation happens, so

* a resumed run draws exactly what the uninterrupted run drew (no RNG state to restore), and
* ``W`` ranks x ``A`` accumulation steps compute the same thing for every ``W * A``.
"""
from __future__ import annotations

import random

import numpy as np
import torch

_MASK = (1 << 63) - 1


_M64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    """One step of splitmix64 (Steele et al. 2014): a bijective, well-mixing 64-bit hash."""
    z = (x + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def derive_seed(*parts: int) -> int:
    """Mix integers into one 63-bit seed, e.g. ``derive_seed(seed, step, slot)``."""
    h = 0
    for p in parts:
        h = _splitmix64(h ^ _splitmix64(int(p) & _M64))
    return h & _MASK


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)
