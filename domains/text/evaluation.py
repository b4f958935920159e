"""The text domain's metrics (``vaekit evaluate``), beside the core diagnostics.

The core diagnostics already give the sentence VAE's numbers: ``nll_iw`` (importance-weighted
NLL per sentence, nats), ``ppl_iw`` (perplexity per token incl. ``<eos>``), ``kl``,
``mutual_info`` and ``active_units``. The metrics here add:

* :class:`StyleTransfer` (class-conditional models on labelled data): every evaluated
  sentence is rewritten into another style (:func:`.style.transfer`; the next class, i.e. the
  flip for two styles) and scored as the style-transfer papers do (Shen et al. 2017; Li et al.
  2018): ``transfer/acc`` by a *separately trained* TF-IDF logistic-regression classifier
  (fitted on the training split, never the model's discriminator), ``transfer/self_bleu`` to
  the sources, ``transfer/ref_bleu`` to human rewrites when the split has them,
  ``transfer/lm_ppl`` (fluency: perplexity under a Kneser-Ney trigram fitted on the training
  split); the same for the copy-the-input baseline (``copy/*``) and the human references
  (``human/*``), and ``classifier/acc`` of the judge on the original sentences.
* :class:`Reconstruction`: greedy reconstructions' corpus BLEU to the inputs and exact-match rate.
* :class:`Samples`: prior samples' distinct-1/2 (share of distinct uni/bigrams) and LM perplexity.

The decoded sentences behind these numbers (:func:`transfer_outputs`,
:func:`reconstruction_outputs`, :func:`sample_outputs`) are cached in ``EvalContext.extra``,
so the run report (:mod:`.report`) shows the very sentences that were scored without decoding again.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional

import numpy as np

from vaekit.core.errors import ConfigError

from ..base import EvalContext, Metric
from .lm import KneserNeyLM
from .loading import decode_ids
from .metrics import StyleClassifier, copy_baseline, normalise_text, ref_bleu, self_bleu, transfer_accuracy


@dataclass(frozen=True)
class TextEvalOptions:
    """``eval.options`` of the text domain.

    Attributes
    ----------
    max_examples : int
        Evaluated sentences transferred / reconstructed (the first ones of the split).
    normalise : bool
        Lower-case and split clitics PTB-style (:func:`.metrics.normalise_text`) on every
        side before BLEU and the classifier, for raw-text references beside tokenised data
        (the Yelp human references).
    classifier_max_train : int, optional
        Sentences of the training split the judge classifier and the LM are fitted on
        (seeded subset); ``null``: all.
    lm_order : int
        Order of the Kneser-Ney fluency LM.
    batch_size : int
        Sentences decoded at once.
    """

    max_examples: int = 1000
    normalise: bool = False
    classifier_max_train: Optional[int] = None
    lm_order: int = 3
    batch_size: int = 256

    def validate(self, path: str = "eval.options") -> None:
        for name in ("max_examples", "lm_order", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{path}.{name}: must be >= 1; got {getattr(self, name)!r}.")
        if self.classifier_max_train is not None and self.classifier_max_train < 2:
            raise ConfigError(f"{path}.classifier_max_train: must be null or >= 2; got {self.classifier_max_train!r}.")


def _norm(texts: List[str], opts: TextEvalOptions) -> List[str]:
    return [normalise_text(t) for t in texts] if opts.normalise else list(texts)


def _train_subset(ctx: EvalContext, opts: TextEvalOptions):
    ds = ctx.data.train
    n = len(ds.sentences)
    idx = np.arange(n)
    if opts.classifier_max_train is not None and n > opts.classifier_max_train:
        idx = np.sort(np.random.default_rng(ctx.seed).choice(n, opts.classifier_max_train, replace=False))
    sents = [ds.sentences[i] for i in idx]
    labels = None if ds.labels is None else [ds.labels[i] for i in idx]
    return sents, labels


def judge(ctx: EvalContext) -> StyleClassifier:
    """The TF-IDF + logistic-regression style classifier fitted on the training split (cached)."""
    opts = ctx.options_as(TextEvalOptions)

    def fit():
        sents, labels = _train_subset(ctx, opts)
        return StyleClassifier().fit(_norm(sents, opts), labels)

    return ctx.cached("text/judge", fit)


def judged_styles(ctx: EvalContext, sentences: List[str]) -> List[str]:
    """The style :func:`judge` assigns to each sentence, normalised as the metrics do."""
    return [str(v) for v in judge(ctx).predict(_norm(sentences, ctx.options_as(TextEvalOptions)))]


def fluency_lm(ctx: EvalContext) -> KneserNeyLM:
    """The Kneser-Ney LM fitted on the training split (cached)."""
    opts = ctx.options_as(TextEvalOptions)
    return ctx.cached("text/lm", lambda: KneserNeyLM(order=opts.lm_order).fit(_norm(_train_subset(ctx, opts)[0],
                                                                                      opts)))


def _split_text(ctx: EvalContext, n: int):
    ds = ctx.dataset
    k = min(n, len(ds.sentences))
    refs = None if ds.references is None else ds.references[:k]
    labels = None if ds.labels is None else ds.labels[:k]
    return ds.sentences[:k], labels, refs


def _can_transfer(ctx: EvalContext) -> bool:
    m = ctx.model
    return bool(m.conditional and m.cond_embedder.n_classes >= 2 and ctx.dataset.labels is not None)


@dataclass
class TransferOutputs:
    """The evaluated split's first sentences rewritten into the next style, as scored.

    Attributes
    ----------
    sources : list of str
    styles : list of str
        The sources' labels.
    targets : list of str
        The labels each output should have (the next label: the flip for two styles).
    outputs : list of str
        The model's greedy rewrites.
    references : list of str, optional
        Human rewrites, when the split has them.
    """

    sources: List[str]
    styles: List[str]
    targets: List[str]
    outputs: List[str]
    references: Optional[List[str]] = None


@dataclass
class ReconOutputs:
    """Greedy reconstructions of the evaluated split's first sentences, as scored.

    Attributes
    ----------
    sources : list of str
        The inputs as the model saw them (truncated to ``max_len``).
    outputs : list of str
    styles : list of str, optional
        The style each was decoded with (conditional models only).
    """

    sources: List[str]
    outputs: List[str]
    styles: Optional[List[str]] = None


@dataclass
class SampleOutputs:
    """Prior samples (``x ~ p(x|z)``), as scored by :class:`Samples`.

    Attributes
    ----------
    texts : list of str
    styles : list of str, optional
        The style code of each sample (conditional models only).
    """

    texts: List[str]
    styles: Optional[List[str]] = None


def transfer_outputs(ctx: EvalContext) -> Optional[TransferOutputs]:
    """The style-transfer rewrites of :class:`StyleTransfer` (cached); ``None`` without a style code
    or without labels on the split."""
    def run() -> Optional[TransferOutputs]:
        if not _can_transfer(ctx):
            return None
        from .style import transfer

        opts = ctx.options_as(TextEvalOptions)
        sources, labels, refs = _split_text(ctx, opts.max_examples)
        names = list(ctx.data.info.extra["labels"])
        targets = [names[(names.index(v) + 1) % len(names)] for v in labels]
        from_style = labels if ctx.model.cond_into_encoder else None
        outputs = transfer(ctx.model, ctx.data.info, sources, targets, from_style=from_style,
                           batch_size=opts.batch_size)
        return TransferOutputs(list(sources), list(labels), targets, outputs, None if refs is None else list(refs))

    return ctx.cached("text/transfer", run)


def reconstruction_outputs(ctx: EvalContext) -> Optional[ReconOutputs]:
    """The greedy reconstructions of :class:`Reconstruction` (cached); ``None`` for a conditional
    model on a split without labels (its decoder needs each sentence's style)."""
    def run() -> Optional[ReconOutputs]:
        from .style import reconstruct

        opts = ctx.options_as(TextEvalOptions)
        sources, labels, _ = _split_text(ctx, opts.max_examples)
        style = labels if ctx.model.conditional else None
        if ctx.model.conditional and labels is None:
            return None
        outs = reconstruct(ctx.model, ctx.data.info, sources, style, batch_size=opts.batch_size)
        # compared as the model saw them: truncated to max_len (already lower-cased if the data is)
        srcs = [" ".join(s.split()[: int(ctx.data.info.shape[0]) - 1]) for s in sources]
        return ReconOutputs(srcs, outs, None if style is None else list(style))

    return ctx.cached("text/reconstructions", run)


def sample_outputs(ctx: EvalContext) -> Optional[SampleOutputs]:
    """The ``eval.n_samples`` prior samples of :class:`Samples` (cached; seeded by ``ctx.seed``,
    styles drawn uniformly for a cVAE); ``None`` for a conditional model without style classes."""
    def run() -> Optional[SampleOutputs]:
        import torch

        opts = ctx.options_as(TextEvalOptions)
        m = ctx.model
        n = ctx.n_samples
        g = torch.Generator(device=ctx.device).manual_seed(ctx.seed)
        cond = None
        if m.conditional:
            if not m.cond_embedder.n_classes:
                return None
            cond = torch.randint(0, m.cond_embedder.n_classes, (n,), generator=g, device=ctx.device)
        outs: List[str] = []
        for i in range(0, n, opts.batch_size):
            c = None if cond is None else cond[i:i + opts.batch_size]
            z = m.sample_prior(min(opts.batch_size, n - i), c, generator=g)
            outs.extend(decode_ids(m.generate(z, c, generator=g, sample_x=True), ctx.data.info))
        names = [str(v) for v in ctx.data.info.extra["labels"]] if cond is not None else []
        styles = None if cond is None else [names[k] for k in cond.tolist()]
        return SampleOutputs(outs, styles)

    return ctx.cached("text/samples", run)


class StyleTransfer(Metric):
    """Transfer accuracy, self-/ref-BLEU and fluency of style transfer, beside copy and human rows."""

    name = "transfer"
    higher_is_better = True
    needs = ("model", "data")

    def direction(self, key: str) -> str:
        return "lower" if key.endswith("lm_ppl") else "higher"

    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        tr = transfer_outputs(ctx)
        if tr is None:
            return {}
        opts = ctx.options_as(TextEvalOptions)
        sources, labels, refs, targets, outputs = tr.sources, tr.styles, tr.references, tr.targets, tr.outputs
        clf, lm = judge(ctx), fluency_lm(ctx)
        src_n = _norm(sources, opts)
        refs_n = None if refs is None else _norm(refs, opts)
        res = {"classifier/acc": clf.accuracy(src_n, labels), "transfer/n": float(len(sources))}
        rows = [("transfer", outputs), ("copy", copy_baseline(sources))]
        if refs is not None:
            rows.append(("human", refs))
        for prefix, outs in rows:
            outs_n = _norm(outs, opts)
            res[f"{prefix}/acc"] = transfer_accuracy(clf, outs_n, targets)
            res[f"{prefix}/self_bleu"] = self_bleu(outs_n, src_n)
            if refs_n is not None:
                res[f"{prefix}/ref_bleu"] = ref_bleu(outs_n, refs_n)
            res[f"{prefix}/lm_ppl"] = lm.perplexity(outs_n)
        return res


class Reconstruction(Metric):
    """Corpus BLEU of greedy reconstructions to their inputs, and the exact-match rate (%)."""

    name = "recon"
    higher_is_better = True
    needs = ("model", "data")

    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        rec = reconstruction_outputs(ctx)
        if rec is None:
            return {}
        outs, srcs = rec.outputs, rec.sources
        exact = float(np.mean([o == s for o, s in zip(outs, srcs)]) * 100.0)
        return {"recon/bleu": self_bleu(outs, srcs), "recon/exact": exact}


class Samples(Metric):
    """Diversity (distinct-1/2, Li et al. 2016) and LM perplexity of ``eval.n_samples`` prior samples."""

    name = "sample"
    higher_is_better = {"sample/distinct1": True, "sample/distinct2": True, "sample/lm_ppl": False}
    needs = ("model", "data", "samples")

    def compute(self, ctx: EvalContext) -> Dict[str, float]:
        samples = sample_outputs(ctx)
        if samples is None:
            return {}
        opts = ctx.options_as(TextEvalOptions)
        outs = samples.texts
        toks = [o.split() for o in outs]
        uni = [t for s in toks for t in s]
        bi = [(a, b) for s in toks for a, b in zip(s, s[1:])]
        return {"sample/distinct1": len(set(uni)) / max(1, len(uni)),
                "sample/distinct2": len(set(bi)) / max(1, len(bi)),
                "sample/lm_ppl": fluency_lm(ctx).perplexity(_norm(outs, opts))}


__all__ = ["TextEvalOptions", "StyleTransfer", "Reconstruction", "Samples", "judge", "judged_styles",
           "fluency_lm", "TransferOutputs", "ReconOutputs", "SampleOutputs", "transfer_outputs",
           "reconstruction_outputs", "sample_outputs"]
