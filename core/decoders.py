"""Decoders: latent ``z`` (and an embedded condition) -> a distribution over ``x``.

``forward(z, cond=None, x=None)`` returns a ``torch.distributions.Distribution`` whose
``batch_shape`` matches ``x``; ``x`` is only used for teacher forcing by autoregressive
decoders. ``generate(z, cond=None, generator=None)`` produces data-space values (means for
vectors and images, token ids for sequences).
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import Distribution

from .distributions import rsample
from .errors import ConfigError, DataValidationError
from .likelihoods import CategoricalLikelihood, Likelihood
from .nn import MLP, activation, concat_cond, embed_tokens
from .registry import Registry

DECODERS: Registry["Decoder"] = Registry("decoder")


class Decoder(nn.Module):
    """Base class; holds its :class:`~vaekit.core.likelihoods.Likelihood`."""

    likelihood: Likelihood
    #: Sequence decoders read the shifted tokens (teacher forcing) and decode token by token.
    autoregressive: bool = False
    #: ``DataInfo.kind`` values the decoder can model.
    data_kinds: tuple = ("vector", "image")
    #: Importance-sampled rows (samples x examples) per forward pass in evaluation
    #: (``diagnose``'s IW NLL); ``None`` takes ``diagnostics.IW_ROWS_PER_PASS``. A decoder whose
    #: activations per row are large sets a smaller number: past the CPU cache a bigger pass
    #: is slower per row, not faster.
    iw_rows_per_pass: Optional[int] = None

    def default_mask(self, x: Tensor) -> Optional[Tensor]:
        """Mask to use when a batch carries none (``None``: every position counts)."""
        return None

    def generate(self, z: Tensor, cond: Optional[Tensor] = None, *, generator: Optional[torch.Generator] = None,
                 sample: bool = False) -> Tensor:
        """Data-space output for ``z``: the likelihood's mean, or a sample if ``sample``."""
        px = self(z, cond)
        if not sample:
            return self.likelihood.mean(px)
        return rsample(px, generator=generator)  # seeded per family (core.distributions)


@DECODERS.register("mlp")
class MLPDecoder(Decoder):
    """MLP from ``z`` to the likelihood's parameters for vectors or images.

    Parameters
    ----------
    latent_dim : int
        Decoder input width (wired).
    out_shape : tuple
        Per-example data shape (wired).
    likelihood : Likelihood
        Built from the config's ``likelihood`` section (wired).
    hidden_dims : sequence of int
    cond_dim : int
        Embedded condition width (wired).
    """

    def __init__(self, latent_dim: int, out_shape: Sequence[int], likelihood: Likelihood,
                 hidden_dims: Sequence[int] = (256, 256), cond_dim: int = 0, activation: str = "relu",
                 dropout: float = 0.0, layer_norm: bool = False):
        super().__init__()
        self.likelihood = likelihood
        self.out_shape = tuple(int(s) for s in out_shape)
        n_out = likelihood.params_per_dim
        for s in self.out_shape:
            n_out *= s
        self.net = MLP(latent_dim + cond_dim, hidden_dims, out_dim=n_out, activation=activation,
                       dropout=dropout, layer_norm=layer_norm)

    def forward(self, z: Tensor, cond: Optional[Tensor] = None, x: Optional[Tensor] = None) -> Distribution:
        params = self.net(concat_cond(z, cond))
        ppd = self.likelihood.params_per_dim
        shape = (ppd * self.out_shape[0],) + self.out_shape[1:]
        # fp32 likelihood parameters: the NLL stays exact under bf16/fp16 autocast
        return self.likelihood.distribution(params.float().reshape(z.shape[0], *shape))


