"""The recommendation domain's :class:`~vaekit.domains.base.Domain`."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

from vaekit.core.types import DataBundle, DataInfo

from ..base import Domain, Metric
from ..tables import write_table
from .evaluation import BaselineMetrics, RankingMetrics, RecsysEvalOptions
from .loading import RecsysDataConfig, load_recsys
from . import recvae  # noqa: F401  (registers the 'recvae' encoder and 'recvae_composite' prior kinds)

#: Items listed per generated row by ``vaekit generate`` without ``--input``.
TOP_ITEMS = 20


def _write_table(rows: List[Dict[str, Any]], path: Path, columns: List[str]) -> Path:
    import pandas as pd

    return write_table(pd.DataFrame(rows, columns=columns), path, "recommendations")


class RecsysDomain(Domain):
    name = "recsys"
    DataConfig = RecsysDataConfig
    EvalOptions = RecsysEvalOptions

    def load_data(self, cfg: RecsysDataConfig, seed: int) -> DataBundle:
        return load_recsys(cfg, seed)

    def metrics(self) -> List[Metric]:
        return [RankingMetrics(), BaselineMetrics()]

    def validation_metrics(self, data: DataBundle) -> Optional[Callable[[Any], Dict[str, float]]]:
        """Recall@20/50 and NDCG@100 of the validation users at every evaluation, so that
        ``train.monitor: ndcg@100`` picks the best epoch as Liang et al. 2018 do."""
        from .models import ranking_validation

        val = data.val
        if val is None or len(val) == 0:
            return None
        n_items = val.x.shape[1]
        return ranking_validation(val.x, val.y, ks=sorted({min(k, n_items) for k in (20, 50, 100)}),
                                  exclude=val.exclude)

    def report_sections(self, ctx, result):
        """Recall/NDCG by k beside EASE and popularity, and example recommendations
        (:mod:`vaekit.domains.recsys.report`)."""
        from .report import report_sections

        return report_sections(ctx, result)

    def decode(self, x: torch.Tensor, info: DataInfo) -> List[Any]:
        """Item probabilities ``(N, n_items)`` -> the ``TOP_ITEMS`` most probable item ids per row."""
        ids = np.asarray(info.extra["item_ids"], dtype=object)
        p = x.reshape(x.shape[0], -1).float()
        top = torch.topk(p, min(TOP_ITEMS, p.shape[1]), dim=1).indices.cpu().numpy()
        return [list(ids[row]) for row in top]

    def save_samples(self, samples: List[Any], path: Path, info: DataInfo) -> Path:
        """One row per (generated user, rank, item) in ``.csv``/``.tsv``/``.parquet``."""
        rows = [{"user": u, "rank": r + 1, "item": item} for u, items in enumerate(samples)
                for r, item in enumerate(items)]
        return _write_table(rows, path, ["user", "rank", "item"])

    def generate_from_inputs(self, model, info: DataInfo, input_path: Path, n: int, out: Path,
                             seed: int = 0, cond: Sequence[str] = ()) -> Path:
        """Top-``n`` recommendations for the users of an interactions file (their histories
        are the fold-in; seen items are excluded; items unknown to the model are skipped
        with a count). Writes ``user, rank, item, score``. Takes no ``--cond``."""
        self.parse_cond(list(cond), info)  # refuses a condition with the domain's message
        from .interactions import Interactions
        from .io import read_interactions
        from .metrics import top_k
        from .models import item_scores

        ids = np.asarray(info.extra["item_ids"], dtype=object)
        hist = Interactions.from_frame(read_interactions(input_path), item_ids=ids)
        X, users = hist.matrix, hist.user_ids
        scores = item_scores(model, X)
        idx = top_k(scores, min(int(n), X.shape[1]), exclude=X)
        val = np.take_along_axis(scores, idx, axis=1)
        rows = [{"user": u, "rank": r + 1, "item": ids[i], "score": float(v)}
                for u, ii, vv in zip(users, idx, val) for r, (i, v) in enumerate(zip(ii, vv))]
        return _write_table(rows, out, ["user", "rank", "item", "score"])


DOMAIN = RecsysDomain()
