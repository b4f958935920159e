"""Molecule data: read SMILES/SDF files, clean, split, tokenise and batch them.

Pipeline of :func:`load_molecules`:

1. **Read** each file (:func:`read_molecule_file`): ``.smi``/``.txt``/``.smiles`` (one SMILES
   per line, an optional whitespace-separated name column, an optional header line whose
   first field contains "smiles"), ``.csv``/``.tsv`` (pandas; the SMILES column is
   ``smiles_column`` or the column named ``smiles`` in any case), ``.sdf`` (RDKit; SD
   properties become columns), each optionally gzipped (``.gz``).
2. **Subsample** the training file to ``max_molecules`` rows (seeded, before parsing, so a
   1.58M-row MOSES file costs only the rows kept).
3. **Clean**: parse with RDKit (its stderr logging blocked; we report counts instead),
   canonicalise, tokenise, drop molecules longer than ``max_len`` tokens, compute
   properties and graphs (optionally in ``num_workers`` processes: RDKit's per-atom Python
   calls dominate). Every dropped row is counted and reported in one ``warnings.warn`` per
   file and reason, naming the first rows (never silent, never a crash).
4. **Split** ``path`` into train/val/test (random, or Bemis-Murcko scaffold groups) unless
   explicit ``val_path``/``test_path`` files are given.
5. **Encode**: the vocabulary comes from the training tokens only (val/test tokens outside
   it become ``<unk>``, counted and warned); properties and conditions are standardised with
   the training mean and standard deviation.

Each item is ``(index, tokens (L,) long ending with <eos>, cond (k,) float | None,
y (k,) float | None, graph | None)``; :class:`MoleculeCollate` pads the tokens and batches
the graphs into :attr:`Batch.inputs <vaekit.core.types.Batch.inputs>`. No ``<bos>`` is stored:
the GRU decoder (:class:`vaekit.core.decoders.GRUDecoder`) prepends it itself.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional, Sequence, Tuple, Union

import numpy as np

from vaekit.core.errors import ConfigError, DataValidationError, require
from vaekit.core.types import DataBundle, DataInfo
from vaekit.core.vocab import Vocabulary

from .cleaning import _N_EXAMPLES, _Clean, _clean
from .datasets import MoleculeCollate, MoleculeDataset
from .io import MoleculeTable, read_molecule_file
from .limits import MAX_SMILES_CHARS
from .splits import random_split, scaffold_split
from .tokenizers import get_tokenizer

DEFAULT_DATA = ("NCI", "first_5K.smi")  # under rdkit.RDConfig.RDDataDir: 4999 NCI molecules


@dataclass(frozen=True)
class MoleculesDataConfig:
    """The ``data`` section for ``domain: molecules``.

    Attributes
    ----------
    path : str, optional
        Training molecules (``.smi``/``.txt``, ``.csv``/``.tsv``, ``.sdf``, each optionally
        ``.gz``). ``null``: RDKit's bundled ``Data/NCI/first_5K.smi`` (4999 NCI molecules).
        Relative paths are read from the ``root`` given to :func:`load_molecules` (else the
        working directory).
    val_path, test_path : str, optional
        Explicit validation / test files (e.g. MOSES ``test.csv.gz``); a split without a file
        is cut from ``path`` (``val_fraction`` / ``test_fraction`` of it).
    smiles_column : str, optional
        SMILES column of ``.csv``/``.tsv`` files; ``null``: the column named ``smiles`` in any
        case.
    representation : {"smiles", "selfies", "graph"}
        What the encoder reads: SMILES tokens, SELFIES tokens, or a PyG molecular graph
        (``Batch.inputs``, with SMILES tokens as the decoder target).
    canonicalize : bool
        Rewrite every SMILES as RDKit's canonical SMILES (one string per molecule).
    isomeric : bool
        Keep stereochemistry (``@``, ``/``, ``\\``); ``false`` removes it (needs canonicalize).
    max_len : int
        Longest token sequence *including* the final ``<eos>``; longer molecules are skipped
        (counted and warned). Also the decoder's generation length (``DataInfo.shape``).
    max_smiles_chars : int
        Longest raw SMILES string, in characters, that is handed to RDKit; longer rows are
        skipped by their length (counted and warned) *before* any RDKit call, because RDKit
        crashes (segfault at 20,000 characters) or hangs on very long strings. Default 2000
        (:data:`~vaekit.domains.molecules.limits.MAX_SMILES_CHARS`), far above drug-like
        molecules (MOSES's longest has 57 characters).
    max_molecules : int, optional
        Use a seeded random subset of at most this many rows of ``path`` (before it is split).
    max_eval_molecules : int, optional
        Likewise for each of ``val_path`` and ``test_path``.
    split : {"random", "scaffold"}
        How ``path`` is split: uniformly at random, or by Bemis-Murcko scaffold groups
        (chemprop's balanced scaffold split, see :func:`scaffold_split`).
    val_fraction, test_fraction : float
        Fractions of ``path`` cut out for validation and test (when there is no file).
    properties : list of str
        Per-molecule float targets carried as ``Batch.y`` (standardised with the training mean
        and std; raw values in ``dataset.y_raw``): computed ``logp``, ``qed``, ``sa``, ``mw``
        (these names are always computed with RDKit) or numeric columns of the files
        (missing values stay NaN; the property head ignores them).
    condition : list of str
        Names likewise, carried as the cVAE condition ``Batch.cond`` ``(B, k)``
        (standardised; rows with a missing value are skipped).
    data_seed : int, optional
        Seed of the subsets and the split; ``null``: the run's seed.
    num_workers : int
        Processes that parse and featurise molecules (0: the main process). RDKit's Python
        API costs about 0.3 ms per molecule for SMILES and 1 ms with graphs, so 10^5-10^6
        molecules load much faster with several workers; the result does not depend on it.
    """

    path: Optional[str] = None
    val_path: Optional[str] = None
    test_path: Optional[str] = None
    smiles_column: Optional[str] = None
    representation: Literal["smiles", "selfies", "graph"] = "smiles"
    canonicalize: bool = True
    isomeric: bool = True
    max_len: int = 100
    max_smiles_chars: int = MAX_SMILES_CHARS
    max_molecules: Optional[int] = None
    max_eval_molecules: Optional[int] = None
    split: Literal["random", "scaffold"] = "random"
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    properties: Tuple[str, ...] = ()
    condition: Tuple[str, ...] = ()
    data_seed: Optional[int] = None
    num_workers: int = 0

    def validate(self, path: str = "data") -> None:
        """Check values and combinations; raise :class:`ConfigError` naming the key."""
        _one_of(self.representation, ("smiles", "selfies", "graph"), f"{path}.representation")
        _one_of(self.split, ("random", "scaffold"), f"{path}.split")
        if isinstance(self.max_len, bool) or not isinstance(self.max_len, int) or self.max_len < 2:
            raise ConfigError(f"{path}.max_len: must be an integer >= 2 (one token and <eos>); got "
                              f"{self.max_len!r}. MOSES molecules need about 60; 100 is a safe default.")
        if (isinstance(self.max_smiles_chars, bool) or not isinstance(self.max_smiles_chars, int)
                or not 1 <= self.max_smiles_chars <= 10_000):
            raise ConfigError(f"{path}.max_smiles_chars: must be an integer in [1, 10000] (RDKit crashes on longer "
                              f"SMILES); got {self.max_smiles_chars!r}. {MAX_SMILES_CHARS} keeps every drug-like "
                              f"molecule.")
        for key in ("max_molecules", "max_eval_molecules"):
            v = getattr(self, key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ConfigError(f"{path}.{key}: must be a positive integer or null (all rows); got {v!r}.")
        for key in ("val_fraction", "test_fraction"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 < v < 1.0:
                raise ConfigError(f"{path}.{key}: must be a fraction in (0, 1); got {v!r}. It is the share of "
                                  f"{path}.path cut out for that split.")
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ConfigError(f"{path}.val_fraction + {path}.test_fraction: must be < 1 to leave training data; got "
                              f"{self.val_fraction} + {self.test_fraction}. Lower them (e.g. 0.1 each).")
        if not self.canonicalize and not self.isomeric:
            raise ConfigError(f"{path}.isomeric: false only takes effect with {path}.canonicalize: true (RDKit "
                              f"rewrites the SMILES without stereo); got canonicalize=false, isomeric=false. Set "
                              f"canonicalize: true or isomeric: true.")
        if self.val_path is not None and self.test_path is not None and self.split != "random":
            raise ConfigError(f"{path}.split: nothing is split when both {path}.val_path and {path}.test_path are "
                              f"given; got split={self.split!r}. Remove split, or one of the split files.")
        if self.smiles_column is not None and not str(self.smiles_column).strip():
            raise ConfigError(f"{path}.smiles_column: must be a column name or null (auto-detect); got "
                              f"{self.smiles_column!r}.")
        for key in ("properties", "condition"):
            names = list(getattr(self, key))
            for i, n in enumerate(names):
                if not isinstance(n, str) or not n.strip():
                    raise ConfigError(f"{path}.{key}[{i}]: must be a property name (logp, qed, sa, mw or a numeric "
                                      f"column); got {n!r}.")
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ConfigError(f"{path}.{key}: names must be unique; got {dup} more than once. List each once.")
        if isinstance(self.num_workers, bool) or not isinstance(self.num_workers, int) or self.num_workers < 0:
            raise ConfigError(f"{path}.num_workers: must be an integer >= 0 (0: parse in the main process); got "
                              f"{self.num_workers!r}.")
        if self.data_seed is not None and (isinstance(self.data_seed, bool) or not isinstance(self.data_seed, int)):
            raise ConfigError(f"{path}.data_seed: must be an integer or null (the run's seed); got {self.data_seed!r}.")


def _one_of(value: Any, allowed: Sequence[str], where: str) -> None:
    if value not in allowed:
        raise ConfigError(f"{where}: must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}.")

def _subset(c: _Clean, idx: np.ndarray) -> _Clean:
    take = idx.tolist()
    return _Clean([c.smiles[i] for i in take], [c.tokens[i] for i in take],
                  None if c.graphs is None else [c.graphs[i] for i in take],
                  None if c.y_raw is None else c.y_raw[idx], None if c.cond_raw is None else c.cond_raw[idx],
                  None if c.scaffolds is None else [c.scaffolds[i] for i in take])

# ====================================================================== loading
def default_data_path() -> Path:
    """RDKit's bundled ``Data/NCI/first_5K.smi`` (the default ``data.path``)."""
    require("rdkit", "molecules")
    from rdkit import RDConfig

    return Path(RDConfig.RDDataDir).joinpath(*DEFAULT_DATA)


def _resolve(p: str, root: Optional[Union[str, Path]]) -> Path:
    path = Path(p).expanduser()
    return path if path.is_absolute() or root is None else Path(root) / path


def _locate(p: Optional[str], key: str, root) -> Tuple[Path, str]:
    """(path, how messages name it) of one configured file; error now if it does not exist."""
    if p is None:
        path, where = default_data_path(), f"data.{key} (default: RDKit's NCI first_5K.smi)"
    else:
        path = _resolve(p, root)
        where = f"data.{key} ({path})"
    if not path.is_file():
        raise DataValidationError(f"{where}: file not found; expected a .smi, .csv, .tsv or .sdf file (optionally "
                                  f".gz). Fix the path (relative paths are read from "
                                  f"{Path(root) if root is not None else Path.cwd()}).")
    return path, where


def _read(located: Tuple[Path, str], cfg: MoleculesDataConfig, cap: Optional[int],
          rng: np.random.Generator) -> MoleculeTable:
    """Read one configured file and draw its seeded subset of at most ``cap`` rows."""
    path, where = located
    table = read_molecule_file(path, cfg.smiles_column, where=where)
    if cap is not None and len(table) > cap:
        table = table.take(np.sort(rng.choice(len(table), size=cap, replace=False)))
    return table


def _standardise(train: Optional[np.ndarray], names: List[str], what: str) -> Tuple[np.ndarray, np.ndarray]:
    """Training mean and std ``(k,)`` (NaN-aware; a constant column gets std 1 so it stays finite)."""
    if train is None:
        return np.zeros(0), np.ones(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns are reported below
        mean, std = np.nanmean(train, axis=0), np.nanstd(train, axis=0)
    for j, n in enumerate(names):
        if np.isnan(mean[j]):
            raise DataValidationError(f"data.{what}: {n!r} has no value in any training molecule. Fill the column "
                                      f"or remove {n!r} from data.{what}.")
    std = np.where(std > 0, std, 1.0)
    return mean, std


def _encode(c: _Clean, vocab: Vocabulary, split: str, where: str) -> List[List[int]]:
    """Token ids per molecule; warn about tokens unseen in training (they become ``<unk>``)."""
    seqs = [vocab.encode(t) for t in c.tokens]
    bad = [i for i, s in enumerate(seqs) if vocab.unk_id in s]
    if bad:
        unk = [tok for i in bad for tok in c.tokens[i] if tok not in vocab]
        n_mol = len(bad)
        examples = sorted(set(unk))[:_N_EXAMPLES]
        warnings.warn(f"{where}: {len(unk)} tokens in {n_mol} of {len(seqs)} {split} molecules are not in the "
                      f"training vocabulary and map to <unk> (e.g. {examples}). They cannot be reconstructed; "
                      f"use more training data or drop those molecules.", UserWarning, stacklevel=3)
    return seqs


def _dataset(c: _Clean, seqs, stats, cfg: MoleculesDataConfig, where: str) -> MoleculeDataset:
    (pm, ps), (cm, cs) = stats
    y = None if c.y_raw is None else ((c.y_raw - pm) / ps).astype(np.float32)
    cond = None if c.cond_raw is None else ((c.cond_raw - cm) / cs).astype(np.float32)
    return MoleculeDataset(seqs, c.smiles, cond=cond, y=y, graphs=c.graphs, y_raw=c.y_raw, cond_raw=c.cond_raw,
                           property_names=cfg.properties, condition_names=cfg.condition, where=where)


def load_molecules(cfg: MoleculesDataConfig, seed: int = 0, root: Optional[Union[str, Path]] = None) -> DataBundle:
    """Read, clean, split and encode the molecules described by ``cfg``.

    Parameters
    ----------
    cfg : MoleculesDataConfig
    seed : int
        Seed of the subsets and the split when ``cfg.data_seed`` is null.
    root : str or Path, optional
        Directory that relative paths in ``cfg`` are read from (default: the working
        directory).

    Returns
    -------
    DataBundle
        ``train``/``val``/``test`` :class:`MoleculeDataset`, ``collate`` a
        :class:`MoleculeCollate`, and ``info`` a sequence :class:`DataInfo` whose ``extra``
        holds ``representation``, ``tokenizer``, ``vocab`` (token list), ``canonicalize`` and
        ``isomeric``, ``properties`` and ``condition`` (``{"names", "mean", "std"}``) and, for
        graphs, ``graph`` (see :func:`~vaekit.domains.molecules.graphs.feature_cardinalities`).

    Raises
    ------
    DataValidationError
        Missing/empty files, missing columns, non-numeric property columns, no valid
        molecules, or a split that came out empty.
    """
    cfg.validate()
    require("rdkit", "molecules")
    graph = cfg.representation == "graph"
    if graph:
        require("torch_geometric", "molecules")
    tokenizer = get_tokenizer("selfies" if cfg.representation == "selfies" else "smiles")
    s = cfg.data_seed if cfg.data_seed is not None else seed
    rngs = [np.random.default_rng([int(s), k]) for k in range(4)]  # independent streams: train/val/test subsets, split

    # Every file is located first, so a typo in test_path fails before minutes of parsing.
    files = {"path": _locate(cfg.path, "path", root)}
    files.update({k: _locate(p, f"{k}_path", root) for k, p in (("val", cfg.val_path), ("test", cfg.test_path))
                  if p is not None})
    need_split = "val" not in files or "test" not in files
    main = _clean(_read(files["path"], cfg, cfg.max_molecules, rngs[0]), cfg, tokenizer, graph,
                  need_scaffold=need_split and cfg.split == "scaffold")
    explicit = {k: _clean(_read(files[k], cfg, cfg.max_eval_molecules, rngs[i]), cfg, tokenizer, graph,
                          need_scaffold=False)
                for i, k in enumerate(("val", "test"), start=1) if k in files}
    parts = _split(main, cfg, explicit, rngs[3])

    vocab = Vocabulary.build(parts["train"].tokens)
    stats = (_standardise(parts["train"].y_raw, list(cfg.properties), "properties"),
             _standardise(parts["train"].cond_raw, list(cfg.condition), "condition"))
    datasets = {}
    for name, c in parts.items():
        where = f"molecules {name} split"
        datasets[name] = _dataset(c, _encode(c, vocab, name, where), stats, cfg, where)
    (pm, ps), (cm, cs) = stats
    extra: Dict[str, Any] = {
        "representation": cfg.representation, "tokenizer": tokenizer.name, "vocab": vocab.to_list(),
        # how SMILES were written, so new molecules (e.g. design seeds) are encoded the same way
        "canonicalize": cfg.canonicalize, "isomeric": cfg.isomeric,
        "properties": {"names": list(cfg.properties), "mean": pm.tolist(), "std": ps.tolist()},
        "condition": {"names": list(cfg.condition), "mean": cm.tolist(), "std": cs.tolist()},
    }
    if graph:
        from .graphs import feature_cardinalities

        extra["graph"] = feature_cardinalities()
    info = DataInfo(kind="sequence", shape=(cfg.max_len,), vocab_size=len(vocab), pad_id=vocab.pad_id,
                    bos_id=vocab.bos_id, eos_id=vocab.eos_id, unk_id=vocab.unk_id, likelihood="categorical",
                    cond_dim=len(cfg.condition), y_dim=len(cfg.properties), n_train=len(datasets["train"]),
                    extra=extra)
    return DataBundle(datasets["train"], datasets["val"], datasets["test"], info=info,
                      collate=MoleculeCollate(vocab.pad_id, graphs=graph))


def _split(main: _Clean, cfg: MoleculesDataConfig, explicit: Dict[str, _Clean],
           rng: np.random.Generator) -> Dict[str, _Clean]:
    """train/val/test: explicit files where given, the rest cut from ``main``."""
    if "val" in explicit and "test" in explicit:
        return {"train": main, "val": explicit["val"], "test": explicit["test"]}
    n = len(main.smiles)
    n_val = 0 if "val" in explicit else int(round(cfg.val_fraction * n))
    n_test = 0 if "test" in explicit else int(round(cfg.test_fraction * n))
    if cfg.split == "scaffold":
        tr, va, te = scaffold_split(main.scaffolds, n_val, n_test, rng)
    else:
        tr, va, te = random_split(n, n_val, n_test, rng)
    parts = {"train": _subset(main, tr),
             "val": explicit["val"] if "val" in explicit else _subset(main, va),
             "test": explicit["test"] if "test" in explicit else _subset(main, te)}
    for name, c in parts.items():
        if not c.smiles:
            raise DataValidationError(f"data.path: the {cfg.split} split of {n} valid molecules left the {name} split "
                                      f"empty (val_fraction={cfg.val_fraction}, test_fraction={cfg.test_fraction}). "
                                      f"Use more molecules, larger fractions, or split: random.")
    return parts


__all__ = ["DEFAULT_DATA", "MoleculesDataConfig", "default_data_path", "load_molecules"]
