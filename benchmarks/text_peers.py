"""Yelp sentiment transfer: the released outputs of the systems Li et al. 2018 compared, scored
with vaekit's own evaluator (``vaekit.domains.text.metrics``) on the 1,000 sentences that have a
human reference, so that our models' rows and the peers' rows come from one evaluator.

usage (from the repository root):

    python benchmarks/text_peers.py                  # data in ../shared/data/text/yelp
    python benchmarks/text_peers.py --data DIR
    python benchmarks/text_peers.py --run runs/text-yelp [--run ...]   # + trained vaekit models' rows

Data (see ``../shared/data/README.md``): ``li2018.reference.{0,1}`` (``source<TAB>human``; 500
negative + 500 positive sources, each to be flipped), ``li2018_outputs/sentiment.test.{0,1}.<sys>``
(``source<TAB>output<TAB>label``; ``human`` files are ``source<TAB>reference``), and
``shen2017.sentiment.{dev,test}.{0,1}`` for the classifier.

Protocol and its deviations:

* Classifier: TF-IDF word 1-2 grams + logistic regression, trained on Shen et al.'s dev + test
  splits minus every line equal to one of the 1,000 reference sources. The Yelp *train* split
  is absent from the data snapshot, so this is not the usual train-split classifier.
* Transfer accuracy: target label = 1 - source label, in percent.
* Text form: Shen's data and the system outputs are lower-cased and PTB-tokenised (``it 's``,
  ``did n't``), Li's human references are raw text (``It's gotten better.``). sacrebleu's 13a
  tokeniser splits punctuation but not apostrophes, so everything (sources, outputs, references)
  is passed through ``normalise_text`` (lower-case + PTB clitic split) before BLEU and the
  classifier. The ``ref-BLEU raw`` column scores the released texts untouched, for comparison.
* BLEU: sacrebleu corpus BLEU, default 13a tokenisation, one reference per sentence; papers
  that used multi-bleu.perl report different absolute numbers.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Dict, List, Tuple

from vaekit.domains.text.lm import KneserNeyLM
from vaekit.domains.text.metrics import (
    StyleClassifier, copy_baseline, normalise_text, ref_bleu, self_bleu, transfer_accuracy)

ROOT = Path("../shared/data/text/yelp")

# file suffix -> name in Li et al. 2018, Table 2 (README of the data folder).
SYSTEMS = [
    ("mit", "CrossAligned"),
    ("fader", "StyleEmbedding"),
    ("multi_decoder", "MultiDecoder"),
    ("rule_base", "TemplateBased"),
    ("retrieval", "RetrieveOnly"),
    ("label", "DeleteOnly"),
    ("orgin", "DeleteAndRetrieve"),
    ("human", "Human reference"),
]

# The issue's numbers (its own evaluator), acc % / ref-BLEU / self-BLEU.
ISSUE = {"DeleteAndRetrieve": (87.5, 15.4, 36.7), "CrossAligned": (74.5, 8.4, 20.4),
         "copy input": (3.2, 30.4, 100.0)}


def read_lines(path: Path) -> List[str]:
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def read_columns(path: Path, n_min: int) -> List[List[str]]:
    rows = [line.split("\t") for line in read_lines(path)]
    bad = [i for i, r in enumerate(rows) if len(r) < n_min]
    if bad:
        raise ValueError(f"{path}: {len(bad)} lines have fewer than {n_min} tab-separated "
                         f"fields (first: line {bad[0] + 1})")
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
    """Outputs of one system in the order of ``sources`` (checks the source column matches)."""
    outputs = []
    src_iter = iter(sources)
    for label in (0, 1):
        for row in read_columns(root / "li2018_outputs" / f"sentiment.test.{label}.{suffix}", 2):
            src = next(src_iter)
            if row[0].strip() != src.strip():
                raise ValueError(f"{suffix}: source column differs from the reference file: "
                                 f"{row[0]!r} vs {src!r}")
            outputs.append(row[1])
    return outputs


def train_judges(root: Path, exclude: set) -> Tuple[StyleClassifier, KneserNeyLM, int, int]:
    """The style classifier and the fluency LM (Kneser-Ney trigram), fitted on the same text."""
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


def vaekit_outputs(run_dir: Path, sources: List[str], src_labels: List[int]) -> Tuple[str, List[str], str]:
    """A trained vaekit run's transfers of ``sources`` (each into the other sentiment)."""
    import torch

    from vaekit.domains.text.style import transfer
    from vaekit.pipelines import load_run

    cfg, _, model, info, state = load_run(run_dir, device="auto")
    labels = info.extra["labels"]
    targets = [labels[1 - y] for y in src_labels]
    from_style = [labels[y] for y in src_labels] if model.conditional and model.cond_into_encoder else None
    t0 = time.time()
    with torch.no_grad():
        outs = transfer(model, info, sources, targets, from_style=from_style)
    n_params = sum(p.numel() for p in model.parameters())
    note = (f"{n_params / 1e6:.1f}M parameters, step {state.get('step')}, trained {state.get('elapsed_s', 0) / 60:.0f} "
            f"min, transfer of 1,000 sentences {time.time() - t0:.1f} s")
    return f"vaekit {cfg.domain}:{cfg.name} ({run_dir})", outs, note


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT)
    ap.add_argument("--run", type=Path, action="append", default=[],
                    help="a vaekit run directory whose model transfers the 1,000 sources (repeatable)")
    ap.add_argument("--show", type=int, default=0, help="print this many example transfers per vaekit run")
    args = ap.parse_args()

    sources_raw, refs_raw, src_labels = load_references(args.data)
    sources = [normalise_text(s) for s in sources_raw]
    refs = [normalise_text(r) for r in refs_raw]
    targets = [1 - y for y in src_labels]

    t0 = time.time()
    clf, lm, n_train, dropped = train_judges(args.data, {s for s in sources_raw})
    print("Yelp sentiment transfer: Li et al. 2018 released outputs, vaekit evaluator\n")
    print(f"Classifier: TF-IDF(1-2 gram, sublinear) + LR(C=1) on Shen 2017 dev+test, "
          f"{n_train} sentences ({dropped} lines equal to a reference source removed; "
          f"the Yelp train split is absent from the data snapshot), fit in {time.time() - t0:.0f} s.")
    print(f"Classifier accuracy on the 1,000 original sources: "
          f"{clf.accuracy(sources, src_labels):.1f}% (issue's own TF-IDF LR: 96.8%)\n")
    print("Text normalised (lower-case, PTB clitics: it's -> it 's) on all sides before BLEU and "
          "the classifier; 'ref-BLEU raw' = released texts untouched. sacrebleu corpus BLEU, 13a. "
          "LM ppl: Kneser-Ney trigram fitted on the classifier's sentences (per token incl. </s>).\n")

    rows: List[Tuple[str, Dict[str, float]]] = []
    systems = [("copy input", copy_baseline(sources_raw))]
    systems += [(name, load_system(args.data, suffix, sources_raw)) for suffix, name in SYSTEMS]
    notes = []
    for run in args.run:
        name, outs, note = vaekit_outputs(run, sources_raw, src_labels)
        systems.append((name, outs))
        notes.append(f"{name}: {note}")
        for i in range(0, len(outs), max(1, len(outs) // max(1, args.show))) if args.show else []:
            print(f"  [{src_labels[i]}->{1 - src_labels[i]}] {sources_raw[i]}  =>  {outs[i]}")
    for name, outs_raw in systems:
        outs = [normalise_text(o) for o in outs_raw]
        rows.append((name, {
            "acc": transfer_accuracy(clf, outs, targets),
            "ref": ref_bleu(outs, refs),
            "ref_raw": ref_bleu(outs_raw, refs_raw),
            "self": self_bleu(outs, sources),
            "ppl": lm.perplexity(outs),
        }))

    print("| system | transfer acc % | ref-BLEU | self-BLEU | ref-BLEU raw | LM ppl | issue (acc / ref / self) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, r in rows:
        issue = ISSUE.get(name)
        issue_s = " / ".join(f"{v:g}" for v in issue) if issue else ""
        print(f"| {name} | {r['acc']:.1f} | {r['ref']:.1f} | {r['self']:.1f} | "
              f"{r['ref_raw']:.1f} | {r['ppl']:.0f} | {issue_s} |")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
