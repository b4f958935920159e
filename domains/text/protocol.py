"""Yelp sentiment transfer against the released outputs of Li et al. 2018's systems, one evaluator.

The protocol ``text:yelp-transfer`` (``benchmarks/specs/text_yelp_transfer.yaml``) scores, on the
1,000 Yelp test sentences that have a human reference, the outputs of the systems Li et al. 2018
compared (released with their paper), copying the input, the human references and trained
vaekit runs, all with vaekit's own evaluator (:mod:`vaekit.domains.text.metrics`), so our rows
and the peers' rows are comparable.

Data (``text/yelp`` under the data root, :mod:`vaekit.domains.data_root`; its ``README.md``):
``li2018.reference.{0,1}`` (``source<TAB>human``; 500 negative + 500 positive sources, each to be
flipped), ``li2018_outputs/sentiment.test.{0,1}.<sys>`` (``source<TAB>output<TAB>label``; ``human``
files are ``source<TAB>reference``), and ``shen2017.sentiment.{dev,test}.{0,1}`` for the classifier.

Protocol and its deviations:

* Classifier: TF-IDF word 1-2 grams + logistic regression, trained on Shen et al.'s dev + test
  splits minus every line equal to one of the 1,000 reference sources. The Yelp *train* split
  is absent from the data snapshot, so this is not the usual train-split classifier.
* Transfer accuracy (``acc``): target label = 1 - source label, in percent.
* Text form: Shen's data and the system outputs are lower-cased and PTB-tokenised (``it 's``,
  ``did n't``), Li's human references are raw text (``It's gotten better.``). sacrebleu's 13a
  tokeniser splits punctuation but not apostrophes, so everything (sources, outputs, references)
  passes through :func:`~vaekit.domains.text.metrics.normalise_text` (lower-case + PTB clitic
  split) before BLEU and the classifier; ``ref_raw`` scores the released texts untouched.
* BLEU (``ref``, ``self``): sacrebleu corpus BLEU, default 13a tokenisation, one reference per
  sentence; papers that used multi-bleu.perl report different absolute numbers.
* Fluency (``ppl``): a Kneser-Ney trigram fitted on the classifier's sentences, per token
  including ``</s>``.

The protocol kind's adapter: every model (copying the input, a released system's file, a
trained vaekit run) ``transfer``s the 1,000 sources into the other sentiment; :func:`_evaluate`
scores the outputs.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from vaekit.core.errors import ConfigError, DataValidationError

from ..data_root import UnderDataRoot
from ..protocols import Model, Protocol, TrainedRun, Unit

#: file suffix -> name in Li et al. 2018, Table 2 (README of the data folder).
SYSTEMS = {
    "mit": "CrossAligned",
    "fader": "StyleEmbedding",
    "multi_decoder": "MultiDecoder",
    "rule_base": "TemplateBased",
    "retrieval": "RetrieveOnly",
    "label": "DeleteOnly",
    "orgin": "DeleteAndRetrieve",
    "human": "Human reference",
}
MODELS = ("copy input",) + tuple(SYSTEMS.values()) + ("vaekit",)


def read_lines(path: Path) -> List[str]:
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def read_columns(path: Path, n_min: int) -> List[List[str]]:
    """Tab-separated rows of ``path``, each with at least ``n_min`` fields."""
    rows = [line.split("\t") for line in read_lines(path)]
    bad = [i for i, r in enumerate(rows) if len(r) < n_min]
    if bad:
        raise DataValidationError(f"{path}: {len(bad)} lines have fewer than {n_min} tab-separated fields "
                                  f"(first: line {bad[0] + 1}); expected source<TAB>output lines. Fix the file.")
    return rows


def load_references(root: Path) -> Tuple[List[str], List[str], List[int]]:
    """Sources, human references (raw) and source labels, negatives first."""
    sources, refs, labels = [], [], []
    for label in (0, 1):
        for row in read_columns(root / f"li2018.reference.{label}", 2):
            sources.append(row[0])
            refs.append(row[1])
            labels.append(label)
    return sources, refs, labels


def load_system(root: Path, suffix: str, sources: List[str]) -> List[str]:
    """Outputs of one released system in the order of ``sources`` (checks the source column matches)."""
    outputs = []
    src_iter = iter(sources)
    for label in (0, 1):
        path = root / "li2018_outputs" / f"sentiment.test.{label}.{suffix}"
        for i, row in enumerate(read_columns(path, 2)):
            src = next(src_iter, None)
            if src is None or row[0].strip() != src.strip():
                raise DataValidationError(f"{path} line {i + 1}: the source column must repeat the reference "
                                          f"file's sources in order; got {row[0]!r}, expected {src!r}.")
            outputs.append(row[1])
    return outputs


def train_judges(root: Path, exclude: set):
    """The style classifier and the fluency LM (Kneser-Ney trigram), fitted on the same text.

    Returns
    -------
    classifier, lm, n_sentences, n_dropped
    """
    from .lm import KneserNeyLM
    from .metrics import StyleClassifier, normalise_text

    sents, labels, dropped = [], [], 0
    for split in ("dev", "test"):
        for label in (0, 1):
            for s in read_lines(root / f"shen2017.sentiment.{split}.{label}"):
                if s in exclude:
                    dropped += 1
                    continue
                sents.append(normalise_text(s))
                labels.append(label)
    return StyleClassifier().fit(sents, labels), KneserNeyLM(order=3).fit(sents), len(sents), dropped


def vaekit_outputs(run: Tuple[Any, ...], sources: List[str], src_labels: List[int]) -> Tuple[List[str], Dict[str, Any]]:
    """A trained vaekit run's transfers of ``sources`` (each into the other sentiment) and facts
    about the run (parameters, step, training and transfer time); ``run`` is what
    ``vaekit.pipelines.load_run`` returns."""
    import torch

    from .style import transfer

    cfg, _, model, info, state = run
    labels = info.extra["labels"]
    targets = [labels[1 - y] for y in src_labels]
    from_style = [labels[y] for y in src_labels] if model.conditional and model.cond_into_encoder else None
    t0 = time.time()
    with torch.no_grad():
        outs = transfer(model, info, sources, targets, from_style=from_style)
    facts = {"config": f"{cfg.domain}:{cfg.name}", "n_params": sum(p.numel() for p in model.parameters()),
             "step": state.get("step"), "train_min": (state.get("elapsed_s") or 0) / 60,
             "transfer_s": time.time() - t0}
    return outs, facts


def _setup(root: str):
    """References and judges of ``root`` (every system is scored against the same)."""
    path = Path(root)
    if not (path / "li2018.reference.0").is_file():
        raise ConfigError(f"benchmark.options.data: {path} holds no li2018.reference.0; pass the Yelp folder "
                          f"(e.g. --option data=data_root:text/yelp, or --data-root DIR holding text/yelp).")
    sources_raw, refs_raw, src_labels = load_references(path)
    t0 = time.time()
    clf, lm, n_train, dropped = train_judges(path, set(sources_raw))
    return sources_raw, refs_raw, src_labels, clf, lm, {"classifier_sentences": n_train, "dropped": dropped,
                                                        "judges_fit_s": time.time() - t0}


@dataclass
class _Copy:
    """Copying the input: the lower bound of transfer, the upper bound of self-BLEU."""

    def transfer(self, sources: List[str], src_labels: List[int]) -> Tuple[List[str], Dict[str, Any]]:
        from .metrics import copy_baseline

        return copy_baseline(sources), {}


@dataclass
class _Released:
    """A released system's outputs (``li2018_outputs/sentiment.test.{0,1}.<suffix>``)."""

    root: Path
    suffix: str

    def transfer(self, sources: List[str], src_labels: List[int]) -> Tuple[List[str], Dict[str, Any]]:
        return load_system(self.root, self.suffix, sources), {}


