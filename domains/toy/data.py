"""Generated toy data with known structure.

* ``mixture``: ``n_clusters`` Gaussian clusters in a ``true_latent_dim``-dimensional space
  mapped to ``x_dim`` dimensions by a fixed random two-layer network, plus noise.
* ``binary``: the same latent structure, binarised (``x ~ Bernoulli(sigmoid(3 f(z)))``).
* ``sequence``: token sequences ``w_{(s + t * stride_k) mod V}`` for ``t < L``, then ``<eos>``,
  where the cluster ``k`` fixes the stride, and the start ``s`` and length ``L`` vary, so
  samples can be checked against the grammar that generated the data.

The generated world is fixed by ``data_seed``; labels ``y`` are the cluster ids and, with
``conditional: true``, the cluster id is also the cVAE's condition.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Literal

import numpy as np

from vaekit.core.data import ArrayDataset, PadCollate, SequenceDataset, collate_arrays
from vaekit.core.errors import ConfigError
from vaekit.core.types import DataBundle, DataInfo

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]


@dataclass(frozen=True)
class ToyDataConfig:
    """The ``data`` section for ``domain: toy``."""

    kind: Literal["mixture", "binary", "sequence"] = "mixture"
    n_train: int = 4000
    n_val: int = 500
    n_test: int = 500
    x_dim: int = 16
    n_clusters: int = 4
    true_latent_dim: int = 2
    noise: float = 0.1
    conditional: bool = False
    seq_len: int = 12
    vocab_size: int = 16
    data_seed: int = 1234

    def validate(self, path: str = "data") -> None:
        for name in ("n_train", "n_val", "n_test", "x_dim", "n_clusters", "true_latent_dim"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{path}.{name}: must be >= 1; got {getattr(self, name)!r}.")
        if self.kind == "sequence":
            if self.seq_len < 5:
                raise ConfigError(f"{path}.seq_len: sequences need seq_len >= 5 (3 tokens, <eos>); got {self.seq_len}.")
            if self.vocab_size - len(SPECIALS) < 2:
                raise ConfigError(f"{path}.vocab_size: needs >= {len(SPECIALS) + 2} (4 special tokens + 2 words); "
                                  f"got {self.vocab_size}.")


def _latents(cfg: ToyDataConfig, n: int, rng: np.random.Generator):
    k = rng.integers(0, cfg.n_clusters, size=n)
    angle = 2 * np.pi * np.arange(cfg.n_clusters) / cfg.n_clusters
    centers = np.zeros((cfg.n_clusters, cfg.true_latent_dim))
    centers[:, 0] = 2.0 * np.cos(angle)
    if cfg.true_latent_dim > 1:
        centers[:, 1] = 2.0 * np.sin(angle)
    z = centers[k] + 0.5 * rng.standard_normal((n, cfg.true_latent_dim))
    return z, k


def _vectors(cfg: ToyDataConfig, n: int, rng: np.random.Generator, world: np.random.Generator):
    z, k = _latents(cfg, n, rng)
    a = world.standard_normal((cfg.true_latent_dim, 32)) / np.sqrt(cfg.true_latent_dim)
    b = world.standard_normal(32)
    w = world.standard_normal((32, cfg.x_dim)) / np.sqrt(32)
    f = np.tanh(z @ a + b) @ w
    f = (f - f.mean(0)) / (f.std(0) + 1e-8)
    if cfg.kind == "binary":
        x = (rng.random(f.shape) < 1 / (1 + np.exp(-3 * f))).astype(np.float32)
    else:
        x = (f + cfg.noise * rng.standard_normal(f.shape)).astype(np.float32)
    return x, k


def _sequences(cfg: ToyDataConfig, n: int, rng: np.random.Generator):
    n_words = cfg.vocab_size - len(SPECIALS)
    k = rng.integers(0, cfg.n_clusters, size=n)
    start = rng.integers(0, n_words, size=n)
    length = rng.integers(3, cfg.seq_len, size=n)  # words; + <eos> <= seq_len
    seqs = [[len(SPECIALS) + (s + t * (kk + 1)) % n_words for t in range(L)] + [EOS]
            for kk, s, L in zip(k, start, length)]
    return seqs, k


def make_toy_data(cfg: ToyDataConfig, seed: int = 0) -> DataBundle:
    """Generate the toy data set described by ``cfg`` (``seed`` is unused: the world and the
    draws are fixed by ``cfg.data_seed`` so every run sees the same data)."""
    world = np.random.default_rng(cfg.data_seed)
    rng = np.random.default_rng(cfg.data_seed + 1)
    n = cfg.n_train + cfg.n_val + cfg.n_test
    cuts = [cfg.n_train, cfg.n_train + cfg.n_val]
    cond_kw = dict(n_cond_classes=cfg.n_clusters) if cfg.conditional else {}
    if cfg.kind == "sequence":
        seqs, k = _sequences(cfg, n, rng)
        splits = []
        for lo, hi in ((0, cuts[0]), (cuts[0], cuts[1]), (cuts[1], n)):
            splits.append(SequenceDataset(seqs[lo:hi], cond=k[lo:hi] if cfg.conditional else None, y=k[lo:hi],
                                          where=f"toy data [{lo}:{hi}]"))
        vocab = SPECIALS + [f"w{i}" for i in range(cfg.vocab_size - len(SPECIALS))]
        info = DataInfo(kind="sequence", shape=(cfg.seq_len,), vocab_size=cfg.vocab_size, pad_id=PAD, bos_id=BOS,
                        eos_id=EOS, unk_id=UNK, likelihood="categorical", n_train=cfg.n_train,
                        extra={"vocab": vocab, "n_clusters": cfg.n_clusters}, **cond_kw)
        return DataBundle(*splits, info=info, collate=PadCollate(PAD))
    x, k = _vectors(cfg, n, world=world, rng=rng)
    splits = [ArrayDataset(x[lo:hi], cond=k[lo:hi] if cfg.conditional else None, y=k[lo:hi],
                           where=f"toy data [{lo}:{hi}]")
              for lo, hi in ((0, cuts[0]), (cuts[0], cuts[1]), (cuts[1], n))]
    info = DataInfo(kind="vector", shape=(cfg.x_dim,), likelihood="bernoulli" if cfg.kind == "binary" else "gaussian",
                    n_train=cfg.n_train, extra={"n_clusters": cfg.n_clusters}, **cond_kw)
    return DataBundle(*splits, info=info, collate=collate_arrays)


def is_grammatical(tokens: List[int], n_words: int) -> bool:
    """Whether a generated token list (without specials after <eos>) follows the toy grammar:
    at least 3 words, a constant stride (mod ``n_words``), then <eos>."""
    if not tokens or tokens[-1] != EOS:
        return False
    words = tokens[:-1]
    if len(words) < 3 or any(t < len(SPECIALS) for t in words):
        return False
    w = [t - len(SPECIALS) for t in words]
    stride = (w[1] - w[0]) % n_words
    return stride != 0 and all((w[i + 1] - w[i]) % n_words == stride for i in range(len(w) - 1))
