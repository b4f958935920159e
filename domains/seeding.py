"""Scoped torch state the domains share: a private seeded generator stream, and eval mode.

Scores, samples and initialisations that must be reproducible draw from torch's global
generator inside :func:`seeded`, so the result depends on the seed only and the caller's own
random stream is left as it was; :func:`eval_mode` turns dropout off for a computation and
restores the module's mode afterwards (``model.eval()`` alone would leave a training model in
eval mode).
"""
from __future__ import annotations

import contextlib
from typing import Iterator, TypeVar

import torch

M = TypeVar("M", bound=torch.nn.Module)


@contextlib.contextmanager
def seeded(seed: int, device: torch.device = torch.device("cpu")) -> Iterator[None]:
    """Fork torch's generator state (CPU, and ``device``'s on CUDA), seed it with ``seed``, restore it after.

    Parameters
    ----------
    seed : int
    device : torch.device
        The device whose CUDA generator is forked too (nothing more on CPU).
    """
    device = torch.device(device)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(int(seed))
        yield


@contextlib.contextmanager
def eval_mode(module: M) -> Iterator[M]:
    """``module`` in eval mode (dropout off) for the block; its previous mode is restored after."""
    was = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was)


__all__ = ["seeded", "eval_mode"]
