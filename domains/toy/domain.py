"""The toy domain's :class:`~vaekit.domains.base.Domain`."""
from __future__ import annotations

from pathlib import Path
from typing import Any, List, Sequence

import numpy as np
import torch

from vaekit.core.checkpoint import atomic_path
from vaekit.core.errors import DataValidationError
from vaekit.core.types import DataBundle, DataInfo

from ..base import Domain, Metric
from .data import EOS, ToyDataConfig, make_toy_data
from .metrics import ClusterRecovery, Reconstruction, SampleQuality


class ToyDomain(Domain):
    name = "toy"
    DataConfig = ToyDataConfig
    cond_example = "--cond cluster=0"

    def load_data(self, cfg: ToyDataConfig, seed: int) -> DataBundle:
        return make_toy_data(cfg, seed)

    def metrics(self) -> List[Metric]:
        return [ClusterRecovery(), Reconstruction(), SampleQuality()]

    def decode(self, x: torch.Tensor, info: DataInfo) -> List[Any]:
        if info.kind == "sequence":
            vocab = info.extra["vocab"]
            out = []
            for row in x.tolist():
                words = []
                for t in row:
                    if t == EOS:
                        break
                    words.append(vocab[t])
                out.append(" ".join(words))
            return out
        return x.reshape(x.shape[0], -1).float().cpu().numpy().tolist()

    def save_samples(self, samples: List[Any], path: Path, info: DataInfo) -> Path:
        """Sequences one a line (text); vectors as ``.csv``, ``.tsv``, ``.txt`` or ``.npy``.
        Written atomically (:func:`~vaekit.core.checkpoint.atomic_path`): an interrupted
        write leaves the previous file."""
        path = Path(path)
        if info.kind == "sequence":
            with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
                f.write("".join(s + "\n" for s in samples))
            return path
        if path.suffix not in (".npy", ".csv", ".txt", ".tsv"):
            raise DataValidationError(f"--out {path}: toy vector samples are written as .csv, .tsv, .txt or .npy; "
                                      f"got suffix {path.suffix!r}.")
        arr = np.asarray(samples, dtype=np.float32)
        # Through open file objects: given a name, np.save would append ".npy" to the temporary's.
        if path.suffix == ".npy":
            with atomic_path(path) as tmp, open(tmp, "wb") as f:
                np.save(f, arr)
        else:
            delim = "," if path.suffix == ".csv" else ("\t" if path.suffix == ".tsv" else " ")
            header = delim.join(f"x{i}" for i in range(arr.shape[1])) if path.suffix == ".csv" else ""
            with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
                np.savetxt(f, arr, delimiter=delim, header=header, comments="", fmt="%.6g")
        return path

    def parse_cond(self, spec: Sequence[str], info: DataInfo):
        return self.parse_class_cond(spec, info, "cluster")


DOMAIN = ToyDomain()
