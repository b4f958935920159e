"""The text domain's view in the run report (``report.html``).

Beside the numbers of :mod:`.evaluation`, a reader of a text run wants to *read* sentences:

* **Style transfer examples**: test sentences beside their rewrite into the other style, the
  human rewrite when the split has one, and whether the separately trained judge
  (:func:`.evaluation.judge`) takes the rewrite for the target style;
* **Style transfer scores**: transfer accuracy, self-BLEU, ref-BLEU and LM perplexity of the
  model beside the copy-the-input baseline (and the human rewrites), which fix the scale;
* **Reconstructions and samples**: greedy reconstructions and prior samples (per style for a cVAE);
* **Latent interpolation**: decodings along the line between two test sentences' codes.

Every sentence shown is one the metrics scored: they come from the ``EvalContext.extra`` cache
that :func:`.evaluation.transfer_outputs` and its siblings fill, so nothing is decoded twice.
"""
from __future__ import annotations

import itertools
from typing import Any, Dict, List, Optional, Sequence

from ..base import EvalContext
from ..report_parts import Section, paragraph, table
from .evaluation import (ReconOutputs, SampleOutputs, TransferOutputs, judged_styles, reconstruction_outputs,
                         sample_outputs, transfer_outputs)

#: Test sentences shown with their rewrite.
N_TRANSFER_EXAMPLES = 12
#: Source -> reconstruction pairs shown.
N_RECONSTRUCTIONS = 8
#: Prior samples shown (shared out between the styles of a cVAE).
N_SAMPLES = 8
#: Points decoded on the interpolation line, both ends included.
N_INTERPOLATION_STEPS = 5

# (result key suffix, column header): the transfer metrics of .evaluation.StyleTransfer.
_TRANSFER_COLUMNS = [("acc", "transfer accuracy (%) ↑"), ("self_bleu", "self-BLEU ↑"),
                     ("ref_bleu", "ref-BLEU ↑"), ("lm_ppl", "LM perplexity ↓")]
# (result key prefix, row label): the systems StyleTransfer scores.
_SYSTEMS = [("transfer", "vaekit (this run)"), ("copy", "copy the input"), ("human", "human reference")]


def _shown(sentence: str) -> str:
    """A sentence as a table cell; an empty decoding is named, so its row does not look blank."""
    return sentence if sentence else "(empty)"


def balanced_indices(styles: Sequence[str], n: int) -> List[int]:
    """Indices of up to ``n`` items, taking the styles in turn, grouped by style.

    The first sentences of a split are often all of one style (the Yelp test files list the
    negative ones first), so the first ``n`` would show one direction of transfer only.

    Parameters
    ----------
    styles : sequence of str
        The style of each item.
    n : int

    Returns
    -------
    list of int
        Grouped by style (sorted labels), in item order within a style.
    """
    by_style: Dict[str, List[int]] = {}
    for i, s in enumerate(styles):
        by_style.setdefault(s, []).append(i)
    order = sorted(by_style)
    turns = itertools.chain.from_iterable(itertools.zip_longest(*(by_style[s] for s in order)))
    picked = list(itertools.islice((i for i in turns if i is not None), n))
    return sorted(picked, key=lambda i: (order.index(styles[i]), i))


def transfer_examples_table(tr: TransferOutputs, judged: Sequence[str], indices: Sequence[int]) -> str:
    """The examples table: source, styles, output, human reference (if any), the judge's verdict.

    Parameters
    ----------
    tr : TransferOutputs
    judged : sequence of str
        The judge's style of ``tr.outputs[i]`` for each ``i`` of ``indices``.
    indices : sequence of int
        The rows to show, into ``tr``'s lists.
    """
    header = ["#", "source", "source style", "target style", "vaekit output"]
    if tr.references is not None:
        header.append("human reference")
    header.append("judge says target style?")
    rows = []
    for i, said in zip(indices, judged):
        row = [i, tr.sources[i], tr.styles[i], tr.targets[i], _shown(tr.outputs[i])]
        if tr.references is not None:
            row.append(tr.references[i])
        row.append("yes" if said == tr.targets[i] else f"no (judged {said})")
        rows.append(row)
    return table(header, rows)


def transfer_examples_section(ctx: EvalContext, tr: Optional[TransferOutputs]) -> Section:
    """Test sentences beside their rewrite, or why this run has none."""
    title = "Style transfer examples"
    if tr is None:
        why = ("This model has no style code (an unconditional sentence VAE), so it does not transfer style"
               if not ctx.model.conditional else
               f"The {ctx.split} split has no style labels, so there is no source style to transfer from")
        return Section(title, paragraph(why + "; its reconstructions and samples are below."))
    idx = balanced_indices(tr.styles, N_TRANSFER_EXAMPLES)
    judged = judged_styles(ctx, [tr.outputs[i] for i in idx])
    note = paragraph(f"{len(idx)} of the {len(tr.sources)} scored {ctx.split} sentences, each encoded to its "
                     "posterior mean and decoded greedily with the next style's code. The judge is the TF-IDF "
                     "logistic-regression classifier fitted on the training split, not the model's discriminator.")
    return Section(title, note + transfer_examples_table(tr, judged, idx))


def transfer_scores_table(result: Dict[str, Any]) -> str:
    """The transfer metrics of the model beside the copy-the-input and human rows present in ``result``."""
    rows = [[label] + [result.get(f"{prefix}/{key}") for key, _ in _TRANSFER_COLUMNS]
            for prefix, label in _SYSTEMS if f"{prefix}/acc" in result]
    caption = f"{int(result.get('transfer/n', 0))} {result.get('split', '')} sentences rewritten into the next style"
    return table(["system"] + [h for _, h in _TRANSFER_COLUMNS], rows, caption=caption)


