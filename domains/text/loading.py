"""The text domain's ``data`` section and loader: files (or the generated corpus) -> a DataBundle.

Pipeline of :func:`load_text`:

1. **Read** each split (:mod:`.data` readers). ``path`` / ``val_path`` / ``test_path`` take a
   CSV/TSV table, one per-label file or glob pattern (Yelp style ``sentiment.train.*``: the
   last suffix is the label), or a list of them; ``labelled: false`` reads plain sentence
   files (PTB). ``reference_path`` (Li et al. 2018 ``reference.{0,1}``: ``source<TAB>rewrite``,
   the suffix is the source's label) gives the test split *with* human rewrites when there is
   no ``test_path``. Without ``path`` the generated two-style corpus of :mod:`.corpus` is used
   (its test split carries its parallel rewrites as references).
2. **Split** what has no file of its own off ``path`` (seeded, ``val_fraction`` /
   ``test_fraction``); ``exclude_test_from_train`` drops training sentences identical to an
   evaluation sentence (counted and warned), e.g. when training on Yelp's dev+test minus the
   1,000 reference sources.
3. **Encode**: the vocabulary comes from the training split (``min_freq``, ``max_vocab``,
   ``<unk>`` for the rest); long sentences are truncated with a count or rejected
   (``on_long``); labels become class ids ``0..K-1`` in the order of ``labels``. One label
   rule holds on every split, so a row's fate does not depend on the split it lands in: with
   ``labels`` set, any other value is an error; without it the classes are the training
   split's labels, an evaluation label outside them is an error, and so is a training label
   that no evaluation split holds (stray rows, not a class). The messages name ``data.labels``.

Items are ``(index, tokens (L,) long ending with <eos>, cond: class id | None, y: class id |
None)``; :class:`~vaekit.core.data.PadCollate` batches them. The label is the cVAE condition
(``condition: true``) and always ``Batch.y`` (for the latent plots and the style metrics).
"""
from __future__ import annotations

import glob as _glob
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Literal, Optional, Sequence, Union

import numpy as np

from vaekit.core.data import PadCollate, SequenceDataset
from vaekit.core.errors import ConfigError, DataValidationError, fmt_error
from vaekit.core.types import DataBundle, DataInfo
from vaekit.core.vocab import BOS_ID, EOS_ID, PAD_ID, UNK_ID, Vocabulary

from ..io import N_SHOWN, delimiter_of, format_of, strip_gz
from .io import read_labelled, read_references, read_sentences
from .tokens import build_vocab, check_labels, encode_sentences, label_counts, shown_counts

PathSpec = Union[str, List[str], None]


