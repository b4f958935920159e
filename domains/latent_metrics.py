"""Metrics every domain with vectors, images or token sequences can use: does the latent
recover the labels (k-NN accuracy beside the raw inputs), and how well does the model
reconstruct from its deterministic embedding?"""
from __future__ import annotations

from typing import Dict

import torch

from .base import EvalContext, Metric


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
    classifier on the raw inputs (a bag of tokens for sequences) as the baseline. Data
    without class labels report nothing."""

    name = "knn_acc"
    higher_is_better = True

    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        z, y = ctx.embeddings()
        if y is None or y.dim() != 1 or y.is_floating_point():
            return {}  # no class labels (e.g. binarised MNIST ships none)
        return {"knn_acc": knn_accuracy(z, y), "knn_acc/raw_input": knn_accuracy(_raw_features(ctx), y)}


class Reconstruction(Metric):
    """Reconstruction from the deterministic embedding: MSE (continuous), bit accuracy
    (binary) or token accuracy and exact-match rate (sequences).

    A domain whose ``eval.options`` has ``recon_examples > 0`` limits the examples
    reconstructed (costly for autoregressive decoders)."""

    name = "recon"
    higher_is_better = {"recon_mse": False, "recon_bit_acc": True, "recon_token_acc": True, "recon_exact": True}

    @torch.no_grad()
    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        info = ctx.data.info
        tot, err, exact, n = 0.0, 0.0, 0.0, 0
        limit = int(getattr(ctx.options, "recon_examples", 0) or 0)
        for b in ctx.batches():
            if limit and n >= limit:
                break
            if limit:
                b = b.slice(slice(0, limit - n))
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