@DECODERS.register("conv")
class ConvDecoder(Decoder):
    """Linear layer then stride-2 transposed convolutions to ``(C, H, W)`` (cropped to size).

    Parameters
    ----------
    latent_dim, out_shape, likelihood, cond_dim :
        Wired.
    channels : sequence of int
        Channels entering each transposed convolution (from coarse to fine).
    """

    def __init__(self, latent_dim: int, out_shape: Sequence[int], likelihood: Likelihood,
                 channels: Sequence[int] = (64, 32), cond_dim: int = 0, activation: str = "relu"):
        super().__init__()
        if len(out_shape) != 3:
            raise ConfigError(f"kind 'conv' needs image data of shape (C, H, W); got data shape "
                              f"{tuple(out_shape)}. Use kind 'mlp' for vectors.")
        self.likelihood = likelihood
        self.out_shape = tuple(int(s) for s in out_shape)
        c, h, w = self.out_shape
        n_up = len(channels)
        self.h0, self.w0 = -(-h // 2 ** n_up), -(-w // 2 ** n_up)
        self.c0 = channels[0]
        self.fc = nn.Sequential(nn.Linear(latent_dim + cond_dim, self.c0 * self.h0 * self.w0), activation_module(activation))
        layers = []
        chans = list(channels) + [c * likelihood.params_per_dim]
        for i in range(n_up):
            layers.append(nn.ConvTranspose2d(chans[i], chans[i + 1], 4, stride=2, padding=1))
            if i < n_up - 1:
                layers.append(activation_module(activation))
        self.deconv = nn.Sequential(*layers)

    def forward(self, z: Tensor, cond: Optional[Tensor] = None, x: Optional[Tensor] = None) -> Distribution:
        h = self.fc(concat_cond(z, cond)).reshape(z.shape[0], self.c0, self.h0, self.w0)
        out = self.deconv(h)[:, :, : self.out_shape[1], : self.out_shape[2]]
        return self.likelihood.distribution(out.float())


def activation_module(name: str) -> nn.Module:
    return activation(name)


@DECODERS.register("gru")
class GRUDecoder(Decoder):
    """Autoregressive GRU language model conditioned on ``z`` (Bowman et al. 2016).

    ``z`` (and the condition) set the initial hidden state and are also concatenated to every
    input embedding, as in the MOSES character VAE, so the decoder cannot ignore them as
    easily. Word dropout (Bowman et al. 2016, section 3.3) replaces teacher-forced inputs by
    ``<unk>`` with probability ``word_dropout`` during training.

    Parameters
    ----------
    latent_dim, vocab_size, max_len, pad_id, bos_id, eos_id, unk_id, cond_dim :
        Wired from the data.
    likelihood : Likelihood
        Must be ``categorical`` (wired).
    embed_dim, hidden_dim, num_layers : int
    word_dropout : float
    dropout : float
        Between GRU layers.
    """

    autoregressive = True
    data_kinds = ("sequence",)
    cell, rnn_cls = "gru", nn.GRU

    def __init__(self, latent_dim: int, vocab_size: int, max_len: int, likelihood: Likelihood,
                 embed_dim: int = 128, hidden_dim: int = 512, num_layers: int = 1, word_dropout: float = 0.0,
                 dropout: float = 0.0, cond_dim: int = 0, pad_id: int = 0, bos_id: int = 1, eos_id: int = 2,
                 unk_id: Optional[int] = None):
        super().__init__()
        if not isinstance(likelihood, CategoricalLikelihood):
            raise ConfigError(f"kind '{self.cell}' needs model.likelihood kind 'categorical'; got "
                              f"{type(likelihood).__name__}.")
        if not 0.0 <= word_dropout < 1.0:
            raise ConfigError(f"word_dropout: must be in [0, 1); got {word_dropout!r}.")
        self.likelihood = likelihood
        self.vocab_size, self.max_len = vocab_size, int(max_len)
        self.pad_id, self.bos_id, self.eos_id = pad_id, bos_id, eos_id
        self.unk_id = unk_id if unk_id is not None else pad_id
        self.word_dropout = word_dropout
        self.num_layers, self.hidden_dim = num_layers, hidden_dim
        zc = latent_dim + cond_dim
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.init_h = nn.Linear(zc, hidden_dim * num_layers)
        # The attribute is named after the cell ("gru" / "lstm") so checkpoints keep their keys.
        setattr(self, self.cell, self.rnn_cls(embed_dim + zc, hidden_dim, num_layers=num_layers, batch_first=True,
                                              dropout=dropout if num_layers > 1 else 0.0))
        self.out = nn.Linear(hidden_dim, vocab_size)

    def default_mask(self, x: Tensor) -> Optional[Tensor]:
        return x != self.pad_id

    @property
    def rnn(self) -> nn.Module:
        return getattr(self, self.cell)

    def _h0(self, zc: Tensor):
        """Initial state from ``z`` (and the condition): ``h`` for a GRU; ``(h, 0)`` for an LSTM."""
        h = torch.tanh(self.init_h(zc))
        h = h.reshape(zc.shape[0], self.num_layers, self.hidden_dim).transpose(0, 1).contiguous()
        return (h, torch.zeros_like(h)) if self.cell == "lstm" else h

    def forward(self, z: Tensor, cond: Optional[Tensor] = None, x: Optional[Tensor] = None) -> Distribution:
        if x is None:
            raise DataValidationError("decoder 'gru': forward needs the target tokens x for teacher forcing; "
                                      "use generate(z) to decode without them.")
        zc = concat_cond(z, cond)
        inp = torch.cat([torch.full_like(x[:, :1], self.bos_id), x[:, :-1]], dim=1)
        if self.training and self.word_dropout > 0:
            drop = torch.rand(inp.shape, device=inp.device) < self.word_dropout
            drop[:, 0] = False  # keep <bos>
            inp = torch.where(drop & (inp != self.pad_id), torch.full_like(inp, self.unk_id), inp)
        e = self.embedding(inp)
        e = torch.cat([e, zc[:, None, :].expand(-1, e.shape[1], -1).to(e.dtype)], dim=-1)
        out, _ = self.rnn(e, self._h0(zc))
        return self.likelihood.distribution(self.out(out).float())

    def relaxed_generate(self, z: Tensor, cond: Optional[Tensor] = None, *, steps: int, temperature: float = 1.0,
                         hard: bool = False, gumbel: bool = True) -> Tensor:
        """Differentiable free-running decoding: soft tokens ``(B, steps, V)``.

        Each step's output distribution is relaxed with Gumbel-softmax (Jang et al. 2017), or
        a tempered softmax with ``gumbel=False`` (Hu et al. 2017, sec. 3.2, anneal it towards
        0), and fed back as the next input through :func:`~vaekit.core.nn.embed_tokens`, so a
        loss on the generated sentence reaches ``z``, the condition and the decoder.
        ``hard=True`` feeds exact one-hots forward and the soft gradient backward
        (straight-through). Used in training (gradients on); no word dropout.
        """
        if temperature <= 0:
            raise ConfigError(f"temperature: relaxed decoding needs a temperature > 0; got {temperature!r}.")
        zc = concat_cond(z, cond)
        b = z.shape[0]
        h = self._h0(zc)
        prev = self.embedding(torch.full((b, 1), self.bos_id, dtype=torch.long, device=z.device))
        zc_step = zc[:, None, :].to(prev.dtype)
        outs = []
        for _ in range(int(steps)):
            o, h = self.rnn(torch.cat([prev, zc_step], dim=-1), h)
            logits = self.out(o[:, -1]).float()
            if gumbel:
                y = F.gumbel_softmax(logits, tau=temperature, hard=hard)
            else:
                y = (logits / temperature).softmax(-1)
                if hard:
                    y = F.one_hot(y.argmax(-1), y.shape[-1]).to(y.dtype) - y.detach() + y
            outs.append(y)
            prev = embed_tokens(self.embedding, y[:, None, :])
        return torch.stack(outs, dim=1)

    @torch.no_grad()
    def generate(self, z: Tensor, cond: Optional[Tensor] = None, *, generator: Optional[torch.Generator] = None,
                 sample: bool = False, temperature: float = 1.0, max_len: Optional[int] = None) -> Tensor:
        """Decode token ids ``(B, T)``: greedy, or sampled with ``temperature``.

        Each row ends with ``eos_id`` (if produced) followed by ``pad_id``.
        """
        zc = concat_cond(z, cond)
        b = z.shape[0]
        max_len = int(max_len or self.max_len)
        h = self._h0(zc)
        tok = torch.full((b, 1), self.bos_id, dtype=torch.long, device=z.device)
        out = torch.full((b, max_len), self.pad_id, dtype=torch.long, device=z.device)
        done = torch.zeros(b, dtype=torch.bool, device=z.device)
        for t in range(max_len):
            e = torch.cat([self.embedding(tok), zc[:, None, :].to(self.embedding.weight.dtype)], dim=-1)
            o, h = self.rnn(e, h)
            logits = self.out(o[:, -1]).float()
            if sample:
                probs = (logits / max(temperature, 1e-6)).softmax(-1)
                nxt = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            else:
                nxt = logits.argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, self.pad_id), nxt)
            out[:, t] = nxt
            done = done | (nxt == self.eos_id)
            if bool(done.all()):
                break
            tok = nxt[:, None]
        return out


@DECODERS.register("lstm")
class LSTMDecoder(GRUDecoder):
    """:class:`GRUDecoder` with LSTM cells (Bowman et al. 2016; He et al. 2019); ``z`` sets the
    initial hidden state (the cell state starts at zero) and is fed at every step."""

    cell, rnn_cls = "lstm", nn.LSTM
