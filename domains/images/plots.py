"""Image grids for samples and reports (matplotlib, the ``report`` extra)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from vaekit.core.checkpoint import atomic_path
from vaekit.core.errors import require


def tile(images: np.ndarray, n_cols: int = 0) -> np.ndarray:
    """``(N, C, H, W)`` in [0, 1] -> one ``(rows*(H+1)-1, cols*(W+1)-1[, C])`` mosaic (1-px gaps)."""
    n, c, h, w = images.shape
    cols = n_cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.ones((rows * (h + 1) - 1, cols * (w + 1) - 1, c), dtype=np.float32)
    for i in range(n):
        r, k = divmod(i, cols)
        grid[r * (h + 1):r * (h + 1) + h, k * (w + 1):k * (w + 1) + w] = images[i].transpose(1, 2, 0)
    return grid[..., 0] if c == 1 else grid


def save_grid(images: np.ndarray, path: Path, n_cols: int = 0) -> Path:
    """Write a grid of images as a PNG (atomically)."""
    require("matplotlib", "report")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = tile(np.clip(images, 0, 1), n_cols)
    with atomic_path(path) as tmp:
        plt.imsave(tmp, grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1, format="png")
    return path
