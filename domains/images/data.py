"""Image data: arrays from ``.npz`` files (MNIST-style splits) or a generated set of shapes.

``.npz`` files hold ``x_train``, ``x_valid`` (or ``x_val``) and ``x_test`` arrays of shape
``(N, H*W)``, ``(N, H, W)`` or ``(N, C, H, W)``, integer grey levels 0..255 or floats in [0, 1],
and optionally ``y_train`` / ``y_valid`` / ``y_test`` labels. This is the layout of the
statically binarised MNIST of Larochelle & Murray 2011 (``../shared/data/core/binarized_mnist.npz``)
and of plain MNIST (``mnist.npz``).

Binarisation (``binarize``): ``none`` (the data are already binary, or grey levels are modelled
as Bernoulli means, the usual practice), ``threshold`` (``x > threshold``) or ``fixed_seed``
(one Bernoulli draw of every grey level with ``binarize_seed``: a static binarisation, for when
only grey MNIST is at hand; say so when reporting NLLs, they are not comparable to Larochelle's
set).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Literal, Optional, Sequence, Tuple

import numpy as np

from vaekit.core.data import ArrayDataset, collate_arrays
from vaekit.core.errors import ConfigError, DataValidationError, fmt_error
from vaekit.core.types import DataBundle, DataInfo

SHAPE_NAMES = ("horizontal bar", "vertical bar", "square", "cross")


@dataclass(frozen=True)
class ImagesDataConfig:
    """The ``data`` section for ``domain: images``.

    Attributes
    ----------
    source : str
        ``generated`` or the path of an ``.npz`` file (see the module docstring).
    binarize : str
        ``none``, ``threshold`` or ``fixed_seed``.
    threshold : float
    binarize_seed : int
    shape : list of int, optional
        ``(C, H, W)``; inferred for square single-channel images when omitted.
    val_fraction : float
        Share of the training images held out for validation when the file has no
        validation split.
    train_on_val : bool
        Train on train + validation (the final-model protocol of the density benchmarks);
        validation then still reports on the validation images, which are no longer held out.
    max_train : int
        Use only the first ``max_train`` training images (0: all), for quick runs.
    conditional : bool
        Use the labels as the condition of a cVAE.
    n_train, n_val, n_test, size, noise, data_seed :
        The generated set: ``size x size`` binary images of four shapes (bars, squares,
        crosses) at random positions and sizes, each pixel flipped with probability ``noise``.
    """

    source: str = "generated"
    binarize: Literal["none", "threshold", "fixed_seed"] = "none"
    threshold: float = 0.5
    binarize_seed: int = 0
    shape: Optional[Tuple[int, ...]] = None
    val_fraction: float = 0.1
    train_on_val: bool = False
    max_train: int = 0
    conditional: bool = False
    n_train: int = 4000
    n_val: int = 500
    n_test: int = 500
    size: int = 16
    noise: float = 0.02
    data_seed: int = 1234

    def validate(self, path: str = "data") -> None:
        if self.binarize not in ("none", "threshold", "fixed_seed"):
            raise ConfigError(f"{path}.binarize: must be none, threshold or fixed_seed; got {self.binarize!r}.")
        if not 0.0 < self.val_fraction < 1.0:
            raise ConfigError(f"{path}.val_fraction: must lie in (0, 1); got {self.val_fraction!r}.")
        if self.max_train < 0:
            raise ConfigError(f"{path}.max_train: must be >= 0 (0 = all); got {self.max_train!r}.")
        if self.source == "generated":
            for name in ("n_train", "n_val", "n_test"):
                if getattr(self, name) < 1:
                    raise ConfigError(f"{path}.{name}: must be >= 1; got {getattr(self, name)!r}.")
            if self.size < 8:
                raise ConfigError(f"{path}.size: generated images need size >= 8 pixels; got {self.size!r}.")
            if not 0.0 <= self.noise < 0.5:
                raise ConfigError(f"{path}.noise: a pixel-flip probability in [0, 0.5); got {self.noise!r}.")
        elif not str(self.source).endswith(".npz"):
            raise ConfigError(f"{path}.source: 'generated' or the path of an .npz file with x_train/x_valid/x_test; "
                              f"got {self.source!r}.")
        if self.shape is not None and len(self.shape) != 3:
            raise ConfigError(f"{path}.shape: (C, H, W); got {list(self.shape)!r}.")


# ----------------------------------------------------------------------------- generated
def generate_shapes(n: int, size: int, noise: float, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """``n`` binary ``(1, size, size)`` images of the four :data:`SHAPE_NAMES` and their labels."""
    x = np.zeros((n, 1, size, size), dtype=np.float32)
    y = rng.integers(0, len(SHAPE_NAMES), size=n)
    for i, k in enumerate(y):
        length = int(rng.integers(size // 3, size - 2))
        r0, c0 = (int(v) for v in rng.integers(0, size - length + 1, size=2))
        if k == 0:  # horizontal bar, 2 px thick
            r = int(rng.integers(0, size - 1))
            x[i, 0, r:r + 2, c0:c0 + length] = 1
        elif k == 1:  # vertical bar
            c = int(rng.integers(0, size - 1))
            x[i, 0, r0:r0 + length, c:c + 2] = 1
        elif k == 2:  # filled square
            side = max(3, length // 2)
            x[i, 0, r0:r0 + side, c0:c0 + side] = 1
        else:  # cross
            mid = length // 2
            x[i, 0, r0 + mid, c0:c0 + length] = 1
            x[i, 0, r0:r0 + length, c0 + mid] = 1
    flip = rng.random(x.shape) < noise
    return np.where(flip, 1 - x, x).astype(np.float32), y


# ----------------------------------------------------------------------------- npz files
def _pick(arrays: Dict[str, np.ndarray], names: Sequence[str]) -> Optional[str]:
    return next((n for n in names if n in arrays), None)


def _to_images(x: np.ndarray, shape: Optional[Tuple[int, ...]], where: str) -> np.ndarray:
    """``(N, ...)`` array -> float32 ``(N, C, H, W)`` in [0, 1]."""
    if x.ndim < 2:
        raise DataValidationError(fmt_error(where, "images are (N, H*W), (N, H, W) or (N, C, H, W)",
                                            f"shape {x.shape}", "Store one image per row."))
    n = x.shape[0]
    if shape is not None:
        c, h, w = shape
        if int(np.prod(x.shape[1:])) != c * h * w:
            raise DataValidationError(fmt_error(where, f"data.shape {list(shape)} must hold {c * h * w} values per image",
                                                f"{int(np.prod(x.shape[1:]))} values", "Fix data.shape."))
    elif x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise DataValidationError(fmt_error(where, "flat images must be square to infer their shape",
                                                f"{x.shape[1]} pixels per row", "Set data.shape: [C, H, W]."))
        c, h, w = 1, side, side
    elif x.ndim == 3:
        c, h, w = 1, x.shape[1], x.shape[2]
    else:
        c, h, w = x.shape[1:4]
    if np.issubdtype(x.dtype, np.integer):
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise DataValidationError(fmt_error(where, "integer pixels must lie in 0..255", f"range [{lo}, {hi}]",
                                                "Store uint8 grey levels or floats in [0, 1]."))
        # {0, 1} integers are binary images already; larger values are grey levels.
        x = x.astype(np.float32) / (1.0 if hi <= 1 else 255.0)
    else:
        x = x.astype(np.float32)
        if not np.isfinite(x).all():
            bad = int((~np.isfinite(x.reshape(n, -1))).any(1).sum())
            raise DataValidationError(fmt_error(where, "pixels must be finite", f"NaN/inf in {bad} images",
                                                "Fix or drop those images."))
        lo, hi = float(x.min()), float(x.max())
        if lo < 0 or hi > 1:
            raise DataValidationError(fmt_error(where, "float pixels must lie in [0, 1]", f"range [{lo:.3g}, {hi:.3g}]",
                                                "Divide grey levels by 255."))
    return x.reshape(n, c, h, w)


def _binarize(x: np.ndarray, cfg: ImagesDataConfig, split_id: int) -> np.ndarray:
    if cfg.binarize == "threshold":
        return (x > cfg.threshold).astype(np.float32)
    if cfg.binarize == "fixed_seed":
        rng = np.random.default_rng([cfg.binarize_seed, split_id])
        return (rng.random(x.shape) < x).astype(np.float32)
    return x


def load_npz(cfg: ImagesDataConfig, seed: int) -> Tuple[List[np.ndarray], List[Optional[np.ndarray]], Dict]:
    """The three splits ``[x_train, x_val, x_test]`` (float ``(N, C, H, W)``) and labels."""
    path = Path(cfg.source)
    if not path.is_file():
        raise DataValidationError(fmt_error("data.source", "an existing .npz file", str(path),
                                            "Check the path (relative paths start at the working directory)."))
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    where = f"data.source {path}"
    keys = {"train": _pick(arrays, ("x_train",)), "val": _pick(arrays, ("x_valid", "x_val")),
            "test": _pick(arrays, ("x_test",))}
    if keys["train"] is None or keys["test"] is None:
        raise DataValidationError(fmt_error(where, "arrays x_train and x_test (and optionally x_valid)",
                                            f"keys {sorted(arrays)}", "Rename the arrays in the file."))
    xs, ys = {}, {}
    for split, key in keys.items():
        if key is None:
            continue
        xs[split] = _to_images(arrays[key], cfg.shape, f"{where} [{key}]")
        ykey = key.replace("x_", "y_", 1)
        ys[split] = arrays[ykey].astype(np.int64).reshape(-1) if ykey in arrays else None
        if ys[split] is not None and len(ys[split]) != len(xs[split]):
            raise DataValidationError(fmt_error(f"{where} [{ykey}]", f"one label per image ({len(xs[split])})",
                                                len(ys[split]), "Fix the label array."))
    notes = {}
    if "val" not in xs:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(len(xs["train"]))
        n_val = max(1, int(round(cfg.val_fraction * len(perm))))
        val_idx, tr_idx = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        xs["val"], xs["train"] = xs["train"][val_idx], xs["train"][tr_idx]
        if ys["train"] is not None:
            ys["val"], ys["train"] = ys["train"][val_idx], ys["train"][tr_idx]
        else:
            ys["val"] = None
        notes["val_split"] = f"{n_val} training images held out (val_fraction {cfg.val_fraction}, seed {seed})"
    if cfg.train_on_val:
        xs["train"] = np.concatenate([xs["train"], xs["val"]])
        ys["train"] = None if ys["train"] is None or ys["val"] is None else np.concatenate([ys["train"], ys["val"]])
        notes["train_on_val"] = "training on train + validation images"
    order = ("train", "val", "test")
    return [xs[s] for s in order], [ys[s] for s in order], notes


def load_images(cfg: ImagesDataConfig, seed: int = 0) -> DataBundle:
    """Load or generate the image splits described by ``cfg``."""
    if cfg.source == "generated":
        rng = np.random.default_rng(cfg.data_seed)
        n = cfg.n_train + cfg.n_val + cfg.n_test
        x, y = generate_shapes(n, cfg.size, cfg.noise, rng)
        cuts = [0, cfg.n_train, cfg.n_train + cfg.n_val, n]
        xs = [x[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
        ys = [y[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
        notes = {"source": "generated shapes: " + ", ".join(SHAPE_NAMES)}
        class_names = list(SHAPE_NAMES)
    else:
        xs, ys, notes = load_npz(cfg, seed)
        xs = [_binarize(x, cfg, i) for i, x in enumerate(xs)]
        labels = [y for y in ys if y is not None]
        class_names = [str(k) for k in range(int(max(int(y.max()) for y in labels)) + 1)] if labels else []
    if cfg.max_train:
        xs[0] = xs[0][:cfg.max_train]
        ys[0] = None if ys[0] is None else ys[0][:cfg.max_train]
    if cfg.conditional and any(y is None for y in ys):
        raise ConfigError(fmt_error("data.conditional", "labels y_train/y_valid/y_test for a class-conditional model",
                                    "a file without labels", "Set data.conditional: false."))
    binary = all(bool(np.isin(x, (0.0, 1.0)).all()) for x in xs)
    splits = [ArrayDataset(x, cond=y if cfg.conditional else None, y=y, where=f"images [{name}]")
              for x, y, name in zip(xs, ys, ("train", "val", "test"))]
    cond_kw = dict(n_cond_classes=len(class_names)) if cfg.conditional else {}
    info = DataInfo(kind="image", shape=tuple(int(s) for s in xs[0].shape[1:]), likelihood="bernoulli",
                    n_train=len(xs[0]), extra={"binary": binary, "class_names": class_names, **notes}, **cond_kw)
    return DataBundle(*splits, info=info, collate=collate_arrays)
