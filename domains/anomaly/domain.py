"""The anomaly domain's :class:`~vaekit.domains.base.Domain`."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import torch

from vaekit.core.types import DataBundle, DataInfo

from ..base import Domain, EvalContext, Metric
from ..tables import check_table_suffix, write_table
from .loading import AnomalyDataConfig, load_anomaly
from .evaluation import AnomalyEvalOptions, BaselineMetrics, DetectionMetrics


class AnomalyDomain(Domain):
    name = "anomaly"
    DataConfig = AnomalyDataConfig
    EvalOptions = AnomalyEvalOptions

    def load_data(self, cfg: AnomalyDataConfig, seed: int) -> DataBundle:
        return load_anomaly(cfg, seed)

    def metrics(self) -> List[Metric]:
        return [DetectionMetrics(), BaselineMetrics()]

    def decode(self, x: torch.Tensor, info: DataInfo) -> List[Any]:
        """Model-space rows -> records (dicts) in the original columns and units."""
        from .preprocess import inverse_transform

        df = inverse_transform(info.extra["preprocessor"], x.reshape(x.shape[0], -1).float().cpu().numpy())
        return df.to_dict(orient="records")

    def report_sections(self, ctx: EvalContext, result: Dict[str, Any]) -> List[Any]:
        """ROC and precision-recall curves (the VAE against the baselines) and the most anomalous
        records with their main features (:mod:`~vaekit.domains.anomaly.report`)."""
        from .report import report_sections

        return report_sections(ctx, result)

    def save_samples(self, samples: List[Any], path: Path, info: DataInfo) -> Path:
        """``.csv``/``.tsv``/``.parquet`` table of generated records (original columns)."""
        import pandas as pd

        check_table_suffix(path, "generated records")  # before anything else, so a wrong --out fails at once
        df = pd.DataFrame(samples, columns=info.extra["preprocessor"]["feature_names"])
        return write_table(df, path, "generated records")


DOMAIN = AnomalyDomain()
