"""Train/val/test splits of molecules: random, and Bemis-Murcko scaffold groups (no scaffold is
shared between splits)."""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np


def random_split(n: int, n_val: int, n_test: int, rng: np.random.Generator) -> Tuple[np.ndarray, ...]:
    """Sorted (train, val, test) indices of a uniform random split of ``range(n)``."""
    perm = rng.permutation(n)
    test, val, train = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
    return np.sort(train), np.sort(val), np.sort(test)


def scaffold_split(scaffolds: Sequence[str], n_val: int, n_test: int,
                   rng: np.random.Generator) -> Tuple[np.ndarray, ...]:
    """Balanced Bemis-Murcko scaffold split, as chemprop's ``scaffold_split(balanced=True)``.

    Molecules sharing a scaffold (Bemis & Murcko 1996, RDKit ``MurckoScaffoldSmiles``
    without chirality; acyclic molecules share the empty scaffold) form a group; every
    group goes to one split whole. Groups larger than half of the val or test size ("big")
    come first, in random order, then the other groups in random order, so big groups land
    in train and val/test get many small, diverse scaffolds. Each group goes to train while
    it fits, else to val while it fits, else to test; the split sizes are therefore close
    to, not exactly, ``n_val`` and ``n_test``. Deterministic given ``rng``.

    Returns
    -------
    tuple of ndarray
        Sorted ``(train, val, test)`` indices.
    """
    groups: Dict[str, List[int]] = {}
    for i, s in enumerate(scaffolds):
        groups.setdefault(s, []).append(i)
    sets = [groups[k] for k in sorted(groups)]  # sorted keys: independent of dict/file order
    big = [g for g in sets if len(g) > n_val / 2 or len(g) > n_test / 2]
    small = [g for g in sets if not (len(g) > n_val / 2 or len(g) > n_test / 2)]
    order = [big[i] for i in rng.permutation(len(big))] + [small[i] for i in rng.permutation(len(small))]
    n_train = len(scaffolds) - n_val - n_test
    train: List[int] = []
    val: List[int] = []
    test: List[int] = []
    for g in order:
        if len(train) + len(g) <= n_train:
            train += g
        elif len(val) + len(g) <= n_val:
            val += g
        else:
            test += g
    return (np.sort(np.asarray(train, dtype=np.int64)), np.sort(np.asarray(val, dtype=np.int64)),
            np.sort(np.asarray(test, dtype=np.int64)))


__all__ = ["random_split", "scaffold_split"]