@dataclass
class _RunTransfer:
    """A trained vaekit run, restyling each source into the other sentiment."""

    run: Tuple[Any, ...]

    def transfer(self, sources: List[str], src_labels: List[int]) -> Tuple[List[str], Dict[str, Any]]:
        return vaekit_outputs(self.run, sources, src_labels)


def _load(seed: int, options: Mapping[str, Any]) -> Dict[Optional[str], tuple]:
    """The one data set: references and the judges fitted once (the seed is unused)."""
    return {None: _setup(str(options["data"]))}


def _evaluate(model, unit: Unit) -> Dict[str, Any]:
    """Acc (%), BLEU to the references and to the sources (normalised and raw), perplexity."""
    from .metrics import normalise_text, ref_bleu, self_bleu, transfer_accuracy

    sources_raw, refs_raw, src_labels, clf, lm, judge = unit.data
    outs_raw, facts = model.transfer(sources_raw, src_labels)
    outs = [normalise_text(o) for o in outs_raw]
    sources = [normalise_text(s) for s in sources_raw]
    refs = [normalise_text(r) for r in refs_raw]
    return {"acc": transfer_accuracy(clf, outs, [1 - y for y in src_labels]), "ref": ref_bleu(outs, refs),
            "self": self_bleu(outs, sources), "ref_raw": ref_bleu(outs_raw, refs_raw), "ppl": lm.perplexity(outs),
            "source_acc": clf.accuracy(sources, src_labels), **judge, **facts}


def _describe(rec: Mapping[str, Any]) -> str:
    return f"acc {rec['acc']:.1f} ref-BLEU {rec['ref']:.1f} self-BLEU {rec['self']:.1f} ppl {rec['ppl']:.0f}"


def _released(suffix: str, name: str) -> Model:
    return Model(make=lambda unit: _Released(Path(str(unit.options["data"])), suffix), params=(),
                 doc=f"{name}: the released outputs (li2018_outputs/*.{suffix})")


#: ``text:yelp-transfer``: ``runs[].model`` is ``copy input``, a released system (:data:`SYSTEMS`)
#: or ``vaekit`` with ``params: {run: RUN_DIR}``; option ``data`` (the Yelp folder). Nothing is
#: trained and the seed is unused (one seed is enough).
PROTOCOLS = {
    "yelp-transfer": Protocol(
        doc="Yelp sentiment transfer, Li et al. 2018's released outputs and vaekit runs through one evaluator",
        load=_load, evaluate=_evaluate, metrics=("acc", "ref", "self", "ref_raw", "ppl"),
        models={"copy input": Model(make=lambda unit: _Copy(), params=(), doc="the source sentence itself"),
                **{name: _released(suffix, name) for suffix, name in SYSTEMS.items()},
                "vaekit": Model(make=lambda unit: _RunTransfer(unit.run), params=(),
                                run=TrainedRun(example="{model: vaekit, params: {run: runs/text-yelp}}"),
                                doc="a trained vaekit text run (params: run, or config + set to train one)")},
        options={"data": UnderDataRoot("text/yelp")}, describe=_describe),
}

__all__ = ["MODELS", "PROTOCOLS", "SYSTEMS", "load_references", "load_system", "train_judges", "vaekit_outputs"]
