"""The text domain's :class:`~vaekit.domains.base.Domain`."""
from __future__ import annotations

import warnings
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
        style ``L`` (:func:`.style.transfer`); a model without a style code reconstructs the
        lines instead.

        Exactly one output line per input line (greedy decoding gives one rewrite, so ``n``
        is not used), so line ``i`` of the output is the rewrite of line ``i`` of the input.
        A blank input line gives a blank output line (counted in one warning). Lines end at
        ``\n`` as for ``wc -l`` (:func:`.io.read_input_lines`: CRLF and a missing final
        newline are fine); a file without any sentence is an error.
        """
        from .io import read_input_lines
        from .style import reconstruct, transfer

        lines, n_blank = read_input_lines(input_path)
        c = self.parse_cond(list(cond), info)
        if model.conditional and c is None:
            raise DataValidationError(fmt_error("--cond", "restyling needs the target style",
                                                None, f"Pass --cond style=L with L in {info.extra.get('labels')}."))
        keep = [i for i, line in enumerate(lines) if line]
        sentences = [lines[i] for i in keep]
        outs = transfer(model, info, sentences, int(c)) if model.conditional else reconstruct(model, info, sentences)
        rows = [""] * len(lines)
        for i, s in zip(keep, outs):
            rows[i] = s
        if n_blank:
            warnings.warn(f"--input {input_path}: {n_blank} blank line(s) of {len(lines)} have nothing to rewrite; "
                          f"each gives a blank output line, so the output keeps one line per input line.",
                          stacklevel=2)
        return self.save_samples(rows, out, info)

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