# ====================================================================== config
@dataclass(frozen=True)
class TextDataConfig:
    """The ``data`` section for ``domain: text``.

    Attributes
    ----------
    path : str or list of str, optional
        Training sentences: a CSV/TSV table (``text_column``, ``label_column``), per-label
        files or glob patterns (``data/sentiment.train.*``), or plain sentence files with
        ``labelled: false``. ``null``: the generated two-style corpus (``generated_size``).
    val_path, test_path : str or list of str, optional
        Explicit evaluation splits (same forms); otherwise cut from ``path``.
    reference_path : str or list of str, optional
        Human rewrites, ``source<TAB>rewrite`` per line, one file per source label
        (``li2018.reference.0`` / ``.1``): the test split when ``test_path`` is unset.
    labelled : bool
        Sentences carry a style label (``false``: plain sentences, e.g. PTB).
    labels : list of str, optional
        The allowed labels in class-id order; any other value in any split is an error
        naming it. ``null``: the sorted labels of the training split, each of which must also
        occur in the validation or test split (a label only training has is taken for stray
        rows; list it here to keep it as a class).
    condition : bool
        Use the label as the cVAE condition (``Batch.cond``).
    text_column, label_column : str, optional
        Columns of CSV/TSV tables (default: found by name, see :func:`.data.read_labelled`).
    lowercase : bool
        Lower-case every sentence (the vocabulary is then case-free).
    min_freq : int
        Training words seen fewer times become ``<unk>``.
    max_vocab : int, optional
        Keep only this many most frequent words.
    max_len : int
        Most tokens per sentence, not counting ``<eos>``; also the generation length.
    on_long : {"truncate", "error"}
        Longer sentences are cut (counted in one warning) or rejected.
    val_fraction, test_fraction : float
        Parts of ``path`` held out when there is no file for the split.
    exclude_test_from_train : bool
        Drop training sentences identical to a test sentence (counted, warned), e.g. to train
        on Yelp's dev + test splits minus the sentences with a human reference.
    max_sentences : int, optional
        Train on a seeded random subset of at most this many sentences.
    generated_size : int
        Sentences of the generated corpus (train + val + test) when ``path`` is null.
    data_seed : int, optional
        Seed of the subsets, the split and the generated corpus; ``null``: the run's seed.
    """

    path: PathSpec = None
    val_path: PathSpec = None
    test_path: PathSpec = None
    reference_path: PathSpec = None
    labelled: bool = True
    labels: Optional[List[str]] = None
    condition: bool = True
    text_column: Optional[str] = None
    label_column: Optional[str] = None
    lowercase: bool = False
    min_freq: int = 1
    max_vocab: Optional[int] = None
    max_len: int = 30
    on_long: Literal["truncate", "error"] = "truncate"
    val_fraction: float = 0.05
    test_fraction: float = 0.05
    exclude_test_from_train: bool = False
    max_sentences: Optional[int] = None
    generated_size: int = 12000
    data_seed: Optional[int] = None

    def validate(self, path: str = "data") -> None:
        if self.max_len < 1:
            raise ConfigError(f"{path}.max_len: must be >= 1 token; got {self.max_len!r}.")
        if self.min_freq < 1:
            raise ConfigError(f"{path}.min_freq: must be >= 1; got {self.min_freq!r}.")
        if self.max_vocab is not None and self.max_vocab < 1:
            raise ConfigError(f"{path}.max_vocab: must be null or >= 1; got {self.max_vocab!r}.")
        for name in ("val_fraction", "test_fraction"):
            v = getattr(self, name)
            if not 0.0 <= v < 1.0:
                raise ConfigError(f"{path}.{name}: must lie in [0, 1); got {v!r}.")
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ConfigError(f"{path}: val_fraction + test_fraction must be < 1 (something must be left to "
                              f"train on); got {self.val_fraction} + {self.test_fraction}.")
        if self.max_sentences is not None and self.max_sentences < 1:
            raise ConfigError(f"{path}.max_sentences: must be null or >= 1; got {self.max_sentences!r}.")
        if self.generated_size < 30:
            raise ConfigError(f"{path}.generated_size: must be >= 30 sentences; got {self.generated_size!r}.")
        if not self.labelled and (self.reference_path is not None or self.labels is not None):
            raise ConfigError(f"{path}.labelled: plain sentences (labelled: false) take no reference_path or "
                              f"labels; got reference_path={self.reference_path!r}, labels={self.labels!r}.")
        if self.labels is not None and len(set(self.labels)) != len(self.labels):
            raise ConfigError(f"{path}.labels: must be distinct; got {self.labels!r}.")


# ====================================================================== datasets
class TextDataset(SequenceDataset):
    """One split: token ids plus the text, labels and (optionally) human rewrites.

    Attributes
    ----------
    sentences : list of str
        The sentences as read (lower-cased if ``lowercase``), untruncated, in item order.
    labels : list of str, optional
        Their style labels.
    references : list of str, optional
        A human rewrite of each sentence into the other style (test splits from
        ``reference_path`` and the generated corpus).
    """

    def __init__(self, seqs, sentences: Sequence[str], labels: Optional[Sequence[str]] = None, cond=None, y=None,
                 references: Optional[Sequence[str]] = None, where: str = "text"):
        super().__init__(seqs, cond=cond, y=y, where=where)
        self.sentences = list(sentences)
        self.labels = None if labels is None else list(labels)
        self.references = None if references is None else list(references)


