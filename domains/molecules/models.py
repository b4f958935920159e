"""Molecule-specific model components, registered in the core registries.

``graph`` encoder: a molecular graph (PyTorch Geometric ``Batch`` in ``Batch.inputs``) ->
``(B, out_dim)`` by GINE message passing (Xu et al. 2019, "How Powerful are Graph Neural
Networks?"; edge features as in Hu et al. 2020, "Strategies for Pre-training Graph Neural
Networks"). Atom and bond features are PyG's integer categories (the OGB featurisation,
built by :mod:`.graphs`); each column gets its own embedding, summed, as OGB's
``AtomEncoder`` does.
The decoder is core's GRU over SMILES/SELFIES tokens, so a graph VAE is a config:
``data.representation: graph`` + ``model.encoder.kind: graph``.
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import torch
from torch import Tensor, nn

from vaekit.core.encoders import ENCODERS, Encoder
from vaekit.core.errors import ConfigError, DataValidationError
from vaekit.core.nn import MLP, concat_cond


def _cardinalities():
    """Category counts of the atom (9) and bond (3) feature columns (:mod:`.graphs`)."""
    from .graphs import feature_cardinalities

    card = feature_cardinalities()
    return card["atom_cardinalities"], card["bond_cardinalities"]


class _CategoricalEmbedding(nn.Module):
    """Sum of one embedding per integer feature column: ``(N, F) long -> (N, dim)``."""

    def __init__(self, cardinalities: Sequence[int], dim: int):
        super().__init__()
        self.tables = nn.ModuleList(nn.Embedding(c, dim) for c in cardinalities)
        for t in self.tables:
            nn.init.xavier_uniform_(t.weight)

    def forward(self, feats: Tensor) -> Tensor:
        out = 0
        for j, table in enumerate(self.tables):
            out = out + table(feats[:, j])
        return out


@ENCODERS.register("graph")
class GraphEncoder(Encoder):
    """GINE message passing over atoms and bonds, then sum + mean pooling.

    Parameters
    ----------
    hidden_dim : int
        Atom state width.
    num_layers : int
        Message-passing rounds (each sees one bond further).
    dropout : float
    readout_dims : sequence of int
        MLP after pooling (and after concatenating an embedded condition).
    cond_dim : int
        Embedded condition width (wired).
    """

    def __init__(self, hidden_dim: int = 128, num_layers: int = 4, dropout: float = 0.0,
                 readout_dims: Sequence[int] = (256,), cond_dim: int = 0):
        super().__init__()
        from torch_geometric.nn import GINEConv

        if num_layers < 1:
            raise ConfigError(f"num_layers: a graph encoder needs at least one message-passing layer; got {num_layers}.")
        atom_card, bond_card = _cardinalities()
        self.n_atom_feats, self.n_bond_feats = len(atom_card), len(bond_card)
        self.atom_embed = _CategoricalEmbedding(atom_card, hidden_dim)
        self.bond_embeds = nn.ModuleList(_CategoricalEmbedding(bond_card, hidden_dim) for _ in range(num_layers))
        self.convs = nn.ModuleList(
            GINEConv(nn.Sequential(nn.Linear(hidden_dim, 2 * hidden_dim), nn.LayerNorm(2 * hidden_dim), nn.ReLU(),
                                   nn.Linear(2 * hidden_dim, hidden_dim)), train_eps=True)
            for _ in range(num_layers))
        self.norms = nn.ModuleList(nn.LayerNorm(hidden_dim) for _ in range(num_layers))
        self.dropout = nn.Dropout(dropout)
        # Sum pooling grows with the number of atoms; normalising the pooled vector keeps the
        # posterior's initial mean and log-variance near the prior's (otherwise the first KL
        # terms are in the thousands of nats and swamp the reconstruction signal).
        self.pool_norm = nn.LayerNorm(2 * hidden_dim)
        self.readout = MLP(2 * hidden_dim + cond_dim, list(readout_dims), activation="relu") if readout_dims else None
        self.out_dim = self.readout.out_dim if readout_dims else 2 * hidden_dim + cond_dim

    def forward(self, x: Any, cond: Optional[Tensor] = None, mask: Optional[Tensor] = None) -> Tensor:
        from torch_geometric.nn import global_add_pool, global_mean_pool

        if not hasattr(x, "edge_index") or not hasattr(x, "batch"):
            raise DataValidationError(
                f"encoder: the graph encoder reads a PyTorch Geometric Batch of molecular graphs (Batch.inputs); "
                f"got {type(x).__name__}. Set data.representation: graph.")
        if x.x.dim() != 2 or x.x.shape[1] != self.n_atom_feats:
            raise DataValidationError(f"encoder: atom features must be (N, {self.n_atom_feats}) integer categories "
                                      f"(torch_geometric.utils.from_smiles); got {tuple(x.x.shape)}.")
        h = self.atom_embed(x.x.long())
        for conv, bond_embed, norm in zip(self.convs, self.bond_embeds, self.norms):
            # Residual GINE layer. LayerNorm, not BatchNorm: no train/eval gap, no cross-rank
            # statistics under DDP, and a batch of one single-atom molecule still works.
            h = h + self.dropout(torch.relu(norm(conv(h, x.edge_index, bond_embed(x.edge_attr.long())))))
        n = int(x.num_graphs)
        pooled = torch.cat([global_add_pool(h, x.batch, size=n), global_mean_pool(h, x.batch, size=n)], dim=-1)
        pooled = self.pool_norm(pooled)
        pooled = concat_cond(pooled, cond)
        return self.readout(pooled) if self.readout is not None else pooled


__all__ = ["GraphEncoder"]
