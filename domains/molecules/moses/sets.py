"""Validity, uniqueness and novelty (MOSES ``fraction_valid``, ``fraction_unique``, ``novelty``)."""
from __future__ import annotations

import warnings
from typing import Iterable, List, Optional, Sequence, Union

import numpy as np

from vaekit.core.errors import DataValidationError, fmt_error

from .chem import MolLike, _mapper, _quiet_rdkit, canonic_smiles, get_mol
from .features import _as_list, _distinct

# --------------------------------------------------------------------------- validity, uniqueness, novelty

def fraction_valid(generated: Sequence[MolLike], n_jobs: int = 1) -> float:
    """Fraction of entries MOSES's ``get_mol`` accepts (empty strings and ``None`` are invalid)."""
    gen = _as_list(generated, "fraction_valid: generated", none_ok=True)
    distinct, counts, _ = _distinct(gen)
    with _quiet_rdkit(), _mapper(n_jobs, "fraction_valid") as pmap:
        ok = np.array([m is not None for m in pmap(get_mol, distinct)])
    return float(1.0 - counts[~ok].sum() / len(gen))


def remove_invalid(generated: Sequence[MolLike], canonize: bool = True, n_jobs: int = 1) -> List[str]:
    """Valid entries in order, as canonical SMILES (``canonize=True``) or as given."""
    gen = _as_list(generated, "remove_invalid: generated", allow_empty=True, none_ok=True)
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
    gen = _as_list(generated, "fraction_unique: generated", none_ok=True)
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
    gen = _as_list(generated, "novelty: generated", none_ok=True)
    train_set = _train_set(train, n_jobs, "novelty: train")
    distinct, _, _ = _distinct(gen)
    with _quiet_rdkit(), _mapper(n_jobs, "novelty") as pmap:
        canon = pmap(canonic_smiles, distinct)
    return _novelty_of(canon, train_set)
