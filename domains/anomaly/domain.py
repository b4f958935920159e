"""The anomaly domain's :class:`~vaekit.domains.base.Domain`."""
from __future__ import annotations

from pathlib import Path
from typing import Any, List

import torch

from vaekit.core.checkpoint import atomic_path
from vaekit.core.errors import DataValidationError
from vaekit.core.types import DataBundle, DataInfo

from ..base import Domain, Metric
from .data import AnomalyDataConfig, load_anomaly
from .evaluation import AnomalyEvalOptions, BaselineMetrics, DetectionMetrics


class AnomalyDomain(Domain):
    name = "anomaly"
    DataConfig = AnomalyDataConfig
    EvalOptions = AnomalyEvalOptions
    requires = ("pyod", "sklearn", "pandas", "scipy")
    extra = "anomaly"

    def load_data(self, cfg: AnomalyDataConfig, seed: int) -> DataBundle:
        return load_anomaly(cfg, seed)

    def metrics(self) -> List[Metric]:
        return [DetectionMetrics(), BaselineMetrics()]

    def decode(self, x: torch.Tensor, info: DataInfo) -> List[Any]:
        """Model-space rows -> records (dicts) in the original columns and units."""
        from .preprocess import inverse_transform

        df = inverse_transform(info.extra["preprocessor"], x.reshape(x.shape[0], -1).float().cpu().numpy())
        return df.to_dict(orient="records")

    def save_samples(self, samples: List[Any], path: Path, info: DataInfo) -> Path:
        """``.csv``/``.tsv``/``.parquet`` table of generated records (original columns)."""
        import pandas as pd

        path = Path(path)
        if path.suffix not in (".csv", ".tsv", ".parquet"):
            raise DataValidationError(f"--out {path}: generated records are written as .csv, .tsv or .parquet; "
                                      f"got suffix {path.suffix!r}.")
        df = pd.DataFrame(samples, columns=info.extra["preprocessor"]["feature_names"])
        with atomic_path(path) as tmp:
            if path.suffix == ".parquet":
                df.to_parquet(tmp, index=False)
            else:
                df.to_csv(tmp, index=False, sep="\t" if path.suffix == ".tsv" else ",")
        return path


DOMAIN = AnomalyDomain()
