"""Use a trained text VAE: restyle, reconstruct, sample and interpolate sentences.

Every function takes the model and the :class:`~vaekit.core.types.DataInfo` of its run
(``load_run`` returns both) and plain strings, and returns plain strings:

* :func:`transfer`: encode each sentence to its posterior mean ``z`` (the content) and decode
  greedily with the target style code ``c'``: one output per input;
* :func:`reconstruct`: the same with the sentence's own style (or an unconditional model);
* :func:`sample`: decode prior samples (optionally of one style);
* :func:`interpolate`: decode points on the line between two sentences' codes.

Styles are given by label (``"0"``, ``"1"``, as in the data files) or class id.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Union

import torch

from vaekit.core.errors import DataValidationError, fmt_error
from vaekit.core.types import DataInfo
from vaekit.core.vocab import EOS_ID, PAD_ID

from .tokens import check_sentences, encode_sentences
from .loading import _vocab, decode_ids

Style = Union[str, int]


def _device(model) -> torch.device:
    return next(model.parameters()).device


def style_ids(styles: Union[Style, Sequence[Style]], info: DataInfo, n: int, where: str = "style") -> torch.Tensor:
    """Class ids ``(n,)`` of one style (repeated) or ``n`` styles, given as labels or ids.

    Raises
    ------
    DataValidationError
        An unknown label / id (the known labels are listed) or a wrong number of styles.
    """
    labels = [str(v) for v in info.extra.get("labels") or []]
    if not labels:
        raise DataValidationError(fmt_error(where, "the model must be trained on labelled sentences to take a "
                                            "style", styles, "Train on data with labels (data.labelled: true)."))
    many = isinstance(styles, (list, tuple)) or (hasattr(styles, "shape") and getattr(styles, "ndim", 0) > 0)
    items = list(styles) if many else [styles]  # one style is checked even for n = 0, then repeated
    if many and len(items) != n:
        raise DataValidationError(fmt_error(where, f"give one style or one per sentence ({n} sentences)",
                                            f"{len(items)} styles", "Pass a single label or a list of n labels."))
    out = []
    for v in items:
        if hasattr(v, "item"):
            v = v.item()
        if isinstance(v, str):
            if v not in labels:
                raise DataValidationError(fmt_error(where, f"a style must be one of the labels {labels}", v,
                                                    "Pass a label the model was trained with."))
            out.append(labels.index(v))
        elif isinstance(v, int) and not isinstance(v, bool) and 0 <= v < len(labels):
            out.append(v)
        else:
            raise DataValidationError(fmt_error(where, f"a style must be a label in {labels} or a class id in "
                                                f"[0, {len(labels)})", v, "Pass e.g. '1' or 1."))
    return torch.tensor(out if many else out * n, dtype=torch.long)


def encode_text(sentences: Sequence[str], info: DataInfo, where: str = "sentences"):
    """Token ids ``(N, T)`` (``<eos>`` appended, padded) and mask ``(N, T)`` of sentences.

    Sentences are lower-cased when the run was; longer ones are truncated to the run's
    ``max_len`` (one warning with the count). No sentences give ``(0, 1)`` tensors.
    """
    sentences = check_sentences(sentences, where, "sentences", allow_empty=True)
    if not sentences:
        x = torch.full((0, 1), PAD_ID, dtype=torch.long)
        return x, x != PAD_ID
    ids = encode_sentences(sentences, _vocab(info), int(info.shape[0]) - 1, on_long="truncate", where=where,
                           lowercase=bool(info.extra.get("lowercase", False)))
    t = max(len(r) for r in ids) + 1
    x = torch.full((len(ids), t), PAD_ID, dtype=torch.long)
    for i, r in enumerate(ids):
        x[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        x[i, len(r)] = EOS_ID
    return x, x != PAD_ID


def _encoder_cond(model, source_style, info, n, where):
    if model.conditional and model.cond_into_encoder:
        if source_style is None:
            raise DataValidationError(fmt_error(where, "this model's encoder reads the source style", None,
                                                "Pass from_style (the sentences' own labels)."))
        return style_ids(source_style, info, n, where)
    return None


@torch.no_grad()
def _embed(model, info, sentences, source_style, batch_size, where) -> torch.Tensor:
    dev = _device(model)
    zs = []
    for i in range(0, len(sentences), batch_size):
        part = sentences[i:i + batch_size]
        x, mask = encode_text(part, info, where)
        src = None if source_style is None else (
            source_style[i:i + batch_size] if isinstance(source_style, (list, tuple)) else source_style)
        c = _encoder_cond(model, src, info, len(part), where)
        zs.append(model.embed(x.to(dev), None if c is None else c.to(dev), mask.to(dev)))
    return torch.cat(zs)


@torch.no_grad()
def _decode(model, info, z: torch.Tensor, cond: Optional[torch.Tensor], batch_size: int, **gen) -> List[str]:
    dev = _device(model)
    out: List[str] = []
    for i in range(0, z.shape[0], batch_size):
        c = None if cond is None else cond[i:i + batch_size].to(dev)
        out.extend(decode_ids(model.generate(z[i:i + batch_size].to(dev), c, **gen), info))
    return out


def transfer(model, info: DataInfo, sentences: Sequence[str], to_style: Union[Style, Sequence[Style]], *,
             from_style: Union[Style, Sequence[Style], None] = None, batch_size: int = 256) -> List[str]:
    """Rewrite ``sentences`` in ``to_style``, keeping their content: one output per input.

    Parameters
    ----------
    model : VAE
        A class-conditional text VAE (e.g. ``text:default``).
    info : DataInfo
        Of the model's run.
    sentences : sequence of str, length n
    to_style : label, class id, or a sequence of n of them
    from_style : label, class id or sequence, optional
        The sources' styles; needed only when the encoder reads the condition.
    batch_size : int

    Returns
    -------
    list of str, length n
        Greedy decodings of ``(z = posterior mean of x, c' = to_style)``; ``[]`` for no sentences.
    """
    if not model.conditional:
        raise DataValidationError(fmt_error("transfer", "needs a class-conditional model (a style code c)",
                                            "an unconditional model", "Train text:default or a config with "
                                            "data.condition: true on labelled sentences."))
    sentences = check_sentences(sentences, "transfer", "sentences", allow_empty=True)
    if not sentences:  # nothing to rewrite; the styles are still checked
        style_ids(to_style, info, 0, "transfer: to_style")
        if from_style is not None:
            style_ids(from_style, info, 0, "transfer: from_style")
        return []
    z = _embed(model, info, sentences, from_style, batch_size, "transfer: sentences")
    c = style_ids(to_style, info, z.shape[0], "transfer: to_style")
    return _decode(model, info, z, c, batch_size)


def reconstruct(model, info: DataInfo, sentences: Sequence[str], style: Union[Style, Sequence[Style], None] = None,
                *, batch_size: int = 256) -> List[str]:
    """Greedy decoding of each sentence's posterior mean (with its own ``style`` for a cVAE);
    one output per input, ``[]`` for no sentences."""
    sentences = check_sentences(sentences, "reconstruct", "sentences", allow_empty=True)
    if model.conditional and style is None:
        raise DataValidationError(fmt_error("reconstruct", "a conditional model needs the sentences' style", None,
                                            "Pass style= (one label or one per sentence)."))
    if not sentences:
        if model.conditional:
            style_ids(style, info, 0, "reconstruct: style")
        return []
    z = _embed(model, info, sentences, style, batch_size, "reconstruct: sentences")
    c = style_ids(style, info, z.shape[0], "reconstruct: style") if model.conditional else None
    return _decode(model, info, z, c, batch_size)


def sample(model, info: DataInfo, n: int, style: Union[Style, Sequence[Style], None] = None, *, seed: int = 0,
           sample_x: bool = False, temperature: float = 1.0, batch_size: int = 256) -> List[str]:
    """``n`` sentences from the prior (of ``style`` for a cVAE); greedy unless ``sample_x``;
    ``[]`` for ``n = 0``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise DataValidationError(fmt_error("sample: n", "must be an integer >= 0", n, "Pass e.g. n=10."))
    if model.conditional and style is None:
        raise DataValidationError(fmt_error("sample", "a conditional model needs a style", None,
                                            f"Pass style= one of {info.extra.get('labels')}."))
    if n == 0:
        if model.conditional:
            style_ids(style, info, 0, "sample: style")
        return []
    dev = _device(model)
    g = torch.Generator(device=dev).manual_seed(seed)
    c = style_ids(style, info, n, "sample: style").to(dev) if model.conditional else None
    z = model.sample_prior(n, c, generator=g)
    gen = dict(sample_x=sample_x, generator=g)
    if sample_x:
        gen["temperature"] = temperature
    return _decode(model, info, z, c, batch_size, **gen)


def interpolate(model, info: DataInfo, a: str, b: str, steps: int = 5, style: Optional[Style] = None) -> List[str]:
    """Decode ``steps`` points on the line from ``a``'s code to ``b``'s (both ends included).

    ``style`` is the style code decoded with (required for a cVAE; also given to a
    conditional encoder for both sentences).
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise DataValidationError(fmt_error("interpolate: steps", "must be an integer >= 2", steps, "Pass e.g. 5."))
    if model.conditional and style is None:
        raise DataValidationError(fmt_error("interpolate", "a conditional model needs a style", None,
                                            f"Pass style= one of {info.extra.get('labels')}."))
    z = _embed(model, info, [a, b], style, 2, "interpolate")
    t = torch.linspace(0, 1, steps, device=z.device)[:, None]
    path = (1 - t) * z[0] + t * z[1]
    c = style_ids(style, info, steps, "interpolate: style") if model.conditional else None
    return _decode(model, info, path, c, steps)


__all__ = ["transfer", "reconstruct", "sample", "interpolate", "encode_text", "style_ids"]