@dataclass
class _Split:
    sentences: List[str]
    labels: Optional[List[str]]
    references: Optional[List[str]] = None
    where: str = ""

    def take(self, idx: Sequence[int]) -> "_Split":
        pick = lambda v: None if v is None else [v[i] for i in idx]  # noqa: E731
        return _Split(pick(self.sentences), pick(self.labels), pick(self.references), self.where)


# ====================================================================== reading
def _expand(spec: PathSpec, key: str) -> List[str]:
    items = [spec] if isinstance(spec, str) else list(spec)
    out: List[str] = []
    for item in items:
        if any(ch in item for ch in "*?[") and not Path(item).exists():
            matched = sorted(_glob.glob(item))
            if not matched:
                raise DataValidationError(fmt_error(f"data.{key}", "the pattern must match at least one file", item,
                                                    f"Fix the pattern (relative paths are read from {Path.cwd()})."))
            out.extend(matched)
        else:
            out.append(item)
    return out


def _read_split(spec: PathSpec, cfg: TextDataConfig, key: str) -> _Split:
    files = _expand(spec, key)
    where = f"data.{key}"
    if not cfg.labelled:
        sents: List[str] = []
        for f in files:
            sents.extend(read_sentences(f, lowercase=cfg.lowercase))
        return _Split(sents, None, where=where)
    tables = [f for f in files if delimiter_of(format_of(Path(f))[0]) is not None]
    if tables and len(files) > 1:
        raise DataValidationError(fmt_error(where, "give one CSV/TSV table or a list of per-label files, not both",
                                            files, "Pass the table alone."))
    if tables:
        s, lab = read_labelled(files[0], label_column=cfg.label_column, text_column=cfg.text_column,
                               lowercase=cfg.lowercase)
    else:
        s, lab = read_labelled([Path(f) for f in files], lowercase=cfg.lowercase)
    return _Split(s, lab, where=where)


def _read_references(spec: PathSpec, cfg: TextDataConfig) -> _Split:
    sents: List[str] = []
    labels: List[str] = []
    refs: List[str] = []
    for f in _expand(spec, "reference_path"):
        label = Path(strip_gz(Path(f).name)).suffix[1:]
        if not label:
            raise DataValidationError(fmt_error(f"data.reference_path: {f}", "a reference file's last suffix must be "
                                                "its sources' label", Path(f).name,
                                                "Name the files like reference.0 and reference.1."))
        src, rew = read_references(f)
        if cfg.lowercase:
            src, rew = [s.lower() for s in src], [r.lower() for r in rew]
        sents.extend(src)
        refs.extend(rew)
        labels.extend([label] * len(src))
    return _Split(sents, labels, refs, where="data.reference_path")


def _generated(cfg: TextDataConfig, seed: int) -> Dict[str, _Split]:
    from .corpus import generate_corpus

    sents, labels, rewrites = generate_corpus(cfg.generated_size, seed=seed)
    whole = _Split(sents, labels, rewrites, where="generated corpus")
    n = len(sents)
    n_val, n_test = max(1, int(round(cfg.val_fraction * n))), max(1, int(round(cfg.test_fraction * n)))
    order = np.random.default_rng(seed).permutation(n)
    test = whole.take(order[:n_test])
    val = whole.take(order[n_test:n_test + n_val])
    train = whole.take(order[n_test + n_val:])
    train.references = None  # the model never sees parallel data
    val.where, test.where, train.where = "generated corpus (val)", "generated corpus (test)", "generated corpus"
    return {"train": train, "val": val, "test": test}