def transfer_scores_section(result: Dict[str, Any]) -> Section:
    """The scores table, with the judge's accuracy on the original sentences that calibrates it."""
    note = paragraph("Copying the input fixes the scale: the highest self-BLEU, the ref-BLEU of keeping every "
                     "word, and a transfer accuracy near the judge's error rate. The judge labels "
                     f"{result.get('classifier/acc', float('nan')):.1f} % of the original sentences correctly.")
    return Section("Style transfer scores", note + transfer_scores_table(result))


def reconstructions_table(rec: ReconOutputs, n: int) -> str:
    """The first ``n`` source -> greedy reconstruction pairs, with the style decoded with (cVAE)."""
    header = ["#", "source (as encoded)"] + (["style"] if rec.styles is not None else []) + \
        ["reconstruction", "exact"]
    rows = [[i, rec.sources[i]] + ([rec.styles[i]] if rec.styles is not None else []) +
            [_shown(rec.outputs[i]), "yes" if rec.outputs[i] == rec.sources[i] else "no"]
            for i in range(min(n, len(rec.sources)))]
    return table(header, rows, caption="Greedy decoding of each sentence's posterior mean")


def samples_table(samples: SampleOutputs, n: int) -> str:
    """Up to ``n`` prior samples, shared out between the styles of a conditional model."""
    if samples.styles is None:
        return table(["#", "sample"], [[i, _shown(s)] for i, s in enumerate(samples.texts[:n])],
                     caption="z ~ p(z), x ~ p(x|z)")
    idx = balanced_indices(samples.styles, n)
    return table(["#", "style", "sample"], [[i, samples.styles[i], _shown(samples.texts[i])] for i in idx],
                 caption="z ~ p(z), x ~ p(x|z, c) for each style code c")


def recon_samples_section(result: Dict[str, Any], rec: Optional[ReconOutputs],
                          samples: Optional[SampleOutputs]) -> Section:
    """Reconstructions (with their BLEU and exact-match rate) and prior samples."""
    parts = []
    if rec is not None:
        parts.append(paragraph(f"Reconstruction BLEU {result.get('recon/bleu', float('nan')):.1f}, exact "
                               f"match {result.get('recon/exact', float('nan')):.1f} % over "
                               f"{len(rec.sources)} sentences."))
        parts.append(reconstructions_table(rec, N_RECONSTRUCTIONS))
    if samples is not None:
        parts.append(samples_table(samples, N_SAMPLES))
    if not parts:
        parts.append(paragraph("The evaluation produced no reconstructions or samples for this model."))
    return Section("Reconstructions and samples", "".join(parts))


def _interpolation_pair(rec: ReconOutputs) -> Optional[tuple]:
    """Two different sentences to interpolate between, of one style for a cVAE (the decoder
    takes one style code along the whole line); ``None`` when the split has no such pair."""
    for i, j in itertools.combinations(range(len(rec.sources)), 2):
        same_style = rec.styles is None or rec.styles[i] == rec.styles[j]
        if same_style and rec.sources[i] != rec.sources[j]:
            return i, j
    return None


def interpolation_section(ctx: EvalContext, rec: Optional[ReconOutputs]) -> Optional[Section]:
    """Greedy decodings along the line between two test sentences' posterior means (:func:`.style.interpolate`)."""
    pair = None if rec is None else _interpolation_pair(rec)
    if pair is None:
        return None
    from .style import interpolate

    i, j = pair
    style = None if rec.styles is None else rec.styles[i]
    path = interpolate(ctx.model, ctx.data.info, rec.sources[i], rec.sources[j], N_INTERPOLATION_STEPS, style)
    ts = [k / (N_INTERPOLATION_STEPS - 1) for k in range(N_INTERPOLATION_STEPS)]
    styled = "" if style is None else f", decoded with style {style}"
    note = paragraph(f"From “{rec.sources[i]}” (t = 0) to “{rec.sources[j]}” (t = 1){styled}.")
    body = table(["t", "decoding of (1 - t) z_a + t z_b"], [[f"{t:.2f}", _shown(s)] for t, s in zip(ts, path)])
    return Section("Latent interpolation", note + body)


def report_sections(ctx: EvalContext, result: Dict[str, Any]) -> List[Section]:
    """The text domain's sections of ``report.html``.

    Parameters
    ----------
    ctx : EvalContext
        The evaluation's context; its cache holds the sentences the metrics decoded.
    result : dict
        The flat result of ``vaekit evaluate`` (the ``transfer/*``, ``copy/*``, ``human/*``,
        ``recon/*`` keys of :mod:`.evaluation`).

    Returns
    -------
    list of Section
    """
    tr, rec = transfer_outputs(ctx), reconstruction_outputs(ctx)
    sections = [transfer_examples_section(ctx, tr)]
    if tr is not None:
        sections.append(transfer_scores_section(result))
    sections.append(recon_samples_section(result, rec, sample_outputs(ctx)))
    interp = interpolation_section(ctx, rec)
    if interp is not None:
        sections.append(interp)
    return sections


__all__ = ["report_sections", "balanced_indices", "transfer_examples_table", "transfer_scores_table",
           "reconstructions_table", "samples_table", "N_TRANSFER_EXAMPLES"]
