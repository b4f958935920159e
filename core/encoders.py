"""Encoders: data (and an embedded condition) -> a feature vector ``(B, out_dim)``.

The latent head turns the features into a posterior; encoders know nothing about latents.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from .errors import ConfigError, DataValidationError
from .nn import MLP, activation, concat_cond
from .registry import Registry

ENCODERS: Registry["Encoder"] = Registry("encoder")


class Encoder(nn.Module):
    """Base class. ``forward(x, cond=None, mask=None) -> (B, out_dim)``; ``cond`` is the
    already embedded condition ``(B, cond_dim)``."""

    out_dim: int


@ENCODERS.register("mlp")
class MLPEncoder(Encoder):
    """Flatten ``x`` and apply an MLP.

    Parameters
    ----------
    in_dim : int
        Data dimensions (wired).
    hidden_dims : sequence of int
    cond_dim : int
        Width of the embedded condition (wired; 0 without one).
    activation, dropout, layer_norm :
        See :class:`vaekit.core.nn.MLP`.
    input_dropout : float
        Dropout on the input itself (Mult-VAE's denoising input; Liang et al. 2018 use 0.5).
    normalize_input : bool
        L2-normalise each input row first (Mult-VAE does for click vectors).
    """

    def __init__(self, in_dim: int, hidden_dims: Sequence[int] = (256, 256), cond_dim: int = 0,
                 activation: str = "relu", dropout: float = 0.0, layer_norm: bool = False,
                 input_dropout: float = 0.0, normalize_input: bool = False):
        super().__init__()
        if not hidden_dims:
            raise ConfigError("hidden_dims: needs at least one layer width; got [].")
        self.input_dropout = nn.Dropout(input_dropout) if input_dropout > 0 else nn.Identity()
        self.normalize_input = normalize_input
        self.net = MLP(in_dim + cond_dim, hidden_dims, activation=activation, dropout=dropout,
                       layer_norm=layer_norm)
        self.out_dim = self.net.out_dim

    def forward(self, x: Tensor, cond: Optional[Tensor] = None, mask: Optional[Tensor] = None) -> Tensor:
        h = x.reshape(x.shape[0], -1).float()
        if self.normalize_input:
            h = nn.functional.normalize(h, dim=1)
        h = self.input_dropout(h)
        return self.net(concat_cond(h, cond))


@ENCODERS.register("gru")
class GRUEncoder(Encoder):
    """Token sequence -> final hidden state(s) of a (bidirectional) GRU.

    Parameters
    ----------
    vocab_size, pad_id : int
        Wired from the data.
    embed_dim, hidden_dim, num_layers : int
    bidirectional : bool
    cond_dim : int
        Embedded condition width (wired); it is concatenated to every token embedding.
    dropout : float
        Between GRU layers.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 128, hidden_dim: int = 256, num_layers: int = 1,
                 bidirectional: bool = True, cond_dim: int = 0, dropout: float = 0.0, pad_id: int = 0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.gru = nn.GRU(embed_dim + cond_dim, hidden_dim, num_layers=num_layers, batch_first=True,
                          bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.out_dim = hidden_dim * (2 if bidirectional else 1)
        self.pad_id = pad_id

    def forward(self, x: Tensor, cond: Optional[Tensor] = None, mask: Optional[Tensor] = None) -> Tensor:
        if x.dtype not in (torch.int64, torch.int32):
            raise DataValidationError(f"x: the gru encoder needs long token ids (B, T); got dtype {x.dtype}.")
        if mask is None:
            mask = x != self.pad_id
        lengths = mask.sum(1).clamp(min=1).cpu()
        e = self.embedding(x)
        if cond is not None:
            e = torch.cat([e, cond[:, None, :].expand(-1, e.shape[1], -1).to(e.dtype)], dim=-1)
        packed = nn.utils.rnn.pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)  # (layers * dirs, B, H)
        n_dir = 2 if self.gru.bidirectional else 1
        last = h[-n_dir:]  # top layer, each direction
        return last.transpose(0, 1).reshape(x.shape[0], -1)


@ENCODERS.register("conv")
class ConvEncoder(Encoder):
    """Small strided CNN for images ``(B, C, H, W)`` (flat ``(B, C*H*W)`` inputs are reshaped).

    Parameters
    ----------
    in_shape : tuple
        ``(C, H, W)`` (wired).
    channels : sequence of int
        Output channels of each stride-2 3x3 convolution.
    hidden_dim : int
        Width of the linear layer after the convolutions.
    cond_dim : int
        Embedded condition width (wired); concatenated before the linear layer.
    """

    def __init__(self, in_shape: Sequence[int], channels: Sequence[int] = (32, 64), hidden_dim: int = 256,
                 cond_dim: int = 0, activation: str = "relu"):
        super().__init__()
        if len(in_shape) != 3:
            raise ConfigError(f"kind 'conv' needs image data of shape (C, H, W); got data "
                              f"shape {tuple(in_shape)}. Use kind 'mlp' for vectors.")
        c, h, w = (int(s) for s in in_shape)
        layers, prev = [], c
        for ch in channels:
            layers += [nn.Conv2d(prev, ch, 3, stride=2, padding=1), _act_module(activation)]
            prev = ch
            h, w = (h + 1) // 2, (w + 1) // 2
        self.conv = nn.Sequential(*layers)
        self.in_shape = (c, int(in_shape[1]), int(in_shape[2]))
        self.fc = nn.Sequential(nn.Linear(prev * h * w + cond_dim, hidden_dim), _act_module(activation))
        self.out_dim = hidden_dim

    def forward(self, x: Tensor, cond: Optional[Tensor] = None, mask: Optional[Tensor] = None) -> Tensor:
        x = x.reshape(x.shape[0], *self.in_shape).float()
        h = self.conv(x).flatten(1)
        return self.fc(concat_cond(h, cond))


def _act_module(name: str) -> nn.Module:
    return activation(name)
