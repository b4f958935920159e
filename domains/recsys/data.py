"""Deprecated module path: the recsys data code now lives in :mod:`.io` (reading logs),
:mod:`.interactions` (binarise, filter, the CSR matrix), :mod:`.splits` (strong generalisation,
leave-last-out, DiffRec) and :mod:`.synthetic` (the generated default). These re-exports keep
``vaekit.domains.recsys.data`` importable while the other modules move to the new homes; they
are to be removed.
"""
from .interactions import Interactions, binarize, filter_min_counts
from .io import CANONICAL, ITEM_NAMES, RATING_NAMES, TIME_NAMES, USER_NAMES, read_interactions
from .splits import (MIN_ITEMS_FOR_TARGET, DiffRecSplit, LeaveLastOutSplit, StrongGeneralizationSplit,
                     leave_last_out_split, load_diffrec, strong_generalization_split)
from .synthetic import synthetic_interactions

__all__ = ["Interactions", "binarize", "filter_min_counts", "CANONICAL", "ITEM_NAMES", "RATING_NAMES", "TIME_NAMES",
           "USER_NAMES", "read_interactions", "MIN_ITEMS_FOR_TARGET", "DiffRecSplit", "LeaveLastOutSplit",
           "StrongGeneralizationSplit", "leave_last_out_split", "load_diffrec", "strong_generalization_split",
           "synthetic_interactions"]
