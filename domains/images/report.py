"""The images domain's view in ``report.html``: test images beside their reconstructions, and
samples from the prior (one row per class for a class-conditional model)."""
from __future__ import annotations

import io
from typing import Any, Dict, List

import numpy as np
import torch

from ..base import EvalContext
from ..report_parts import Section, figures_or_note, paragraph, plotting, png_image
from .plots import tile

#: Images per row of each grid; an autoregressive decoder generates one pixel per network pass,
#: so it draws a single row (what the ``recon_examples`` limit does for the metric).
PER_ROW = 16


def _png(images: np.ndarray, n_cols: int) -> bytes:
    """``(N, C, H, W)`` in [0, 1] -> PNG bytes of their grid (matplotlib's imsave)."""
    plt = plotting()
    grid = tile(np.clip(images, 0, 1), n_cols)
    buf = io.BytesIO()
    plt.imsave(buf, grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1, format="png")
    return buf.getvalue()


def _rows(ctx: EvalContext) -> int:
    return 1 if getattr(ctx.model.decoder, "autoregressive", False) else 4


@torch.no_grad()
def reconstructions(ctx: EvalContext) -> Section:
    """Rows of test images, each followed by the row of their reconstructions (posterior mean)."""
    batch = next(ctx.batches())
    n = min(len(batch), PER_ROW * max(1, _rows(ctx) // 2))
    n = n if n <= PER_ROW else n // PER_ROW * PER_ROW  # whole rows, so each original sits above its reconstruction
    batch = batch.slice(slice(0, n))
    xr = ctx.model.reconstruct(batch.x, batch.cond, batch.mask).float().cpu().numpy()
    x = batch.x.float().cpu().numpy()
    rows = []
    for i in range(0, len(x), PER_ROW):
        rows += [x[i:i + PER_ROW], xr[i:i + PER_ROW]]
    caption = (f"{len(x)} images of the {ctx.split} split (odd rows) and their reconstructions from the "
               f"posterior mean (even rows).")
    return Section("Reconstructions", png_image(_png(np.concatenate(rows), min(PER_ROW, len(x))), "reconstructions",
                                                caption))


@torch.no_grad()
def samples(ctx: EvalContext) -> Section:
    """Prior samples (decoder mean / greedy), one row per class when the model is class-conditional."""
    info, model = ctx.data.info, ctx.model
    dev = next(model.parameters()).device
    g = torch.Generator(device=dev).manual_seed(ctx.seed)
    if info.n_cond_classes:
        classes = list(range(min(info.n_cond_classes, 10)))
        imgs = [model.sample(PER_ROW, cond=torch.full((PER_ROW,), c, dtype=torch.long, device=dev), generator=g)
                for c in classes]
        x = torch.cat(imgs)
        caption = f"{PER_ROW} samples per class; row r is class {classes[0]}..{classes[-1]}."
    else:
        x = model.sample(PER_ROW * _rows(ctx), generator=g)
        caption = f"{len(x)} samples from the prior (decoder mean)."
    arr = x.reshape(x.shape[0], *info.shape).float().cpu().numpy()
    return Section("Samples", png_image(_png(arr, PER_ROW), "samples", caption))


def report_sections(ctx: EvalContext, result: Dict[str, Any]) -> List[Section]:
    """The images sections of the run report (figures need matplotlib)."""
    if plotting() is None:
        return [Section("Reconstructions and samples", paragraph("Image grids are drawn with matplotlib.")
                        + figures_or_note([]))]
    return [reconstructions(ctx), samples(ctx)]