def _splits(cfg: TextDataConfig, seed: int) -> Dict[str, _Split]:
    if cfg.path is None:
        if any(p is not None for p in (cfg.val_path, cfg.test_path, cfg.reference_path)):
            raise ConfigError("data.path: val_path/test_path/reference_path need a training path; got path: null "
                              "(the generated corpus). Set data.path too.")
        if not cfg.labelled:
            raise ConfigError("data.labelled: the generated corpus is labelled; set labelled: true or give a path.")
        return _generated(cfg, seed)
    main = _read_split(cfg.path, cfg, "path")
    explicit: Dict[str, _Split] = {}
    if cfg.val_path is not None:
        explicit["val"] = _read_split(cfg.val_path, cfg, "val_path")
    if cfg.test_path is not None:
        explicit["test"] = _read_split(cfg.test_path, cfg, "test_path")
    elif cfg.reference_path is not None:
        explicit["test"] = _read_references(cfg.reference_path, cfg)
    rng = np.random.default_rng(seed)
    n = len(main.sentences)
    order = rng.permutation(n)
    n_val = 0 if "val" in explicit else max(1, int(round(cfg.val_fraction * n))) if cfg.val_fraction > 0 else 0
    n_test = 0 if "test" in explicit else max(1, int(round(cfg.test_fraction * n))) if cfg.test_fraction > 0 else 0
    if n - n_val - n_test < 1:
        raise DataValidationError(fmt_error("data.path", "must leave at least one training sentence after the "
                                            "validation and test cuts", f"{n} sentences",
                                            "Add data or lower val_fraction/test_fraction."))
    out = {"test": explicit.get("test") or main.take(order[:n_test]),
           "val": explicit.get("val") or main.take(order[n_test:n_test + n_val]),
           "train": main.take(order[n_test + n_val:])}
    if cfg.exclude_test_from_train:
        held = set(out["test"].sentences)
        keep = [i for i, s in enumerate(out["train"].sentences) if s not in held]
        dropped = len(out["train"].sentences) - len(keep)
        if dropped:
            warnings.warn(f"data.exclude_test_from_train: dropped {dropped} of {len(out['train'].sentences)} training "
                          f"sentence(s) identical to a test sentence.", stacklevel=3)
        out["train"] = out["train"].take(keep)
    if cfg.max_sentences is not None and len(out["train"].sentences) > cfg.max_sentences:
        keep = np.sort(rng.choice(len(out["train"].sentences), cfg.max_sentences, replace=False))
        out["train"] = out["train"].take(keep.tolist())
    return out


# ====================================================================== encoding
def _label_order(cfg: TextDataConfig, splits: Dict[str, _Split]) -> List[str]:
    if cfg.labels is not None:
        return [str(v) for v in cfg.labels]
    found = sorted(set(splits["train"].labels or []))
    if len(found) < 2 and cfg.condition:
        raise DataValidationError(fmt_error("data.path", "a labelled training split needs at least two labels",
                                            found, "Add the other style's sentences, or set labelled: false."))
    return found


def _labels_setting(values: Sequence[str]) -> str:
    """``--set "data.labels=['0','1']"`` for ``values`` (quoted: unquoted digits would be read as numbers)."""
    if len(values) > N_SHOWN * 2 or any(len(v) > 40 for v in values):
        return "--set \"data.labels=[...]\" (every class, in class-id order)"
    return "--set \"data.labels=[" + ",".join(repr(str(v)) for v in values) + "]\""


def _check_labels(cfg: TextDataConfig, splits: Dict[str, _Split], labels: List[str]) -> None:
    """One label rule on every split (so a row's fate does not depend on the split it lands in).

    With ``data.labels`` every split's labels must be among them. Without it the classes are
    the training split's labels: an evaluation label outside them is an error, and so is a
    training label that no evaluation split holds (a stray row, not a class), whenever an
    evaluation split carries labels to compare with; the fix names ``data.labels``.
    """
    read = {name: sp for name, sp in splits.items() if sp.labels is not None and sp.sentences}
    seen = {v for sp in read.values() for v in sp.labels}
    everything = list(labels) + sorted(seen - set(labels))  # the current class ids kept, new labels after
    if cfg.labels is not None:
        for sp in read.values():
            check_labels(sp.labels, labels, where=f"{sp.where} labels", source="data.labels",
                         fix=f"Fix or remove those rows, or add the value(s) to data.labels "
                             f"({_labels_setting(everything)}).")
        return
    for sp in read.values():
        check_labels(sp.labels, labels, where=f"{sp.where} labels",
                     source="the training split's labels: data.labels is not set",
                     fix=f"Fix or remove those rows, or name every class in data.labels "
                         f"({_labels_setting(everything)}).")
    if cfg.path is None:  # the generated corpus: its two styles are known
        return
    evaluated = {v for name, sp in read.items() if name != "train" for v in sp.labels}
    train = splits["train"]
    if not evaluated or "train" not in read:
        return
    only_train = label_counts(train.labels, evaluated)
    if only_train:
        raise DataValidationError(fmt_error(
            f"{train.where} labels", "without data.labels every training label must also occur in the validation "
            "or test split (a label only the training split has is taken for stray rows, not a class)",
            f"only in the training split, with counts {shown_counts(only_train)}",
            f"Fix or remove those rows, or name every class in data.labels ({_labels_setting(everything)})."))


