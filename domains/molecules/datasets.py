"""Encoded molecules as datasets: :class:`MoleculeDataset` items, :class:`MoleculeCollate` (pads the
tokens, batches the graphs) and :func:`decode_tokens` back to SMILES."""
from __future__ import annotations

from typing import List, Optional, Sequence, Union

import numpy as np
import torch

from vaekit.core.data import PadCollate, SequenceDataset
from vaekit.core.errors import DataValidationError
from vaekit.core.types import Batch, DataInfo
from vaekit.core.vocab import Vocabulary

from .tokenizers import get_tokenizer


class MoleculeDataset(SequenceDataset):
    """One split: token sequences plus SMILES, raw properties and (optionally) graphs.

    Items are ``(index, tokens (L,) long, cond (k,) float | None, y (k,) float | None,
    graph | None)``.

    Attributes
    ----------
    smiles : list of str
        The (canonical) SMILES of the split, in item order (metrics use the training SMILES
        for novelty).
    graphs : list of torch_geometric.data.Data, optional
        Precomputed once (``representation: graph``).
    y_raw, cond_raw : ndarray ``(N, k)`` float64, optional
        Unstandardised property / condition values (``y`` and ``cond`` are standardised).
    property_names, condition_names : list of str
    """

    def __init__(self, seqs: Sequence[Sequence[int]], smiles: Sequence[str], cond=None, y=None, graphs=None,
                 y_raw: Optional[np.ndarray] = None, cond_raw: Optional[np.ndarray] = None,
                 property_names: Sequence[str] = (), condition_names: Sequence[str] = (), where: str = "molecules"):
        super().__init__(seqs, cond=cond, y=y, where=where)
        self.smiles: List[str] = list(smiles)
        self.graphs = graphs
        self.y_raw, self.cond_raw = y_raw, cond_raw
        self.property_names, self.condition_names = list(property_names), list(condition_names)
        if len(self.smiles) != len(self.seqs) or (graphs is not None and len(graphs) != len(self.seqs)):
            raise DataValidationError(f"{where}: smiles/graphs must have one entry per sequence; got "
                                      f"{len(self.smiles)} SMILES, {None if graphs is None else len(graphs)} graphs "
                                      f"for {len(self.seqs)} sequences.")

    def __getitem__(self, i: int):
        idx, seq, c, y = super().__getitem__(i)
        return idx, seq, c, y, (None if self.graphs is None else self.graphs[i])


class MoleculeCollate:
    """Pad token sequences (:class:`~vaekit.core.data.PadCollate`) and batch the graphs.

    Returns a :class:`~vaekit.core.types.Batch` with ``x`` long ``(B, T)``, ``mask`` bool
    ``(B, T)``, ``cond`` / ``y`` float ``(B, k)`` or None, ``index`` ``(B,)`` and, with
    graphs, ``inputs`` = a ``torch_geometric.data.Batch`` of the ``B`` graphs.
    """

    def __init__(self, pad_id: int, graphs: bool = False):
        self.pad = PadCollate(pad_id)
        self.graphs = graphs

    def __call__(self, items: Sequence) -> Batch:
        batch = self.pad([it[:4] for it in items])
        if self.graphs:
            from torch_geometric.data import Batch as GraphBatch

            batch.inputs = GraphBatch.from_data_list([it[4] for it in items])
        return batch

def decode_tokens(ids: Union[torch.Tensor, Sequence[Sequence[int]]], info: DataInfo) -> List[str]:
    """SMILES strings of token id rows, e.g. model samples.

    Parameters
    ----------
    ids : Tensor ``(N, T)`` long or list of lists
        Token ids; each row is read up to its first ``<eos>`` (``<pad>``/``<bos>`` skipped).
    info : DataInfo
        From :func:`load_molecules` (its ``extra`` holds the vocabulary and tokenizer).

    Returns
    -------
    list of str
        ``N`` SMILES, not re-canonicalised (SELFIES decode to valid but non-canonical
        SMILES). A row that cannot be decoded (a SELFIES row with ``<unk>``) gives ``""``,
        which RDKit-based metrics count as invalid; SMILES rows are joined as generated and
        may be invalid SMILES.
    """
    for key in ("vocab", "tokenizer"):
        if key not in info.extra:
            raise DataValidationError(f"decode_tokens: info.extra has no {key!r}; got keys {sorted(info.extra)}. Pass "
                                      f"the DataInfo returned by load_molecules (or saved in the run directory).")
    vocab = Vocabulary.from_list(info.extra["vocab"])
    tokenizer = get_tokenizer(info.extra["tokenizer"])
    rows = ids.tolist() if hasattr(ids, "tolist") else [list(r) for r in ids]
    out: List[str] = []
    for row in rows:
        tokens = vocab.decode(row)
        try:
            out.append(tokenizer.detokenize(tokens))
        except DataValidationError:
            out.append("")
    return out


__all__ = ["MoleculeDataset", "MoleculeCollate", "decode_tokens"]
