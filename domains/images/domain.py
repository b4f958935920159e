"""The images domain's :class:`~vaekit.domains.base.Domain`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Sequence

import numpy as np
import torch

from vaekit.core.checkpoint import atomic_path
from vaekit.core.errors import DataValidationError, fmt_error
from vaekit.core.types import DataInfo

from ..base import Domain, Metric
from ..latent_metrics import ClusterRecovery, Reconstruction
from .data import ImagesDataConfig, load_images


@dataclass(frozen=True)
class ImagesEvalOptions:
    """``eval.options`` for images.

    Attributes
    ----------
    recon_examples : int
        Test images reconstructed for the reconstruction metric (0: all); an autoregressive
        (PixelCNN) decoder decodes one pixel per network pass, so keep it small there.
    """

    recon_examples: int = 0


class ImagesDomain(Domain):
    name = "images"
    DataConfig = ImagesDataConfig
    EvalOptions = ImagesEvalOptions
    cond_example = "--cond label=3"
    sample_x = False

    def load_data(self, cfg: ImagesDataConfig, seed: int):
        return load_images(cfg, seed)

    def metrics(self) -> List[Metric]:
        return [ClusterRecovery(), Reconstruction()]

    def decode(self, x: torch.Tensor, info: DataInfo) -> List[Any]:
        """Images ``(N, C, H, W)`` -> a list of float arrays ``(C, H, W)`` in [0, 1]."""
        return list(x.reshape(x.shape[0], *info.shape).float().cpu().numpy())

    def save_samples(self, samples: List[Any], path: Path, info: DataInfo) -> Path:
        """``.npy`` (an ``(N, C, H, W)`` array) or ``.png`` (a grid; needs matplotlib)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arr = np.stack(samples).astype(np.float32)
        if path.suffix == ".npy":
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, arr)
            return path
        if path.suffix == ".png":
            from .plots import save_grid

            return save_grid(arr, path)
        raise DataValidationError(fmt_error(f"--out {path}", "images are written as .npy or .png", path.suffix,
                                            "Use a .npy or .png file name."))

    def report_sections(self, ctx, result):
        from .report import report_sections

        return report_sections(ctx, result)

    def parse_cond(self, spec: Sequence[str], info: DataInfo):
        return self.parse_class_cond(spec, info, "label")


DOMAIN = ImagesDomain()
