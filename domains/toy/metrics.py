"""Toy-domain metrics: does the latent recover the generating clusters, does the model
reconstruct, and do its samples look like the data?"""
from __future__ import annotations

from typing import Dict

import torch

from ..base import EvalContext, Metric
from .data import EOS, SPECIALS, is_grammatical


def knn_accuracy(feats: torch.Tensor, labels: torch.Tensor, k: int = 5) -> float:
    """Leave-one-out ``k``-nearest-neighbour accuracy (majority vote) of ``labels``."""
    feats = feats.float()
    d = torch.cdist(feats, feats)
    d.fill_diagonal_(float("inf"))
    nn_idx = d.topk(k, largest=False).indices  # (N, k)
    votes = labels[nn_idx]
    pred = torch.mode(votes, dim=1).values
    return float((pred == labels).float().mean())


def _raw_features(ctx: EvalContext) -> torch.Tensor:
    feats = []
    for b in ctx.batches():
        if b.x.dtype == torch.long:  # bag of tokens
            v = ctx.data.info.vocab_size
            bag = torch.zeros(b.x.shape[0], v)
            bag.scatter_add_(1, b.x.cpu(), b.mask.float().cpu())
            feats.append(bag)
        else:
            feats.append(b.x.reshape(b.x.shape[0], -1).float().cpu())
    return torch.cat(feats)


class ClusterRecovery(Metric):
    """5-NN accuracy of the generating cluster from the latent embedding, beside the same
    classifier on the raw inputs (a bag of tokens for sequences) as the baseline."""

    name = "knn_acc"
    higher_is_better = True

    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        z, y = ctx.embeddings()
        return {"knn_acc": knn_accuracy(z, y), "knn_acc/raw_input": knn_accuracy(_raw_features(ctx), y)}


class Reconstruction(Metric):
    """Reconstruction from the deterministic embedding: MSE (continuous), bit accuracy
    (binary) or token accuracy and exact-match rate (sequences)."""

    name = "recon"
    higher_is_better = {"recon_mse": False, "recon_bit_acc": True, "recon_token_acc": True, "recon_exact": True}

    @torch.no_grad()
    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        info = ctx.data.info
        tot, err, exact, n = 0.0, 0.0, 0.0, 0
        for b in ctx.batches():
            xr = ctx.model.reconstruct(b.x, b.cond, b.mask)
            if info.kind == "sequence":
                t = min(xr.shape[1], b.x.shape[1])
                same = (xr[:, :t] == b.x[:, :t]) & b.mask[:, :t]
                err += float(same.sum())
                tot += float(b.mask.sum())
                full = same.sum(1) == b.mask.sum(1)
                exact += float(full.sum())
            elif info.likelihood == "bernoulli":
                err += float(((xr > 0.5).float() == b.x).float().sum())
                tot += b.x.numel()
            else:
                err += float(((xr - b.x) ** 2).sum())
                tot += b.x.numel()
            n += len(b)
        if info.kind == "sequence":
            return {"recon_token_acc": err / tot, "recon_exact": exact / n}
        if info.likelihood == "bernoulli":
            return {"recon_bit_acc": err / tot}
        return {"recon_mse": err / tot}


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
