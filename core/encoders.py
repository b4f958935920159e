"""Encoders: data (and an embedded condition) -> a feature vector ``(B, out_dim)``.

The latent head turns the features into a posterior; encoders know nothing about latents.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import Tensor, nn

from .errors import ConfigError, DataValidationError
from .nn import MLP, activation, concat_cond, embed_tokens
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

    accepts_soft_tokens = True
    cell, rnn_cls = "gru", nn.GRU

    @property
    def rnn(self) -> nn.Module:
        return getattr(self, self.cell)

    def __init__(self, vocab_size: int, embed_dim: int = 128, hidden_dim: int = 256, num_layers: int = 1,
                 bidirectional: bool = True, cond_dim: int = 0, dropout: float = 0.0, pad_id: int = 0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        # The attribute is named after the cell ("gru" / "lstm") so checkpoints keep their keys.
        setattr(self, self.cell, self.rnn_cls(embed_dim + cond_dim, hidden_dim, num_layers=num_layers,
                                              batch_first=True, bidirectional=bidirectional,
                                              dropout=dropout if num_layers > 1 else 0.0))
        self.out_dim = hidden_dim * (2 if bidirectional else 1)
        self.pad_id = pad_id

    def forward(self, x: Tensor, cond: Optional[Tensor] = None, mask: Optional[Tensor] = None) -> Tensor:
        """``x``: long ids ``(B, T)`` or soft tokens ``(B, T, V)`` (relaxed decoding); ``mask``
        ``(B, T)`` True on real tokens (needed for soft tokens, else ``x != pad_id``)."""
        soft = _check_tokens(x, mask, "gru")
        if mask is None:
            mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device) if soft else x != self.pad_id
        lengths = mask.sum(1).clamp(min=1).cpu()
        e = embed_tokens(self.embedding, x)
        if cond is not None:
            e = torch.cat([e, cond[:, None, :].expand(-1, e.shape[1], -1).to(e.dtype)], dim=-1)
        packed = nn.utils.rnn.pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.rnn(packed)  # (layers * dirs, B, H); an LSTM returns (h, c)
        if isinstance(h, tuple):
            h = h[0]
        n_dir = 2 if self.rnn.bidirectional else 1
        last = h[-n_dir:]  # top layer, each direction
        return last.transpose(0, 1).reshape(x.shape[0], -1)


@ENCODERS.register("lstm")
class LSTMEncoder(GRUEncoder):
    """:class:`GRUEncoder` with LSTM cells (the sentence VAE of Bowman et al. 2016 and
    He et al. 2019 uses LSTMs); the features are the top layer's final hidden states."""

    cell, rnn_cls = "lstm", nn.LSTM


def _check_tokens(x: Tensor, mask: Optional[Tensor], kind: str) -> bool:
    """Whether ``x`` holds soft tokens ``(B, T, V)``; raises unless ids ``(B, T)`` or soft tokens."""
    if x.dtype in (torch.int64, torch.int32):
        if x.dim() != 2:
            raise DataValidationError(f"x: the {kind} encoder needs token ids of shape (B, T); got {tuple(x.shape)}.")
        return False
    if x.dim() != 3 or not x.is_floating_point():
        raise DataValidationError(f"x: the {kind} encoder needs long token ids (B, T) or soft tokens (B, T, V); "
                                  f"got dtype {x.dtype}, shape {tuple(x.shape)}.")
    return True


@ENCODERS.register("cnn")
class TextCNNEncoder(Encoder):
    """Token sequence -> max-over-time pooled n-gram features (Kim 2014).

    The sentence classifier of Kim 2014, "Convolutional Neural Networks for Sentence
    Classification" (filter widths 3, 4, 5; 100 filters each; ReLU; max pooling over time),
    which Hu et al. 2017 use as the attribute discriminator of their controllable text VAE.
    Reads long ids or soft tokens (see :func:`~vaekit.core.nn.embed_tokens`), so it can judge
    relaxed decoder outputs differentiably.

    Parameters
    ----------
    vocab_size, pad_id : int
        Wired from the data.
    embed_dim : int
    widths : sequence of int
        Convolution widths (n-gram sizes).
    n_filters : int
        Filters per width; ``out_dim = len(widths) * n_filters``.
    dropout : float
        On the pooled features.
    cond_dim : int
        Embedded condition width (wired); concatenated to the pooled features.
    """

    accepts_soft_tokens = True

    def __init__(self, vocab_size: int, embed_dim: int = 128, widths: Sequence[int] = (3, 4, 5),
                 n_filters: int = 100, dropout: float = 0.0, cond_dim: int = 0, pad_id: int = 0):
        super().__init__()
        if not widths or any(int(w) < 1 for w in widths) or n_filters < 1:
            raise ConfigError(f"widths: the cnn encoder needs widths >= 1 and n_filters >= 1; got widths="
                              f"{list(widths)}, n_filters={n_filters}.")
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.widths = tuple(int(w) for w in widths)
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, n_filters, w) for w in self.widths)
        self.dropout = nn.Dropout(dropout)
        self.pad_id = pad_id
        self.out_dim = len(self.widths) * n_filters + cond_dim

    def forward(self, x: Tensor, cond: Optional[Tensor] = None, mask: Optional[Tensor] = None) -> Tensor:
        soft = _check_tokens(x, mask, "cnn")
        if mask is None:
            mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device) if soft else x != self.pad_id
        e = embed_tokens(self.embedding, x) * mask[..., None].to(self.embedding.weight.dtype)
        t = e.shape[1]
        if t < max(self.widths):  # pad short batches so every width fits once
            e = nn.functional.pad(e, (0, 0, 0, max(self.widths) - t))
            mask = nn.functional.pad(mask, (0, max(self.widths) - t))
        e = e.transpose(1, 2)  # (B, E, T)
        lengths = mask.sum(1)
        feats = []
        for w, conv in zip(self.widths, self.convs):
            h = torch.relu(conv(e))  # (B, F, T - w + 1)
            # A window counts when it lies inside the sentence, so padding never changes the
            # features; the first window always counts (sentences shorter than the width).
            valid = torch.arange(h.shape[-1], device=h.device)[None, :] + w <= lengths[:, None]
            valid[:, 0] = True
            feats.append(h.masked_fill(~valid[:, None, :], float("-inf")).amax(-1))
        return concat_cond(self.dropout(torch.cat(feats, dim=-1)), cond)


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
