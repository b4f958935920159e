"""The text domain's :class:`~vaekit.domains.base.Domain`."""
from __future__ import annotations

from pathlib import Path
from typing import Any, List, Sequence

import torch

from vaekit.core.checkpoint import atomic_path
from vaekit.core.errors import DataValidationError, fmt_error
from vaekit.core.types import DataBundle, DataInfo

from ..base import Domain, Metric
from .evaluation import Reconstruction, Samples, StyleTransfer, TextEvalOptions
from .loading import TextDataConfig, decode_ids, load_text


class TextDomain(Domain):
    name = "text"
    DataConfig = TextDataConfig
    EvalOptions = TextEvalOptions
    cond_example = "--cond style=1"

    def load_data(self, cfg: TextDataConfig, seed: int) -> DataBundle:
        return load_text(cfg, seed)

    def metrics(self) -> List[Metric]:
        return [StyleTransfer(), Reconstruction(), Samples()]

    def report_sections(self, ctx, result):
        """Transfer examples beside their sources, the transfer scores beside the copy baseline,
        reconstructions, samples and an interpolation (:mod:`.report`)."""
        from .report import report_sections

        return report_sections(ctx, result)

    def decode(self, x: torch.Tensor, info: DataInfo) -> List[Any]:
        return decode_ids(x, info)

    def save_samples(self, samples: List[Any], path: Path, info: DataInfo) -> Path:
        """One sentence a line (``.txt`` or no suffix); an empty decoding keeps its line."""
        path = Path(path)
        if path.suffix not in ("", ".txt"):
            raise DataValidationError(fmt_error(f"--out {path}", "sentences are written one a line to .txt",
                                                path.suffix, "Use a .txt file name."))
        with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write("".join(f"{s}\n" for s in samples))
        return path

    def generate_from_inputs(self, model, info: DataInfo, input_path: Path, n: int, out: Path, seed: int = 0,
                             cond: Sequence[str] = ()) -> Path:
        """``vaekit generate RUN --input FILE --cond style=L``: each line of FILE rewritten in
        style ``L`` (:func:`.style.transfer`), one output line per input line; a model without
        a style code reconstructs the lines instead. ``n`` is not used."""
        from .io import read_sentences
        from .style import reconstruct, transfer

        sentences = read_sentences(input_path)
        c = self.parse_cond(list(cond), info)
        if model.conditional:
            if c is None:
                raise DataValidationError(fmt_error("--cond", "restyling needs the target style",
                                                    None, f"Pass --cond style=L with L in {info.extra.get('labels')}."))
            outs = transfer(model, info, sentences, int(c))
        else:
            outs = reconstruct(model, info, sentences)
        return self.save_samples(outs, out, info)

    def parse_cond(self, spec: Sequence[str], info: DataInfo):
        """``["style=1"]`` -> the class id of label ``1``."""
        if not spec:
            return None
        labels = [str(v) for v in info.extra.get("labels") or []]
        if not info.n_cond_classes:
            return super().parse_cond(spec, info)
        if len(spec) != 1 or not spec[0].startswith("style="):
            raise DataValidationError(fmt_error("--cond", f"give one style=LABEL with LABEL in {labels}", list(spec),
                                                "Pass e.g. --cond style=1."))
        from .style import style_ids

        return style_ids(spec[0].split("=", 1)[1], info, 1, "--cond style")[0]


DOMAIN = TextDomain()
