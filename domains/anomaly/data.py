"""Deprecated module path: the anomaly data code now lives in :mod:`.features` (feature and
label checks), :mod:`.io` (readers, the embedded and ADBench data) and :mod:`.loading` (the
``data`` section and its loader). These re-exports keep ``vaekit.domains.anomaly.data``
importable while the other modules move to the new homes; they are to be removed.
"""
from .features import MAX_CATEGORIES, FeatureSummary, as_feature_frame, to_binary_labels, validate_features
from .io import (ARRAY_SUFFIXES, DEFAULT_NA_VALUES, LABEL_NAMES, MEDICAL, OTHER, breast_cancer_data, load_adbench_dir,
                 read_table)
from .loading import AnomalyDataConfig, load_anomaly

__all__ = ["MAX_CATEGORIES", "FeatureSummary", "as_feature_frame", "to_binary_labels", "validate_features",
           "ARRAY_SUFFIXES", "DEFAULT_NA_VALUES", "LABEL_NAMES", "MEDICAL", "OTHER", "breast_cancer_data",
           "load_adbench_dir", "read_table", "AnomalyDataConfig", "load_anomaly"]
