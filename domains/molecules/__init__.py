"""vaekit.domains.molecules: design drug-like molecules with SMILES/SELFIES and graph VAEs.

* data: :mod:`.io` (SMILES/CSV/SDF readers), :mod:`.cleaning` (parse, canonicalise, tokenise),
  :mod:`.tokenizers`, :mod:`.graphs` (PyG graphs), :mod:`.splits` (random, scaffold),
  :mod:`.datasets` (datasets, collate, decoding) and :mod:`.loading` (the ``data`` section);
* models: core's GRU VAE on tokens, the ``graph`` encoder (:mod:`.models`), property-
  conditional cVAEs and a property head on the latent (configs ``molecules:*``);
* metrics: :func:`moses_metrics` (the :mod:`.moses` subpackage: MOSES, natively on RDKit) and the run metrics
  (:mod:`.evaluation`);
* design tools: :mod:`.design` (sample, targets, interpolate, neighbourhood, optimise, grids).

Names are imported lazily so that ``import vaekit.domains.molecules`` stays cheap.
"""
from __future__ import annotations

from ..lazy import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    ".moses": ["moses_metrics"],
    ".loading": ["load_molecules", "MoleculesDataConfig"],
    ".datasets": ["decode_tokens"],
    ".io": ["read_molecule_file"],
    ".splits": ["scaffold_split"],
    ".tokenizers": ["get_tokenizer"],
    ".graphs": ["smiles_to_graph"],
    ".properties": ["compute_properties", "smiles_properties"],
}, submodules=["design", "moses"])
