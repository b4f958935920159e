"""Gated PixelCNN decoder for images: an autoregressive ``p(x|z)`` with a chosen receptive field.

``p(x|z) = prod_{i,j} p(x_ij | x_<ij, z)`` in raster order (van den Oord et al. 2016,
"Conditional Image Generation with PixelCNN Decoders": gated layers, a vertical and a
horizontal stack, so the receptive field has no blind spot). The latent enters every layer
through a spatial map computed once from ``z`` (plus the condition of a cVAE).

The receptive field is what makes a lossy autoencoder (Chen et al. 2017, VLAE): a decoder that
sees only a small window of previous pixels models local texture itself and must take the
global structure (the digit's shape) from ``z``. With ``n_layers`` layers of ``kernel_size``
``k`` a pixel sees ``n_layers * (k // 2) + 1`` rows above it and as many columns to its left
on its own row (``receptive_field``; the window widens by ``k // 2`` columns per layer above).
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import Distribution

from .decoders import DECODERS, Decoder
from .errors import ConfigError, DataValidationError
from .likelihoods import BernoulliLikelihood, Likelihood
from .nn import concat_cond


def _down(t: Tensor, n: int = 1) -> Tensor:
    """Shift an image batch ``(B, C, H, W)`` down by ``n`` rows (zeros enter at the top)."""
    return F.pad(t, (0, 0, n, 0))[:, :, : t.shape[2], :]


def _right(t: Tensor, n: int = 1) -> Tensor:
    """Shift right by ``n`` columns (zeros enter at the left)."""
    return F.pad(t, (n, 0, 0, 0))[:, :, :, : t.shape[3]]


class GatedLayer(nn.Module):
    """One gated PixelCNN layer (van den Oord et al. 2016, figure 2).

    The vertical stack at row ``i`` sees rows ``<= i``; it reaches the horizontal stack shifted
    down one row, so the horizontal output at ``(i, j)`` depends on rows ``< i`` and on row
    ``i`` left of ``j`` (and on ``j`` itself except in the first, "mask A", layer).
    """

    def __init__(self, in_ch: int, channels: int, kernel_size: int, cond_ch: int, first: bool):
        super().__init__()
        k = kernel_size
        self.first, self.half = first, k // 2
        self.v_conv = nn.Conv2d(in_ch, 2 * channels, (k // 2 + 1, k), padding=(k // 2, k // 2))
        self.h_conv = nn.Conv2d(in_ch, 2 * channels, (1, k // 2 + 1), padding=(0, k // 2))
        self.v_to_h = nn.Conv2d(2 * channels, 2 * channels, 1)
        self.h_out = nn.Conv2d(channels, channels, 1)
        self.cond_v = nn.Conv2d(cond_ch, 2 * channels, 1)
        self.cond_h = nn.Conv2d(cond_ch, 2 * channels, 1)

    @staticmethod
    def _gate(t: Tensor) -> Tensor:
        a, b = t.chunk(2, dim=1)
        return torch.tanh(a) * torch.sigmoid(b)

    def forward(self, v: Tensor, h: Tensor, cmap: Tensor):
        height, width = v.shape[2], v.shape[3]
        v_pre = self.v_conv(v)[:, :, :height, :]  # row i sees input rows i - k//2 .. i
        h_pre = self.h_conv(h)[:, :, :, :width]  # col j sees input cols j - k//2 .. j
        if self.first:
            # Mask A: the first layer must not see the pixel it predicts, nor (through the
            # vertical stack) its own row.
            h_pre = _right(h_pre)
        h_pre = h_pre + self.v_to_h(_down(v_pre))
        v_out = self._gate(v_pre + self.cond_v(cmap))
        h_gated = self._gate(h_pre + self.cond_h(cmap))
        h_out = self.h_out(h_gated)
        if not self.first:
            h_out = h_out + h  # residual on the horizontal stack
        return v_out, h_out


@DECODERS.register("pixelcnn")
class PixelCNNDecoder(Decoder):
    """Gated PixelCNN ``p(x|z)`` for image data ``(C, H, W)``.

    Channels of one pixel are conditionally independent given the previous pixels and ``z``
    (exact for the single-channel binary images of the density benchmarks).

    Parameters
    ----------
    latent_dim, out_shape, likelihood, cond_dim :
        Wired (the likelihood must be ``bernoulli``).
    channels : int
        Width of both stacks.
    n_layers : int
        Gated layers (with ``kernel_size``, sets the receptive field).
    kernel_size : int
        Odd.
    cond_channels : int
        Channels of the spatial map of ``z`` added to every layer.
    """

    data_kinds = ("image",)
    # Each row carries (2 * channels, H, W) activations per layer: on 2 CPU cores a pass of
    # 1,000 rows took 7.1-7.5 ms per image against 2.0-3.5 ms at 32-128 rows (28 x 28, 32
    # channels, 3 layers), so the IW NLL goes in passes of at most 128 rows.
    iw_rows_per_pass = 128

    def __init__(self, latent_dim: int, out_shape: Sequence[int], likelihood: Likelihood, channels: int = 32,
                 n_layers: int = 6, kernel_size: int = 3, cond_channels: int = 16, cond_dim: int = 0):
        super().__init__()
        if len(out_shape) != 3:
            raise ConfigError(f"kind 'pixelcnn' needs image data of shape (C, H, W); got data shape "
                              f"{tuple(out_shape)}.")
        if not isinstance(likelihood, BernoulliLikelihood):
            raise ConfigError(f"kind 'pixelcnn' models binary pixels: it needs model.likelihood kind 'bernoulli'; "
                              f"got {type(likelihood).__name__}.")
        if kernel_size < 3 or kernel_size % 2 == 0:
            raise ConfigError(f"kernel_size: must be an odd integer >= 3; got {kernel_size!r}.")
        if n_layers < 1:
            raise ConfigError(f"n_layers: must be >= 1; got {n_layers!r}.")
        self.likelihood = likelihood
        self.out_shape = tuple(int(s) for s in out_shape)
        c, hgt, wid = self.out_shape
        self.receptive_field = n_layers * (kernel_size // 2) + 1
        # z -> (cond_channels, H, W): a linear map to a quarter-resolution grid, then two
        # stride-2 transposed convolutions (cropped), computed once per image.
        self.h0, self.w0 = -(-hgt // 4), -(-wid // 4)
        self.fc = nn.Linear(latent_dim + cond_dim, cond_channels * self.h0 * self.w0)
        self.up = nn.Sequential(nn.ELU(), nn.ConvTranspose2d(cond_channels, cond_channels, 4, 2, 1), nn.ELU(),
                                nn.ConvTranspose2d(cond_channels, cond_channels, 4, 2, 1))
        self.cond_channels = cond_channels
        self.layers = nn.ModuleList(GatedLayer(c if i == 0 else channels, channels, kernel_size, cond_channels,
                                               first=(i == 0)) for i in range(n_layers))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1), nn.ReLU())
        # The output layer also reads the z map directly, so z can set each pixel's bias.
        self.out = nn.Conv2d(channels + cond_channels, c, 1)

    def _cond_map(self, z: Tensor, cond: Optional[Tensor]) -> Tensor:
        h = self.fc(concat_cond(z, cond)).reshape(z.shape[0], self.cond_channels, self.h0, self.w0)
        return self.up(h)[:, :, : self.out_shape[1], : self.out_shape[2]]

    def _logits(self, x: Tensor, cmap: Tensor) -> Tensor:
        v = h = x.float()
        for layer in self.layers:
            v, h = layer(v, h, cmap)
        return self.out(torch.cat([self.head(h), cmap], 1))

    def forward(self, z: Tensor, cond: Optional[Tensor] = None, x: Optional[Tensor] = None) -> Distribution:
        if x is None:
            raise DataValidationError("pixelcnn decoder: p(x|z) is autoregressive and needs x for teacher forcing; "
                                      "got x=None. Use VAE.generate / sample to produce images.")
        x = x.reshape(x.shape[0], *self.out_shape)
        return self.likelihood.distribution(self._logits(x, self._cond_map(z, cond)).float())

    @torch.no_grad()
    def generate(self, z: Tensor, cond: Optional[Tensor] = None, *, generator: Optional[torch.Generator] = None,
                 sample: bool = False) -> Tensor:
        """Images ``(n, C, H, W)`` in raster order, one pixel per network pass.

        ``sample=False`` takes the more probable value of each pixel in turn (a greedy,
        deterministic decoding); ``sample=True`` draws it (seedable with ``generator``).
        """
        cmap = self._cond_map(z, cond)
        x = torch.zeros(z.shape[0], *self.out_shape, device=z.device)
        for i in range(self.out_shape[1]):
            for j in range(self.out_shape[2]):
                p = torch.sigmoid(self._logits(x, cmap)[:, :, i, j])
                if sample:
                    x[:, :, i, j] = torch.bernoulli(p, generator=generator)
                else:
                    x[:, :, i, j] = (p > 0.5).float()
        return x