def load_text(cfg: TextDataConfig, seed: int = 0) -> DataBundle:
    """Read (or generate), split and encode the sentences described by ``cfg``.

    Returns
    -------
    DataBundle
        Splits of :class:`TextDataset`; ``info.kind == "sequence"``, ``info.shape ==
        (max_len + 1,)`` (``<eos>`` included), ``info.extra`` holds ``vocab`` (the token list),
        ``labels`` (class-id order, or ``[]``) and ``lowercase``.
    """
    cfg.validate()
    seed = cfg.data_seed if cfg.data_seed is not None else seed
    splits = _splits(cfg, seed)
    labels = _label_order(cfg, splits) if cfg.labelled else []
    for name, sp in splits.items():
        if len(sp.sentences) == 0 and name == "train":
            raise DataValidationError(fmt_error(sp.where, "the training split must not be empty", 0,
                                                "Check data.path and exclude_test_from_train."))
    _check_labels(cfg, splits, labels)
    vocab = build_vocab(splits["train"].sentences, min_freq=cfg.min_freq, max_size=cfg.max_vocab)
    datasets = {}
    for name, sp in splits.items():
        if not sp.sentences:
            datasets[name] = None
            continue
        ids = encode_sentences(sp.sentences, vocab, cfg.max_len, on_long=cfg.on_long, where=sp.where)
        seqs = [s + [EOS_ID] for s in ids]
        y = None if sp.labels is None else np.asarray([labels.index(v) for v in sp.labels], dtype=np.int64)
        cond = y if (y is not None and cfg.condition) else None
        datasets[name] = TextDataset(seqs, sp.sentences, sp.labels, cond=cond, y=y, references=sp.references,
                                     where=sp.where)
    n_cls = len(labels) if (cfg.labelled and cfg.condition) else 0
    info = DataInfo(kind="sequence", shape=(cfg.max_len + 1,), vocab_size=len(vocab), pad_id=PAD_ID, bos_id=BOS_ID,
                    eos_id=EOS_ID, unk_id=UNK_ID, n_cond_classes=n_cls, likelihood="categorical",
                    n_train=len(datasets["train"]),
                    extra={"vocab": vocab.to_list(), "labels": labels, "lowercase": cfg.lowercase})
    return DataBundle(train=datasets["train"], val=datasets["val"], test=datasets["test"], info=info,
                      collate=PadCollate(PAD_ID))


def decode_ids(ids, info: DataInfo) -> List[str]:
    """Sentences of token-id rows ``(N, T)``: words up to the first ``<eos>``, specials dropped.

    ``<unk>`` is kept as the word ``<unk>`` (it marks an out-of-vocabulary word).
    """
    if "vocab" not in info.extra:
        raise DataValidationError(fmt_error("decode_ids", "info.extra must hold the vocabulary", sorted(info.extra),
                                            "Pass the DataInfo of load_text (or the run's data_info.json)."))
    vocab = _vocab(info)
    rows = ids.tolist() if hasattr(ids, "tolist") else [list(r) for r in ids]
    out = []
    for row in rows:
        words = []
        for t in row:
            if t == EOS_ID:
                break
            if t in (PAD_ID, BOS_ID):
                continue
            words.append(vocab.id_to_token(t))
        out.append(" ".join(words))
    return out


def _vocab(info: DataInfo) -> Vocabulary:
    """The :class:`Vocabulary` stored in ``info.extra["vocab"]``."""
    return Vocabulary.from_list(info.extra["vocab"])


__all__ = ["TextDataConfig", "TextDataset", "load_text", "decode_ids"]
