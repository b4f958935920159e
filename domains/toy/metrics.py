"""Toy-domain metrics: does the latent recover the generating clusters, does the model
reconstruct, and do its samples look like the data?"""
from __future__ import annotations

from typing import Dict

import torch

from ..base import EvalContext, Metric
from ..latent_metrics import ClusterRecovery, Reconstruction, knn_accuracy  # noqa: F401  (re-exported)
from .data import EOS, SPECIALS, is_grammatical


class SampleQuality(Metric):
    """Quality of prior samples. Sequences: share that follow the generating grammar
    (a validity rate, as MOSES reports for molecules). Vectors: mean distance from each sample
    to its nearest test point divided by the same for held-out validation points
    (about 1 when samples sit where the data sits; larger is worse)."""

    name = "sample"
    higher_is_better = {"sample_nn_ratio": False, "sample_valid": True}
    needs = ("model", "data", "samples")

    @torch.no_grad()
    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        info = ctx.data.info
        g = torch.Generator(device=ctx.device).manual_seed(ctx.seed)
        n = ctx.n_samples
        cond = None
        if ctx.model.conditional:
            cond = torch.randint(0, info.n_cond_classes, (n,), generator=g, device=ctx.device)
        x = ctx.model.sample(n, cond=cond, generator=g)
        if info.kind == "sequence":
            n_words = info.vocab_size - len(SPECIALS)
            ok = [is_grammatical(_cut(row), n_words) for row in x.tolist()]
            return {"sample_valid": sum(ok) / len(ok)}
        test = torch.cat([b.x.reshape(len(b), -1).float() for b in ctx.batches()]).cpu()
        val = torch.cat([b.x.reshape(len(b), -1).float() for b in ctx.batches("val")]).cpu()
        if info.likelihood == "bernoulli":
            x = (x > 0.5).float()
        d_s = torch.cdist(x.reshape(n, -1).float().cpu(), test).min(1).values.mean()
        d_v = torch.cdist(val, test).min(1).values.mean()
        return {"sample_nn_ratio": float(d_s / d_v)}


def _cut(row):
    out = []
    for t in row:
        out.append(t)
        if t == EOS:
            break
    return out
