"""The recommendation domain's :class:`~vaekit.domains.base.Domain`."""
from __future__ import annotations

import warnings
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
        return ranking_validation(val.x, val.y, ks=(20, 50, 100), exclude=val.exclude)

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
        are the fold-in; seen items are excluded). Writes ``user, rank, item, score``, users
        in order of first appearance, ids as the file writes them. Takes no ``--cond``.

        Item ids are matched in the type of the training ids
        (:func:`~vaekit.domains.recsys.interactions.match_ids`: ``"67"`` finds the trained
        ``67`` even when another id of the file is text). Rows on items the model was not
        trained on are skipped with a count and examples in one warning; a user left with no
        known item is an error for the whole file (the model would give them the same
        non-personal list as anyone, and writing it would pass for a recommendation).

        Raises
        ------
        DataValidationError
            The file cannot be read as interactions, or a user has no item the model knows
            (the message names such users).
        """
        self.parse_cond(list(cond), info)  # refuses a condition with the domain's message
        from vaekit.core.errors import DataValidationError, fmt_error

        from ..io import show
        from . import models
        from .interactions import match_ids
        from .io import _pd, _sparse, read_interactions
        from .metrics import top_k

        pd, sp = _pd(), _sparse()

        where = str(input_path)
        ids = np.asarray(info.extra["item_ids"], dtype=object)
        # Ids as written: a digits-only file must still find text training ids such as "007".
        hist = read_interactions(input_path, ids_as_text=True)
        cols = match_ids(ids, hist["item"].to_numpy())
        known = cols >= 0
        if not known.all():
            unknown = pd.unique(hist["item"].to_numpy()[~known])
            warnings.warn(f"{where}: skipped {int((~known).sum())} of {len(known)} history rows whose item the model "
                          f"was not trained on ({len(unknown)} distinct ids, e.g. {show(unknown, 3)}); the model's "
                          f"{len(ids)} item ids are extra.item_ids in the run's data_info.json.", stacklevel=2)
        user_codes, users = pd.factorize(hist["user"])
        has_known = np.zeros(len(users), dtype=bool)
        has_known[user_codes[known]] = True
        if not has_known.all():
            lost = users[~has_known]
            raise DataValidationError(fmt_error(
                where, "every user needs at least one item the model was trained on (the history is the model's "
                       "input; with none, it has nothing to personalise)",
                f"{len(lost)} of {len(users)} users have none: {show(list(lost), 5)}",
                "Remove those users, or fix their item ids: the model's ids are extra.item_ids in the run's "
                "data_info.json."))
        X = sp.csr_matrix((np.ones(int(known.sum()), dtype=np.float32), (user_codes[known], cols[known])),
                          shape=(len(users), len(ids)), dtype=np.float32)
        X.sum_duplicates()  # a pair listed twice is one click
        X.data[:] = 1.0
        scores = models.item_scores(model, X)
        idx = top_k(scores, min(int(n), X.shape[1]), exclude=X)
        val = np.take_along_axis(scores, idx, axis=1)
        rows = [{"user": u, "rank": r + 1, "item": ids[i], "score": float(v)}
                for u, ii, vv in zip(users, idx, val) for r, (i, v) in enumerate(zip(ii, vv))]
        return _write_table(rows, out, ["user", "rank", "item", "score"])


DOMAIN = RecsysDomain()
