"""Neural building blocks shared by encoders, decoders, priors and heads."""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call

from .errors import ConfigError, DataValidationError

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "elu": nn.ELU,
                "silu": nn.SiLU, "leaky_relu": nn.LeakyReLU}


def activation(name: str) -> nn.Module:
    """Activation module by name (relu, gelu, tanh, elu, silu, leaky_relu)."""
    if name not in _ACTIVATIONS:
        raise ConfigError(f"activation: unknown {name!r}; valid: {', '.join(_ACTIVATIONS)}.")
    return _ACTIVATIONS[name]()


class MLP(nn.Sequential):
    """``Linear -> act (-> dropout)`` for each hidden width, then an optional output layer.

    Parameters
    ----------
    in_dim : int
    hidden_dims : sequence of int
    out_dim : int, optional
        If given, a final linear layer without activation.
    activation : str
    dropout : float
    layer_norm : bool
        LayerNorm after each hidden linear layer.
    """

    def __init__(self, in_dim: int, hidden_dims: Sequence[int], out_dim: Optional[int] = None,
                 activation: str = "relu", dropout: float = 0.0, layer_norm: bool = False):
        layers = []
        d = in_dim
        for h in hidden_dims:
            layers.append(nn.Linear(d, h))
            if layer_norm:
                layers.append(nn.LayerNorm(h))
            layers.append(_act(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            d = h
        if out_dim is not None:
            layers.append(nn.Linear(d, out_dim))
            d = out_dim
        super().__init__(*layers)
        self.in_dim = in_dim
        self.out_dim = d


def _act(name: str) -> nn.Module:
    return activation(name)


class ConditionEmbedder(nn.Module):
    """Embed a cVAE condition into a vector fed to the encoder, decoder and prior.

    A float condition ``(B, cond_dim)`` (properties, one-hot labels) goes through a linear
    layer and an activation; a categorical condition (long ``(B,)`` class ids) through an
    embedding table.

    Parameters
    ----------
    cond_dim : int
        Width of a float condition (0 if categorical).
    n_classes : int
        Number of classes of a categorical condition (0 if float).
    embed_dim : int
        Output width.
    """

    def __init__(self, cond_dim: int = 0, n_classes: int = 0, embed_dim: int = 16):
        super().__init__()
        if (cond_dim > 0) == (n_classes > 0):
            raise ConfigError("condition: exactly one of cond_dim (float condition) and "
                              f"n_classes (categorical condition) must be > 0; got cond_dim={cond_dim}, "
                              f"n_classes={n_classes}.")
        self.cond_dim, self.n_classes, self.embed_dim = cond_dim, n_classes, embed_dim
        if n_classes > 0:
            self.net = nn.Embedding(n_classes, embed_dim)
        else:
            self.net = nn.Sequential(nn.Linear(cond_dim, embed_dim), nn.ELU())

    def forward(self, cond: Tensor) -> Tensor:
        """``cond`` -> ``(B, embed_dim)``."""
        if self.n_classes > 0:
            if cond.dtype not in (torch.int64, torch.int32) or cond.dim() != 1:
                raise DataValidationError(
                    f"cond: a categorical condition must be long class ids of shape (B,); got "
                    f"dtype {cond.dtype}, shape {tuple(cond.shape)}. Pass torch.tensor([class, ...]).")
            if cond.numel() and (int(cond.min()) < 0 or int(cond.max()) >= self.n_classes):
                raise DataValidationError(
                    f"cond: class ids must lie in [0, {self.n_classes}); got min {int(cond.min())}, "
                    f"max {int(cond.max())}.")
            return self.net(cond.long())
        if cond.dim() == 1 and self.cond_dim == 1:
            cond = cond[:, None]
        if cond.dim() != 2 or cond.shape[1] != self.cond_dim:
            raise DataValidationError(
                f"cond: expected a float condition of shape (B, {self.cond_dim}); got shape "
                f"{tuple(cond.shape)}.")
        return self.net(cond.float())


def embed_tokens(embedding: nn.Embedding, x: Tensor) -> Tensor:
    """Embed token ids ``(B, T)`` or soft one-hot tokens ``(B, T, V)``, giving ``(B, T, E)``.

    A soft token (a relaxed one-hot from Gumbel-softmax decoding) is embedded as the
    probability-weighted mean of the embedding rows, ``x @ W``, which is differentiable in
    ``x``: the relaxed-decoding trick of Hu et al. 2017 (sec. 3.2) for passing gradients from a
    discriminator on generated text back into the generator.
    """
    if x.dtype in (torch.int64, torch.int32):
        return embedding(x)
    if x.dim() != 3 or x.shape[-1] != embedding.num_embeddings:
        raise DataValidationError(f"x: soft tokens must be (B, T, vocab_size={embedding.num_embeddings}) "
                                  f"probabilities; got shape {tuple(x.shape)}. Pass long ids (B, T) or one "
                                  f"distribution over the vocabulary per position.")
    return x.to(embedding.weight.dtype) @ embedding.weight


def concat_cond(x: Tensor, c: Optional[Tensor]) -> Tensor:
    """Concatenate an embedded condition ``(B, E)`` to ``x`` ``(B, F)`` along features."""
    return x if c is None else torch.cat([x, c.to(x.dtype)], dim=-1)


class _Method(nn.Module):
    """Calls ``module.<name>`` as its forward, so :func:`functional_call` can run any method."""

    def __init__(self, module: nn.Module, name: str):
        super().__init__()
        self.m, self.name = module, name

    def forward(self, *args):
        return getattr(self.m, self.name)(*args)


def frozen_call(module: nn.Module, *args, method: str = "forward"):
    """``module.<method>(*args)`` with its parameters detached: gradients reach the inputs only."""
    wrapper = _Method(module, method)
    params = {f"m.{n}": p.detach() for n, p in module.named_parameters()}
    return functional_call(wrapper, params, args)
