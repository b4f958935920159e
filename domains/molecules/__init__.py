"""vaekit.domains.molecules: design drug-like molecules with SMILES/SELFIES and graph VAEs.

* data: :mod:`.data` (SMILES/CSV/SDF readers, tokenizers, PyG graphs, scaffold split);
* models: core's GRU VAE on tokens, the ``graph`` encoder (:mod:`.models`), property-
  conditional cVAEs and a property head on the latent (configs ``molecules:*``);
* metrics: :func:`moses_metrics` (MOSES, natively on RDKit) and the run metrics
  (:mod:`.evaluation`);
* design tools: :mod:`.design` (sample, targets, interpolate, neighbourhood, optimise, grids).

Names are imported lazily so that ``import vaekit.domains.molecules`` stays cheap.
"""
from __future__ import annotations

import importlib

_LAZY = {
    "moses_metrics": ".metrics",
    "load_molecules": ".data",
    "MoleculesDataConfig": ".data",
    "decode_tokens": ".data",
    "read_molecule_file": ".data",
    "scaffold_split": ".data",
    "get_tokenizer": ".tokenizers",
    "smiles_to_graph": ".graphs",
    "compute_properties": ".properties",
    "smiles_properties": ".properties",
    "design": None,
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'vaekit.domains.molecules' has no attribute {name!r}")
    if _LAZY[name] is None:
        return importlib.import_module(f".{name}", __name__)
    return getattr(importlib.import_module(_LAZY[name], __name__), name)


__all__ = sorted(_LAZY)
