"""The molecules domain's :class:`~vaekit.domains.base.Domain`."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, List, Sequence

import torch

from vaekit.core.checkpoint import atomic_path
from vaekit.core.errors import ConfigError, DataValidationError
from vaekit.core.types import DataBundle, DataInfo

from . import models  # noqa: F401  (registers the "graph" encoder)
from ..base import Domain, Metric
from .datasets import decode_tokens
from .evaluation import (ConditionalControl, MoleculesEvalOptions, MosesSampleMetrics, PropertyPrediction,
                         ReconstructionAccuracy)
from .loading import MoleculesDataConfig, load_molecules


class MoleculesDomain(Domain):
    name = "molecules"
    DataConfig = MoleculesDataConfig
    EvalOptions = MoleculesEvalOptions
    cond_example = "--cond logp=2.5 qed=0.7"
    sample_x = True  # MOSES samples its models' decoders (temperature 1)

    def load_data(self, cfg: MoleculesDataConfig, seed: int) -> DataBundle:
        return load_molecules(cfg, seed)

    def metrics(self) -> List[Metric]:
        return [MosesSampleMetrics(), ReconstructionAccuracy(), PropertyPrediction(), ConditionalControl()]

    def decode(self, x: torch.Tensor, info: DataInfo) -> List[Any]:
        return decode_tokens(x, info)

    def save_samples(self, samples: List[Any], path: Path, info: DataInfo) -> Path:
        """``.smi``/``.txt``: one SMILES a line; ``.csv``: a ``SMILES`` column (MOSES's format)."""
        path = Path(path)
        if path.suffix not in (".smi", ".txt", ".csv"):
            raise DataValidationError(f"--out {path}: molecules are written as .smi, .txt or .csv; got suffix "
                                      f"{path.suffix!r}.")
        with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
            if path.suffix == ".csv":
                w = csv.writer(f)
                w.writerow(["SMILES"])
                w.writerows([s] for s in samples)
            else:
                # An invalid sample can be an empty string; keep the line so counts match -n.
                f.write("".join(f"{s}\n" for s in samples))
        return path

    def report_sections(self, ctx, result):
        """Generated molecules (grid, properties, sample quality) and property histograms; see :mod:`.report`."""
        from .report import report_sections  # loaded only when a report is written

        return report_sections(ctx, result)

    def parse_cond(self, spec: Sequence[str], info: DataInfo):
        """``["logp=2.5", "qed=0.7"]`` -> the standardised condition row ``(k,)``."""
        names = (info.extra.get("condition") or {}).get("names") or []
        if not spec:
            return None
        if not names:
            return super().parse_cond(spec, info)
        targets = {}
        for item in spec:
            key, sep, val = item.partition("=")
            if not sep:
                raise DataValidationError(f"--cond: write NAME=VALUE (e.g. {self.cond_example.split(' ', 1)[1]}); "
                                          f"got {item!r}.")
            try:
                targets[key.strip()] = float(val)
            except ValueError:
                raise DataValidationError(f"--cond {item}: the value must be a number; got {val!r}.") from None
        from .design import _cond_tensor

        try:
            return _cond_tensor(info, targets, 1, "cpu")[0]
        except ConfigError as exc:
            raise DataValidationError(f"--cond: {str(exc).split(': ', 1)[1]}") from None


DOMAIN = MoleculesDomain()
